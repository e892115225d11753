"""Catalogues: positions and weights, from arrays, sky coordinates or files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from .errors import CatalogFormatError, InputError

_WEIGHT_NAMES = ("w", "weight", "weights", "wt", "WEIGHT", "W")
_REDSHIFT_NAMES = ("z", "redshift", "Z", "REDSHIFT")


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
        pos = _validate.positions(self.positions, "catalogue").T
        object.__setattr__(self, "positions", np.ascontiguousarray(pos))
        object.__setattr__(self, "weights", _validate.weights(self.weights, len(pos), "catalogue"))

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
        dist = cosmo.comoving_distance(zz).to_value(u.Mpc)
        if h_units:
            dist = dist * cosmo.h
        cosd = np.cos(dec_deg)
        pos = np.column_stack(
            [dist * cosd * np.cos(ra_deg), dist * cosd * np.sin(ra_deg), dist * np.sin(dec_deg)]
        )
        return cls(pos, None if weights is None else np.asarray(weights, dtype=np.float64))


def _pick(names: list[str], candidates: tuple[str, ...]) -> str | None:
    for c in candidates:
        if c in names:
            return c
    lower = {n.lower(): n for n in names}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


def _from_columns(cols: dict[str, np.ndarray], path: Path, cosmology: Any) -> Catalog:
    names = list(cols)
    wname = _pick(names, _WEIGHT_NAMES)
    w = None if wname is None else cols[wname]
    if all(_pick(names, (a,)) for a in ("x", "y", "z")) and not _pick(names, ("ra",)):
        pos = np.column_stack([cols[_pick(names, (a,))] for a in ("x", "y", "z")])
        return Catalog(pos, w)
    ra, dec, red = _pick(names, ("ra",)), _pick(names, ("dec",)), _pick(names, _REDSHIFT_NAMES)
    if ra and dec and red:
        return Catalog.from_sky(cols[ra], cols[dec], cols[red], w, cosmology=cosmology)
    raise CatalogFormatError(
        f"{path}: needs columns x, y, z or ra, dec, z (optionally a weight column); found {names}"
    )


def read_catalog(path: str | Path, *, format: str | None = None, cosmology: Any = None) -> Catalog:
    """Reads a catalogue from FITS, Parquet, Feather/Arrow IPC, CSV or plain ASCII.

    Columns ``x, y, z`` (comoving) or ``ra, dec, z`` (converted with
    ``cosmology``) and an optional weight column (``w``, ``weight``...) are
    used. Plain ASCII files hold ``x y z [w]`` per line, ``#`` comments
    allowed, the layout of classic graph-based correlation codes.

    Parameters
    ----------
    path : str or Path
    format : {"fits", "parquet", "arrow", "csv", "ascii"}, optional
        Guessed from the file suffix when omitted.
    cosmology : astropy.cosmology.Cosmology, optional
        For ra/dec/z input; Planck18 by default.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"catalogue file not found: {p}")
    fmt = format or {
        ".fits": "fits",
        ".fit": "fits",
        ".fz": "fits",
        ".parquet": "parquet",
        ".pq": "parquet",
        ".feather": "arrow",
        ".arrow": "arrow",
        ".ipc": "arrow",
        ".csv": "csv",
    }.get(p.suffix.lower(), "ascii")
    try:
        if fmt == "fits":
            from astropy.table import Table

            t = Table.read(p)
            cols = {n: np.asarray(t[n], dtype=np.float64) for n in t.colnames if t[n].ndim == 1}
        elif fmt in ("parquet", "arrow", "csv"):
            import pyarrow as pa

            if fmt == "parquet":
                import pyarrow.parquet as pq

                table = pq.read_table(p)
            elif fmt == "arrow":
                import pyarrow.feather as feather

                table = feather.read_table(p)
            else:
                import pyarrow.csv as pcsv

                table = pcsv.read_csv(p)
            cols = {
                n: table.column(n).to_numpy().astype(np.float64)
                for n in table.column_names
                if pa.types.is_integer(table.schema.field(n).type)
                or pa.types.is_floating(table.schema.field(n).type)
            }
        elif fmt == "ascii":
            data = np.loadtxt(p, dtype=np.float64, comments="#", ndmin=2)
            if data.shape[1] not in (3, 4):
                raise CatalogFormatError(
                    f"{p}: plain ASCII catalogues hold 3 (x y z) or 4 (x y z w) columns, found {data.shape[1]}"
                )
            return Catalog(data[:, :3], data[:, 3] if data.shape[1] == 4 else None)
        else:
            raise CatalogFormatError(f"unknown catalogue format {fmt!r}")
    except (CatalogFormatError, InputError):
        raise
    except Exception as exc:  # the readers raise many types; name the file once
        raise CatalogFormatError(f"{p}: cannot read as {fmt}: {exc}") from exc
    return _from_columns(cols, p, cosmology)
