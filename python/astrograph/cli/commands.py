"""The subcommands of the ``astrograph`` command line but the two-point ones
(:mod:`.two_point`): one function each, taking the parsed arguments and the
MPI communicator (None without MPI)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..clustering.api import (
    build_graph,
    count_quad_multipoles,
    count_quads,
    count_triangle_multipoles,
    count_triangles,
)
from ..clustering.bins import Bins
from ..clustering.graph import NeighbourGraph
from ..clustering.mocks import thomas_process, thomas_xi, uniform_randoms
from ..clustering.results.resampling import ANALYTIC_RANDOMS
from ..errors import AstrographError, InputError
from .common import bins_of, graph_only, jackknife_outputs, provenance, record, say_provenance
from .files import catalogue, rank

DEMO_BOX = 250.0


def mpi_comm() -> Any:
    """COMM_WORLD when started by mpiexec/srun with more than one rank, else None."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS", "PMIX_SIZE"):
        if int(os.environ.get(var, "1") or 1) > 1 and (
            "SLURM" not in var or "PMI_RANK" in os.environ or "PMIX_RANK" in os.environ
        ):
            try:
                from mpi4py import MPI  # lazy: optional dependency (the [mpi] extra)
            except ImportError:
                raise AstrographError(
                    "started under MPI but mpi4py is not installed: pip install 'astrograph[mpi]'"
                ) from None
            return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None
    return None


_rank = rank


def _say(comm: Any, *args: Any) -> None:
    if _rank(comm) == 0:
        print(*args, flush=True)


def _read(path: str | None, args: argparse.Namespace, comm: Any = None) -> Any:
    """A catalogue of tracer 1 (see :func:`files.catalogue`)."""
    return catalogue(path, args, comm)


def _outdir(path: str, comm: Any) -> Path:
    out = Path(path)
    if _rank(comm) == 0:
        out.mkdir(parents=True, exist_ok=True)
    return out


