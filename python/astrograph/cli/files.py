"""The input files of the commands, read as the options say: catalogues
(columns, weight columns multiplied, a redshift cut, the cosmology), RA/Dec
tables for w(theta), bitwise weight columns and angular weight tables.

Under MPI a catalogue file is handed to the library unread, so that every
rank reads its own row slice, unless a redshift cut or a cosmology applies:
then rank 0 reads it whole (the cut changes the rows) and the library
spreads it.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..clustering.catalog import (
    REDSHIFT_NAMES,
    WEIGHT_NAMES,
    CatalogFile,
    catalog_from_columns,
    in_zrange,
)
from ..clustering.io import reader
from ..clustering.mpi.collective import stage
from ..clustering.splits import RandomSplits
from ..errors import CatalogFormatError, InputError

#: astropy's named cosmologies (astropy.cosmology.realizations.available).
COSMOLOGY_NAMES = ("Planck13", "Planck15", "Planck18", "WMAP1", "WMAP3", "WMAP5", "WMAP7", "WMAP9")
#: The cosmology of sky catalogues without --cosmology (Catalog.from_sky's).
DEFAULT_COSMOLOGY = "Planck18"


@dataclass(frozen=True)
class Cosmology:
    """--cosmology: its name (as written to the results' metadata) and the
    astropy cosmology."""

    name: str
    model: Any


def parse_cosmology(text: str) -> Cosmology:
    """--cosmology NAME (astropy's Planck18, WMAP9, ...) or flat:H0,Om0."""
    import astropy.cosmology as ac  # lazy: astropy's cosmology takes a second to import

    if text.lower().startswith("flat:"):
        try:
            h0, om0 = (float(v) for v in text[5:].split(","))
        except ValueError:
            h0 = om0 = float("nan")
        if not (0 < h0 < float("inf") and 0 <= om0 <= 1):
            raise argparse.ArgumentTypeError(
                f"flat:H0,Om0 needs H0 > 0 (km/s/Mpc) and Om0 in [0, 1], e.g. flat:100,0.3; "
                f"got {text!r}"
            )
        return Cosmology(f"FlatLambdaCDM(H0={h0:g}, Om0={om0:g})", ac.FlatLambdaCDM(h0, om0))
    names = {n.lower(): n for n in ac.realizations.available}
    if text.lower() not in names:
        raise argparse.ArgumentTypeError(
            f"unknown cosmology {text!r}: one of {', '.join(ac.realizations.available)}, or "
            "flat:H0,Om0 (e.g. flat:100,0.3)"
        )
    name = names[text.lower()]
    return Cosmology(name, getattr(ac, name))


# -- MPI: where a file is read --------------------------------------------------------
def rank(comm: Any) -> int:
    return 0 if comm is None else comm.Get_rank()


def on_root(comm: Any, fn: Any) -> Any:
    """``fn()`` here, or on rank 0 only under MPI (None elsewhere) with
    errors agreed by every rank, so that they end the job with one message."""
    if comm is None:
        return fn()
    return stage(comm, fn if rank(comm) == 0 else lambda: None)


def everywhere(comm: Any, fn: Any) -> Any:
    """``fn()`` on every rank, its errors agreed by every rank under MPI."""
    return fn() if comm is None else stage(comm, fn)


# -- catalogues -----------------------------------------------------------------------
def weight_columns(args: argparse.Namespace, tracer: int = 1) -> Any:
    """The weight columns of a tracer's files from --weight-column(2) (given
    several times or as NAME,NAME: multiplied): a list of names, False for
    'none', None for the default (a column named w, weight, ...)."""
    values = getattr(args, "weight_column", None)
    option = "--weight-column"
    if tracer == 2 and getattr(args, "weight_column2", None) is not None:
        values, option = args.weight_column2, "--weight-column2"
    if values is None:
        return None
    names = [c.strip() for v in values for c in v.split(",")]
    if names == ["none"]:
        return False
    if "none" in names or "" in names:
        raise InputError(
            f"{option}: give column names (several are multiplied) or 'none' alone, "
            f"got {','.join(values)!r}"
        )
    return names


def zrange(args: argparse.Namespace) -> tuple[float | None, float | None] | None:
    """(--zmin, --zmax), or None without a cut."""
    lo, hi = getattr(args, "zmin", None), getattr(args, "zmax", None)
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None and not lo < hi:
        raise InputError(f"need --zmin < --zmax, got {lo:g} and {hi:g}")
    return lo, hi


def spec(path: str, args: argparse.Namespace, tracer: int = 1) -> CatalogFile:
    """A catalogue file and how to read it (its columns, its weights)."""
    cols = args.columns.split(",") if getattr(args, "columns", None) else None
    return CatalogFile(
        path,
        columns=cols,
        coords=getattr(args, "coords", None),
        weight=weight_columns(args, tracer),
        cli=True,
    )


def _whole(args: argparse.Namespace) -> bool:
    """A file must be read whole (on rank 0 under MPI): a cut or a cosmology applies."""
    return zrange(args) is not None or getattr(args, "cosmology", None) is not None


def read(path: str, args: argparse.Namespace, tracer: int = 1) -> Any:
    """A catalogue file read here, with the redshift cut and the cosmology
    (prints how many rows a cut keeps, unless --quiet)."""
    s = spec(path, args, tracer)
    r = reader(s.path, s.format)
    choice = s.choose(r)
    cols = r.read(choice.names)
    cosmo = getattr(args, "cosmology", None)
    cut = zrange(args)
    cat = catalog_from_columns(
        cols,
        choice,
        None if cosmo is None else cosmo.model,
        where=r.path,
        zrange=cut,
        cli=True,
    )
    if cut is not None and not args.quiet:
        n = len(cols[choice.position[0]])
        print(f"{path}: {len(cat)} of {n} rows with {cut_text(cut)}", flush=True)
    return cat


def cut_text(cut: tuple[float | None, float | None]) -> str:
    """A redshift cut as text: "0.02 <= z < 0.12", "z < 0.1", ..."""
    lo, hi = cut
    return f"{'' if lo is None else f'{lo:g} <= '}z{'' if hi is None else f' < {hi:g}'}"


def catalogue(path: str | None, args: argparse.Namespace, comm: Any = None, tracer: int = 1) -> Any:
    """A catalogue: read here, or under MPI the file for every rank to read a
    slice of (read whole on rank 0 when a cut or a cosmology applies)."""
    if path is None:
        return None
    zrange(args)  # refused before any file is read
    if comm is None:
        return read(path, args, tracer)
    if _whole(args):
        return on_root(comm, lambda: read(path, args, tracer))
    return spec(path, args, tracer)


class _SplitFile(CatalogFile):
    """A random split file under MPI: read by every rank in row slices like
    any catalogue file. ``positions = None`` makes the library's test for a
    list of splits (``twopoint.is_splits``: arrays, objects with
    ``positions``, str paths) accept a list of these."""

    positions = None


def randoms_of(paths: list[str] | None, args: argparse.Namespace, comm: Any, tracer: int) -> Any:
    """One random catalogue, or a list of them (random splits), or with
    --random-splits one file's splits streamed one at a time."""
    if not paths:
        if tracer == 1 and getattr(args, "random_splits", None) is not None:
            raise InputError("--random-splits reads the --randoms file as splits: give --randoms")
        return None
    if getattr(args, "random_splits", None) is not None:
        return streamed(paths, args, comm, tracer)
    if len(paths) == 1:
        return catalogue(paths[0], args, comm, tracer)
    if comm is None:
        return [read(p, args, tracer) for p in paths]
    if _whole(args):
        return on_root(comm, lambda: [read(p, args, tracer) for p in paths])
    specs = [spec(p, args, tracer) for p in paths]
    return [
        _SplitFile(s.path, columns=s.columns, coords=s.coords, weight=s.weight, cli=True)
        for s in specs
    ]


def streamed(paths: list[str], args: argparse.Namespace, comm: Any, tracer: int) -> Any:
    """--random-splits: the splits of one random file, read one at a time."""
    if len(paths) != 1:
        raise InputError("--random-splits reads one random file as splits: give --randoms once")
    if comm is not None:
        raise InputError(
            "--random-splits streams the randoms through one process; under MPI give the "
            "splits as several --randoms files, which every rank reads in slices"
        )
    s = spec(paths[0], args, tracer)
    cosmo = getattr(args, "cosmology", None)
    n = args.random_splits
    return RandomSplits(
        s.path,
        splits=None if n == "groups" else n,
        columns=s.columns,
        coords=s.coords,
        weight=s.weight,
        cosmology=None if cosmo is None else cosmo.model,
        zrange=zrange(args),
    )


def kept_rows(path: str, args: argparse.Namespace, tracer: int = 1) -> np.ndarray | None:
    """The rows of a catalogue file the redshift cut keeps (None: all), for
    columns read apart from the catalogue (bitwise weights)."""
    cut = zrange(args)
    if cut is None:
        return None
    s = spec(path, args, tracer)
    r = reader(s.path, s.format)
    z = s.choose(r).position[2]
    return in_zrange(r.read([z])[z], cut)


def used_sky(paths: list[str], args: argparse.Namespace) -> bool:
    """Whether any of these catalogue files holds sky positions (converted
    with the cosmology)."""
    for p in paths:
        r = reader(p)
        s = spec(p, args)
        columns = CatalogFile(p, columns=s.columns, coords=s.coords, weight=False, cli=True)
        if r.format != "ascii" and columns.choose(r).coords == "sky":
            return True
    return False


# -- tables of numbers: angular weights --------------------------------------------------
def loadtxt(path: str | Path, what: str) -> np.ndarray:
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


def twopoint_weights(path: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """--twopoint-weights: (angles in degrees, weights) from a two-column text file."""
    if path is None:
        return None
    a = loadtxt(path, "--twopoint-weights")
    if a.shape[1] != 2:
        raise CatalogFormatError(
            f"{path}: --twopoint-weights needs 2 columns, theta (degrees) and weight; "
            f"found {a.shape[1]}"
        )
    return a[:, 0], a[:, 1]


# -- RA/Dec tables for w(theta) ------------------------------------------------------------
#: Column names of a plain text sky catalogue for w(theta), by position.
SKY_TEXT_COLUMNS = ("ra", "dec", "w")


def _sky_columns(path: str, args: argparse.Namespace, tracer: int) -> dict[str, np.ndarray]:
    """The RA, Dec (degrees) and weight columns of a catalogue file for
    w(theta), as float64 arrays keyed "ra", "dec" and "w" (absent: no
    weights), the rows outside --zmin/--zmax left out."""
    r = reader(path)
    if r.format == "ascii":
        a = loadtxt(path, "plain text catalogue ('ra dec [w]', degrees)")
        if a.shape[1] not in (2, 3):
            raise CatalogFormatError(
                f"{path}: plain text catalogues for w(theta) hold 2 (ra dec) or 3 (ra dec w) "
                f"columns, degrees; found {a.shape[1]}"
            )
        names = list(SKY_TEXT_COLUMNS[: a.shape[1]])
        table = {n: a[:, k] for k, n in enumerate(names)}
        read_cols = lambda cols: {c: table[c] for c in cols}  # noqa: E731
    else:
        names = r.column_names()
        read_cols = r.read
    cut = zrange(args)
    given = [c.strip() for c in args.columns.split(",")] if args.columns else []
    if given:
        absent = [c for c in given if c not in names]
        if absent:
            raise CatalogFormatError(f"{path}: no column {absent[0]!r}; columns: {names}")
        ra, dec = given[:2]
    else:
        ra, dec = (next(iter(c for c in names if c.lower() == k), None) for k in ("ra", "dec"))
        if ra is None or dec is None:
            raise CatalogFormatError(
                f"{path}: w(theta) needs the sky columns ra and dec (degrees); found {names}; "
                "name them with --columns RA,DEC"
            )
    z = None
    if cut is not None:
        z = (
            given[2]
            if len(given) == 3
            else next((c for c in names if c.lower() in REDSHIFT_NAMES), None)
        )
        if z is None:
            raise CatalogFormatError(
                f"{path}: --zmin/--zmax need a redshift column (z or redshift); found {names}; "
                "name it with --columns RA,DEC,Z"
            )
    weights = weight_columns(args, tracer)
    if weights is False:
        ws = []
    elif weights is not None:
        absent = [c for c in weights if c not in names]
        if absent:
            raise CatalogFormatError(f"{path}: no weight column {absent[0]!r}; columns: {names}")
        ws = weights
    else:
        found = [c for c in names if c.lower() in WEIGHT_NAMES and c not in (ra, dec)]
        if len(found) > 1:
            raise CatalogFormatError(
                f"{path}: several candidate weight columns {found}; choose with "
                "--weight-column (several are multiplied), or --weight-column none"
            )
        ws = found
    cols = read_cols(list(dict.fromkeys([ra, dec, *([z] if z else []), *ws])))
    if z is not None and cut is not None:
        keep = in_zrange(cols[z], cut)
        if not keep.any():
            raise InputError(f"{path}: no row has {cut_text(cut)} (column {z!r})")
        if not args.quiet:
            print(f"{path}: {int(keep.sum())} of {len(keep)} rows with {cut_text(cut)}")
        cols = {k: v[keep] for k, v in cols.items()}
    out = {"ra": cols[ra], "dec": cols[dec]}
    if ws:
        out["w"] = np.prod([cols[c] for c in ws], axis=0)
    return out


def sky(path: str, args: argparse.Namespace, tracer: int) -> tuple[np.ndarray, Any]:
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


def sky_kept_rows(path: str, args: argparse.Namespace) -> np.ndarray | None:
    """The rows of a w(theta) file the redshift cut keeps (None: all)."""
    cut = zrange(args)
    if cut is None:
        return None
    r = reader(path)
    names = r.column_names()
    given = [c.strip() for c in args.columns.split(",")] if args.columns else []
    z = given[2] if len(given) == 3 else next(c for c in names if c.lower() in REDSHIFT_NAMES)
    return in_zrange(r.read([z])[z], cut)


# -- bitwise weights -------------------------------------------------------------------------
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


def bitwise(path: str, names: str, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """--bitwise-columns: the integer columns of a catalogue file, exactly
    (the catalogue readers convert every column to float64); ``keep``: the
    rows a redshift cut keeps."""
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
    out = [_int_column(path, c, get(c)) for c in cols]
    return out if keep is None else [a[keep] for a in out]
