"""Checks that a count's catalogues can mean something, cheap next to the count.

Valid arrays can still be the wrong science: (RA, Dec, z) stacked as if they
were Cartesian positions, angles in radians beside angles in degrees, randoms
in Mpc beside data in Mpc/h, randoms over another redshift range, a handful
of randoms for thousands of galaxies. Each of these runs and returns a
number; the checks here say so. What looks wrong gives an
:class:`~astrograph.errors.AstrographWarning`; counts that cannot mean
anything (no galaxy-random pair at all, where the random pairs of the same
bins predict many) raise an :class:`~astrograph.errors.InputError`.

The geometry checks look at a strided sample of at most :data:`SAMPLE`
points per catalogue, so they cost a few passes over at most that many
points. Thresholds are chosen so that a catalogue and randoms drawn from
the same volume never trip them, clustered or not (docs/conventions.md,
"Sanity checks").
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import AstrographWarning, InputError

#: Points of a catalogue the geometry checks look at (a strided sample beyond):
#: enough for their extents, medians and 5 % quantiles (a fraction outside
#: known to ~0.3 % against the 20 % that warns), and 4.6 ms of checks on
#: 50,000 + 50,000 points instead of 12.7 ms at 200,000 (a pair count of
#: those points to 20 Mpc/h takes ~70 ms).
SAMPLE = 20_000
#: A catalogue's extent is a reference for another's when it has this many
#: points (fewer trace their volume too loosely: test catalogues, a few clumps) ...
MIN_POINTS = 1000
#: ... and the other catalogue has at least this many.
MIN_OTHER = 100
#: The extent of a catalogue is widened by this fraction of its size (per axis) ...
MARGIN = 0.05
#: ... and more than this fraction of the other catalogue outside it is a mismatch.
MAX_OUTSIDE = 0.2
#: Median distances from the observer of data and randoms (MIN_POINTS each)
#: differing by more than this factor.
MAX_DISTANCE_RATIO = 1.25
#: Fewer randoms than this many per galaxy (all splits together) warn, from
#: MIN_OTHER galaxies on.
MIN_RANDOMS_PER_GALAXY = 0.5
#: (RA, Dec, z) stacked: RA and Dec ranges this many times the largest "z".
SKY_SPAN_FACTOR = 20.0
#: ... with "z" at most this (redshifts).
MAX_REDSHIFT = 10.0
#: Data this far away (the median distance; Catalog.from_sky puts z > ~1000
#: there, in Mpc/h or in Mpc) in a shell thinner than :data:`MAX_SHELL` of it
#: (5th to 95th percentile) have redshifts given as cz in km/s.
HORIZON = 9300.0
MAX_SHELL = 0.05
#: A galaxy-random count of zero where the random pairs predict more than
#: this many raises.
MIN_PAIRS = 100.0

CAUSES = (
    "the usual causes: Mpc beside Mpc/h, RA/Dec in radians beside degrees, randoms over "
    "another redshift range (or another cosmology), Cartesian positions beside (RA, Dec, z) "
    "stacked as Cartesian (use Catalog.from_sky(ra, dec, z) for both)"
)

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn(message: str) -> None:
    """An :class:`AstrographWarning` pointing at the first caller outside astrograph."""
    level = 2  # the caller of this function
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, AstrographWarning, stacklevel=level)


def name(role: str) -> str:
    """A catalogue's role ("D1", "R1.0", "D2", ...) as the user named it."""
    return ("data" if role[0] == "D" else "randoms") + ("2" if role[1] == "2" else "")


