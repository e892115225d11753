"""The subcommands of the ``astrograph`` command line: one function each,
taking the parsed arguments and the MPI communicator (None without MPI)."""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..clustering.api import (
    build_graph,
    count_angular,
    count_pairs,
    count_pairs_rppi,
    count_quads,
    count_triangle_multipoles,
    count_triangles,
)
from ..clustering.bins import Bins
from ..clustering.catalog import WEIGHT_NAMES, CatalogFile
from ..clustering.graph import NeighbourGraph
from ..clustering.io import reader
from ..clustering.mocks import thomas_process, thomas_xi, uniform_randoms
from ..clustering.mpi.collective import stage
from ..clustering.results.resampling import ANALYTIC_RANDOMS
from ..clustering.twopoint import SURVEY_LOS
from ..errors import AstrographError, BinningError, CatalogFormatError, InputError

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


def _rank(comm: Any) -> int:
    return 0 if comm is None else comm.Get_rank()


def _say(comm: Any, *args: Any) -> None:
    if _rank(comm) == 0:
        print(*args, flush=True)


def _bins(args: argparse.Namespace, nmu: int = 1, signed: bool = False) -> Any:
    make = Bins.log if args.scale == "log" else Bins.linear
    return make(args.rmin, args.rmax, args.nbins, nmu, mu_min=-1.0 if signed else 0.0)


def _spec(path: str, args: argparse.Namespace, weight_column: str | None) -> CatalogFile:
    cols = args.columns.split(",") if args.columns else None
    weight = False if weight_column == "none" else weight_column
    return CatalogFile(path, columns=cols, coords=args.coords, weight=weight)


def _read(path: str | None, args: argparse.Namespace, comm: Any = None, weight: Any = ...) -> Any:
    """A catalogue; under MPI the file and how to read it, so that every rank
    reads only its own slice. ``weight``: its weight column (default
    --weight-column)."""
    if path is None:
        return None
    spec = _spec(path, args, args.weight_column if weight is ... else weight)
    return spec if comm is not None else spec.read()


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
    pc.save_parquet(out / "xi.parquet")
    pc.save_ascii(out / "xi.txt")
    tc.save_parquet(out / "zeta.parquet")
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
    print(f"outputs in {out}/: demo.png, xi.parquet, xi.txt, zeta.parquet, zeta.txt, summary.json")


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


def cmd_graph_info(args: argparse.Namespace, comm: Any) -> None:
    g = NeighbourGraph.load(args.path)
    deg = g.nodes().column("degree").to_numpy()
    _say(comm, repr(g))
    _say(
        comm,
        f"bytes per edge: {g.bytes_per_edge}; total {g.nbytes / 2**20:.1f} MiB; "
        f"degree mean {deg.mean():.2f}, max {deg.max()}",
    )


#: Options of the two-point commands that a saved graph cannot be combined with.
GRAPH_EXCLUDES = (
    "randoms", "boxsize", "los", "regions", "data2", "randoms2", "weight_column2",
    "bitwise_columns", "bitwise_columns2", "nrealizations", "noffset", "default_value",
    "twopoint_weights",
)  # fmt: skip


def _graph_only(args: argparse.Namespace) -> None:
    """--graph holds the catalogues, box and line of sight it was built with."""
    given = [
        f"--{n.replace('_', '-')}" for n in GRAPH_EXCLUDES if getattr(args, n, None) is not None
    ]
    if given:
        raise InputError(
            f"--graph cannot be combined with {', '.join(given)}: the graph file holds the "
            "catalogues, box and line of sight it was built with"
        )


def _regions(args: argparse.Namespace) -> Any:
    """--regions, refused before counting where its errors could not be given."""
    if args.regions and getattr(args, "boxsize", None) and not getattr(args, "randoms", None):
        raise InputError(ANALYTIC_RANDOMS)
    return args.regions


