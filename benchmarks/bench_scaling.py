"""Scaling of pair counting and graph building with N (1e4 ... 1e6) and rmax.

Catalogues are Thomas processes (N/8 parents, 8 children, sigma 3 Mpc/h) at the
FIXED number density of the standard catalogue (50,000 points per (250 Mpc/h)^3):
the periodic box side grows as N^(1/3) (1e6 points -> 679 Mpc/h), so the work per
point is constant and the ideal scaling is linear in N. Open-space (non-periodic)
counting, as in bench_2pcf.

For each N and rmax in (5, 10, 20) Mpc/h: ``count_pairs`` (10 log bins 1..rmax),
``NeighbourGraph.build`` (all edges < rmax) with its edges and bytes, and,
when installed, Corrfunc ``theory.DD`` on the same points and bins.

    python benchmarks/bench_scaling.py [--repeat 2] [--threads 2] [--max-n 1e6]

Writes benchmarks/results/bench_scaling.json and bench_scaling.png.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import (
    RESULTS,
    best_of,
    box_for,
    have,
    loadavg,
    print_table,
    standard_data,
    write_json,
    xyz,
)

import astrograph as ag

NS = (10_000, 30_000, 100_000, 300_000, 1_000_000)
RMAXES = (5.0, 10.0, 20.0)


def corrfunc_dd(points, edges, threads):
    from Corrfunc.theory import DD

    x, y, z = xyz(points)
    return DD(1, threads, np.asarray(edges), x, y, z, periodic=False, verbose=False)["npairs"]


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = dict(zip(RMAXES, ("C0", "C1", "C2"), strict=True))
    ax = axes[0]
    for rmax in RMAXES:
        rs = [r for r in rows if r["rmax"] == rmax]
        n = [r["n"] for r in rs]
        c = colours[rmax]
        ax.loglog(n, [r["count_pairs"] for r in rs], "o-", color=c, label=f"count_pairs r<{rmax:g}")
        ax.loglog(n, [r["build"] for r in rs], "s--", color=c, label=f"graph build r<{rmax:g}")
        if all(r.get("corrfunc_dd") for r in rs):
            ax.loglog(
                n, [r["corrfunc_dd"] for r in rs], "x:", color=c, label=f"Corrfunc DD r<{rmax:g}"
            )
    n = np.array([rows[0]["n"], rows[-1]["n"]], float)
    ref = min(r["count_pairs"] for r in rows if r["n"] == rows[0]["n"])
    ax.loglog(n, ref * n / n[0], "k-", lw=0.6, alpha=0.5, label="∝ N")
    ax.set_xlabel("N (fixed density 3.2e-3 (Mpc/h)^-3)")
    ax.set_ylabel("seconds (best of repeats)")
    ax.set_title("time against N")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    for n_ in sorted({r["n"] for r in rows}):
        rs = sorted((r for r in rows if r["n"] == n_), key=lambda r: r["rmax"])
        ax.loglog(
            [r["rmax"] for r in rs],
            [r["edges"] / r["build"] for r in rs],
            "o-",
            label=f"N={n_:.0e}",
        )
    ax.set_xlabel("rmax (Mpc/h)")
    ax.set_ylabel("graph edges built per second")
    ax.set_title("build throughput against rmax")
    ax.legend(fontsize=7)
    fig.suptitle("astrograph scaling (Thomas process, 2 threads)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-n", type=float, default=1e6)
    ap.add_argument("--no-corrfunc", action="store_true")
    args = ap.parse_args()
    rep, th = args.repeat, args.threads
    with_cf = have("Corrfunc") and not args.no_corrfunc
    print(f"threads {th}, best of {rep}, load average before: {loadavg()}")
    rows = []
    for n in (n for n in NS if n <= args.max_n):
        box = box_for(n)
        data = standard_data(max(1, n // 8), box=box, seed=1)
        for rmax in RMAXES:
            bins = ag.Bins.log(1.0, rmax, 10)
            t_pc, _, pc = best_of(
                lambda d=data, b=bins: ag.count_pairs(d, bins=b, num_threads=th), rep
            )
            t_b, _, g = best_of(
                lambda d=data, r=rmax: ag.NeighbourGraph.build(d, rmax=r, num_threads=th), rep
            )
            row = {
                "n": len(data),
                "box": box,
                "rmax": rmax,
                "pairs": float(pc.dd.sum()),
                "count_pairs": t_pc,
                "build": t_b,
                "edges": int(g.n_edges),
                "bytes_per_edge": float(g.bytes_per_edge),
                "graph_mib": g.nbytes / 2**20,
            }
            del g
            if with_cf:
                edges = np.asarray(bins.edges)
                t_cf, _, cf = best_of(lambda d=data, e=edges: corrfunc_dd(d, e, th), rep)
                row["corrfunc_dd"] = t_cf
                row["pairs_equal_corrfunc"] = bool(np.array_equal(2 * pc.dd[:, 0], cf))
            rows.append(row)
            print(
                f"N={len(data):>8} rmax={rmax:>4}: count_pairs {t_pc:.3f} s, build {t_b:.3f} s, "
                f"{row['edges']} edges"
                + (f", Corrfunc {row['corrfunc_dd']:.3f} s" if with_cf else "")
            )
    cols = ["n", "rmax", "pairs", "count_pairs", "build", "edges", "bytes_per_edge", "graph_mib"]
    if with_cf:
        cols += ["corrfunc_dd", "pairs_equal_corrfunc"]
    print()
    print_table(rows, cols)
    # per-point cost ratio between the largest and smallest N at each rmax (1.0 = linear)
    lin = {}
    for rmax in RMAXES:
        # from N ~ 1e5 up: below it the times are milliseconds, dominated by overheads
        rs = [r for r in rows if r["rmax"] == rmax and r["n"] >= 0.9e5] or [
            r for r in rows if r["rmax"] == rmax
        ]
        if len(rs) > 1:
            a, b = rs[0], rs[-1]
            lin[str(rmax)] = {
                "count_pairs": (b["count_pairs"] / b["n"]) / (a["count_pairs"] / a["n"]),
                "build": (b["build"] / b["n"]) / (a["build"] / a["n"]),
            }
    print("per-point cost, largest N over N ~ 1e5 (1.0 = linear scaling):", lin)
    print(f"load average after: {loadavg()}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "bench_scaling.png")
    write_json(
        "bench_scaling",
        {
            "density": "fixed, 50,000 per (250 Mpc/h)^3; box side = (N/density)^(1/3)",
            "threads": th,
            "repeat": rep,
            "rows": rows,
            "per_point_cost_ratio": lin,
            "loadavg_after": loadavg(),
        },
    )


if __name__ == "__main__":
    main()
