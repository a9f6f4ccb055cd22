#!/usr/bin/env python3
"""png_shrink.py IN OUT: the same PNG with its image data recompressed by zlib at level 9
(lossless: the scanlines and their filters are kept byte for byte)."""
import struct
import sys
import zlib


def chunks(data):
    pos = 8
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def main(src, dst):
    data = open(src, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(src + ": not a PNG")
    out, idat = [data[:8]], []
    for kind, body in chunks(data):
        if kind == b"IDAT":
            idat.append(body)
            continue
        if kind == b"IEND":
            out.append(chunk(b"IDAT", zlib.compress(zlib.decompress(b"".join(idat)), 9)))
        out.append(chunk(kind, body))
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
