"""xi(s, mu) at BAO scales and at small scales against Corrfunc, same process.

The workload of the issue: 200,000 clustered points (Thomas process, 8 per
clump, sigma 3 Mpc/h) + 600,000 uniform randoms in an open (1000 Mpc/h)^3
cube, 40 linear s bins to 200 Mpc/h and 100 mu bins about the z axis: DD,
DR and RR. astrograph counts all three in one call; Corrfunc (2.5.3,
``theory.DDsmu``) in three (autocorr 1, 0, 1). Also:

* ``--sky``: the same points placed 2000 Mpc/h from the observer and given
  as (RA, Dec, comoving distance) to ``mocks.DDsmu_mocks`` (midpoint line of
  sight; Corrfunc converts them itself, astrograph gets the same Cartesian
  positions computed as Corrfunc does);
* small scales: 10 log bins from 1 to 20 Mpc/h, 5 mu bins, on the same points.

Counts are compared bin by bin (Corrfunc's auto counts are ordered pairs:
twice ours, plus every point with itself at s = 0 when the first edge is 0). Times are the best of ``--repeat`` interleaved rounds, wall and
CPU; cycles per pair counted = CPU seconds x clock / pairs in the bins.
``--scale f`` shrinks both catalogues by f at fixed density (box f^(1/3)
smaller), for quick runs.

    python benchmarks/bench_bao.py [--scale 1] [--threads 2] [--repeat 1] [--sky] [--small]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from common import cpu_mhz, interleaved, loadavg, lscpu_model, write_json

import astrograph as ag


def catalogues(scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    box = 1000.0 * scale ** (1.0 / 3.0)
    n = int(200_000 * scale)
    d = ag.thomas_process(n // 8, 8.0, 3.0, box, seed=11, periodic=False)
    r = ag.uniform_randoms(3 * n, box, seed=12)
    return d, r, box


def xyz(p: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.ascontiguousarray(p[:, a]) for a in range(3))


def corrfunc_smu(d, r, edges, nmu, threads, sky: bool):
    """DD, DR, RR (npairs, (nbins, nmu)) of Corrfunc; on the sky via DDsmu_mocks."""
    if sky:
        from Corrfunc.mocks import DDsmu_mocks

        def run(auto, a, b=None):
            ra, dec, cz = a
            kw = {} if b is None else {"RA2": b[0], "DEC2": b[1], "CZ2": b[2]}
            res = DDsmu_mocks(
                auto, 1, threads, 1.0, nmu, edges, ra, dec, cz, is_comoving_dist=True, **kw
            )
            return res["npairs"].reshape(len(edges) - 1, nmu)

    else:
        from Corrfunc.theory import DDsmu

        def run(auto, a, b=None):
            kw = {} if b is None else {"X2": b[0], "Y2": b[1], "Z2": b[2]}
            res = DDsmu(auto, threads, edges, 1.0, nmu, *a, periodic=False, **kw)
            return res["npairs"].reshape(len(edges) - 1, nmu)

    return run(1, d), run(0, d, r), run(1, r)


def to_sky(p: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """The cube moved `offset` along x; (RA, Dec, distance) and the Cartesian
    positions Corrfunc computes from them (its own formula, libm cos/sin)."""
    q = p + np.array([offset, 0.0, 0.0])
    dist = np.sqrt((q * q).sum(axis=1))
    ra = np.degrees(np.arctan2(q[:, 1], q[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(q[:, 2] / dist))
    from math import cos, pi, sin

    k = pi / 180.0
    cart = np.array(
        [
            [r * cos(de * k) * cos(a * k), r * cos(de * k) * sin(a * k), r * sin(de * k)]
            for a, de, r in zip(ra, dec, dist, strict=True)
        ]
    )
    return (ra, dec, dist), cart


def measure(name, d, r, edges, nmu, threads, repeat, sky, los) -> dict[str, Any]:
    mhz = cpu_mhz()
    bins = ag.Bins(edges, nmu)
    if sky:
        sd, d = to_sky(d, 2000.0)
        sr, r = to_sky(r, 2000.0)

    def ours():
        return ag.count_pairs(d, r, bins=bins, los=los, num_threads=threads)

    def theirs():
        return corrfunc_smu(sd if sky else xyz(d), sr if sky else xyz(r), edges, nmu, threads, sky)

    (t_ours, c_ours, pc), (t_cf, c_cf, cf) = interleaved([ours, theirs], repeat)
    dd, dr, rr = cf
    if edges[0] == 0:
        # Corrfunc's auto counts include each point with itself (d = 0, mu bin 0)
        dd, rr = dd.copy(), rr.copy()
        dd[0, 0] -= len(d)
        rr[0, 0] -= len(r)
    equal = {
        "DD": bool(np.array_equal(dd, 2 * pc.counts["DD"])),
        "DR": bool(np.array_equal(dr, pc.counts["DR"])),
        "RR": bool(np.array_equal(rr, 2 * pc.counts["RR"])),
    }
    pairs = float(sum(v.sum() for v in pc.counts.values()))
    out = {
        "workload": name,
        "threads": threads,
        "n_data": len(d),
        "n_randoms": len(r),
        "pairs_counted": pairs,
        "astrograph_wall": t_ours,
        "astrograph_cpu": c_ours,
        "corrfunc_wall": t_cf,
        "corrfunc_cpu": c_cf,
        "ratio_wall": t_ours / t_cf,
        "ratio_cpu": c_ours / c_cf,
        "astrograph_cycles_per_pair": c_ours * mhz * 1e6 / pairs,
        "corrfunc_cycles_per_pair": c_cf * mhz * 1e6 / pairs,
        "counts_equal": equal,
    }
    print(
        f"{name}, {threads} threads: astrograph {t_ours:.2f} s (cpu {c_ours:.2f}), "
        f"Corrfunc {t_cf:.2f} s (cpu {c_cf:.2f}): ratio {t_ours / t_cf:.2f} wall, "
        f"{c_ours / c_cf:.2f} cpu; {out['astrograph_cycles_per_pair']:.1f} vs "
        f"{out['corrfunc_cycles_per_pair']:.1f} cycles/pair; equal {equal}",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sky", action="store_true", help="also DDsmu_mocks (midpoint)")
    ap.add_argument("--small", action="store_true", help="also small scales (1-20 Mpc/h)")
    args = ap.parse_args()
    d, r, box = catalogues(args.scale)
    runs = []
    for th in args.threads:
        runs.append(
            measure("bao_box_z", d, r, np.linspace(0, 200, 41), 100, th, args.repeat, False, "z")
        )
        if args.small:
            edges = np.geomspace(1, 20, 11)
            runs.append(measure("small_box_z", d, r, edges, 5, th, args.repeat, False, "z"))
        if args.sky:
            # DDsmu_mocks needs a first edge above 0
            edges = np.linspace(0, 200, 41)
            edges[0] = 0.01
            runs.append(
                measure("bao_sky_midpoint", d, r, edges, 100, th, args.repeat, True, "midpoint")
            )
    write_json(
        "bench_bao",
        {
            "machine": lscpu_model(),
            "mhz": cpu_mhz(),
            "scale": args.scale,
            "box": box,
            "load": loadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
