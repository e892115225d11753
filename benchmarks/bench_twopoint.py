"""Angular counts against Corrfunc's DDtheta_mocks, and the cost of cross counts.

1. ``ag.count_angular`` against Corrfunc's ``DDtheta_mocks`` (2.5.3 from
   PyPI), in this process, 1 and 2 threads, on a survey-like patch: 200,000
   galaxies (clumps of 8 around uniform centres, sigma 0.05 degrees) and
   400,000 uniform randoms over RA 150-200, Dec 0-30 degrees (1,432 deg^2),
   15 log bins of theta from 0.01 to 2 degrees: DD (auto), DR (cross) and
   RR (auto) as three calls each, and also astrograph's one call giving all
   three; then DD to 5 degrees. Target: astrograph <= 0.6x Corrfunc's time.
   The counts are compared: Corrfunc bins cos(theta) against cos(edges), so
   a pair within a few 1e-16 of an edge's cosine may fall on the other side;
   the differences are reported (expected: none or a handful of pairs).
2. Cost per pair of cross against auto counts in astrograph: ns per pair
   counted (wall and CPU) and cycles per pair (CPU seconds x clock / pairs),
   for the angular counts above and for 3-D (s) counts of 200,000 uniform
   points in a (250 Mpc/h)^3 box against 200,000 others (s < 20).

    python benchmarks/bench_twopoint.py [--repeat 3] [--quick] [--no-5deg]

Writes benchmarks/results/bench_twopoint.json.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from common import cpu_mhz, extension_build, interleaved, loadavg, lscpu_model, write_json

import astrograph as ag

RA, DEC = (150.0, 200.0), (0.0, 30.0)
TARGET = 0.6


def patch_uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    """(RA, Dec) uniform on the sphere over the patch."""
    ra = rng.uniform(*RA, n)
    s = np.sin(np.radians(DEC))
    dec = np.degrees(np.arcsin(rng.uniform(s[0], s[1], n)))
    return np.column_stack([ra, dec])


def patch_clustered(
    n: int, rng: np.random.Generator, per: int = 8, sigma: float = 0.05
) -> np.ndarray:
    """Clumps of ``per`` points (Gaussian, sigma degrees on the sky) around
    uniform centres; points that leave the patch are dropped and redrawn."""
    out = np.empty((0, 2))
    while len(out) < n:
        c = patch_uniform((n - len(out)) // per + 1, rng)
        c = np.repeat(c, per, axis=0)
        dra = rng.normal(0, sigma, len(c)) / np.cos(np.radians(c[:, 1]))
        p = np.column_stack([c[:, 0] + dra, c[:, 1] + rng.normal(0, sigma, len(c))])
        keep = (p[:, 0] >= RA[0]) & (p[:, 0] < RA[1]) & (p[:, 1] >= DEC[0]) & (p[:, 1] < DEC[1])
        out = np.vstack([out, p[keep]])
    return np.ascontiguousarray(out[:n])


def per_pair(seconds: float, cpu: float, pairs: float, mhz: float) -> dict[str, float]:
    return {
        "ns_per_pair_wall": seconds / pairs * 1e9,
        "ns_per_pair_cpu": cpu / pairs * 1e9,
        "cycles_per_pair": cpu * mhz * 1e6 / pairs,
    }


def angular(d: np.ndarray, r: np.ndarray, edges: np.ndarray, threads: int, repeat: int,
            with_rr: bool = True) -> dict[str, Any]:  # fmt: skip
    from Corrfunc.mocks import DDtheta_mocks

    def cf(auto, a, b=None):
        two = {} if b is None else {"RA2": b[:, 0], "DEC2": b[:, 1]}
        return lambda: DDtheta_mocks(auto, threads, edges, a[:, 0], a[:, 1], **two)["npairs"]

    def ours(a, b=None, rand=None):
        kw = {} if b is None else {"data2": b}
        return lambda: ag.count_angular(a, rand, bins=edges, num_threads=threads, **kw)

    jobs = {
        "DD": (cf(1, d), ours(d)),
        "DR": (cf(0, d, r), ours(d, r)),
    }
    if with_rr:
        jobs["RR"] = (cf(1, r), ours(r))
    fns = [f for pair in jobs.values() for f in pair]
    if with_rr:
        fns.append(ours(d, rand=r))  # DD, DR and RR in one call
    best = interleaved(fns, repeat)
    rows: dict[str, Any] = {}
    mhz = cpu_mhz()
    for k, name in enumerate(jobs):
        (tc, cc, rc), (to, co, ro) = best[2 * k], best[2 * k + 1]
        got = ro.counts["D1D2" if name == "DR" else "DD"][:, 0]
        factor = 1 if name == "DR" else 2  # Corrfunc counts ordered pairs of one catalogue
        diff = rc.astype(float) - factor * got
        pairs = float(got.sum())
        rows[name] = {
            "pairs": pairs,
            "corrfunc_s": tc, "corrfunc_cpu_s": cc,
            "astrograph_s": to, "astrograph_cpu_s": co,
            "ratio": to / tc, "cpu_ratio": co / cc,
            "astrograph_per_pair": per_pair(to, co, pairs, mhz),
            "corrfunc_per_pair": per_pair(tc, cc, pairs, mhz),
            "count_differences": {"bins_differing": int(np.count_nonzero(diff)),
                                  "max_abs": float(np.abs(diff).max()), "sum": float(diff.sum())},
        }  # fmt: skip
    if with_rr:
        t1, c1, res = best[-1]
        tot_cf = sum(rows[n]["corrfunc_s"] for n in jobs)
        rows["DD+DR+RR, one astrograph call"] = {
            "astrograph_s": t1, "astrograph_cpu_s": c1, "corrfunc_three_calls_s": tot_cf, "ratio": t1 / tot_cf,
            "same_counts": bool(
                np.array_equal(res.counts["DD"], best[1][2].counts["DD"])
                and np.array_equal(res.counts["DR"], best[3][2].counts["D1D2"])
                and np.array_equal(res.counts["RR"], best[5][2].counts["DD"])
            ),
        }  # fmt: skip
    return rows


def cross_vs_auto_3d(threads: int, repeat: int, n: int) -> dict[str, Any]:
    box = 250.0
    a = ag.uniform_randoms(n, box, seed=21)
    b = ag.uniform_randoms(n, box, seed=22)
    bins = ag.Bins(np.geomspace(0.5, 20.0, 16))
    best = interleaved(
        [
            lambda: ag.count_pairs(a, bins=bins, num_threads=threads),
            lambda: ag.count_pairs(a, bins=bins, data2=b, num_threads=threads),
        ],
        repeat,
    )
    mhz = cpu_mhz()
    out = {"catalogue": f"{n} + {n} uniform points, box 250, 15 log bins 0.5-20, open space"}
    for (t, c, res), name in zip(best, ("auto DD", "cross D1D2"), strict=True):
        pairs = float(res.counts["DD" if name == "auto DD" else "D1D2"].sum())
        out[name] = {"pairs": pairs, "s": t, "cpu_s": c, **per_pair(t, c, pairs, mhz)}
    out["cross_over_auto_cycles_per_pair"] = (
        out["cross D1D2"]["cycles_per_pair"] / out["auto DD"]["cycles_per_pair"]
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1/10 of the catalogues, 1 round")
    ap.add_argument("--no-5deg", action="store_true", help="skip the DD count to 5 degrees")
    args = ap.parse_args()
    import Corrfunc

    nd, nr = 200_000, 400_000
    if args.quick:
        nd, nr, args.repeat = nd // 10, nr // 10, 1
    rng = np.random.default_rng(3)
    d, r = patch_clustered(nd, rng), patch_uniform(nr, rng)
    edges = np.geomspace(0.01, 2.0, 16)
    out: dict[str, Any] = {
        "lscpu_model": lscpu_model(),
        "extension": extension_build(),
        "cpu_mhz": cpu_mhz(),
        "corrfunc": Corrfunc.__version__,
        "catalogue": {
            "galaxies": nd,
            "randoms": nr,
            "patch": "RA 150-200, Dec 0-30 deg",
            "galaxies_are": "clumps of 8, sigma 0.05 deg, around uniform centres",
        },  # fmt: skip
        "bins": "15 log bins of theta, 0.01-2 deg",
        "repeat": args.repeat,
        "loadavg_before": loadavg(),
    }
    print(
        f"{lscpu_model()}, {cpu_mhz():.0f} MHz; Corrfunc {Corrfunc.__version__}; load {loadavg()}"
    )
    t0 = time.perf_counter()
    out["angular"] = {}
    for th in (1, 2):
        rows = angular(d, r, edges, th, args.repeat)
        out["angular"][f"threads={th}"] = rows
        print(f"\nangular counts to 2 degrees, {th} thread(s), load {loadavg()}:")
        for name, row in rows.items():
            if "pairs" in row:
                app = row["astrograph_per_pair"]
                print(
                    f"  {name}: {row['pairs']:.3e} pairs; Corrfunc {row['corrfunc_s']:.3f} s "
                    f"(cpu {row['corrfunc_cpu_s']:.3f}), astrograph {row['astrograph_s']:.3f} s "
                    f"(cpu {row['astrograph_cpu_s']:.3f}): ratio {row['ratio']:.2f} "
                    f"(cpu {row['cpu_ratio']:.2f}); astrograph {app['ns_per_pair_cpu']:.2f} ns = "
                    f"{app['cycles_per_pair']:.1f} cycles per pair (CPU); counts differ in "
                    f"{row['count_differences']['bins_differing']} bins (max {row['count_differences']['max_abs']:g})"
                )
            else:
                print(f"  {name}: {row}")
    if not args.no_5deg:
        e5 = np.geomspace(0.01, 5.0, 16)
        for th in (1, 2):
            rows = angular(d, r, e5, th, max(1, args.repeat - 1), with_rr=False)
            out["angular"][f"threads={th}, to 5 degrees (DD, DR)"] = rows
            for name, row in rows.items():
                print(
                    f"  to 5 deg, {th} thread(s), {name}: {row['pairs']:.3e} pairs; Corrfunc {row['corrfunc_s']:.3f} s, "
                    f"astrograph {row['astrograph_s']:.3f} s: ratio {row['ratio']:.2f} (cpu {row['cpu_ratio']:.2f})"
                )
    out["cross_vs_auto"] = {}
    for th in (1, 2):
        ang = out["angular"][f"threads={th}"]
        out["cross_vs_auto"][f"angular, threads={th}"] = {
            k: ang[k]["astrograph_per_pair"] for k in ("DD", "DR", "RR")
        } | {"cross_over_auto_cycles_per_pair": ang["DR"]["astrograph_per_pair"]["cycles_per_pair"]
             / ang["DD"]["astrograph_per_pair"]["cycles_per_pair"]}  # fmt: skip
        out["cross_vs_auto"][f"3-D, threads={th}"] = cross_vs_auto_3d(th, args.repeat, nd)
    print("\ncross against auto counts in astrograph (cycles per pair, CPU time x clock):")
    for k, v in out["cross_vs_auto"].items():
        print(f"  {k}: cross / auto = {v['cross_over_auto_cycles_per_pair']:.2f}")
        for name, row in v.items():
            if isinstance(row, dict) and "cycles_per_pair" in row:
                print(f"     {name}: {row['ns_per_pair_wall']:.2f} ns wall, {row['ns_per_pair_cpu']:.2f} ns CPU, "
                      f"{row['cycles_per_pair']:.1f} cycles per pair")  # fmt: skip
    ratio2 = {n: out["angular"]["threads=2"][n]["ratio"] for n in ("DD", "DR", "RR")}
    ratio1 = {n: out["angular"]["threads=1"][n]["ratio"] for n in ("DD", "DR", "RR")}
    out["targets"] = {
        f"count_angular <= {TARGET}x DDtheta_mocks, 2 threads (every count)": max(ratio2.values())
        <= TARGET,
        f"count_angular <= {TARGET}x DDtheta_mocks, 1 thread (every count)": max(ratio1.values())
        <= TARGET,
    }
    for name, ok in out["targets"].items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    out["seconds_total"] = time.perf_counter() - t0
    out["loadavg_after"] = loadavg()
    write_json("bench_twopoint", out)


if __name__ == "__main__":
    main()
