#!/bin/sh
# PNG output in sapm.h needs stb_image_write's header <stb/stb_image_write.h>
# (Debian/Ubuntu package libstb-dev); without it everything builds and the PNG calls return
# SAPM_ERR_NOT_COMPILED_IN.
#
#   tools/stb.sh CC state     print "stb=yes" or "stb=no": whether CC finds the header
#   tools/stb.sh CC install   if CC does not find it: install libstb-dev with apt-get when
#                             run as root, else print the command to run; exit 0 either way
#
# APT=no (environment) makes "install" only print the command.
cc=${1:-cc}
have_stb() {
    printf '#include <stb/stb_image_write.h>\nint main(void) { return 0; }\n' |
        $cc -x c -fsyntax-only - >/dev/null 2>&1
}
case "${2:-state}" in
state)
    if have_stb; then echo stb=yes; else echo stb=no; fi ;;
install)
    have_stb && exit 0
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && [ "${APT:-}" != no ]; then
            echo "PNG output needs libstb-dev (stb_image_write); installing it: apt-get install -y libstb-dev"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -q -o DPkg::Lock::Timeout=120 libstb-dev >/dev/null ||
                { apt-get update -q >/dev/null &&
                  apt-get install -y -q -o DPkg::Lock::Timeout=120 libstb-dev >/dev/null; } ||
                echo "apt-get could not install libstb-dev; the demo runs without PNG output"
            have_stb || echo "stb_image_write still not found by $cc; the demo runs without PNG output"
        else
            echo "PNG output needs stb_image_write. Install it, then run make demo again:"
            echo "    sudo apt-get install libstb-dev"
            echo "(the demo runs now without PNG output)"
        fi
    else
        echo "PNG output needs stb_image_write: put stb_image_write.h (github.com/nothings/stb)"
        echo "at /usr/local/include/stb/stb_image_write.h, then run make demo again"
        echo "(the demo runs now without PNG output)"
    fi ;;
*)
    echo "usage: tools/stb.sh CC state|install" >&2; exit 2 ;;
esac
exit 0
