"""Are the jackknife error bars right? 50 independent clustered mocks.

Issue 11's sanity check at benchmark scale: 50 Thomas-process mocks in
periodic boxes (Poisson number of clusters, as in the process), each counted
once with K = 27 sub-cube regions; the mean jackknife variance of xi(s), of
zeta on equilateral triangles and of the 3PCF monopole zeta_0(r, r) from the
multipoles must lie within a factor 2 of the mock-to-mock variance in every
bin. Each also with the Mohammad & Percival (2022) correction
(``correction="mohammad21"``).

    python benchmarks/bench_jackknife_mocks.py [--mocks 50]

Writes benchmarks/results/bench_jackknife_mocks.json (``_k<K>`` appended for
other numbers of regions).
"""

from __future__ import annotations

import argparse

import numpy as np
from common import print_table, write_json

import astrograph as ag

BOX, PARENTS, CHILDREN, SIGMA = 120.0, 1200, 6.0, 2.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mocks", type=int, default=50)
    ap.add_argument("--regions", type=int, default=27)
    args = ap.parse_args()
    pair_bins = ag.Bins.log(1.0, 10.0, 6)
    tri_bins = ag.Bins.linear(2.0, 10.0, 4)
    mp_bins = ag.Bins.linear(2.0, 10.0, 4)
    rng = np.random.default_rng(0)
    diag = np.arange(mp_bins.nbins)
    stats: dict[str, list] = {"xi": [], "zeta_eq": [], "zeta0_rr": []}
    jk: dict[str, list] = {k: [] for k in stats}
    corrected: dict[str, list] = {k: [] for k in stats}
    mp21 = {"correction": "mohammad21"}
    for m in range(args.mocks):
        d = ag.thomas_process(int(rng.poisson(PARENTS)), CHILDREN, SIGMA, BOX, seed=1000 + m)
        r = ag.uniform_randoms(2 * len(d), BOX, seed=5000 + m)
        kw = {"boxsize": BOX, "regions": args.regions}
        pc = ag.count_pairs(d, r, bins=pair_bins, **kw)
        tc = ag.count_triangles(d, r, bins=tri_bins, **kw)
        mp = ag.count_triangle_multipoles(d, r, bins=mp_bins, lmax=2, **kw)
        stats["xi"].append(pc.xi_s())
        stats["zeta_eq"].append(tc.equilateral().filled(np.nan))
        stats["zeta0_rr"].append(mp.zeta()[0, diag, diag])
        jk["xi"].append(pc.std("xi_s") ** 2)
        jk["zeta_eq"].append(np.ma.filled(tc.std("equilateral"), np.nan) ** 2)
        jk["zeta0_rr"].append(mp.std(lambda t: t.zeta()[0, diag, diag]) ** 2)
        corrected["xi"].append(pc.std("xi_s", **mp21) ** 2)
        corrected["zeta_eq"].append(np.ma.filled(tc.std("equilateral", **mp21), np.nan) ** 2)
        corrected["zeta0_rr"].append(mp.std(lambda t: t.zeta()[0, diag, diag], **mp21) ** 2)
        print(f"mock {m + 1}/{args.mocks}: {len(d)} points", flush=True)
    rows, out = [], {}
    runs = [(name, name, jk[name]) for name in stats]
    runs += [(f"{name}_mohammad21", name, v) for name, v in corrected.items()]
    for label, name, variances in runs:
        scatter = np.var(np.array(stats[name]), axis=0, ddof=1)
        mean_jk = np.mean(np.array(variances), axis=0)
        ratio = mean_jk / scatter
        out[label] = {
            "mean": np.mean(stats[name], axis=0).tolist(),
            "mock_variance": scatter.tolist(),
            "mean_jackknife_variance": mean_jk.tolist(),
            "ratio": ratio.tolist(),
            "within_factor_2": bool(np.all((ratio > 0.5) & (ratio < 2.0))),
        }
        rows.append(
            {
                "statistic": label,
                "bins": len(ratio),
                "ratio_min": float(ratio.min()),
                "ratio_max": float(ratio.max()),
                "within_2x": out[label]["within_factor_2"],
            }
        )
    print_table(rows, ["statistic", "bins", "ratio_min", "ratio_max", "within_2x"])
    suffix = "" if args.regions == 27 else f"_k{args.regions}"
    write_json(
        f"bench_jackknife_mocks{suffix}",
        {"mocks": args.mocks, "regions": args.regions, "box": BOX, **out},
    )


if __name__ == "__main__":
    main()
