"""pde_torch.py - the PyTorch peer of bench/bench_pde.c, run by it (build/bench/bench_pde
writes the points and starts this script with their directory):

    python3 bench/pde_torch.py DIR

For every file DIR/p<problem>_s<start>.bin (written by bench_pde: the interior, boundary
and held-out points, the exact values there, the network's widths and initial weights,
beta and the budget T) it trains an ordinary PINN in float64 on the CPU with the same
points, the same tanh network and the same initial weights: Adam lr 1e-3 for half the
budget, then L-BFGS (strong-Wolfe line search, history 50), nested autograd for the
derivatives; the held-out relative L2 error is checked every 5 iterations. It prints one
line per run for bench_pde to read:

    TORCH <problem> <start> <seconds to rel. L2 1e-3, or inf> <error at T> <iterations> <J_PINN at T>

Threads: OMP_NUM_THREADS when set (bench_pde passes its environment on), else every core.
Without torch it says so and exits 0."""
import glob, math, os, re, struct, sys, time

if len(sys.argv) < 2:
    print("pde_torch.py: run by build/bench/bench_pde, which writes the points (python3 "
          "bench/pde_torch.py DIR): skipped")
    sys.exit(0)
try:
    import torch
except Exception as e:  # pragma: no cover
    print("pde_torch.py: torch not importable (%s): skipped" % e)
    sys.exit(0)

THREADS = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or (os.cpu_count() or 1)
torch.set_num_threads(THREADS)
torch.set_default_dtype(torch.float64)
PI = math.pi


def read_case(path):
    raw = open(path, "rb").read()
    off = 0

    def take(n):
        nonlocal off
        v = struct.unpack_from("=%dd" % n, raw, off)
        off += 8 * n
        return v
    d, N, M, nt, beta, order, T, depth = take(8)
    d, N, M, nt, order, depth = int(d), int(N), int(M), int(nt), int(order), int(depth)
    widths = [int(w) for w in take(depth + 1)]
    t = lambda n, cols: torch.tensor(take(n * cols)).reshape(n, cols)
    X, Xb, Xt = t(N, d), t(M, d), t(nt, d)
    ut = torch.tensor(take(nt))
    layers = []
    for l in range(depth):
        lin = torch.nn.Linear(widths[l], widths[l + 1])
        with torch.no_grad():
            lin.weight.copy_(t(widths[l + 1], widths[l]))
            lin.bias.copy_(torch.tensor(take(widths[l + 1])))
        layers.append(lin)
        if l < depth - 1:
            layers.append(torch.nn.Tanh())
    return d, X, Xb, Xt, ut, beta, order, T, torch.nn.Sequential(*layers)


def exact(k, X):
    if k == 0:
        return torch.sin(2 * PI * (X[:, 1] - X[:, 0]))
    if k == 1:
        return torch.sin(PI * X[:, 0]) * torch.sin(PI * X[:, 1])
    return torch.sin(0.5 * PI * X).sum(1)


def rhs(k, X):
    if k == 0:
        return torch.zeros(X.shape[0])
    return (2 * PI * PI if k == 1 else 0.25 * PI * PI) * exact(k, X)


def run(k, path):
    d, X, Xb, Xt, ut, beta, order, T, u = read_case(path)
    X.requires_grad_(True)
    fX, gb = rhs(k, X.detach()), exact(k, Xb)

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


print("pde_torch.py: PyTorch %s, %d thread%s" % (torch.__version__, torch.get_num_threads(),
                                                "s" if torch.get_num_threads() > 1 else ""))
sys.stdout.flush()
for path in sorted(glob.glob(os.path.join(sys.argv[1], "p*_s*.bin"))):
    m = re.search(r"p(\d+)_s(\d+)\.bin$", path)
    k, s = int(m.group(1)), int(m.group(2))
    hit, e, it, J = run(k, path)
    print("TORCH %d %d %s %.6e %d %.6e" % (k, s, "%.4f" % hit if hit is not None else "inf", e, it, J))
    sys.stdout.flush()
