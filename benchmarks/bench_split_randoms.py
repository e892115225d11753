"""Split randoms (Keihänen et al. 2019, A&A 631, A73): time saved at equal variance.

Mocks: independent Thomas-process catalogues in an open cube (``--box``),
each with its own uniform randoms, M = ``--ratio`` x N of them. For each
mock xi(s) (Landy-Szalay) is measured three ways, in one process run:

* ``full``: one random catalogue of M points (RR over all M^2/2 pairs);
* ``split``: the same M randoms as M/N splits of N (RR within each split
  only, DR over all of them) — what ``randoms=[...]`` does;
* ``small``: one random catalogue of N points only (same RR pairs as one
  split, fewer DR pairs), the cheap estimator that the split one is meant
  to beat.

The variance over mocks of each estimator (data and randoms both vary)
shows whether splitting costs precision; the timings what it saves.

    python benchmarks/bench_split_randoms.py [--mocks 12] [--ndata 20000] [--ratio 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import lscpu_model, machine_state, write_json

import astrograph as ag

BOX = 500.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mocks", type=int, default=12)
    ap.add_argument("--ndata", type=int, default=20_000)
    ap.add_argument("--ratio", type=int, default=50, help="randoms per galaxy")
    ap.add_argument("--rmax", type=float, default=25.0)
    ap.add_argument("--box", type=float, default=BOX, help="side of the open cube (Mpc/h)")
    args = ap.parse_args()
    bins = ag.Bins.log(1.0, args.rmax, 8)
    n_par = args.ndata // 8
    k = args.ratio
    xi = {"full": [], "split": [], "small": []}
    sizes = []
    seconds = {name: [] for name in xi}
    pairs = {name: 0.0 for name in xi}
    for m in range(args.mocks):
        data = ag.thomas_process(n_par, 8.0, 3.0, args.box, seed=1000 + m, periodic=False)
        n = len(data)
        sizes.append(n)
        randoms = ag.uniform_randoms(k * n, args.box, seed=5000 + m)
        splits = [randoms[i * n : (i + 1) * n] for i in range(k)]
        for name, ran in (("full", randoms), ("split", splits), ("small", splits[0])):
            t0 = time.perf_counter()
            pc = ag.count_pairs(data, ran, bins=bins)
            seconds[name].append(time.perf_counter() - t0)
            xi[name].append(pc.xi_s())
            pairs[name] = sum(c.sum() for c in pc.counts.values())
        print(f"mock {m}: " + ", ".join(f"{k_} {seconds[k_][-1]:.2f} s" for k_ in xi), flush=True)
    std = {name: np.std(np.array(v), axis=0, ddof=1) for name, v in xi.items()}
    mean = {name: np.mean(np.array(v), axis=0) for name, v in xi.items()}
    t = {name: float(np.median(v)) for name, v in seconds.items()}
    out = {
        "machine": lscpu_model(),
        "mocks": args.mocks,
        "ndata_mean": float(np.mean(sizes)),
        "randoms_per_galaxy": k,
        "box": args.box,
        "rmax": args.rmax,
        "bins": bins.edges.tolist(),
        "median_seconds": t,
        "pairs_counted_last_mock": pairs,
        "mean_xi": {n: v.tolist() for n, v in mean.items()},
        "std_xi": {n: v.tolist() for n, v in std.items()},
        "std_ratio_split_over_full": (std["split"] / std["full"]).tolist(),
        "std_ratio_small_over_full": (std["small"] / std["full"]).tolist(),
        "time_ratio_split_over_full": t["split"] / t["full"],
    }
    out["state"] = machine_state()
    write_json("split_randoms", out)
    print(
        f"median time: full {t['full']:.2f} s, split {t['split']:.2f} s, small {t['small']:.2f} s"
    )
    print("std(xi) split / full per bin:", np.round(std["split"] / std["full"], 3))
    print("std(xi) small / full per bin:", np.round(std["small"] / std["full"], 3))


if __name__ == "__main__":
    main()
