"""MPI benchmarks: 3PCF wall time by ranks x threads, memory per rank, buffer fraction.

Run the whole set (launches ``mpiexec`` itself)::

    python benchmarks/bench_mpi.py [--quick] [--out benchmarks/mpi_results.json]

Figures are printed as Markdown (copied into benchmarks/mpi.md). Each MPI
job runs this file again with ``--worker TASK`` under ``mpiexec -n K``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
from common import run_mpi

BOX_3PCF = 250.0


def _catalogue(task: str, n_points: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, float]:
    """Thomas-process data (8 children per parent, sigma 3) and as many uniform randoms.

    ``n_points`` data points in a box scaled to the density of the 3PCF
    benchmark (50,000 points in (250 Mpc/h)^3).
    """
    from astrograph.clustering.mocks import thomas_process, uniform_randoms

    box = BOX_3PCF * (n_points / 50_000) ** (1.0 / 3.0)
    d = thomas_process(n_points // 8, 8.0, 3.0, box, seed=seed)
    r = uniform_randoms(len(d), box, seed=seed + 1)
    return d, r, box


def _files(n_points: int) -> tuple[str, str]:
    """The catalogue as two Parquet files in the temp directory (written once)."""
    import tempfile

    base = Path(tempfile.gettempdir()) / f"astrograph_bench_mpi_{n_points}"
    paths = (f"{base}_data.parquet", f"{base}_randoms.parquet")
    if not all(Path(p).exists() for p in paths):
        import pyarrow as pa
        import pyarrow.parquet as pq

        d, r, _ = _catalogue("memory", n_points)
        for a, path in zip((d, r), paths, strict=True):
            pq.write_table(
                pa.table({"x": a[:, 0], "y": a[:, 1], "z": a[:, 2]}), path, row_group_size=65536
            )
    return paths


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(task: str, n_points: int, rmax: float, threads: int) -> None:
    """Runs under mpiexec (or alone): prints one JSON line from rank 0."""
    from mpi4py import MPI

    import astrograph
    from astrograph import Bins, build_graph

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    d = r = box = None
    if task == "memory":
        # files: every rank reads only its slice, so no rank holds the catalogue
        d, r = _files(n_points)
        box = BOX_3PCF * (n_points / 50_000) ** (1.0 / 3.0)
    elif rank == 0:
        d, r, box = _catalogue(task, n_points)
    box = comm.bcast(box)
    rss0 = _peak_rss()
    comm.Barrier()
    t0 = time.perf_counter()
    c0 = time.process_time()
    out: dict = {"task": task, "ranks": size, "threads": threads, "n_data": n_points, "rmax": rmax}
    if task in ("3pcf", "3pcf_serial"):
        tc = astrograph.count_triangles(
            d,
            r,
            bins=Bins.linear(1.0, 20.0, 6),
            boxsize=box,
            num_threads=threads,
            comm=comm if task == "3pcf" else None,
        )
        comm.Barrier()
        out["seconds"] = time.perf_counter() - t0
        # CPU seconds per rank: robust on a shared machine, unlike wall time
        out["cpu_per_rank"] = comm.gather(time.process_time() - c0, root=0)
        if rank == 0:
            out["triangles"] = tc.total
    elif task == "memory":
        g = build_graph(
            d, r, rmax=rmax, boxsize=box, store_mu=False, num_threads=threads, comm=comm
        )
        del d, r
        pc = g.count_pairs(Bins.linear(1.0, rmax, 5), num_threads=threads)
        comm.Barrier()
        out["seconds"] = time.perf_counter() - t0
        stats = comm.gather((g.n_owned, g.n_buffer, g.n_edges, g.nbytes, _peak_rss(), rss0), root=0)
        if rank == 0:
            out["dd_total"] = float(pc.dd.sum())
            out["per_rank"] = [
                dict(
                    zip(
                        ("owned", "buffer", "edges", "graph_bytes", "peak_rss", "rss_before"),
                        s,
                        strict=True,
                    )
                )
                for s in stats
            ]
    if rank == 0:
        print("RESULT " + json.dumps(out), flush=True)


def buffer_fraction(n_points: int, ranks: int, rmax: float, periodic: bool) -> dict:
    """The decomposition of :mod:`astrograph.clustering.mpi.decompose` simulated in one process.

    Same RCB (on a 200,000-point sample), the same key order and the same
    buffer rule as the MPI code; returns buffer points / owned points over all
    ranks, and the largest rank's owned + buffer against N / ranks.
    """
    from astrograph.clustering.mpi import decompose as par

    d, r, box = _catalogue("buffer", n_points)
    pos = np.concatenate([d, r])
    rng = np.random.default_rng(0)
    sample = pos[rng.choice(len(pos), min(len(pos), par.RCB_SAMPLE), replace=False)]
    tree = par.rcb_tree(sample, 0, ranks)
    owner = par.assign(tree, pos)
    axis, cut = tree[0], tree[1]
    if periodic:
        order = par.Order(axis, 0.5 * cut, box, box)
    else:
        lo, hi = pos[:, axis].min(), pos[:, axis].max()
        order = par.Order(axis, lo, (hi - lo) * (1 + 1e-9), None)
    reach = rmax * (1 + par.BUFFER_SLACK)
    owned = np.bincount(owner, minlength=ranks)
    buf = np.zeros(ranks, dtype=np.int64)
    buf_symmetric = np.zeros(ranks, dtype=np.int64)
    bins = order.bins(pos)
    for k in range(ranks):
        mine = owner == k
        if not mine.any():
            continue
        lo_k, hi_k = pos[mine].min(0), pos[mine].max(0)
        near = par.distance2_to_box(pos, lo_k, hi_k, box if periodic else None) <= reach**2
        near &= ~mine
        buf_symmetric[k] = int(near.sum())
        occ = np.zeros(1 << 12, np.int64)
        occ[np.unique(bins[mine])] = 1
        occ_cum = np.concatenate([[0], np.cumsum(occ)])
        sel = np.flatnonzero(near)
        buf[k] = int(par.needed_by_order(order, pos[sel], occ_cum, reach).sum())
    held = owned + buf
    return {
        "ranks": ranks,
        "rmax": rmax,
        "n_points": len(pos),
        "periodic": periodic,
        "buffer_fraction": float(buf.sum() / owned.sum()),
        "buffer_fraction_symmetric": float(buf_symmetric.sum() / owned.sum()),
        "max_held_over_mean_owned": float(held.max() / (len(pos) / ranks)),
        "owned_imbalance": float(owned.max() / (len(pos) / ranks)),
    }


def _launch(ranks: int, task: str, n_points: int, rmax: float, threads: int) -> dict:
    args = ["--worker", task, "--n", str(n_points), "--rmax", str(rmax), "--threads", str(threads)]
    res = run_mpi(ranks, __file__, args)
    print(json.dumps(res), flush=True)
    return res


def report(results: dict) -> str:
    """Markdown tables of a results file."""
    lines = [
        "| configuration | wall s (each run) | CPU s, busiest rank | triangles |",
        "|---|---|---|---|",
    ]
    groups: dict[tuple, list] = {}
    for x in results["3pcf"]:
        groups.setdefault((x["task"], x["ranks"], x["threads"]), []).append(x)
    for (task, ranks, threads), xs in groups.items():
        name = f"{ranks} rank x {threads} thread" + (" (no comm)" if task == "3pcf_serial" else "")
        walls = ", ".join(f"{x['seconds']:.2f}" for x in xs)
        cpus = ", ".join(f"{max(x['cpu_per_rank']):.2f}" for x in xs if "cpu_per_rank" in x)
        lines.append(f"| {name} | {walls} | {cpus} | {xs[0]['triangles']:.0f} |")
    lines += [
        "",
        "| ranks | owned (max) | buffer (max) | graph MiB (max) | peak RSS MiB (max) "
        "| edges summed | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in results["memory"]:
        pr = x["per_rank"]
        lines.append(
            f"| {x['ranks']} | {max(p['owned'] for p in pr)} | {max(p['buffer'] for p in pr)} "
            f"| {max(p['graph_bytes'] for p in pr) / 2**20:.1f} "
            f"| {max(p['peak_rss'] for p in pr) / 2**20:.0f} "
            f"| {sum(p['edges'] for p in pr)} | {x['seconds']:.2f} |"
        )
    lines += [
        "",
        "| box | rmax | ranks | buffer / owned | symmetric rule | max held / (N/ranks) |",
        "|---|---|---|---|---|---|",
    ]
    for x in results["buffer"]:
        lines.append(
            f"| {'periodic' if x['periodic'] else 'open'} | {x['rmax']:g} | {x['ranks']} "
            f"| {x['buffer_fraction']:.3f} | {x.get('buffer_fraction_symmetric', float('nan')):.3f} "
            f"| {x['max_held_over_mean_owned']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker")
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--rmax", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="smaller catalogues")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument(
        "--only", action="append", choices=("3pcf", "buffer", "memory"), help="run only these parts"
    )
    p.add_argument("--out", default=str(Path(__file__).with_name("mpi_results.json")))
    p.add_argument("--report", action="store_true", help="print the tables of --out and stop")
    a = p.parse_args()
    if a.report:
        print(report(json.loads(Path(a.out).read_text())))
        return
    if a.worker:
        worker(a.worker, a.n, a.rmax, a.threads)
        return
    # nmem data points + as many randoms: a 10^6-point catalogue by default
    n3, nmem = (20_000, 100_000) if a.quick else (50_000, 500_000)
    parts = a.only or ["3pcf", "buffer", "memory"]
    out = Path(a.out)
    results: dict[str, list] = {"3pcf": [], "buffer": [], "memory": []}
    if out.exists():  # keep the parts not rerun
        results.update({k: v for k, v in json.loads(out.read_text()).items() if k not in parts})
    for _ in range(a.repeat if "3pcf" in parts else 0):
        for task, ranks, threads in (
            ("3pcf_serial", 1, 2),
            ("3pcf", 1, 2),
            ("3pcf", 2, 1),
            ("3pcf", 1, 1),
        ):
            results["3pcf"].append(_launch(ranks, task, n3, 20.0, threads))
    for periodic in (True, False) if "buffer" in parts else ():
        for rmax in (5.0, 10.0, 20.0):
            for ranks in (2, 4, 8, 16, 64):
                results["buffer"].append(buffer_fraction(nmem, ranks, rmax, periodic))
                print(json.dumps(results["buffer"][-1]), flush=True)
    for ranks in (1, 2, 4, 8) if "memory" in parts else ():
        _files(nmem)
        results["memory"].append(_launch(ranks, "memory", nmem, 10.0, 1))
    out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
