"""A survey-size xi(s, mu) on one node: 1,000,000 galaxies, 20 splits of 1,000,000 randoms.

The workload of the BAO-speed issue: clustered points (a Thomas process,
clumps of 8, sigma 3 Mpc/h) and uniform randoms in an open 2000 Mpc/h cube,
xi(s, mu) with 40 linear s bins to 200 Mpc/h and 100 mu bins (line of sight
z), 50 jackknife regions (k-means patches on the directions seen from the
origin), randoms as 20 splits (RR within each split, DR over all of them).
The randoms are written to a Parquet file (one row group per split) and
streamed from it split by split (``ag.RandomSplits``); ``--in-memory`` holds
them all as arrays instead. Reports wall and CPU time, peak memory (against
the catalogue arrays and the count tables), pairs per second, cycles per
pair, and the time the same kernel would take for the DESI DR1 LRG sample
(assumptions printed with it).

    python benchmarks/bench_survey.py [--scale 1] [--splits 20] [--threads 2] [--in-memory]

``--scale 0.01`` runs the same thing on a 100th of the points (seconds).
Writes benchmarks/results/bench_survey.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import cpu_mhz, loadavg, lscpu_model, proc_status_mib, reset_peak_rss, write_json

import astrograph as ag

#: Volume of a sphere of 200 Mpc/h.
V200 = 4.0 / 3.0 * np.pi * 200.0**3
#: DESI DR1 LRGs (0.4 < z < 1.1): about 2.1 million redshifts at a number
#: density of about 5e-4 (h/Mpc)^3 (DESI 2024 III, Table 1 and Fig. 2); the
#: projection below assumes the same randoms as here (20 splits of the data's
#: size) and no survey edges (an upper bound on the pairs).
DESI_LRG = {"n_data": 2.1e6, "density": 5e-4, "splits": 20}


def pairs_within(n: float, density: float, splits: int) -> float:
    """Pairs closer than 200 Mpc/h counted by DD + sum over splits (DR + RR), no edges."""
    dd = 0.5 * n * density * V200
    return dd * (1 + 3 * splits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--regions", type=int, default=50)
    ap.add_argument("--in-memory", action="store_true", help="hold every random split as arrays")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


def write_splits(path: Path, n: int, box: float, splits: int) -> None:
    """The random splits in one Parquet file, one row group each, made and
    written one at a time."""
    schema = pa.schema([(c, pa.float64()) for c in "xyz"])
    with pq.ParquetWriter(path, schema) as w:
        for k in range(splits):
            r = ag.uniform_randoms(n, box, seed=100 + k)
            w.write_table(pa.table(dict(zip("xyz", r.T, strict=True)), schema=schema),
                          row_group_size=n)  # fmt: skip


def run(args: argparse.Namespace, tmp: Path) -> None:
    box = 2000.0 * args.scale ** (1.0 / 3.0)
    n = int(1_000_000 * args.scale)
    interpreter = proc_status_mib("VmRSS")  # Python, numpy, pyarrow and astrograph loaded
    t0 = time.perf_counter()
    data = ag.thomas_process(n // 8, 8.0, 3.0, box, seed=21, periodic=False)
    randoms: Any
    if args.in_memory:
        randoms = [ag.uniform_randoms(n, box, seed=100 + k) for k in range(args.splits)]
    else:
        write_splits(tmp / "randoms.parquet", n, box, args.splits)
        randoms = ag.RandomSplits(tmp / "randoms.parquet")
    made = time.perf_counter() - t0
    # every catalogue array of the count, whether held or streamed
    arrays = (data.nbytes + args.splits * n * 3 * 8) / 2**20
    bins = ag.Bins(np.linspace(0.0, 200.0, 41), 100)
    tables = 8 * 40 * 100 * 3 * (1 + 3 * args.regions) / 2**20
    rss_before = proc_status_mib("VmRSS")
    peak_known = reset_peak_rss()
    print(f"{lscpu_model()}; {len(data)} data + {args.splits} x {n} randoms in a {box:.0f} Mpc/h "
          f"cube (made in {made:.1f} s); {args.threads} threads; randoms "
          f"{'in memory' if args.in_memory else 'streamed from Parquet'}; load {loadavg()}",
          flush=True)  # fmt: skip
    w0, c0 = time.perf_counter(), time.process_time()
    res = ag.count_pairs(data, randoms, bins=bins, los="z", regions=args.regions,
                         num_threads=args.threads, progress=True)  # fmt: skip
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    peak = proc_status_mib("VmHWM")
    # memory the count and its inputs hold, beyond the interpreter and libraries
    held = peak - interpreter
    pairs = float(sum(np.sum(v) for v in res.counts.values()))
    mhz = cpu_mhz()
    cycles = cpu * mhz * 1e6 / pairs
    desi_pairs = pairs_within(DESI_LRG["n_data"], DESI_LRG["density"], DESI_LRG["splits"])
    desi_core_hours = desi_pairs * cycles / (mhz * 1e6) / 3600
    out: dict[str, Any] = {
        "machine": lscpu_model(),
        "mhz": mhz,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "n_data": len(data),
        "n_randoms_per_split": n,
        "splits": args.splits,
        "box": box,
        "regions": args.regions,
        "threads": args.threads,
        "randoms": "in memory"
        if args.in_memory
        else "streamed from Parquet, one row group a split",
        "wall_s": wall,
        "cpu_s": cpu,
        "pairs_counted": pairs,
        "pairs_per_second": pairs / wall,
        "cycles_per_pair": cycles,
        "peak_rss_mib": peak,
        "peak_reset_before_count": peak_known,
        "interpreter_rss_mib": interpreter,
        "rss_before_count_mib": rss_before,
        "catalogue_arrays_mib": arrays,
        "count_tables_mib": tables,
        "held_over_arrays_and_tables": held / (arrays + tables),
        "pairs_expected_without_edges": pairs_within(len(data), len(data) / box**3, args.splits),
        "desi_dr1_lrg": {**DESI_LRG, "pairs": desi_pairs, "core_hours": desi_core_hours},
        "load": loadavg(),
    }
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s; {pairs:.3e} pairs, {pairs / wall:.3e} pairs/s, "
          f"{cycles:.1f} cycles per pair", flush=True)  # fmt: skip
    print(f"peak RSS {peak:.0f} MiB (interpreter {interpreter:.0f}, before the count "
          f"{rss_before:.0f}): {held:.0f} MiB held against catalogue arrays {arrays:.0f} MiB "
          f"+ tables {tables:.0f} MiB: {out['held_over_arrays_and_tables']:.2f}x")  # fmt: skip
    print(f"DESI DR1 LRG (assumed {DESI_LRG}): {desi_pairs:.2e} pairs, "
          f"{desi_core_hours:.1f} core-hours at these cycles per pair")  # fmt: skip
    write_json("bench_survey" + ("_in_memory" if args.in_memory else ""), out)


if __name__ == "__main__":
    main()
