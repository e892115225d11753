"""3PCF multipoles at the BAO scale: astrograph against ENCORE, and scaling.

Issue 12's figures. ENCORE (github.com/oliverphilcox/encore) is not on PyPI:
build it yourself in a scratch folder (NBIN = 10 and ORDER = 10 in
encore.cpp, 3PCF only, ``-DOPENMP -DAVX``; print the 3PCF with ``%.17le``
for full precision) and pass the binary and its folder (which holds
``coupling_matrices/``). Both codes run on the same catalogue in the same
process run, 2 threads: a Thomas process at a BOSS-like density (3e-4
h^3 Mpc^-3) plus 3x as many uniform randoms, open space, 10 linear bins
0-150 Mpc/h, lmax 10. ENCORE runs its D - R field (``-balance``) and its
randoms (``-invert``) as two processes, as its own wrapper does; astrograph
sums both fields in one pass. Then astrograph alone against N and rmax:
cycles per pair visit (CPU time x clock over the ordered pairs within rmax
of every point, counted exactly).

    python benchmarks/bench_multipoles.py --encore /scratch/encore/encoreAVX [--ndata 100000]
    python benchmarks/bench_multipoles.py --scaling-only

Writes benchmarks/results/bench_multipoles.json.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from common import LAST_CPU, best_of, loadavg, print_table, write_json

import astrograph as ag

DENSITY = 3e-4
RMAX, NBIN, LMAX = 150.0, 10, 10


def lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return next((" ".join(x.split()) for x in out.splitlines() if "Model name" in x), "")


def clock_hz() -> float:
    """The CPU clock from /proc/cpuinfo (cycles = CPU seconds x this)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return float("nan")
    m = re.search(r"cpu MHz\s*:\s*([0-9.]+)", text)
    return float(m.group(1)) * 1e6 if m else float("nan")


