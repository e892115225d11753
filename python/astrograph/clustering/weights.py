"""Pair weights for survey two-point counts, in pycorr's conventions.

* **PIP weights** (Bianchi & Percival 2017): each galaxy carries bitwise
  weights, one bit per realisation of the fibre assignment (1: the galaxy
  got a fibre). The weight of a galaxy pair is
  ``nrealizations / (noffset + popcount(b_i & b_j))`` (``default_value``
  when the denominator is 0), times the individual weights; a galaxy paired
  with a random carries its IIP weight ``nrealizations / (noffset +
  popcount(b_i))`` instead. The counts are normalised by the expected sum of
  PIP weights over all pairs (pycorr's default "total" normalisation, eq. 21
  of Bianchi & Verde 2020, arXiv:1912.08803).
* **Angular upweights** (Percival & Bianchi 2017): a table of angles (degrees)
  and weights, interpolated linearly in cos(theta), 1 outside the table;
  applied to galaxy pairs and galaxy-random pairs.
* :func:`fkp_weights`: the FKP weights 1 / (1 + n(z) P0).

:func:`pip_spec` turns the user's arrays into what the core reads; the
normalisations come from per-catalogue weight sums (:class:`WeightSums`),
which add over points, so the jackknife takes region sums away from them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from ..errors import InputError

#: pycorr's ``weight_attrs`` keys and defaults (nrealizations defaults to the
#: number of bits plus one).
WEIGHT_ATTRS = {"nrealizations": None, "noffset": 1, "default_value": 0.0, "nalways": 0}
#: How the PIP galaxy-pair counts are normalised: the expected total
#: (pycorr's default "total"). pycorr's "counter" also rescales every pair
#: weight by a per-popcount correction; it is not offered here.
NORMALIZATIONS = ("total",)

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def pack_bitwise(bits: Any, n: int, what: str) -> tuple[np.ndarray, int]:
    """Bitwise weights as a C-contiguous (n, nwords) uint64 array, and the
    number of bits given (8 per input byte, as pycorr counts them).

    Accepts an (n,) or (n, k) integer array or a sequence of (n,) integer
    arrays (pycorr's list of bitwise arrays), any integer width; bits keep
    their order (the first array's least significant bit first), so the
    popcounts of ANDs are those of the input.
    """
    cols = list(bits) if isinstance(bits, (list, tuple)) else [bits]
    arrays: list[np.ndarray] = []
    for c in cols:
        a = np.asarray(c)
        if a.dtype.kind not in "iu":
            raise InputError(
                f"{what} bitwise weights must be integer arrays (e.g. uint64 or int32), got {a.dtype}"
            )
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] != n:
            raise InputError(
                f"{what} bitwise weights must have {n} rows (one per galaxy), got shape {a.shape}"
            )
        arrays.extend(a[:, k] for k in range(a.shape[1]))
    if not arrays:
        raise InputError(f"{what} bitwise weights are empty")
    # little-endian bytes of every column, end to end, padded to 8-byte words
    raw = np.concatenate(
        [np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).view(np.uint8).reshape(n, -1)
         for a in arrays],
        axis=1,
    )  # fmt: skip
    nbits = 8 * raw.shape[1]
    pad = (-raw.shape[1]) % 8
    if pad:
        raw = np.concatenate([raw, np.zeros((n, pad), np.uint8)], axis=1)
    return np.ascontiguousarray(raw).view("<u8").astype(np.uint64).reshape(n, -1), nbits


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each row of an (n, nwords) uint64 array."""
    b = np.ascontiguousarray(words).view(np.uint8).reshape(len(words), -1)
    return _POPCOUNT8[b].sum(axis=1)


def weight_attrs(attrs: Mapping[str, Any] | None, nbits: int) -> dict[str, Any]:
    """pycorr's ``weight_attrs`` with defaults filled in and checked."""
    out: dict[str, Any] = dict(WEIGHT_ATTRS)
    extra = set(attrs or {}) - set(WEIGHT_ATTRS) - {"normalization"}
    if extra:
        raise InputError(
            f"weight_attrs takes {sorted(WEIGHT_ATTRS) + ['normalization']}, got {sorted(extra)}"
        )
    out.update({k: v for k, v in (attrs or {}).items() if k != "normalization"})
    if out["nrealizations"] is None:
        out["nrealizations"] = nbits + 1
    for key in ("noffset", "nalways"):
        v = out[key]
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise InputError(f"weight_attrs[{key!r}] must be an integer >= 0, got {v!r}")
        out[key] = int(v)
    nreal = out["nrealizations"]
    if isinstance(nreal, bool) or int(nreal) != nreal or nreal < 1:
        raise InputError(f"weight_attrs['nrealizations'] must be a positive integer, got {nreal!r}")
    out["nrealizations"] = int(nreal)
    if not np.isfinite(float(out["default_value"])):
        raise InputError(
            f"weight_attrs['default_value'] must be finite, got {out['default_value']!r}"
        )
    out["default_value"] = float(out["default_value"])
    norm = (attrs or {}).get("normalization", "total") or "total"
    if norm not in NORMALIZATIONS:
        raise InputError(
            f"weight_attrs['normalization'] = {norm!r} is not supported: astrograph normalises "
            "PIP counts by the expected total ('total', pycorr's default); pycorr's 'counter' "
            "also rescales each pair weight, which is not implemented"
        )
    out["normalization"] = norm
    return out


def iip_weights(words: np.ndarray, attrs: Mapping[str, Any]) -> np.ndarray:
    """IIP weights nrealizations / (noffset + popcount(b)) (default_value at 0)."""
    denom = attrs["noffset"] + popcount(words)
    out = np.full(len(words), float(attrs["default_value"]))
    ok = denom != 0
    out[ok] = attrs["nrealizations"] / denom[ok]
    return out


@functools.lru_cache(maxsize=16)
def _joint(nreal: int, noffset: int, default_value: float) -> np.ndarray:
    """pycorr's ``joint_occurences``: the expected PIP weight of a pair of
    galaxies selected c1 and c2 times (rows from ``noffset``), eq. 21 of
    arXiv:1912.08803, as a full symmetric matrix."""
    size = nreal - noffset + 1
    out = np.zeros((size, size))
    for c1 in range(noffset, nreal + 1):
        for c2 in range(noffset, c1 + 1):
            total = 0.0
            for c12 in range(max(noffset, c1 + c2 - nreal), min(c1, c2) + 1):
                p = (
                    comb(c1 - noffset, c12 - noffset)
                    * comb(nreal - c1, c2 - c12)
                    / comb(nreal - noffset, c2 - noffset)
                )
                total += (default_value if c12 == 0 else nreal / c12) * p
            out[c1 - noffset, c2 - noffset] = out[c2 - noffset, c1 - noffset] = total
    return out


@dataclass(frozen=True)
class PipNorm:
    """What the PIP normalisation of galaxy pairs needs: the conventions and
    the joint-occurrence matrix over popcounts."""

    nrealizations: int
    noffset: int
    default_value: float
    nalways: int
    normalization: str
    nbits: int

    def matrix(self) -> np.ndarray:
        """J[c1, c2]: the expected PIP weight of galaxies with popcounts c1, c2."""
        j = _joint(self.nrealizations, self.noffset + self.nalways, self.default_value)
        size = self.nbits + 1
        out = np.zeros((size, size))
        lo = self.nalways
        hi = min(size, lo + len(j))
        out[lo:hi, lo:hi] = j[: hi - lo, : hi - lo]
        return out


@dataclass(frozen=True)
class PipSpec:
    """Bitwise weights of a count: the packed words of each galaxy catalogue
    and the conventions."""

    words: dict[str, np.ndarray]
    norm: PipNorm

    @property
    def nwords(self) -> int:
        return next(iter(self.words.values())).shape[1]

    def core(self) -> tuple[float, int, float, int]:
        """(nrealizations, noffset, default_value, nwords) for the core."""
        n = self.norm
        return (float(n.nrealizations), n.noffset, n.default_value, self.nwords)


def pip_spec(bitwise: Mapping[str, Any], sizes: Mapping[str, int], attrs: Any) -> PipSpec | None:
    """Packs the bitwise weights given per galaxy catalogue ("D1", "D2")."""
    given = {k: v for k, v in bitwise.items() if v is not None}
    if not given:
        if attrs:
            raise InputError("weight_attrs were given without bitwise weights")
        return None
    packed = {
        k: pack_bitwise(v, sizes[k], "data" if k == "D1" else "data2") for k, v in given.items()
    }
    widths = {nb for _, nb in packed.values()}
    if len(widths) > 1:
        raise InputError(
            "both tracers' bitwise weights must have the same number of bits, got "
            + " and ".join(f"{nb} ({k})" for k, (_, nb) in packed.items())
        )
    words = {k: w for k, (w, _) in packed.items()}
    nbits = widths.pop()
    a = weight_attrs(attrs, nbits)
    return PipSpec(
        words,
        PipNorm(
            a["nrealizations"],
            a["noffset"],
            a["default_value"],
            a["nalways"],
            a["normalization"],
            nbits,
        ),
    )


def angular_table(table: Any, what: str) -> tuple[list[float], list[float]]:
    """(cos theta ascending, weight) of a table of angles (degrees) and weights:
    a pair ``(sep, weight)``, a mapping with those keys, or an object with
    those attributes (pycorr's ``twopoint_weights``)."""
    try:
        if isinstance(table, Mapping):
            sep, weight = table["sep"], table["weight"]
        elif hasattr(table, "sep"):
            sep, weight = table.sep, table.weight
        else:
            sep, weight = table
    except (KeyError, TypeError, ValueError):
        raise InputError(
            f"{what} must be a pair (angles in degrees, weights), a mapping with keys "
            "'sep' and 'weight', or an object with those attributes"
        ) from None
    sep = np.asarray(sep, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    if sep.ndim != 1 or sep.shape != weight.shape or sep.size < 2:
        raise InputError(
            f"{what}: angles and weights must be 1-D of one length >= 2, got {sep.shape} and {weight.shape}"
        )
    if not (np.isfinite(sep).all() and np.isfinite(weight).all()):
        raise InputError(f"{what}: angles and weights must be finite")
    if (np.diff(sep) <= 0).any():
        raise InputError(f"{what}: angles must be strictly increasing (degrees)")
    if sep[0] < 0 or sep[-1] > 180:
        raise InputError(f"{what}: angles must lie in [0, 180] degrees, got {sep[0]}..{sep[-1]}")
    if (weight < 0).any():
        raise InputError(f"{what}: weights must be >= 0")
    cos = np.cos(np.radians(sep))
    order = np.argsort(cos)
    cos, weight = cos[order], weight[order]
    if (np.diff(cos) <= 0).any():
        raise InputError(f"{what}: angles too close to tell apart in cos(theta)")
    return cos.tolist(), weight.tolist()


def angular_tables(spec: Any, names: Sequence[str]) -> list[Any]:
    """Per count (in ``names`` order) its angular upweights or None: one table
    for every count but the random-random one, or a mapping by count name."""
    if spec is None:
        return []
    randoms = {"RR", "R1R2"}
    if isinstance(spec, Mapping) and not {"sep", "weight"} <= set(spec):
        unknown = set(spec) - set(names)
        if unknown:
            raise InputError(
                f"twopoint_weights are given by count name ({', '.join(names)}); got {sorted(unknown)}"
            )
        return [
            angular_table(spec[n], f"twopoint_weights[{n!r}]") if n in spec else None for n in names
        ]
    table = angular_table(spec, "twopoint_weights")
    return [None if n in randoms else table for n in names]


def fkp_weights(z: Any, nz: Any, P0: float, *, z_nz: Any = None) -> np.ndarray:
    """FKP weights 1 / (1 + n(z) P0) (Feldman, Kaiser & Peacock 1994).

    Parameters
    ----------
    z : array_like
        Redshifts of the objects.
    nz : array_like or callable
        The number density at each object (same length as ``z``); or, with
        ``z_nz``, a tabulated n(z) at the redshifts ``z_nz``, interpolated
        linearly; or a function of z. Units: (h/Mpc)^3 when P0 is in
        (Mpc/h)^3.
    P0 : float
        The power spectrum amplitude at the scales of interest (e.g. 1e4
        (Mpc/h)^3 for luminous red galaxies, 4e3 for emission-line galaxies).
    z_nz : array_like, optional
        Redshifts of a tabulated n(z), increasing.

    Examples
    --------
    >>> fkp_weights([0.5, 0.6], [2e-4, 1e-4], 1e4)
    array([0.33333333, 0.5       ])
    """
    zz = np.asarray(z, dtype=np.float64)
    if not np.isfinite(zz).all():
        raise InputError("fkp_weights: redshifts must be finite")
    if callable(nz):
        n = np.asarray(nz(zz), dtype=np.float64)
    elif z_nz is not None:
        zt, nt = np.asarray(z_nz, dtype=np.float64), np.asarray(nz, dtype=np.float64)
        if zt.ndim != 1 or zt.shape != nt.shape or (np.diff(zt) <= 0).any():
            raise InputError("fkp_weights: z_nz must be increasing and match nz in length")
        n = np.interp(zz, zt, nt)
    else:
        n = np.asarray(nz, dtype=np.float64)
    if n.shape != zz.shape:
        raise InputError(f"fkp_weights: n(z) has shape {n.shape}, redshifts {zz.shape}")
    if not (np.isfinite(n).all() and (n >= 0).all()):
        raise InputError("fkp_weights: n(z) must be finite and >= 0")
    if not (np.isfinite(P0) and P0 > 0):
        raise InputError(f"fkp_weights: P0 must be a positive number, got {P0!r}")
    return 1.0 / (1.0 + n * float(P0))


@dataclass
class WeightSums:
    """Weight sums of one catalogue over its points, in total and per
    region (sums add over points, so a region's share can be removed):
    count, sums of w^1..w^4, of the weights with randoms x (IIP) and x^2,
    and with bitwise weights the sums of w and w^2 by popcount.
    """

    total: np.ndarray
    regions: np.ndarray | None = None

    #: Fixed fields before the popcount histograms.
    N, S1, S2, S3, S4, X1, X2 = range(7)

    @classmethod
    def of(
        cls,
        w: np.ndarray | None,
        n: int,
        *,
        x: np.ndarray | None = None,
        counts: np.ndarray | None = None,
        nbits: int = 0,
        labels: np.ndarray | None = None,
        nregions: int = 0,
    ) -> WeightSums:
        """Sums of ``n`` points with weights ``w`` (None: 1), weights with
        randoms ``x`` (None: w), popcounts ``counts`` (histograms over
        0..nbits) and region ``labels``."""
        ww = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
        xx = ww if x is None else np.asarray(x, dtype=np.float64)
        cols = [np.ones(n), ww, ww**2, ww**3, ww**4, xx, xx**2]
        m = len(cols) + (2 * (nbits + 1) if counts is not None else 0)

        def sums(sel: np.ndarray | slice) -> np.ndarray:
            out = np.zeros(m)
            out[:7] = [c[sel].sum() for c in cols]
            if counts is not None:
                c = counts[sel]
                out[7 : 8 + nbits] = np.bincount(c, weights=ww[sel], minlength=nbits + 1)
                out[8 + nbits :] = np.bincount(c, weights=ww[sel] ** 2, minlength=nbits + 1)
            return out

        total = sums(slice(None))
        regions = None
        if labels is not None and w is None and x is None and counts is None:
            # every weight 1: each sum is the region's point count, exactly
            per = np.bincount(labels, minlength=nregions).astype(np.float64)
            return cls(total, np.repeat(per[:, None], m, axis=1))
        if labels is not None:
            regions = np.zeros((nregions, m))
            order = np.argsort(labels, kind="stable")
            bounds = np.searchsorted(labels[order], np.arange(nregions + 1))
            for r in range(nregions):
                regions[r] = sums(order[bounds[r] : bounds[r + 1]])
        return cls(total, regions)

    @staticmethod
    def hist(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The popcount histograms (of w, of w^2) of a sums vector."""
        h = v[7:]
        half = len(h) // 2
        return h[:half], h[half:]


def pairs_norm(v: np.ndarray) -> float:
    """Weighted unordered pairs of one catalogue, (S1^2 - S2) / 2."""
    return 0.5 * (v[WeightSums.S1] ** 2 - v[WeightSums.S2])


def pip_pairs_norm(v1: np.ndarray, v2: np.ndarray | None, pip: PipNorm) -> float:
    """PIP-weighted pairs over all galaxy pairs: unordered pairs of one
    catalogue (``v2`` None) or all pairs between two; pycorr's "total": the
    expected PIP weight of each pair from the popcounts (eqs. 21-22 of
    arXiv:1912.08803), summed over all pairs."""
    j = pip.matrix()
    h1, q1 = WeightSums.hist(v1)
    if v2 is None:
        return 0.5 * float(h1 @ j @ h1 - np.diag(j) @ q1)
    h2, _ = WeightSums.hist(v2)
    return float(h1 @ j @ h2)
