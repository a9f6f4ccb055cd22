"""pde_torch.py - the PyTorch peer of bench/bench_pde.c: an ordinary PINN (float64, CPU,
tanh, 3 hidden layers of 50, Xavier, N = 1000 interior points, Adam lr 1e-3
for half the budget then L-BFGS with strong-Wolfe line search, nested autograd for the
derivatives) on the same three problems, reporting the same columns: time to relative L2
error 1e-3 on 2000 held-out points (checked every 5 iterations) and the error at the
budget T. SAPM_BENCH_QUICK=1: T = 6 s, else T = 20 s (one seed: torch's own RNG).
Skips cleanly when torch cannot be imported. Points are drawn by torch (uniform), not
the C bench's scrambled Halton: same sizes and problems, not the same points.
Threads: OMP_NUM_THREADS when set, else every core - the same rule as the OpenMP build of
bench_pde (PyTorch's own default here is 1 thread: at::get_num_threads() = 1 on this
2-core machine)."""
import math, os, sys, time

try:
    import torch
except Exception as e:  # pragma: no cover
    print("pde_torch.py: torch not importable (%s): skipped" % e)
    sys.exit(0)

THREADS = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or (os.cpu_count() or 1)
torch.set_num_threads(THREADS)
torch.set_default_dtype(torch.float64)
QUICK = os.environ.get("SAPM_BENCH_QUICK", "0") not in ("", "0")
T = 6.0 if QUICK else 20.0
PI = math.pi


def net(d):
    layers, w = [], [d, 50, 50, 50, 1]
    for i in range(4):
        lin = torch.nn.Linear(w[i], w[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < 3:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def boundary(d, M, faces):
    X = torch.rand(M, d)
    f = torch.tensor(faces)[torch.randint(len(faces), (M,))]
    X[torch.arange(M), f // 2] = (f % 2).double()
    return X


def problem(k):
    if k == 0:  # u_t + u_x = 0, inflow faces t = 0 (face 0) and x = 0 (face 2)
        d, M, beta = 2, 200, 10.0
        exact = lambda X: torch.sin(2 * PI * (X[:, 1] - X[:, 0]))
        f = lambda X: torch.zeros(X.shape[0])
        faces, order = [0, 2], 1
    elif k == 1:
        d, M, beta = 2, 400, 100.0
        exact = lambda X: torch.sin(PI * X[:, 0]) * torch.sin(PI * X[:, 1])
        f = lambda X: 2 * PI * PI * exact(X)
        faces, order = list(range(4)), 2
    else:
        d, M, beta = 10, 1000, 10.0
        exact = lambda X: torch.sin(0.5 * PI * X).sum(1)
        f = lambda X: 0.25 * PI * PI * exact(X)
        faces, order = list(range(20)), 2
    return d, M, beta, exact, f, faces, order


def run(k):
    torch.manual_seed(1)
    d, M, beta, exact, f, faces, order = problem(k)
    X = torch.rand(1000, d, requires_grad=True)
    Xb = boundary(d, M, faces)
    Xt = torch.rand(2000, d)
    ut, fX, gb = exact(Xt), f(X.detach()), exact(Xb)
    u = net(d)

    def loss():
        v = u(X)[:, 0]
        g = torch.autograd.grad(v.sum(), X, create_graph=True)[0]
        if order == 1:
            res = g[:, 0] + g[:, 1] - fX
        else:
            lap = sum(torch.autograd.grad(g[:, i].sum(), X, create_graph=True)[0][:, i] for i in range(d))
            res = -lap - fX
        return (res ** 2).mean() + beta * ((u(Xb)[:, 0] - gb) ** 2).mean()

    def err():
        with torch.no_grad():
            return float(torch.linalg.norm(u(Xt)[:, 0] - ut) / torch.linalg.norm(ut))

    t0, hit, it = time.time(), None, 0
    adam = torch.optim.Adam(u.parameters(), lr=1e-3)
    while time.time() - t0 < T / 2:
        adam.zero_grad(); J = loss(); J.backward(); adam.step(); it += 1
        if it % 5 == 0 and hit is None and err() <= 1e-3:
            hit = time.time() - t0
    lb = torch.optim.LBFGS(u.parameters(), lr=1, max_iter=5, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        lb.zero_grad(); J = loss(); J.backward(); return J
    while time.time() - t0 < T:
        lb.step(closure); it += 5
        if hit is None and err() <= 1e-3:
            hit = time.time() - t0
    return hit, err(), it, float(loss())


names = ["transport", "Poisson 2-D", "Poisson d=10"]
print("pde_torch.py: PyTorch %s PINN (Adam 1e-3 then L-BFGS), T = %.0f s, %d thread%s"
      % (torch.__version__, T, torch.get_num_threads(), "s" if torch.get_num_threads() > 1 else ""))
print("%-13s %-16s %14s %14s %10s %12s" % ("problem", "method", "t(1e-3)/s", "err at T", "iters", "J_PINN at T"))
for k in range(3):
    hit, e, it, J = run(k)
    print("%-13s %-16s %14s %14.3e %10d %12.3e" % (names[k], "torch Adam+LBFGS",
          "%.2f" % hit if hit is not None else "> %.0f" % T, e, it, J))