def catalogue(ndata: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """Thomas process (clumps of 10, sigma 5 Mpc/h) + 3x uniform randoms."""
    box = (ndata / DENSITY) ** (1 / 3)
    data = ag.thomas_process(ndata // 10, 10, 5.0, box, seed=seed)
    randoms = ag.uniform_randoms(3 * ndata, box, seed=seed + 1)
    return data, randoms, box


def pair_visits(data, randoms, rmax: float) -> tuple[float, float]:
    """Ordered pairs within rmax over all points, and over the randoms alone."""
    pc = ag.count_pairs(data, randoms, bins=ag.Bins.linear(1e-9, rmax, 1), num_threads=2)
    return 2 * float(pc.dd.sum() + pc.dr.sum() + pc.rr.sum()), 2 * float(pc.rr.sum())


def timing_row(data, randoms, t: float, cpu: float, enc: dict) -> dict:
    """The sizes, astrograph's wall and CPU seconds, ENCORE's D - R and R wall
    seconds, their sum, and astrograph's time over it (``ratio``)."""
    row = {
        "ndata": len(data),
        "nrandoms": len(randoms),
        "astrograph_s": t,
        "astrograph_cpu_s": cpu,
        "encore_dmr_s": enc["time_dmr"],
        "encore_r_s": enc["time_r"],
        "encore_s": enc["time_dmr"] + enc["time_r"],
    }
    row["ratio"] = t / row["encore_s"]
    return row


def run_encore(
    binary: Path,
    folder: Path,
    data,
    randoms,
    threads: int,
    span: tuple[float, float] = (0.0, RMAX),
    read=None,
) -> dict:
    """ENCORE's D - R and R runs (its wrapper's flags) over separations in
    ``span``: wall times, and ``read(output folder, tag)`` of each run (its
    raw 3PCF in its layout by default)."""
    read = read or (lambda out, tag: parse_3pcf(out / f"{tag}_3pcf.txt"))
    work = Path(tempfile.mkdtemp(prefix="encore_"))
    (work / "coupling_matrices").symlink_to(folder / "coupling_matrices")
    (work / "output").mkdir()
    wr = -np.ones(len(randoms)) * len(data) / len(randoms)  # negative, summing to -N_data
    allpos = np.vstack([data, randoms])
    box = 1.001 * float(np.ptp(allpos, axis=0).max())
    rmin, rmax = span
    common = ["-rmin", repr(rmin), "-rmax", repr(rmax), "-box", repr(box)]
    common += ["-nside", str(int(round(4 * box / rmax)))]
    np.savetxt(work / "dmr.txt", np.c_[allpos, np.r_[np.ones(len(data)), wr]], fmt="%.17e")
    np.savetxt(work / "r.txt", np.c_[randoms, wr], fmt="%.17e")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = {}
    for tag, extra in (("dmr", ["-balance"]), ("r", ["-invert"])):
        cmd = [str(binary), "-in", str(work / f"{tag}.txt"), "-outstr", tag, *common, *extra]
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=work, env=env, check=True, capture_output=True)
        out[f"time_{tag}"] = time.perf_counter() - t0
        out[tag] = read(work / "output", tag)
    return out


def parse_3pcf(path: Path) -> np.ndarray:
    """ENCORE's 3PCF file: b1 row, b2 row (b1 < b2), then one row per l."""
    lines = [x for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
    b1, b2 = (np.array(x.split(), dtype=int) for x in lines[:2])
    rows = np.array([x.split() for x in lines[2:]], dtype=float)
    out = np.full((rows.shape[0], NBIN, NBIN), np.nan)
    out[:, b1, b2] = out[:, b2, b1] = rows[:, 1:]
    return out


def versus_encore(args) -> dict:
    data, randoms, box = catalogue(args.ndata)
    edges = np.linspace(0.0, RMAX, NBIN + 1)
    print(f"catalogue: {len(data)} data + {len(randoms)} randoms, box {box:.0f}, open space")
    t, _, m = best_of(
        lambda: ag.count_triangle_multipoles(
            data, randoms, bins=edges, lmax=LMAX, num_threads=args.threads
        ),
        1,
    )
    cpu = LAST_CPU["cpu"]
    enc = run_encore(Path(args.encore), Path(args.encore_dir), data, randoms, args.threads)
    ours_dmr, ours_r = m.counts("encore")
    off = ~np.eye(NBIN, dtype=bool)
    row = timing_row(data, randoms, t, cpu, enc)
    for tag, ours in (("dmr", ours_dmr), ("r", ours_r)):
        # Per l, the largest difference over the largest |value| of that l.
        diff = np.abs(ours[:, off] - enc[tag][:, off]).max(axis=1)
        row[f"rel_diff_{tag}_by_l"] = (diff / np.abs(enc[tag][:, off]).max(axis=1)).tolist()
    visits, rr = pair_visits(data, randoms, RMAX)
    row["pair_visits"] = visits
    row["cycles_per_visit"] = cpu * clock_hz() / visits
    row["encore_cycles_per_visit"] = row["encore_s"] * args.threads * clock_hz() / (visits + rr)
    print_table([row], ["ndata", "nrandoms", "astrograph_s", "encore_dmr_s", "encore_r_s", "ratio"])
    print("max relative difference per l (D-R):", np.round(row["rel_diff_dmr_by_l"], 12))
    print("max relative difference per l (R):  ", np.round(row["rel_diff_r_by_l"], 12))
    return row


def scaling(args) -> list[dict]:
    rows = []
    cases = [(n, RMAX) for n in (10_000, 30_000, 100_000)]
    cases += [(30_000, r) for r in (50.0, 100.0, 200.0)]
    # N up to 10^6 at rmax 50 (at rmax 150 it would take about 20 minutes).
    cases += [(n, 50.0) for n in (10_000, 100_000, 1_000_000)]
    if args.scaling_cases:
        cases = [cases[i] for i in args.scaling_cases]
    for n, rmax in cases:
        data, randoms, box = catalogue(n)
        edges = np.linspace(0.0, rmax, NBIN + 1)
        t, _, _ = best_of(
            lambda d=data, r=randoms, e=edges: ag.count_triangle_multipoles(
                d, r, bins=e, lmax=LMAX, num_threads=args.threads
            ),
            1,
        )
        cpu = LAST_CPU["cpu"]
        visits, _ = pair_visits(data, randoms, rmax)
        rows.append(
            {
                "ndata": n,
                "rmax": rmax,
                "seconds": t,
                "cpu_s": cpu,
                "pair_visits": visits,
                "ns_per_visit": cpu / visits * 1e9,
                "cycles_per_visit": cpu * clock_hz() / visits,
            }
        )
        print_table(rows[-1:], list(rows[-1]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encore", help="ENCORE binary (built with NBIN 10, ORDER 10)")
    ap.add_argument(
        "--encore-dir", help="ENCORE's folder (coupling_matrices/); default: the binary's"
    )
    ap.add_argument("--ndata", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scaling-only", action="store_true")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument(
        "--scaling-cases", type=int, nargs="*", help="indices of the scaling cases to run"
    )
    args = ap.parse_args()
    if args.encore and not args.encore_dir:
        args.encore_dir = str(Path(args.encore).parent)
    out = {"lscpu_model": lscpu_model(), "clock_hz": clock_hz(), "loadavg_before": loadavg()}
    print(
        out["lscpu_model"], f"clock {out['clock_hz'] / 1e9:.2f} GHz, load {out['loadavg_before']}"
    )
    if args.encore and not args.scaling_only:
        out["versus_encore"] = versus_encore(args)
    if not args.no_scaling:
        out["scaling"] = scaling(args)
    out["loadavg_after"] = loadavg()
    write_json(
        f"bench_multipoles_{args.ndata}" if not args.scaling_only else "bench_multipoles_scaling",
        out,
    )


if __name__ == "__main__":
    main()