def cmd_demo(args: argparse.Namespace, comm: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = _outdir(args.out, comm)
    n_parents, sigma = args.parents, 3.0
    data = thomas_process(n_parents, 8.0, sigma, DEMO_BOX, seed=args.seed)
    randoms = uniform_randoms(2 * len(data), DEMO_BOX, seed=args.seed + 1)
    _say(
        comm,
        f"mock: {len(data)} clustered points (Thomas process, {n_parents} parents, sigma = {sigma} Mpc/h)"
        f" and {len(randoms)} randoms in a ({DEMO_BOX:g} Mpc/h)^3 box",
    )
    t0 = time.perf_counter()
    # under MPI rank 0's mock is spread over the ranks; counts are reduced to rank 0
    g = build_graph(
        data, randoms, rmax=20.0, num_threads=args.threads, progress=not args.quiet, comm=comm
    )
    t_build = time.perf_counter() - t0
    b2 = Bins.log(1.0, 20.0, 10, nmu=5)
    t0 = time.perf_counter()
    pc = g.count_pairs(b2, num_threads=args.threads, progress=not args.quiet)
    t_pairs = time.perf_counter() - t0
    b3 = Bins.linear(1.0, 20.0, 6)
    t0 = time.perf_counter()
    tc = g.count_triangles(b3, num_threads=args.threads, progress=not args.quiet)
    t_tri = time.perf_counter() - t0
    if _rank(comm) != 0:
        return
    pc.save(out / "xi.parquet")
    pc.save_ascii(out / "xi.txt")
    tc.save(out / "zeta.parquet")
    tc.save_ascii(out / "zeta.txt")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    pc.plot("xi", ax=axes[0], label="astrograph (Landy-Szalay)")
    s = np.geomspace(1, 20, 50)
    axes[0].loglog(
        s, thomas_xi(s, n_parents, sigma, DEMO_BOX), "k--", label="Thomas process, exact"
    )
    axes[0].legend()
    pc.plot("multipoles", ax=axes[1])
    tc.plot("equilateral", ax=axes[2])
    fig.tight_layout()
    fig.savefig(out / "demo.png", dpi=110)
    xi = pc.xi_s()
    summary = {
        "n_data": len(data),
        "n_random": len(randoms),
        "graph_edges": g.n_edges,
        "graph_bytes_per_edge": g.bytes_per_edge,
        "build_seconds": round(t_build, 3),
        "pair_count_seconds": round(t_pairs, 3),
        "triangle_seconds": round(t_tri, 3),
        "triangles": tc.total,
        "xi_s": dict(zip([f"{c:.3g}" for c in b2.centers], np.round(xi, 4).tolist(), strict=True)),
        "zeta_equilateral": np.round(tc.equilateral().filled(np.nan), 4).tolist(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    share = f" (rank 0's share of {comm.Get_size()}: owned + buffer)" if comm is not None else ""
    print(
        f"graph{share}: {g.n_nodes} nodes, {g.n_edges} edges (< 20 Mpc/h), {g.bytes_per_edge} bytes/edge, built in {t_build:.2f} s"
    )
    print(
        f"2PCF: DD/DR/RR in {t_pairs:.2f} s; xi(s) at s = {b2.centers[0]:.2f} .. {b2.centers[-1]:.2f} Mpc/h:"
    )
    print("   ", " ".join(f"{v:.3g}" for v in xi))
    print(
        f"3PCF: {tc.total:.4g} triangles (DDD+DDR+DRR+RRR) in {t_tri:.2f} s ({tc.total / max(t_tri, 1e-9):.3g} /s)"
    )
    print(
        f"outputs in {out.resolve()}{os.sep}: demo.png, xi.parquet, xi.txt, zeta.parquet, "
        "zeta.txt, summary.json"
    )


def cmd_graph_build(args: argparse.Namespace, comm: Any) -> None:
    g = build_graph(
        _read(args.data, args, comm),
        _read(args.randoms, args, comm),
        rmax=args.rmax,
        rmin=args.rmin,
        boxsize=args.boxsize,
        regions=args.regions,
        store_mu=not args.no_mu,
        max_memory=args.max_memory,
        num_threads=args.threads,
        progress=not args.quiet,
        comm=comm,
    )
    out = Path(args.out)
    if comm is not None:
        out = out.with_name(f"{out.stem}.rank{_rank(comm)}{out.suffix}")
    g.save(out)
    print(f"{g!r}\nwritten to {out}")
    if _rank(comm) == 0:
        say_provenance(provenance(args), args)


def cmd_graph_info(args: argparse.Namespace, comm: Any) -> None:
    g = NeighbourGraph.load(args.path)
    deg = g.nodes().column("degree").to_numpy()
    _say(comm, repr(g))
    _say(
        comm,
        f"bytes per edge: {g.bytes_per_edge}; total {g.nbytes / 2**20:.1f} MiB; "
        f"degree mean {deg.mean():.2f}, max {deg.max()}",
    )


def _regions(args: argparse.Namespace) -> Any:
    """--regions, refused before counting where its errors could not be given."""
    if args.regions and getattr(args, "boxsize", None) and not getattr(args, "randoms", None):
        raise InputError(ANALYTIC_RANDOMS)
    return args.regions


def _write(result: Any, args: argparse.Namespace) -> Path:
    """Saves a count result as PREFIX.parquet and PREFIX.txt, with the
    catalogues' provenance; returns PREFIX."""
    out = Path(args.out)
    meta = provenance(args)
    record(result, meta)
    result.save(out.with_suffix(".parquet"))
    record(result, meta, out.with_suffix(".parquet"))
    result.save_ascii(out.with_suffix(".txt"))
    say_provenance(meta, args)
    return out


def _from_catalogues(fn: Any, args: argparse.Namespace, comm: Any, bins: Any, **kw: Any) -> Any:
    """``fn`` (count_triangles, count_quads) on the --data / --randoms files."""
    return fn(
        _read(args.data, args, comm),
        _read(args.randoms, args, comm),
        bins=bins,
        boxsize=args.boxsize,
        regions=_regions(args),
        num_threads=args.threads,
        progress=not args.quiet,
        comm=comm,
        **kw,
    )


def cmd_3pcf(args: argparse.Namespace, comm: Any) -> None:
    bins = bins_of(args)
    if args.multipoles:
        return _multipoles(args, comm, bins)
    if args.lmax is not None:
        raise InputError("--lmax applies to --multipoles only")
    if args.graph:
        graph_only(args)
        tc = NeighbourGraph.load(args.graph).count_triangles(bins, num_threads=args.threads)
    else:
        tc = _from_catalogues(count_triangles, args, comm, bins)
    if _rank(comm) != 0:
        return
    out = _write(tc, args)
    print(
        f"{tc.total:.6g} triangles; DDD {tc.ddd.sum():.6g}, DDR {tc.ddr.sum():.6g}, "
        f"DRR {tc.drr.sum():.6g}, RRR {tc.rrr.sum():.6g}"
    )
    print("equilateral zeta:", " ".join(f"{v:.4g}" for v in tc.equilateral().filled(np.nan)))
    err = (
        jackknife_outputs(tc, "equilateral", out, args)
        if (tc.randoms is not None or tc.boxsize)
        else None
    )
    if err is not None:
        print("        error:   ", " ".join(f"{v:.3g}" for v in np.ma.filled(err, np.nan)))
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def _multipoles(args: argparse.Namespace, comm: Any, bins: Any) -> None:
    lmax = 10 if args.lmax is None else args.lmax
    if args.graph:
        graph_only(args)
        g = NeighbourGraph.load(args.graph)
        tm = g.count_triangle_multipoles(bins, lmax=lmax, num_threads=args.threads)
    else:
        tm = count_triangle_multipoles(
            _read(args.data, args, comm),
            _read(args.randoms, args, comm),
            bins=bins,
            lmax=lmax,
            boxsize=args.boxsize,
            regions=_regions(args),
            num_threads=args.threads,
            progress=not args.quiet,
            comm=comm,
        )
    if _rank(comm) != 0:
        return
    out = _write(tm, args)
    z = tm.zeta()
    c = tm.bins.centers
    mid = len(c) // 2
    print(f"3PCF multipoles l <= {tm.lmax} over {tm.bins.nbins} x {tm.bins.nbins} (r1, r2) bins")
    for ell in range(min(2, tm.lmax + 1)):
        vals = " ".join(f"{v:.4g}" for v in z[ell, mid])
        print(f"zeta_{ell}(r1 = {c[mid]:.4g}, r2):", vals)
    err = jackknife_outputs(tm, "zeta", out, args)
    if err is not None:
        print(f"zeta_0 error ({tm.nregions} regions):", " ".join(f"{v:.3g}" for v in err[0, mid]))
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def cmd_4pcf(args: argparse.Namespace, comm: Any) -> None:
    if args.multipoles:
        return _quad_multipoles(args, comm)
    if args.lmax is not None or args.disconnected:
        raise InputError("--lmax and --disconnected apply to --multipoles only")
    qc = _from_catalogues(count_quads, args, comm, bins_of(args), parity=args.parity)
    if _rank(comm) != 0:
        return
    out = _write(qc, args)
    if qc.randoms is not None:
        jackknife_outputs(qc, "eta", out, args)
    if qc.odd is not None and qc.randoms is not None:
        z = qc.zeta_odd()
        print(f"parity-odd: {int((~z.mask).sum())} chiral configurations with randoms")
        if qc.resampling is not None:
            correction = None if args.correction == "none" else args.correction
            chi2, dof, p = qc.chi2_odd(correction=correction)
            print(f"chi2 of zeta_odd against zero: {chi2:.3g} for {dof} dof (p = {p:.3g})")
    print(
        f"{qc.total:.6g} quads over {len(qc.shapes)} shapes; "
        + ", ".join(
            f"{n.upper()} {c.sum():.6g}"
            for n, c in zip(("dddd", "dddr", "ddrr", "drrr", "rrrr"), qc.counts, strict=True)
        )
    )
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def _quad_multipoles(args: argparse.Namespace, comm: Any) -> None:
    qm = count_quad_multipoles(
        _read(args.data, args, comm),
        _read(args.randoms, args, comm),
        bins=bins_of(args),
        lmax=4 if args.lmax is None else args.lmax,
        boxsize=args.boxsize,
        regions=_regions(args),
        disconnected=args.disconnected,
        num_threads=args.threads,
        progress=not args.quiet,
        comm=comm,
    )
    if _rank(comm) != 0:
        return
    out = _write(qm, args)
    n, t = len(qm.ells), len(qm.triplets)
    print(f"4PCF multipoles l <= {qm.lmax}: {n} (l1, l2, l3) ({int(qm.odd.sum())} parity-odd)")
    print(f"over {t} radial bin triplets b1 < b2 < b3")
    z = qm.zeta(edge_correction=qm.randoms is not None)
    print("zeta_000:", " ".join(f"{v:.4g}" for v in z[qm.index(0, 0, 0), :6]), "...")
    if qm.disconnected is not None:
        c = qm.zeta(edge_correction=qm.randoms is not None, connected=True)
        print("connected:", " ".join(f"{v:.4g}" for v in c[qm.index(0, 0, 0), :6]), "...")
    err = jackknife_outputs(qm, "zeta", out, args)
    if err is not None:
        print("   error:", " ".join(f"{v:.3g}" for v in err[qm.index(0, 0, 0), :6]), "...")
        modes = min(int(qm.odd.sum()) * len(qm.triplets), qm.nregions // 4)
        if modes >= 1 and qm.nregions >= 2 * modes + 6:
            chi2, dof, p = qm.chi2_odd(modes=modes)
            print(f"parity-odd chi2 against zero: {chi2:.3g} for {dof} modes (p = {p:.3g})")
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")