# -- the two-point commands: 2pcf, wp, wtheta ----------------------------------
def check_two_point(args: argparse.Namespace) -> None:
    """Option combinations of ``2pcf``, ``wp`` and ``wtheta``, refused before
    any file is read (under MPI in one collective stage: one message)."""
    if args.data2 is None:
        alone = [
            opt
            for opt, v in (
                ("--randoms2", args.randoms2),
                ("--weight-column2", args.weight_column2),
                ("--bitwise-columns2", args.bitwise_columns2),
            )
            if v is not None
        ]
        if alone:
            raise InputError(
                f"{' and '.join(alone)} {'needs' if len(alone) == 1 else 'need'} --data2 "
                "(the second tracer of a cross-correlation)"
            )
    elif (args.bitwise_columns is None) != (args.bitwise_columns2 is None):
        raise InputError(
            "PIP weights of a cross-correlation need both tracers' bitwise weights: "
            "give --bitwise-columns and --bitwise-columns2"
        )
    attrs = [f"--{k.replace('_', '-')}" for k, v in _weight_attrs(args).items() if v is not None]
    if attrs and args.bitwise_columns is None:
        verb = "applies" if len(attrs) == 1 else "apply"
        raise InputError(f"{' and '.join(attrs)} {verb} to PIP weights: give --bitwise-columns")
    if args.randoms and args.randoms2 and len(args.randoms) != len(args.randoms2):
        times = {1: "once", 2: "twice"}
        n1, n2 = (times.get(len(r), f"{len(r)} times") for r in (args.randoms, args.randoms2))
        raise InputError(
            f"--randoms is given {n1} and --randoms2 {n2}: both tracers' randoms come in "
            "the same number of splits"
        )
    boxsize = getattr(args, "boxsize", None)
    if boxsize is not None:
        if args.los in SURVEY_LOS:
            raise InputError(
                f"--los {args.los} needs an observer at the origin; with --boxsize the line "
                "of sight is an axis: --los x, y or z"
            )
        if args.twopoint_weights is not None:
            raise InputError(
                "--twopoint-weights are angular upweights of a survey (observer at the origin); "
                "they do not apply with --boxsize"
            )
        if args.regions and not args.randoms:
            raise InputError(ANALYTIC_RANDOMS)
    if hasattr(args, "thetamin"):
        lo, hi = args.thetamin, args.thetamax
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi <= 180):
            raise BinningError(
                "theta bin edges are degrees in (0, 180]: need 0 < --thetamin < --thetamax "
                f"<= 180, got {lo:g} and {hi:g}"
            )
        if args.columns and len(args.columns.split(",")) != 2:
            raise InputError(
                f"--columns names the 2 sky columns of w(theta), RA and Dec in degrees "
                f"(e.g. RA,DEC); got {args.columns!r}"
            )
    else:
        _bins(args, getattr(args, "nmu", 1), getattr(args, "signed_mu", False))


def _weight_attrs(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("nrealizations", "noffset", "default_value")}


def _weight_column(args: argparse.Namespace, tracer: int) -> str | None:
    """The --weight-column(2) of a tracer's files (tracer 2: as tracer 1's by default)."""
    if tracer == 2 and args.weight_column2 is not None:
        return args.weight_column2
    return args.weight_column


def _on_root(comm: Any, fn: Any) -> Any:
    """``fn()`` here, or on rank 0 only under MPI (None elsewhere) with
    errors agreed by every rank, so that they end the job with one message."""
    if comm is None:
        return fn()
    return stage(comm, fn if _rank(comm) == 0 else lambda: None)


def _everywhere(comm: Any, fn: Any) -> Any:
    """``fn()`` on every rank, its errors agreed by every rank under MPI."""
    return fn() if comm is None else stage(comm, fn)


class _SplitFile(CatalogFile):
    """A random split file under MPI: read by every rank in row slices like
    any catalogue file. ``positions = None`` makes the library's test for a
    list of splits (``twopoint.is_splits``: arrays, objects with
    ``positions``, str paths) accept a list of these."""

    positions = None


