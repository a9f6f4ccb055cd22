#!/usr/bin/env python3
"""PyTorch reference for bench/bench_sapm.c: the recipe users would pick instead - Adam
(lr 1e-3) then L-BFGS (strong-Wolfe, history 10) on J_LS, float64 on the CPU, one thread -
on the task of bench_sapm.c: sin(x^2) on [-2, 2], 256 random training points, test MSE on
1000 grid points, depth 10, width 20, tanh. Reports the median seconds to test MSE 1e-4
over starts (the test MSE is evaluated every 10 Adam steps / every L-BFGS step, outside the
clock) for the U(-1,1) start and Xavier (zero biases). Adam runs for at most 3.7 s,
then L-BFGS for at most 3 s (a common Adam-then-L-BFGS schedule). Different random draws from
the C side (same distributions). Usage: sapm_torch.py [--starts K] (default 3)."""
import sys, time, statistics, math

def main():
    try:
        import torch
    except Exception as e:  # pragma: no cover
        print("sapm_torch.py: torch not importable (%s); skipped" % e)
        return 0
    torch.set_num_threads(1)
    starts = 3
    if "--starts" in sys.argv:
        starts = int(sys.argv[sys.argv.index("--starts") + 1])
    L, W, N, NT = 10, 20, 256, 1000
    g = torch.Generator().manual_seed(12345)
    X = (torch.rand(N, 1, generator=g, dtype=torch.float64) * 4 - 2)
    Y = torch.sin(X * X)
    Xt = (-2 + 4 * (torch.arange(NT, dtype=torch.float64) + 0.5) / NT).view(-1, 1)
    Yt = torch.sin(Xt * Xt)

    def model(seed, init):
        torch.manual_seed(seed)
        layers = []
        widths = [1] + [W] * (L - 1) + [1]
        for l in range(L):
            lin = torch.nn.Linear(widths[l], widths[l + 1]).double()
            with torch.no_grad():
                if init == "uniform":
                    lin.weight.uniform_(-1, 1); lin.bias.uniform_(-1, 1)
                else:
                    torch.nn.init.xavier_uniform_(lin.weight); lin.bias.zero_()
            layers.append(lin)
            if l < L - 1:
                layers.append(torch.nn.Tanh())
        return torch.nn.Sequential(*layers)

    print("PyTorch %s, float64, 1 thread: Adam (lr 1e-3, <= 3.7 s) then L-BFGS (<= 3 s), "
          "sin(x^2), L = %d, width %d, N = %d, %d starts" % (torch.__version__, L, W, N, starts))
    print("%-22s %14s %14s %14s" % ("init", "t(1e-3) s", "t(1e-4) s", "final test"))
    for init in ("uniform", "xavier"):
        t3s, t4s, finals = [], [], []
        for s in range(starts):
            net = model(1000 + s, init)
            clock = 0.0
            t3 = t4 = math.inf
            def test():
                with torch.no_grad():
                    return torch.mean((net(Xt) - Yt) ** 2).item()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            k = 0
            while clock < 3.7 and t4 == math.inf:
                t0 = time.perf_counter()
                opt.zero_grad(); loss = torch.mean((net(X) - Y) ** 2); loss.backward(); opt.step()
                clock += time.perf_counter() - t0
                k += 1
                if k % 10 == 0:
                    e = test()
                    if e <= 1e-3 and t3 == math.inf: t3 = clock
                    if e <= 1e-4: t4 = clock
            if t4 == math.inf:
                lb = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=1, history_size=10,
                                       line_search_fn="strong_wolfe", tolerance_grad=0, tolerance_change=0)
                def closure():
                    lb.zero_grad(); l_ = torch.mean((net(X) - Y) ** 2); l_.backward(); return l_
                c0 = clock
                while clock - c0 < 3.0 and t4 == math.inf:
                    t0 = time.perf_counter(); lb.step(closure); clock += time.perf_counter() - t0
                    e = test()
                    if e <= 1e-3 and t3 == math.inf: t3 = clock
                    if e <= 1e-4: t4 = clock
            t3s.append(t3); t4s.append(t4); finals.append(test())
        fmt = lambda v: "-" if math.isinf(v) else "%.3f" % v
        print("%-22s %14s %14s %14.3e" % (init, fmt(statistics.median(t3s)), fmt(statistics.median(t4s)),
                                           statistics.median(finals)))
    print("(stops at test MSE 1e-4; compare with the t(1e-4) column of bench_sapm at L = 10)")
    return 0

if __name__ == "__main__":
    sys.exit(main())