def _sample(pos: np.ndarray) -> np.ndarray:
    """(3, N) positions, strided down to at most SAMPLE points."""
    step = max(1, -(-pos.shape[1] // SAMPLE))
    return pos[:, ::step]


def _fmt(lo: np.ndarray, hi: np.ndarray, axes: Sequence[str]) -> str:
    return ", ".join(f"{a} {a0:.4g}..{a1:.4g}" for a, a0, a1 in zip(axes, lo, hi, strict=True))


def outside(ref: np.ndarray, other: np.ndarray) -> float:
    """Fraction of ``other``'s points (k, N) outside the bounding box of
    ``ref`` widened by MARGIN of its size on every side (at least a
    thousandth of its largest size, for flat catalogues)."""
    lo, hi = ref.min(axis=1), ref.max(axis=1)
    size = hi - lo
    m = MARGIN * size + 1e-3 * size.max()
    out = ((other < (lo - m)[:, None]) | (other > (hi + m)[:, None])).any(axis=0)
    return float(out.mean())


def _mismatch(d: np.ndarray, r: np.ndarray) -> float:
    """The larger fraction of one catalogue outside the other's widened box
    (a catalogue's box is used only when it has MIN_POINTS points, and
    compared with one of MIN_OTHER points)."""
    f = 0.0
    if d.shape[1] >= MIN_POINTS and r.shape[1] >= MIN_OTHER:
        f = outside(d, r)
    if r.shape[1] >= MIN_POINTS and d.shape[1] >= MIN_OTHER:
        f = max(f, outside(r, d))
    return f


def _directions(p: np.ndarray) -> np.ndarray:
    r = np.sqrt((p * p).sum(axis=0))
    keep = r > 0
    return p[:, keep] / r[keep]


def _radec(u: np.ndarray) -> str:
    ra = np.degrees(np.arctan2(u[1], u[0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(u[2], -1.0, 1.0)))
    return _fmt(np.array([ra.min(), dec.min()]), np.array([ra.max(), dec.max()]), ("RA", "Dec"))


def looks_like_sky(p: np.ndarray) -> str | None:
    """The column ranges of (3, N) Cartesian positions that read as (RA in
    degrees, Dec in degrees, redshift), or None."""
    lo, hi = p.min(axis=1), p.max(axis=1)
    if not (lo[0] >= 0 and hi[0] <= 360 and lo[1] >= -90 and hi[1] <= 90):
        return None
    if not (lo[2] >= 0 and 0 < hi[2] <= MAX_REDSHIFT):
        return None
    if max(hi[0] - lo[0], hi[1] - lo[1]) < SKY_SPAN_FACTOR * hi[2]:
        return None
    return _fmt(lo, hi, ("x", "y", "z"))


def _stacked(pos: Mapping[str, np.ndarray]) -> None:
    found: dict[str, str] = {}
    for role, p in pos.items():
        ranges = looks_like_sky(p)
        if ranges is not None:
            found.setdefault(name(role), ranges)
    if found:
        what = " and ".join(found)
        ranges = "; ".join(f"{k}: {v}" for k, v in found.items())
        warn(
            f"the {what} positions look like (RA, Dec, redshift) stacked as Cartesian "
            f"coordinates ({ranges}): counts need comoving Cartesian positions; "
            "convert with Catalog.from_sky(ra, dec, z)"
        )


def _few_randoms(d: np.ndarray, rs: list[np.ndarray], tracer: str, rows: int | None) -> None:
    nd, nr = d.shape[1], sum(r.shape[1] for r in rs) if rows is None else rows
    if nd >= MIN_OTHER and nr < MIN_RANDOMS_PER_GALAXY * nd:
        splits = f" (over {len(rs)} splits)" if len(rs) > 1 else ""
        warn(
            f"only {nr} randoms{tracer}{splits} for {nd} galaxies (data{tracer}): the randoms' "
            "own noise then dominates the estimate; use 10 to 50 times as many randoms as galaxies"
        )


def _extents(d: np.ndarray, r: np.ndarray, tracer: str, boxsize: Any, angular: bool) -> None:
    dn, rn = f"data{tracer}", f"randoms{tracer}"
    if boxsize is not None:
        f = _mismatch(d, r)
        if f > MAX_OUTSIDE:
            warn(
                f"{dn} and {rn} do not fill the same volume ({f:.0%} of one lies outside the "
                f"other's extent): {dn} {_fmt(d.min(1), d.max(1), 'xyz')}; "
                f"{rn} {_fmt(r.min(1), r.max(1), 'xyz')}. Both must be in the same coordinates "
                f"and units; {CAUSES}"
            )
        return
    ud, ur = (d, r) if angular else (_directions(d), _directions(r))
    f = _mismatch(ud, ur)
    if f > MAX_OUTSIDE:
        warn(
            f"{dn} and {rn} do not cover the same sky ({f:.0%} of one lies outside the other's "
            f"directions): {dn} {_radec(ud)}; {rn} {_radec(ur)} (degrees). Both must be in the "
            f"same coordinates and units; {CAUSES}"
        )
        return
    if angular:
        return
    dd, rd = np.sqrt((d * d).sum(axis=0)), np.sqrt((r * r).sum(axis=0))
    f = _mismatch(dd[None], rd[None])
    md, mr = float(np.median(dd)), float(np.median(rd))
    ratio = max(md, mr) / min(md, mr) if min(md, mr) > 0 else np.inf
    if min(dd.size, rd.size) < MIN_POINTS:
        ratio = 1.0  # medians of small catalogues: too noisy to compare
    if f > MAX_OUTSIDE or ratio > MAX_DISTANCE_RATIO:
        warn(
            f"{dn} and {rn} lie at different distances from the observer: {dn} "
            f"{dd.min():.4g}..{dd.max():.4g} (median {md:.4g}), {rn} {rd.min():.4g}.."
            f"{rd.max():.4g} (median {mr:.4g}). Both must be in the same coordinates and "
            f"units, over one redshift range; {CAUSES}"
        )
        return
    lo, med, hi = np.quantile(dd, [0.05, 0.5, 0.95])
    if dd.size >= MIN_OTHER and med > HORIZON and hi - lo < MAX_SHELL * med:
        warn(
            f"the {dn} lie in a thin shell near the horizon, {lo:.5g}..{hi:.5g} from the "
            "observer (5th to 95th percentile): are the redshifts cz in km/s? "
            "Catalog.from_sky needs z = cz / c (c = 299792.458 km/s)"
        )


def check_catalogues(
    pos: Mapping[str, np.ndarray | None],
    boxsize: Any = None,
    angular: bool = False,
    random_rows: Mapping[str, int] | None = None,
) -> None:
    """Warns about catalogues that look wrong together.

    Parameters
    ----------
    pos : mapping of role to (3, N) positions
        "D1", "R1.0", "R1.1", ... (random splits), "D2", "R2.0", ...; None
        for a catalogue not given. Unit vectors for angular counts.
    boxsize : float, optional
        A periodic box: compare bounding boxes; otherwise distances from the
        observer and directions.
    angular : bool
        Directions only.
    random_rows : mapping of tracer ("1", "2") to rows, optional
        All the randoms' rows, when ``pos`` holds only their first split
        (randoms streamed from a file).
    """
    given = {k: v for k, v in pos.items() if v is not None}
    sampled = {k: _sample(v) for k, v in given.items()}
    if not angular:
        _stacked(sampled)
    for t in ("1", "2"):
        if "D" + t not in given:
            continue
        roles = sorted(k for k in given if k.startswith(f"R{t}"))
        if not roles:
            continue
        tracer = "" if t == "1" else "2"
        rows = None if random_rows is None else random_rows.get(t)
        _few_randoms(given["D" + t], [given[k] for k in roles], tracer, rows)
        r = np.concatenate([sampled[k] for k in roles], axis=1)
        _extents(sampled["D" + t], _sample(r), tracer, boxsize, angular)


#: Each galaxy-random count, its catalogues and the counts of random pairs
#: (also unclustered) that predict it.
_PREDICTED = {"DR": ("D1", "R1", ("RR",)), "D1R2": ("D1", "R2", ("R1D2", "R1R2")),
              "R1D2": ("R1", "D2", ("D1R2", "R1R2"))}  # fmt: skip


def _sums(v: Any) -> np.ndarray:
    """(N, sum w, sum w^2) of weight sums (``WeightSums`` or ``Norms``)."""
    total = getattr(v, "total", None)
    if total is not None:
        return np.asarray(total[:3], dtype=np.float64)
    return np.array([v.n, v.s1, v.s2], dtype=np.float64)


def check_counts(names: Sequence[str], tables: Sequence[Any], sums: Mapping[str, Any]) -> None:
    """Raises :class:`InputError` when no galaxy-random pair was counted
    where the other counts with randoms predict more than :data:`MIN_PAIRS`:
    the galaxies and the randoms do not overlap. Catalogues of fewer than
    :data:`MIN_OTHER` points are not judged.

    A count with one random catalogue is not clustered: its expected share
    of all pairs of its catalogues is the same for every such count of the
    same geometry. So DR is predicted from RR (and D1R2 from R1D2 or R1R2):
    predicted pairs = (RR / its weighted pairs) x N_D x N_R.

    Parameters
    ----------
    names, tables : the core's count names and count tables
    sums : mapping of role ("D1", "R1.0", ...) to weight sums
        ``WeightSums`` or ``Norms``; None for a catalogue not given.
    """
    cats = {k: _sums(v) for k, v in sums.items() if v is not None}
    splits = {
        g: [cats[k] for k in sorted(cats) if k.split(".")[0] == g] for g in ("D1", "D2", "R1", "R2")
    }
    total = {n: float(np.sum(t)) for n, t in zip(names, tables, strict=False)}
    r1, r2 = splits["R1"], splits["R2"]
    w = {g: sum(float(c[1]) for c in v) for g, v in splits.items()}
    norm = {
        "RR": sum(0.5 * (c[1] * c[1] - c[2]) for c in r1),
        "R1R2": sum(a[1] * b[1] for a, b in zip(r1, r2, strict=False)),
        "D1R2": w["D1"] * w["R2"],
        "R1D2": w["R1"] * w["D2"],
    }
    for count, (a, b, refs) in _PREDICTED.items():
        if not (splits[a] and splits[b]) or total.get(count, 1.0) != 0.0:
            continue
        na, nb = sum(c[0] for c in splits[a]), sum(c[0] for c in splits[b])
        if min(na, nb) < MIN_OTHER:
            continue  # a handful of points: placed anywhere on purpose (tests), or noise
        share = max((total.get(r, 0.0) / norm[r] for r in refs if norm[r] > 0), default=0.0)
        n = na * nb
        if share * n > MIN_PAIRS:
            x, y = (name(a), name(b)) if a[0] == "D" else (name(b), name(a))
            seen = ", ".join(f"{r} = {total.get(r, 0.0):.6g}" for r in refs)
            raise InputError(
                f"no {x}-{y} pair at all in the bins ({count} = 0), although the other "
                f"counts with randoms in the same bins ({seen}) predict about "
                f"{share * n:.3g}: the galaxies and the randoms do not overlap, so the "
                f"estimate means nothing. Put both in the same coordinates and units; {CAUSES}"
            )