def _randoms_of(paths: list[str] | None, args: argparse.Namespace, comm: Any, tracer: int) -> Any:
    """One random catalogue, or a list of them (random splits)."""
    if not paths:
        return None
    if len(paths) == 1:
        return _read(paths[0], args, comm, _weight_column(args, tracer))
    specs = [_spec(p, args, _weight_column(args, tracer)) for p in paths]
    if comm is None:
        return [s.read() for s in specs]
    return [_SplitFile(s.path, columns=s.columns, coords=s.coords, weight=s.weight) for s in specs]


def _loadtxt(path: str | Path, what: str) -> np.ndarray:
    """A plain text table of numbers (``#`` comments), as a 2-D float64 array."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} file not found: {p}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file: refused below, in one line
            a = np.loadtxt(p, dtype=np.float64, comments="#", ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CatalogFormatError(f"{p}: cannot read as a {what} text table: {exc}") from None
    if a.size == 0:
        raise CatalogFormatError(f"{p}: the {what} file holds no rows")
    return a


def _twopoint_weights(path: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """--twopoint-weights: (angles in degrees, weights) from a two-column text file."""
    if path is None:
        return None
    a = _loadtxt(path, "--twopoint-weights")
    if a.shape[1] != 2:
        raise CatalogFormatError(
            f"{path}: --twopoint-weights needs 2 columns, theta (degrees) and weight; "
            f"found {a.shape[1]}"
        )
    return a[:, 0], a[:, 1]


#: Column names of a plain text sky catalogue for w(theta), by position.
SKY_TEXT_COLUMNS = ("ra", "dec", "w")


def _sky_columns(path: str, args: argparse.Namespace, tracer: int) -> dict[str, np.ndarray]:
    """The RA, Dec (degrees) and weight columns of a catalogue file for
    w(theta), as float64 arrays keyed "ra", "dec" and "w" (absent: no weights)."""
    r = reader(path)
    if r.format == "ascii":
        a = _loadtxt(path, "plain text catalogue ('ra dec [w]', degrees)")
        if a.shape[1] not in (2, 3):
            raise CatalogFormatError(
                f"{path}: plain text catalogues for w(theta) hold 2 (ra dec) or 3 (ra dec w) "
                f"columns, degrees; found {a.shape[1]}"
            )
        names = list(SKY_TEXT_COLUMNS[: a.shape[1]])
        table = {n: a[:, k] for k, n in enumerate(names)}
        read = lambda cols: {c: table[c] for c in cols}  # noqa: E731
    else:
        names = r.column_names()
        read = r.read
    if args.columns:
        ra, dec = (c.strip() for c in args.columns.split(","))
        absent = [c for c in (ra, dec) if c not in names]
        if absent:
            raise CatalogFormatError(f"{path}: no column {absent[0]!r}; columns: {names}")
    else:
        ra, dec = (next(iter(c for c in names if c.lower() == k), None) for k in ("ra", "dec"))
        if ra is None or dec is None:
            raise CatalogFormatError(
                f"{path}: w(theta) needs the sky columns ra and dec (degrees); found {names}; "
                "name them with --columns RA,DEC"
            )
    column = _weight_column(args, tracer)
    if column == "none":
        w = None
    elif column is not None:
        if column not in names:
            raise CatalogFormatError(f"{path}: no weight column {column!r}; columns: {names}")
        w = column
    else:
        found = [c for c in names if c.lower() in WEIGHT_NAMES and c not in (ra, dec)]
        if len(found) > 1:
            raise CatalogFormatError(
                f"{path}: several candidate weight columns {found}; choose one with "
                "--weight-column (or --weight-column none)"
            )
        w = found[0] if found else None
    cols = read([ra, dec, *([w] if w else [])])
    out = {"ra": cols[ra], "dec": cols[dec]}
    if w:
        out["w"] = cols[w]
    return out


def _sky(path: str, args: argparse.Namespace, tracer: int) -> tuple[np.ndarray, Any]:
    """(RA, Dec) as an (N, 2) array in degrees and the weights (or None)."""
    c = _sky_columns(path, args, tracer)
    radec = np.column_stack([c["ra"], c["dec"]])
    bad = np.flatnonzero(~np.isfinite(radec).all(axis=1) | (np.abs(radec[:, 1]) > 90))
    if bad.size:
        raise CatalogFormatError(
            f"{path}: RA/Dec must be finite degrees with Dec in [-90, 90]; {bad.size} rows "
            f"are not (first: row {bad[0]}, RA {radec[bad[0], 0]:.6g}, Dec {radec[bad[0], 1]:.6g})"
        )
    return radec, c.get("w")


def _int_column(path: Any, name: str, values: Any) -> np.ndarray:
    """An integer column (or fixed-length list column of integers) as an
    (n,) or (n, k) integer array, refusing anything else."""
    if isinstance(values, np.ndarray):  # FITS
        if values.dtype.kind in "iu":
            return values
        kind = values.dtype
    else:
        col = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        t = col.type
        if pa.types.is_integer(t) and col.null_count == 0:
            return col.to_numpy()
        lists = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
        if lists and pa.types.is_integer(t.value_type) and col.null_count == 0:
            lengths = pac.list_value_length(col).to_numpy()
            flat = pac.list_flatten(col)
            if len(col) and (lengths == lengths[0]).all() and flat.null_count == 0:
                return flat.to_numpy().reshape(len(col), int(lengths[0]))
        kind = t if col.null_count == 0 else f"{t} with {col.null_count} missing values"
    raise CatalogFormatError(
        f"{path}: bitwise weight column {name!r} is not an integer column (type {kind}); "
        "bitwise weights are integers, one bit per fibre-assignment realisation"
    )


def _bitwise(path: str, names: str) -> list[np.ndarray]:
    """--bitwise-columns: the integer columns of a catalogue file, exactly
    (the catalogue readers convert every column to float64)."""
    cols = [c.strip() for c in names.split(",") if c.strip()]
    r = reader(path)
    if r.format == "ascii":
        raise CatalogFormatError(
            f"{path}: plain text catalogues have no named integer columns; bitwise weights "
            "(--bitwise-columns) need a FITS, Parquet, Arrow or CSV file"
        )
    have = r.column_names()
    absent = [c for c in cols if c not in have]
    if absent or not cols:
        raise CatalogFormatError(
            f"{path}: no column {absent[0] if absent else names!r} for --bitwise-columns; "
            f"columns: {have}"
        )
    try:
        if r.format == "fits":
            from astropy.io import fits  # lazy: astropy takes a second to import

            with fits.open(r.path, memmap=True) as hdul:
                hdu = next(
                    h for h in hdul if getattr(h, "columns", None) is not None
                    and h.header.get("NAXIS") == 2
                )  # fmt: skip
                table = {c: np.array(hdu.data[c]) for c in cols}
        elif r.format == "parquet":
            table = pq.read_table(r.path, columns=cols)
        elif r.format == "csv":
            table = pcsv.read_csv(r.path, convert_options=pcsv.ConvertOptions(include_columns=cols))
        else:
            try:
                table = pa.ipc.open_file(pa.memory_map(str(r.path))).read_all()
            except pa.ArrowInvalid:
                table = pa.ipc.open_stream(pa.memory_map(str(r.path))).read_all()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise CatalogFormatError(f"{path}: cannot read the bitwise columns: {exc}") from None
    get = table.__getitem__ if isinstance(table, dict) else table.column
    return [_int_column(path, c, get(c)) for c in cols]


def _two_point_inputs(args: argparse.Namespace, comm: Any, angular: bool = False) -> dict:
    """The catalogue, weight and region keywords of count_pairs,
    count_pairs_rppi and count_angular from the options. Under MPI,
    catalogue files are read by every rank in slices (2pcf, wp); RA/Dec
    tables (wtheta) and bitwise columns are read on rank 0, which the
    library takes arrays from."""
    kw: dict[str, Any] = {
        "twopoint_weights": _everywhere(comm, lambda: _twopoint_weights(args.twopoint_weights)),
        "weight_attrs": {k: v for k, v in _weight_attrs(args).items() if v is not None} or None,
        "regions": args.regions,
        "num_threads": args.threads,
        "progress": not args.quiet,
        "comm": comm,
    }
    tracers = [(1, "", args.data, args.randoms)]
    if args.data2 is not None:
        tracers.append((2, "2", args.data2, args.randoms2))

    def on_root() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for t, sfx, data, randoms in tracers:
            if angular:
                out[f"data{sfx}"], out[f"data{sfx}_weights"] = _sky(data, args, t)
                splits = [_sky(f, args, t) for f in randoms or []]
                if len(splits) == 1:
                    out[f"randoms{sfx}"], out[f"random{sfx}_weights"] = splits[0]
                elif splits:
                    out[f"randoms{sfx}"] = [p for p, _ in splits]
                    ws = [w for _, w in splits]
                    out[f"random{sfx}_weights"] = None if all(w is None for w in ws) else ws
            bits = args.bitwise_columns if t == 1 else args.bitwise_columns2
            if bits is not None:
                out[f"data{sfx}_bitwise_weights"] = _bitwise(data, bits)
        return out

    if not angular:
        for t, sfx, data, randoms in tracers:
            kw[f"data{sfx}"] = _read(data, args, comm, _weight_column(args, t))
            kw[f"randoms{sfx}"] = _randoms_of(randoms, args, comm, t)
    root = _on_root(comm, on_root)
    kw.update({"data": None} if root is None else root)  # None: rank 0 holds the arrays
    return kw


def _errors(result: Any, statistic: str, out: Path, args: argparse.Namespace) -> Any:
    """With regions: the jackknife realisations of ``statistic`` (Parquet, one
    column per realisation) and its covariance (text); returns the errors."""
    if getattr(result, "resampling", None) is None and not getattr(result, "nregions", 0):
        return None
    kw = {"correction": None if args.correction == "none" else args.correction}
    real = result.realisations(statistic, **kw)
    flat = real.reshape(len(real), -1)
    pq.write_table(
        pa.table({f"jk{k}": flat[k] for k in range(len(flat))}),
        out.with_name(f"{out.name}_jackknife.parquet"),
    )
    np.savetxt(
        out.with_name(f"{out.name}_cov.txt"),
        result.cov(statistic, **kw),
        header=f"jackknife covariance of {statistic} over {len(real)} regions (flattened), "
        f"correction {args.correction}",
    )
    print(f"written {out.name}_jackknife.parquet and {out.name}_cov.txt ({len(real)} regions)")
    return result.std(statistic, **kw)


def _two_point_outputs(res: Any, args: argparse.Namespace, statistic: str) -> None:
    """Writes a two-point result (``save``: Parquet with the region tables;
    ``save_ascii``: text; with regions the jackknife realisations and
    covariance of ``statistic``) and prints its summary (unless --quiet) and
    ``statistic`` ("xi_s", "wp" or "wtheta") per bin, with its error."""
    out = Path(args.out)
    res.save(out.with_suffix(".parquet"))
    res.save_ascii(out.with_suffix(".txt"))
    if not args.quiet:
        print(res.summary())
    try:
        value = getattr(res, statistic)()
    except InputError:  # no estimator from these counts (e.g. no randoms outside a box)
        value = None
    err = _errors(res, statistic, out, args) if value is not None else None
    name = {"xi_s": "xi", "wp": "wp", "wtheta": "w"}[statistic]
    first = res.names[0]
    print(f"{'lo':>10s}  {'hi':>10s}  {first:>12s}  {name:10s} error")
    e = res.bins.edges
    for i in range(res.bins.nbins):
        v = f"{value[i]:.5g}" if value is not None else "-"
        d = f"{err[i]:.3g}" if err is not None else ""
        print(f"{e[i]:10.4g}  {e[i + 1]:10.4g}  {res.counts[first][i].sum():12.6g}  {v:10s} {d}")
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def cmd_2pcf(args: argparse.Namespace, comm: Any) -> None:
    bins = _bins(args, args.nmu, args.signed_mu)
    if args.graph:
        _graph_only(args)
        pc = NeighbourGraph.load(args.graph).count_pairs(bins, num_threads=args.threads)
    else:
        pc = count_pairs(
            bins=bins, boxsize=args.boxsize, los=args.los, **_two_point_inputs(args, comm)
        )
    if _rank(comm) == 0:
        _two_point_outputs(pc, args, "xi_s")


def cmd_wp(args: argparse.Namespace, comm: Any) -> None:
    if args.graph:
        _graph_only(args)
        pc = NeighbourGraph.load(args.graph).count_pairs_rppi(
            _bins(args),
            pimax=args.pimax,
            npi=args.npi,
            signed=args.signed_pi,
            num_threads=args.threads,
        )
    else:
        pc = count_pairs_rppi(
            rp_bins=_bins(args),
            pimax=args.pimax,
            npi=args.npi,
            signed=args.signed_pi,
            boxsize=args.boxsize,
            los=args.los,
            **_two_point_inputs(args, comm),
        )
    if _rank(comm) == 0:
        _two_point_outputs(pc, args, "wp")


def cmd_wtheta(args: argparse.Namespace, comm: Any) -> None:
    make = Bins.log if args.scale == "log" else Bins.linear
    bins = make(args.thetamin, args.thetamax, args.nbins)
    ac = count_angular(bins=bins, **_two_point_inputs(args, comm, angular=True))
    if _rank(comm) == 0:
        _two_point_outputs(ac, args, "wtheta")


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
    bins = _bins(args)
    if args.multipoles:
        return _multipoles(args, comm, bins)
    if args.lmax is not None:
        raise InputError("--lmax applies to --multipoles only")
    if args.graph:
        _graph_only(args)
        tc = NeighbourGraph.load(args.graph).count_triangles(bins, num_threads=args.threads)
    else:
        tc = _from_catalogues(count_triangles, args, comm, bins)
    if _rank(comm) != 0:
        return
    out = Path(args.out)
    tc.save_parquet(out.with_suffix(".parquet"))
    tc.save_ascii(out.with_suffix(".txt"))
    print(
        f"{tc.total:.6g} triangles; DDD {tc.ddd.sum():.6g}, DDR {tc.ddr.sum():.6g}, "
        f"DRR {tc.drr.sum():.6g}, RRR {tc.rrr.sum():.6g}"
    )
    print("equilateral zeta:", " ".join(f"{v:.4g}" for v in tc.equilateral().filled(np.nan)))
    err = _errors(tc, "equilateral", out, args) if (tc.randoms is not None or tc.boxsize) else None
    if err is not None:
        print("        error:   ", " ".join(f"{v:.3g}" for v in np.ma.filled(err, np.nan)))
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def _multipoles(args: argparse.Namespace, comm: Any, bins: Any) -> None:
    lmax = 10 if args.lmax is None else args.lmax
    if args.graph:
        _graph_only(args)
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
    out = Path(args.out)
    tm.save_parquet(out.with_suffix(".parquet"))
    tm.save_ascii(out.with_suffix(".txt"))
    z = tm.zeta()
    c = tm.bins.centers
    mid = len(c) // 2
    print(f"3PCF multipoles l <= {tm.lmax} over {tm.bins.nbins} x {tm.bins.nbins} (r1, r2) bins")
    for ell in range(min(2, tm.lmax + 1)):
        vals = " ".join(f"{v:.4g}" for v in z[ell, mid])
        print(f"zeta_{ell}(r1 = {c[mid]:.4g}, r2):", vals)
    err = _errors(tm, "zeta", out, args)
    if err is not None:
        print(f"zeta_0 error ({tm.nregions} regions):", " ".join(f"{v:.3g}" for v in err[0, mid]))
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def cmd_4pcf(args: argparse.Namespace, comm: Any) -> None:
    qc = _from_catalogues(count_quads, args, comm, _bins(args), parity=args.parity)
    if _rank(comm) != 0:
        return
    out = Path(args.out)
    qc.save_parquet(out.with_suffix(".parquet"))
    qc.save_ascii(out.with_suffix(".txt"))
    if qc.randoms is not None:
        _errors(qc, "eta", out, args)
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
