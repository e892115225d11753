"""The BAO xi(s, mu) against FCFC (Zhao 2023, A&A 672, A83), built by the user.

FCFC is not on PyPI: build it from github.com/cheng-zhao/FCFC in a scratch
folder (its Makefile, OpenMP and SIMD on, double precision) and pass the
path of its ``FCFC_2PT`` binary. Nothing of FCFC is kept here.

Workload: that of ``bench_bao.py --sky`` (200,000 clustered points + 600,000
randoms, the 1000 Mpc/h cube moved 2000 Mpc/h along x from the observer,
40 s bins to 200 Mpc/h x 100 mu bins, midpoint line of sight), DD + DR + RR.
FCFC reads ASCII catalogues written with 17 significant digits; its wall time
includes reading them and building its trees (timed apart on the same run
to s = 0.001 Mpc/h, and reported). Counts are compared bin by bin (FCFC prints
normalised counts with 10 digits: multiplied back and rounded).

    python benchmarks/bench_fcfc.py --fcfc /path/to/FCFC_2PT [--threads 2] [--repeat 1]

Writes benchmarks/results/bench_fcfc.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import cpu_mhz, loadavg, lscpu_model, write_json

import astrograph as ag

CONF = """CATALOG         = [{d}, {r}]
CATALOG_LABEL   = [D, R]
CATALOG_TYPE    = [0, 0]
ASCII_FORMATTER = ["%lf %lf %lf", "%lf %lf %lf"]
POSITION        = [$1, $2, $3, $1, $2, $3]
COORD_CONVERT   = F
BINNING_SCHEME  = 1
PAIR_COUNT      = {pairs}
PAIR_COUNT_FILE = {files}
SEP_BIN_MIN     = 0
SEP_BIN_MAX     = {smax}
SEP_BIN_SIZE    = {ssize}
MU_BIN_NUM      = 100
OUTPUT_FORMAT   = 1
OVERWRITE       = 2
VERBOSE         = F
"""


def run_fcfc(exe: str, folder: Path, d: Path, r: Path, pairs: list[str], threads: int,
             smax: float = 200.0):  # fmt: skip
    """Wall and CPU seconds of one FCFC run, and its raw counts (nbins, nmu) per
    pair (40 s bins to ``smax``)."""
    files = [folder / f"fcfc_{p}.txt" for p in pairs]
    conf = folder / "fcfc.conf"
    conf.write_text(CONF.format(d=d, r=r, pairs="[" + ", ".join(pairs) + "]",
                                files="[" + ", ".join(map(str, files)) + "]",
                                smax=smax, ssize=smax / 40))  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([exe, "--conf", str(conf)], check=True, env=env, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    counts = {}
    for p, f in zip(pairs, files, strict=True):
        text = f.read_text()
        norm = float(text.split("total number of pairs): ")[1].split("\n")[0])
        a = np.loadtxt(f)
        counts[p] = np.rint(a[:, 4] * norm).reshape(100, 40).T  # s varies fastest
    return wall, cpu, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fcfc", required=True, help="path of the FCFC_2PT binary")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    box = 1000.0 * args.scale ** (1.0 / 3.0)
    n = int(200_000 * args.scale)
    off = np.array([2000.0, 0.0, 0.0])
    d = ag.thomas_process(n // 8, 8.0, 3.0, box, seed=11, periodic=False) + off
    r = ag.uniform_randoms(3 * n, box, seed=12) + off
    bins = ag.Bins(np.linspace(0.0, 200.0, 41), 100)
    mhz = cpu_mhz()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dp, rp = folder / "d.txt", folder / "r.txt"
        np.savetxt(dp, d, fmt="%.17g")
        np.savetxt(rp, r, fmt="%.17g")
        rows: list[dict[str, Any]] = []
        for _ in range(args.repeat):
            w0, c0 = time.perf_counter(), time.process_time()
            ours = ag.count_pairs(d, r, bins=bins, los="midpoint", num_threads=args.threads)
            ours_wall, ours_cpu = time.perf_counter() - w0, time.process_time() - c0
            fc_wall, fc_cpu, fc = run_fcfc(args.fcfc, folder, dp, rp, ["DD", "DR", "RR"],
                                           args.threads)  # fmt: skip
            # reading the catalogues and building the trees: the same run to
            # s = 0.001 Mpc/h, where there is next to nothing to count
            read_wall, _, _ = run_fcfc(args.fcfc, folder, dp, rp, ["DD", "DR", "RR"],
                                       args.threads, smax=0.001)  # fmt: skip
            factor = {"DD": 2, "DR": 1, "RR": 2}  # FCFC counts ordered auto pairs
            equal = {k: bool(np.array_equal(fc[k], factor[k] * ours.counts[k])) for k in fc}
            pairs = float(sum(v.sum() for v in ours.counts.values()))
            rows.append({
                "astrograph_wall": ours_wall, "astrograph_cpu": ours_cpu,
                "fcfc_wall": fc_wall, "fcfc_cpu": fc_cpu, "fcfc_reading_wall": read_wall,
                "ratio_wall": ours_wall / fc_wall, "ratio_cpu": ours_cpu / fc_cpu,
                "astrograph_cycles_per_pair": ours_cpu * mhz * 1e6 / pairs,
                "fcfc_cycles_per_pair": fc_cpu * mhz * 1e6 / pairs,
                "pairs_counted": pairs, "counts_equal": equal,
            })  # fmt: skip
            print(f"astrograph {ours_wall:.2f} s (cpu {ours_cpu:.2f}), FCFC {fc_wall:.2f} s "
                  f"(cpu {fc_cpu:.2f}; reading the catalogues ~{read_wall:.2f} s): ratio "
                  f"{ours_wall / fc_wall:.2f} wall, {ours_cpu / fc_cpu:.2f} cpu; equal {equal}",
                  flush=True)  # fmt: skip
    write_json("bench_fcfc", {"machine": lscpu_model(), "mhz": mhz, "threads": args.threads,
                              "scale": args.scale, "load": loadavg(), "runs": rows,
                              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})  # fmt: skip


if __name__ == "__main__":
    main()
