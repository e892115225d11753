"""Catalogues: positions and weights, from arrays, sky coordinates or files.

Which columns of a file are used is decided once, by :func:`choose_columns`,
for serial reading (:func:`read_catalog`) and for MPI ranks reading slices of
the same file. The choice is never a guess between two readings: a file that
has both Cartesian (x, y, z) and sky (ra, dec, z) columns, or two weight
columns, is refused with the candidates named, until ``coords=`` or
``columns=`` says which to use (or ``weight=`` a list of columns, multiplied).
Messages name the arguments that resolve them as the caller spells them:
keywords of :func:`read_catalog` (``coords=``), or with ``cli=True`` the
options of the ``astrograph`` command line (``--coords``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CatalogFormatError, InputError
from . import inputs
from .io import reader

WEIGHT_NAMES = ("w", "weight", "weights", "wt")
REDSHIFT_NAMES = ("z", "redshift")
COORDS = ("cartesian", "sky")

#: How messages name what resolves them: the library's keywords, or (``cli=True``)
#: the command line's options.
_HINTS = {
    False: {
        "coords": "coords={!r}",
        "columns": "columns=",
        "weight": "weight= (a column, or a list of columns to multiply)",
        "no_weight": "weight=False",
        "zrange": "zrange=(zmin, zmax)",
    },
    True: {
        "coords": "--coords {}",
        "columns": "--columns",
        "weight": "--weight-column (repeat it, or NAME,NAME, to multiply columns)",
        "no_weight": "--weight-column none",
        "zrange": "--zmin/--zmax",
    },
}


@dataclass(frozen=True)
class Catalog:
    """Comoving Cartesian positions (N, 3) with optional per-point weights.

    Parameters
    ----------
    positions : ndarray, shape (N, 3)
        Comoving coordinates (e.g. Mpc/h).
    weights : ndarray, shape (N,), optional
        Non-negative per-point weights.
    """

    positions: np.ndarray
    weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        pos = inputs.positions(self.positions, "catalogue").T
        object.__setattr__(self, "positions", np.ascontiguousarray(pos))
        object.__setattr__(self, "weights", inputs.weights(self.weights, len(pos), "catalogue"))

    def __len__(self) -> int:
        return self.positions.shape[0]

    @classmethod
    def from_sky(
        cls,
        ra: Any,
        dec: Any,
        z: Any,
        weights: Any = None,
        *,
        cosmology: Any = None,
        h_units: bool = True,
    ) -> Catalog:
        """Converts RA, Dec (degrees) and redshift to comoving Cartesian positions.

        Parameters
        ----------
        ra, dec : array_like or astropy Quantity
            Sky coordinates, degrees unless they carry units.
        z : array_like
            Redshifts (>= 0).
        weights : array_like, optional
        cosmology : astropy.cosmology.Cosmology, optional
            Defaults to Planck18.
        h_units : bool, optional
            Distances in Mpc/h (default) rather than Mpc.
        """
        # lazy: astropy's cosmology takes a second to import
        import astropy.units as u
        from astropy.cosmology import Planck18

        cosmo = Planck18 if cosmology is None else cosmology
        ra_deg = u.Quantity(ra, u.deg).to_value(u.rad)
        dec_deg = u.Quantity(dec, u.deg).to_value(u.rad)
        zz = np.asarray(z, dtype=np.float64)
        if not (ra_deg.shape == dec_deg.shape == zz.shape) or zz.ndim != 1:
            raise InputError(
                f"ra, dec and z must be 1-D arrays of one length, got {ra_deg.shape}, {dec_deg.shape}, {zz.shape}"
            )
        bad = np.flatnonzero(~(np.isfinite(zz) & (zz >= 0)))
        if bad.size:
            raise InputError(
                f"redshifts must be finite and >= 0; {bad.size} "
                f"{'values are' if bad.size > 1 else 'value is'} not "
                f"(first: row {bad[0]}, z = {zz[bad[0]]:.6g})"
            )
        if not (np.isfinite(ra_deg).all() and np.isfinite(dec_deg).all()):
            raise InputError("ra and dec must be finite")
        bad = np.flatnonzero(np.abs(dec_deg) > np.pi / 2 * (1 + 1e-15))
        if bad.size:
            raise InputError(
                f"dec must lie in [-90, 90] degrees; {bad.size} values do not "
                f"(first: row {bad[0]}, {np.degrees(dec_deg[bad[0]]):.6g} degrees)"
            )
        dist = cosmo.comoving_distance(zz).to_value(u.Mpc)
        if h_units:
            dist = dist * cosmo.h
        cosd = np.cos(dec_deg)
        pos = np.column_stack(
            [dist * cosd * np.cos(ra_deg), dist * cosd * np.sin(ra_deg), dist * np.sin(dec_deg)]
        )
        return cls(pos, None if weights is None else np.asarray(weights, dtype=np.float64))


@dataclass(frozen=True)
class ColumnChoice:
    """The columns a catalogue is made of: three position columns read as
    ``coords`` ("cartesian": x, y, z; "sky": ra, dec, redshift) and an
    optional weight column, multiplied by the ``weight_factors`` columns
    (surveys' WEIGHT_FKP x WEIGHT_COMP x ...)."""

    coords: str
    position: tuple[str, str, str]
    weight: str | None
    weight_factors: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        weights = [self.weight, *self.weight_factors] if self.weight else []
        return [*self.position, *weights]


def _find(names: list[str], candidates: tuple[str, ...]) -> list[str]:
    """The columns of ``names`` equal to a candidate, ignoring case."""
    want = {c.lower() for c in candidates}
    return [n for n in names if n.lower() in want]


def _one(names: list[str], candidates: tuple[str, ...]) -> str | None:
    found = _find(names, candidates)
    return found[0] if len(found) == 1 else None


def choose_columns(
    names: list[str],
    where: Any,
    *,
    columns: Any = None,
    coords: str | None = None,
    weight: str | Sequence[str] | bool | None = None,
    cli: bool = False,
) -> ColumnChoice:
    """Decides which columns of a table make the catalogue.

    Parameters
    ----------
    names : list of str
        The table's columns.
    where : path or str
        Named in error messages.
    columns : sequence of 3 str, optional
        The position columns, in order (x, y, z, or ra, dec, redshift with
        ``coords="sky"``). Without it they are found by name, ignoring case.
    coords : {"cartesian", "sky"}, optional
        How to read the positions; needed when a table has both kinds.
    weight : str, list of str or False, optional
        The weight column, or several whose product is the weight; False
        for none. By default the one column named w, weight, weights or wt,
        if any.
    cli : bool, optional
        Messages name the ``astrograph`` command's options (``--coords``)
        instead of this function's keywords (``coords=``).
    """
    hint = _HINTS[bool(cli)]
    if coords is not None and coords not in COORDS:
        raise InputError(f"coords must be 'cartesian' or 'sky', got {coords!r}")
    if columns is not None:
        cols = tuple(columns)
        if len(cols) != 3 or not all(isinstance(c, str) for c in cols):
            raise InputError(f"{hint['columns']} must name 3 position columns, got {columns!r}")
        absent = [c for c in cols if c not in names]
        if absent:
            raise CatalogFormatError(f"{where}: no column {absent[0]!r}; columns: {names}")
        position, kind = cols, coords or "cartesian"
    else:
        xyz = [_one(names, (a,)) for a in ("x", "y", "z")]
        sky = [_one(names, ("ra",)), _one(names, ("dec",)), _one(names, REDSHIFT_NAMES)]
        found = {"cartesian": all(xyz), "sky": all(sky)}
        if coords is None and found["cartesian"] and found["sky"]:
            raise CatalogFormatError(
                f"{where}: ambiguous positions: Cartesian columns {xyz} and sky columns {sky} "
                f"are both present; pass {hint['coords'].format('cartesian')} or "
                f"{hint['coords'].format('sky')}, or name them with {hint['columns']}"
            )
        if coords is None and not any(found.values()):
            raise CatalogFormatError(
                f"{where}: needs columns x, y, z or ra, dec, z (optionally a weight column); "
                f"found {names}; name them with {hint['columns']}"
            )
        kind = coords or ("cartesian" if found["cartesian"] else "sky")
        if not found[kind]:
            want = "x, y, z" if kind == "cartesian" else "ra, dec and z (or redshift)"
            raise CatalogFormatError(
                f"{where}: needs one column each of {want} for {hint['coords'].format(kind)} "
                f"(optionally a weight column); found {names}; name them with {hint['columns']}"
            )
        position = tuple(xyz if kind == "cartesian" else sky)
    factors: tuple[str, ...] = ()
    if weight is False:
        w = None
    elif isinstance(weight, str) or (isinstance(weight, Sequence) and weight):
        chosen = [weight] if isinstance(weight, str) else list(weight)
        for c in chosen:
            if not isinstance(c, str) or c not in names:
                raise CatalogFormatError(f"{where}: no weight column {c!r}; columns: {names}")
        w, factors = chosen[0], tuple(chosen[1:])
    elif weight is None or weight is True:
        cands = [c for c in _find(names, WEIGHT_NAMES) if c not in position]
        if len(cands) > 1:
            raise CatalogFormatError(
                f"{where}: several candidate weight columns {cands}; choose with "
                f"{hint['weight']}, or {hint['no_weight']} for none"
            )
        w = cands[0] if cands else None
    else:
        raise InputError(f"weight must be a column name, a list of them or False, got {weight!r}")
    return ColumnChoice(kind, position, w, factors)  # type: ignore[arg-type]


def in_zrange(z: np.ndarray, zrange: Any) -> np.ndarray:
    """Rows with ``zmin <= z < zmax`` (either end None: open); NaN never."""
    zmin, zmax = zrange
    keep = np.isfinite(z)
    if zmin is not None:
        keep &= z >= zmin
    if zmax is not None:
        keep &= z < zmax
    return keep


def _check_zrange(zrange: Any, hint: str) -> tuple[float | None, float | None]:
    try:
        zmin, zmax = (None if v is None else float(v) for v in zrange)
    except (TypeError, ValueError):
        raise InputError(f"{hint} must be (zmin, zmax), either None, got {zrange!r}") from None
    for v in (zmin, zmax):
        if v is not None and not (np.isfinite(v) and v >= 0):
            raise InputError(f"{hint}: redshift limits must be finite and >= 0, got {zrange!r}")
    if zmin is not None and zmax is not None and not zmin < zmax:
        raise InputError(f"{hint}: need zmin < zmax, got {zmin:g} and {zmax:g}")
    return zmin, zmax


def _check_sky(
    columns: tuple[str, str, str], ra: Any, dec: Any, z: Any, rows: Any, where: Any, hint: dict
) -> None:
    """Refuses sky columns :meth:`Catalog.from_sky` cannot convert, naming the
    file, how many rows and the first (a row of the file: ``rows`` maps them)."""
    for label, name, values, bad, need, cure in (
        ("redshift", columns[2], z, ~(np.isfinite(z) & (z >= 0)), "finite and >= 0",
         f"; cut them with {hint['zrange']}"),
        ("RA", columns[0], ra, ~np.isfinite(ra), "finite (degrees)", ""),
        ("Dec", columns[1], dec, ~(np.abs(dec) <= 90), "in [-90, 90] degrees", ""),
    ):  # fmt: skip
        idx = np.flatnonzero(bad)
        if idx.size:
            first = int(idx[0] if rows is None else rows[idx[0]])
            raise InputError(
                f"{where}: {label}s (column {name!r}) must be {need}; {idx.size} "
                f"{'rows are' if idx.size > 1 else 'row is'} not "
                f"(first: row {first}, {name} = {values[idx[0]]:.6g}){cure}"
            )


def catalog_from_columns(
    cols: dict[str, np.ndarray],
    choice: ColumnChoice,
    cosmology: Any = None,
    *,
    where: Any = None,
    zrange: Any = None,
    cli: bool = False,
) -> Catalog:
    """A Catalog from the chosen columns (sky coordinates converted).

    ``zrange`` = (zmin, zmax) keeps the rows with ``zmin <= z < zmax`` of a
    sky catalogue before converting them. With ``where`` (the file), errors
    name it and its rows.
    """
    hint = _HINTS[bool(cli)]
    a, b, c = (cols[n] for n in choice.position)
    w = cols[choice.weight] if choice.weight else None
    for f in choice.weight_factors:
        w = w * cols[f]
    rows = None
    if zrange is not None:
        zrange = _check_zrange(zrange, hint["zrange"])
        if choice.coords != "sky":
            raise InputError(
                f"{where or 'catalogue'}: {hint['zrange']} cut sky catalogues (ra, dec, z) by "
                f"redshift; the positions read are Cartesian {list(choice.position)}"
            )
        keep = in_zrange(c, zrange)
        if not keep.any():
            zmin, zmax = zrange
            finite = c[np.isfinite(c)]
            span = f"{finite.min():.6g} to {finite.max():.6g}" if finite.size else "none finite"
            raise InputError(
                f"{where or 'catalogue'}: no row has {'' if zmin is None else f'{zmin:g} <= '}"
                f"z{'' if zmax is None else f' < {zmax:g}'} (column {choice.position[2]!r}: "
                f"{span})"
            )
        rows = np.flatnonzero(keep)
        a, b, c = a[rows], b[rows], c[rows]
        w = None if w is None else w[rows]
    try:
        if choice.coords == "sky":
            if where is not None:
                _check_sky(choice.position, a, b, c, rows, where, hint)
            return Catalog.from_sky(a, b, c, w, cosmology=cosmology)
        return Catalog(np.column_stack([a, b, c]), w)
    except InputError as exc:
        if where is None or str(exc).startswith(str(where)):
            raise
        raise type(exc)(f"{where}: {exc}") from None


@dataclass(frozen=True)
class CatalogFile:
    """A catalogue file and how to read it: what :func:`read_catalog` takes,
    kept unread so that MPI ranks can each read their own slice of it.
    ``cli``: messages name the command line's options (see :func:`choose_columns`)."""

    path: str | Path
    format: str | None = None
    columns: Any = None
    coords: str | None = None
    weight: str | Sequence[str] | bool | None = None
    cli: bool = False

    def read(self, cosmology: Any = None, zrange: Any = None) -> Catalog:
        """The catalogue (sky coordinates converted with ``cosmology``; with
        ``zrange`` = (zmin, zmax) only the rows with zmin <= z < zmax)."""
        r = reader(self.path, self.format)
        choice = self.choose(r)
        return catalog_from_columns(
            r.read(choice.names), choice, cosmology, where=r.path, zrange=zrange, cli=self.cli
        )

    def choose(self, r: Any) -> ColumnChoice:
        """The columns of reader ``r`` (of this file) that make the catalogue."""
        return choose_columns(
            r.column_names(),
            r.path,
            columns=self.columns,
            coords=self.coords,
            weight=self.weight,
            cli=self.cli,
        )


def read_catalog(
    path: str | Path,
    *,
    format: str | None = None,
    columns: Any = None,
    coords: str | None = None,
    weight: str | Sequence[str] | bool | None = None,
    cosmology: Any = None,
    zrange: Any = None,
) -> Catalog:
    """Reads a catalogue from FITS, Parquet, Feather/Arrow IPC, CSV or plain ASCII.

    Positions are Cartesian columns ``x, y, z`` (comoving) or sky columns
    ``ra, dec, z`` (converted with ``cosmology``), found by name ignoring
    case; a file with both kinds is refused until ``coords`` says which. An
    optional weight column (``w``, ``weight``, ``weights`` or ``wt``) is used.
    Plain ASCII files hold ``x y z [w]`` per line, ``#`` comments allowed,
    the layout of classic graph-based correlation codes. Only the chosen
    columns are read.

    Parameters
    ----------
    path : str or Path
    format : {"fits", "parquet", "arrow", "csv", "ascii"}, optional
        Guessed from the file suffix when omitted.
    columns, coords, weight
        Which columns to use, see :func:`choose_columns`; ``weight`` may list
        several columns, whose product is the weight (e.g.
        ``["WEIGHT_FKP", "WEIGHT_COMP"]``).
    cosmology : astropy.cosmology.Cosmology, optional
        For sky coordinates; Planck18 by default.
    zrange : (float or None, float or None), optional
        Sky catalogues: keep only the rows with ``zmin <= z < zmax`` (None:
        no limit on that side), before the redshifts are converted, so rows
        outside it (e.g. slightly negative redshifts) are never refused.
    """
    spec = CatalogFile(path, format=format, columns=columns, coords=coords, weight=weight)
    return spec.read(cosmology, zrange)
