"""Catalogues: positions and weights, from arrays, sky coordinates or files.

Which columns of a file are used is decided once, by :func:`choose_columns`,
for serial reading (:func:`read_catalog`) and for MPI ranks reading slices of
the same file. The choice is never a guess between two readings: a file that
has both Cartesian (x, y, z) and sky (ra, dec, z) columns, or two weight
columns, is refused with the candidates named, until ``coords=`` or
``columns=`` says which to use.
"""

from __future__ import annotations

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
        if not np.isfinite(zz).all() or (zz < 0).any():
            raise InputError("redshifts must be finite and >= 0")
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
    optional weight column."""

    coords: str
    position: tuple[str, str, str]
    weight: str | None

    @property
    def names(self) -> list[str]:
        return [*self.position, *([self.weight] if self.weight else [])]


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
    weight: str | bool | None = None,
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
    weight : str or False, optional
        The weight column; False for none. By default the one column named
        w, weight, weights or wt, if any.
    """
    if coords is not None and coords not in COORDS:
        raise InputError(f"coords must be 'cartesian' or 'sky', got {coords!r}")
    if columns is not None:
        cols = tuple(columns)
        if len(cols) != 3 or not all(isinstance(c, str) for c in cols):
            raise InputError(f"columns must name 3 position columns, got {columns!r}")
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
                "are both present; pass coords='cartesian' or coords='sky', "
                "or name them with columns="
            )
        if coords is None and not any(found.values()):
            raise CatalogFormatError(
                f"{where}: needs columns x, y, z or ra, dec, z (optionally a weight column); "
                f"found {names}; name them with columns="
            )
        kind = coords or ("cartesian" if found["cartesian"] else "sky")
        if not found[kind]:
            want = "x, y, z" if kind == "cartesian" else "ra, dec and z (or redshift)"
            raise CatalogFormatError(
                f"{where}: needs one column each of {want} for coords={kind!r} "
                f"(optionally a weight column); found {names}; name them with columns="
            )
        position = tuple(xyz if kind == "cartesian" else sky)
    if weight is False:
        w = None
    elif isinstance(weight, str):
        if weight not in names:
            raise CatalogFormatError(f"{where}: no weight column {weight!r}; columns: {names}")
        w = weight
    else:
        cands = [c for c in _find(names, WEIGHT_NAMES) if c not in position]
        if len(cands) > 1:
            raise CatalogFormatError(
                f"{where}: several candidate weight columns {cands}; choose one with weight=, "
                "or weight=False for none"
            )
        w = cands[0] if cands else None
    return ColumnChoice(kind, position, w)  # type: ignore[arg-type]


def catalog_from_columns(
    cols: dict[str, np.ndarray], choice: ColumnChoice, cosmology: Any = None
) -> Catalog:
    """A Catalog from the chosen columns (sky coordinates converted)."""
    a, b, c = (cols[n] for n in choice.position)
    w = cols[choice.weight] if choice.weight else None
    if choice.coords == "sky":
        return Catalog.from_sky(a, b, c, w, cosmology=cosmology)
    return Catalog(np.column_stack([a, b, c]), w)


@dataclass(frozen=True)
class CatalogFile:
    """A catalogue file and how to read it: what :func:`read_catalog` takes,
    kept unread so that MPI ranks can each read their own slice of it."""

    path: str | Path
    format: str | None = None
    columns: Any = None
    coords: str | None = None
    weight: str | bool | None = None

    def read(self, cosmology: Any = None) -> Catalog:
        return read_catalog(
            self.path,
            format=self.format,
            columns=self.columns,
            coords=self.coords,
            weight=self.weight,
            cosmology=cosmology,
        )

    def choose(self, r: Any) -> ColumnChoice:
        """The columns of reader ``r`` (of this file) that make the catalogue."""
        return choose_columns(
            r.column_names(), r.path, columns=self.columns, coords=self.coords, weight=self.weight
        )


def read_catalog(
    path: str | Path,
    *,
    format: str | None = None,
    columns: Any = None,
    coords: str | None = None,
    weight: str | bool | None = None,
    cosmology: Any = None,
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
        Which columns to use, see :func:`choose_columns`.
    cosmology : astropy.cosmology.Cosmology, optional
        For sky coordinates; Planck18 by default.
    """
    r = reader(path, format)
    choice = choose_columns(r.column_names(), r.path, columns=columns, coords=coords, weight=weight)
    return catalog_from_columns(r.read(choice.names), choice, cosmology)
