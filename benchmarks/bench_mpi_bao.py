"""MPI on a long count: the BAO xi(s, mu) on 2 ranks x 1 thread against 1 rank x 2 threads.

The workload of ``bench_bao.py`` (200,000 clustered points + 600,000
randoms, open 1000 Mpc/h cube, 40 s bins to 200 Mpc/h x 100 mu bins, line of
sight z), run as

* ``plain``: ``count_pairs`` without ``comm`` on 2 threads;
* ``1x2``: through the MPI path (``comm=``) on one rank of 2 threads;
* ``2x1``: on two ranks of one thread each,

with the wall time of each stage on each rank
(``astrograph.clustering.mpi.timing``): setup, loading and scattering from
rank 0, regions, weight sums, decomposition and buffers, core arrays, the
count, waiting for the slowest rank, the reduction. The counts of every
configuration are compared.

    python benchmarks/bench_mpi_bao.py [--scale 1] [--repeat 1]

Launches ``mpiexec`` itself (each configuration runs this file again with
``--worker``). Writes benchmarks/results/bench_mpi_bao.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from typing import Any

import numpy as np
from common import loadavg, lscpu_model, run_mpi, write_json


def worker(scale: float, threads: int, use_comm: bool) -> None:
    from mpi4py import MPI

    import astrograph as ag
    from astrograph.clustering.mpi import timing

    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    box = 1000.0 * scale ** (1.0 / 3.0)
    n = int(200_000 * scale)
    d = r = None
    if rank == 0:
        d = ag.thomas_process(n // 8, 8.0, 3.0, box, seed=11, periodic=False)
        r = ag.uniform_randoms(3 * n, box, seed=12)
    bins = ag.Bins(np.linspace(0.0, 200.0, 41), 100)
    comm.Barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    kw = {"comm": comm} if use_comm else {}
    res = ag.count_pairs(d, r, bins=bins, los="z", num_threads=threads, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cpus = comm.gather(cpu, root=0)
    if rank == 0:
        digest = hashlib.sha256(
            b"".join(np.ascontiguousarray(res.counts[k]).tobytes() for k in ("DD", "DR", "RR"))
        ).hexdigest()[:16]
        out = {"wall": wall, "cpu_per_rank": cpus, "stages": timing.last() if use_comm else {},
               "counts_sha256": digest, "pairs": float(sum(v.sum() for v in res.counts.values()))}  # fmt: skip
        print("RESULT " + json.dumps(out), flush=True)


def launch(ranks: int, threads: int, use_comm: bool, scale: float) -> dict[str, Any]:
    args = ["--worker", "--threads", str(threads), "--scale", str(scale)]
    return run_mpi(ranks, __file__, args + (["--comm"] if use_comm else []))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--comm", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.worker:
        worker(args.scale, args.threads, args.comm)
        return
    configs = {"plain": (1, 2, False), "1x2": (1, 2, True), "2x1": (2, 1, True)}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in configs}
    print(f"{lscpu_model()}; scale {args.scale}; load {loadavg()}", flush=True)
    for _ in range(args.repeat):
        for name, (ranks, threads, use_comm) in configs.items():
            res = launch(ranks, threads, use_comm, args.scale)
            runs[name].append(res)
            print(f"{name}: wall {res['wall']:.2f} s, CPU per rank "
                  f"{[round(c, 2) for c in res['cpu_per_rank']]}, counts {res['counts_sha256']}",
                  flush=True)  # fmt: skip
            for stage, per_rank in res["stages"].items():
                print(f"    {stage:32s} " + " ".join(f"{t:8.3f}" for t in per_rank))
    best = {k: min(r["wall"] for r in v) for k, v in runs.items()}
    same = len({r["counts_sha256"] for v in runs.values() for r in v}) == 1
    print(f"2x1 / 1x2 = {best['2x1'] / best['1x2']:.3f}, 2x1 / plain = "
          f"{best['2x1'] / best['plain']:.3f}; identical counts: {same}")  # fmt: skip
    write_json("bench_mpi_bao", {"machine": lscpu_model(), "scale": args.scale, "runs": runs,
                                 "best_wall": best, "identical_counts": same,
                                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})  # fmt: skip


if __name__ == "__main__":
    main()
