#!/usr/bin/env python3
"""PyTorch side of the LS benchmark (bench/bench_ls.c runs first and writes the data, the
initial parameters and its own results under build/). Trains the same width-20 tanh network
on the same sin(x^2) data from the same initial weights, float64 on the CPU with
torch.set_num_threads(1) (the C side is single-threaded too), with Adam (same learning rate
and betas) and L-BFGS (strong-Wolfe line search, history 10, tolerances off so it only stops
at the target), and prints one table: seconds per iteration and time to train MSE 1e-4,
C vs PyTorch, with the ratios PyTorch / C (> 1: the C library is faster).
Skips the PyTorch columns cleanly when torch cannot be imported."""
import os, struct, sys, time, statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
TARGET = 1e-4
QUICK = "--quick" in sys.argv


def read_c_results():
    path = os.path.join(BUILD, "bench_ls_results.txt")
    res = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            L, m, per, tt, it, reached, fin = line.split()
            res[(int(L), m)] = dict(per=float(per), tt=float(tt), it=int(float(it)),
                                    reached=reached == "1", fin=float(fin))
    return res


def read_case(L):
    with open(os.path.join(BUILD, "bench_ls_L%d.bin" % L), "rb") as f:
        data = f.read()
    N, depth = struct.unpack_from("<II", data, 0)
    widths = struct.unpack_from("<%dI" % (depth + 1), data, 8)
    off = 8 + 4 * (depth + 1)
    X = struct.unpack_from("<%dd" % N, data, off); off += 8 * N
    Y = struct.unpack_from("<%dd" % N, data, off); off += 8 * N
    nparams = sum(widths[l + 1] * (widths[l] + 1) for l in range(depth))
    P = struct.unpack_from("<%dd" % nparams, data, off)
    return N, widths, X, Y, P


def torch_model(torch, widths, P):
    layers = []
    off = 0
    for l in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[l], widths[l + 1]).double()
        nw = widths[l + 1] * widths[l]
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(P[off:off + nw], dtype=torch.float64).view(widths[l + 1], widths[l]))
            off += nw
            lin.bias.copy_(torch.tensor(P[off:off + widths[l + 1]], dtype=torch.float64))
            off += widths[l + 1]
        layers.append(lin)
        if l < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def bench_torch(torch, L, cap_s):
    N, widths, X, Y, P = read_case(L)
    x = torch.tensor(X, dtype=torch.float64).view(N, 1)
    y = torch.tensor(Y, dtype=torch.float64).view(N, 1)
    out = {}
    # Adam: seconds per step (median of 7 runs of 200 steps) and time to MSE 1e-4
    per = []
    for r in range(3 if QUICK else 7):
        model = torch_model(torch, widths, P)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        t0 = time.perf_counter()
        for it in range(200):
            opt.zero_grad()
            loss = torch.mean((model(x) - y) ** 2)
            loss.backward()
            opt.step()
        per.append((time.perf_counter() - t0) / 200)
    model = torch_model(torch, widths, P)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    t0 = time.perf_counter()
    it, reached, mse = 0, False, float("nan")
    while time.perf_counter() - t0 < cap_s:
        opt.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        mse = loss.item()
        if mse <= TARGET:  # the loss of the current iterate, as the C trainer checks it
            reached = True
            break
        loss.backward()
        opt.step()
        it += 1
    out["LS-Adam"] = dict(per=statistics.median(per), tt=time.perf_counter() - t0, it=it,
                          reached=reached, fin=mse)
    # L-BFGS: strong Wolfe, history 10, no early stop except the target (checked after
    # every outer step of max_iter = 10 iterations)
    def lbfgs_run(max_steps, cap, check):
        model = torch_model(torch, widths, P)
        opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=10, history_size=10,
                                tolerance_grad=0.0, tolerance_change=0.0,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = torch.mean((model(x) - y) ** 2)
            loss.backward()
            return loss
        t0 = time.perf_counter()
        steps, mse, reached = 0, float("nan"), False
        while steps < max_steps and time.perf_counter() - t0 < cap:
            opt.step(closure)
            steps += 1
            if check:
                with torch.no_grad():
                    mse = torch.mean((model(x) - y) ** 2).item()
                if mse <= TARGET:
                    reached = True
                    break
        n_iter = opt.state[opt._params[0]].get("n_iter", steps * 10)
        return time.perf_counter() - t0, n_iter, reached, mse
    per = []
    for r in range(3 if QUICK else 7):
        t, n_iter, _, _ = lbfgs_run(5, 1e9, False)
        per.append(t / max(n_iter, 1))
    t, n_iter, reached, mse = lbfgs_run(10 ** 9, cap_s, True)
    out["LS-LBFGS"] = dict(per=statistics.median(per), tt=t, it=n_iter, reached=reached, fin=mse)
    return out


def main():
    try:
        c = read_c_results()
    except OSError:
        print("ls_torch.py: build/bench_ls_results.txt missing; run build/bench/bench_ls first")
        return 1
    try:
        import torch
        torch.set_num_threads(1)
        have_torch = True
    except Exception as e:  # noqa: BLE001 - any import failure means: no PyTorch column
        print("ls_torch.py: PyTorch not importable (%s); printing the C results only" % e)
        have_torch = False
    depths = sorted({L for (L, _) in c})
    print()
    print("LS baseline: sin(x^2), width 20 tanh, N = 200, float64, one thread each "
          "(C: sapm.h; PyTorch %s, torch.set_num_threads(1))" % (torch.__version__ if have_torch else "-"))
    print("s/it = median seconds per iteration; to1e-4 = seconds to train MSE <= 1e-4 "
          "(* = not reached, time = cap); ratio = PyTorch / C")
    hdr = "%3s %-9s %11s %11s %7s %10s %10s %7s %7s %7s" % (
        "L", "method", "C s/it", "torch s/it", "ratio", "C to1e-4", "torch", "ratio", "C it", "t it")
    print(hdr)
    for L in depths:
        t = bench_torch(torch, L, 10.0 if QUICK else 60.0) if have_torch else {}
        for m in ("LS-GD", "LS-Adam", "LS-LBFGS"):
            cr = c.get((L, m))
            if cr is None:
                continue
            tr = t.get(m)
            ctt = "%9.3f%s" % (cr["tt"], " " if cr["reached"] else "*")
            if tr:
                ttt = "%9.3f%s" % (tr["tt"], " " if tr["reached"] else "*")
                r1 = "%6.1fx" % (tr["per"] / cr["per"])
                r2 = "%6.1fx" % (tr["tt"] / cr["tt"]) if cr["reached"] and tr["reached"] else "     -"
                print("%3d %-9s %11.3e %11.3e %7s %10s %10s %7s %7d %7d" % (
                    L, m, cr["per"], tr["per"], r1, ctt, ttt, r2, cr["it"], tr["it"]))
            else:
                print("%3d %-9s %11.3e %11s %7s %10s %10s %7s %7d %7s" % (
                    L, m, cr["per"], "-", "-", ctt, "-", "-", cr["it"], "-"))
    if have_torch:
        print("Targets: Adam step ratio >= 3x, L-BFGS time-to-1e-4 ratio >= 5x.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
