"""Brute-force numpy references for the two-point engine (count_pairs,
count_pairs_rppi, count_angular), written from the documented conventions.

Every oriented pair a -> b of two point sets is binned on its own
(:func:`oriented_bins`, an (na, nb) array of flat bin indices, -1 outside):

* separation s = p_b - p_a (minimum image in a box), d = |s|; separation
  bins edges[k] <= d < edges[k+1];
* mu = s.l / (|s| |l|) with l = p_a + p_b (midpoint), p_a (firstpoint),
  p_b (endpoint) or a unit axis, computed from its square: sqrt((s.l)^2 /
  (|l|^2 d^2)) at most 1 with the sign of s.l; 0 for d = 0 (or l = 0); unsigned bins
  min(floor(|mu| n), n - 1), signed min(floor((mu + 1) n / 2), n - 1);
* (rp, pi): along an axis pi = s_axis, rp^2 = the other two squares;
  otherwise pi = s.l / |l|, rp^2 = max(d^2 - pi^2, 0); unsigned |pi| < pimax
  in bin min(floor(|pi| npi / pimax), npi - 1), signed -pimax <= pi < pimax in
  min(floor((pi + pimax) npi / (2 pimax)), npi - 1);
* theta (degrees) between unit vectors, 2 atan2(|u - v|, |u + v|).

An unordered pair of one catalogue (auto-correlations) counts once with its
weight when both orientations fall in one bin, else each orientation with
half its weight; pairs between two tracers count once, oriented 1 -> 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np


@dataclass(frozen=True)
class Spec:
    """A binning: "smu" (edges, nmu, signed), "rppi" (rp edges, npi, signed,
    pimax) or "theta" (edges in degrees)."""

    kind: str
    edges: tuple
    n2: int = 1
    signed: bool = False
    pimax: float = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.edges) - 1, self.n2)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]


def smu(edges, nmu=1, signed=False) -> Spec:
    return Spec("smu", tuple(float(e) for e in edges), int(nmu), bool(signed))


def rppi(edges, pimax, npi, signed=False) -> Spec:
    return Spec("rppi", tuple(float(e) for e in edges), int(npi), bool(signed), float(pimax))


def theta(edges) -> Spec:
    return Spec("theta", tuple(float(e) for e in edges))


AXES = {"x": 0, "y": 1, "z": 2}


def unit_vectors(radec) -> np.ndarray:
    """(N, 3) unit vectors of (RA, Dec) in degrees."""
    a = np.asarray(radec, dtype=np.float64)
    ra, dec = np.deg2rad(a[:, 0]), np.deg2rad(a[:, 1])
    return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def radec(vectors) -> np.ndarray:
    """(RA, Dec) in degrees of (N, 3) vectors."""
    v = np.asarray(vectors, dtype=np.float64)
    r = np.linalg.norm(v, axis=1)
    ra = np.rad2deg(np.arctan2(v[:, 1], v[:, 0])) % 360.0
    dec = np.rad2deg(np.arcsin(np.clip(v[:, 2] / r, -1.0, 1.0)))
    return np.column_stack([ra, dec])


def angle_deg(u, v) -> np.ndarray:
    """Angle between (..., 3) vectors, robust at every scale."""
    un = u / np.linalg.norm(u, axis=-1, keepdims=True)
    vn = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return np.rad2deg(
        2.0 * np.arctan2(np.linalg.norm(un - vn, axis=-1), np.linalg.norm(un + vn, axis=-1))
    )


def edge_bin(x, edges) -> np.ndarray:
    """edges[k] <= x < edges[k+1] -> k, else -1."""
    e = np.asarray(edges, dtype=np.float64)
    k = np.searchsorted(e, x, side="right") - 1
    return np.where((x >= e[0]) & (x < e[-1]), k, -1)


def _separations(P, Q, box):
    s = Q[None, :, :] - P[:, None, :]
    if box is not None:
        half = 0.5 * box
        s = np.where(s > half, s - box, np.where(s < -half, s + box, s))
    d2 = s[..., 0] * s[..., 0] + s[..., 1] * s[..., 1] + s[..., 2] * s[..., 2]
    return s, d2


def _los(P, Q, los):
    p = np.broadcast_to(P[:, None, :], (len(P), len(Q), 3))
    q = np.broadcast_to(Q[None, :, :], (len(P), len(Q), 3))
    if los == "midpoint":
        return p + q
    if los == "firstpoint":
        return p
    if los == "endpoint":
        return q
    raise ValueError(los)


def oriented_bins(P, Q, spec: Spec, box=None, los="midpoint") -> np.ndarray:
    """Flat bin of every oriented pair P[a] -> Q[b], shape (len(P), len(Q)); -1 outside."""
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    if spec.kind == "theta":
        k = edge_bin(angle_deg(P[:, None, :], Q[None, :, :]), spec.edges)
        return k
    s, d2 = _separations(P, Q, box)
    d = np.sqrt(d2)
    n = spec.n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if los in AXES:
            dot = s[..., AXES[los]]
            ll = np.ones_like(d)
        else:
            l = _los(P, Q, los)  # noqa: E741
            ll = l[..., 0] * l[..., 0] + l[..., 1] * l[..., 1] + l[..., 2] * l[..., 2]
            dot = s[..., 0] * l[..., 0] + s[..., 1] * l[..., 1] + s[..., 2] * l[..., 2]
        ln = np.sqrt(ll)
        if spec.kind == "smu":
            den = ll * d2
            mu = np.copysign(np.minimum(np.sqrt(dot * dot / den), 1.0), dot)
            mu = np.where(den == 0, 0.0, mu)
            if spec.signed:
                t = (mu + 1.0) * (0.5 * n)
            else:
                t = np.abs(mu) * n
            mb = np.minimum(np.floor(t).astype(np.int64), n - 1)
            sb = edge_bin(d, spec.edges)
            return np.where(sb >= 0, sb * n + mb, -1)
        pi = np.where(ln == 0, 0.0, dot / ln)
    # (rp, pi)
    if los in AXES:
        u, v = sorted({0, 1, 2} - {AXES[los]})
        rp2 = s[..., u] * s[..., u] + s[..., v] * s[..., v]
    else:
        rp2 = np.maximum(d2 - pi * pi, 0.0)
    pimax = spec.pimax
    if spec.signed:
        ok = (pi >= -pimax) & (pi < pimax)
        t = (pi + pimax) * n / (2.0 * pimax)
    else:
        ok = np.abs(pi) < pimax
        t = np.abs(pi) * n / pimax
    k = np.minimum(np.floor(np.where(ok, t, 0.0)).astype(np.int64), n - 1)
    rb = edge_bin(np.sqrt(rp2), spec.edges)
    return np.where(ok & (rb >= 0), rb * n + k, -1)


def table(P, Q, W, spec: Spec, *, box=None, los="midpoint", kind="cross") -> np.ndarray:
    """Weighted counts (spec.shape) of the pairs of P and Q with pair weights W
    (len(P), len(Q)). kind: "cross" (every oriented pair P -> Q once),
    "between" (unordered pairs of a point of P and one of Q, both of one
    catalogue) or "within" (P is Q: unordered pairs i < j)."""
    out = np.zeros(spec.size)
    if len(P) == 0 or len(Q) == 0:
        return out.reshape(spec.shape)
    W = np.asarray(W, dtype=np.float64)
    b1 = oriented_bins(P, Q, spec, box, los)
    if kind == "cross":
        ok = b1 >= 0
        np.add.at(out, b1[ok], W[ok])
        return out.reshape(spec.shape)
    b2 = oriented_bins(Q, P, spec, box, los).T  # the orientation Q[b] -> P[a]
    keep = np.ones(b1.shape, dtype=bool)
    if kind == "within":
        keep = np.triu(keep, k=1)
    same = keep & (b1 == b2) & (b1 >= 0)
    np.add.at(out, b1[same], W[same])
    split = keep & (b1 != b2)
    h1 = split & (b1 >= 0)
    h2 = split & (b2 >= 0)
    np.add.at(out, b1[h1], 0.5 * W[h1])
    np.add.at(out, b2[h2], 0.5 * W[h2])
    return out.reshape(spec.shape)


# -- weights ------------------------------------------------------------------


def bit_columns(bits, n) -> list[np.ndarray]:
    """Bitwise weights (an (n,) or (n, k) integer array or a list of them) as
    a list of unsigned columns."""
    cols = list(bits) if isinstance(bits, (list, tuple)) else [bits]
    out = []
    for c in cols:
        a = np.asarray(c)
        if a.ndim == 1:
            a = a[:, None]
        assert a.shape[0] == n
        for k in range(a.shape[1]):
            col = np.ascontiguousarray(a[:, k])
            out.append(col.view(np.dtype(f"u{col.dtype.itemsize}")))
    return out


def nbits(cols) -> int:
    return sum(8 * c.dtype.itemsize for c in cols)


def popcount(cols) -> np.ndarray:
    return sum(np.bitwise_count(c).astype(np.int64) for c in cols)


def and_popcount(a_cols, b_cols) -> np.ndarray:
    """popcount(b_i & b_j) of every pair, (na, nb)."""
    return sum(
        np.bitwise_count(a[:, None] & b[None, :]).astype(np.int64)
        for a, b in zip(a_cols, b_cols, strict=True)
    )


@dataclass(frozen=True)
class PipAttrs:
    nrealizations: int
    noffset: int = 1
    default_value: float = 0.0
    nalways: int = 0

    def inverse(self, c) -> np.ndarray:
        """nrealizations / (noffset + c), default_value where that is 0."""
        den = self.noffset + np.asarray(c, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.where(den == 0, self.default_value, self.nrealizations / den)


def pip_attrs(cols, attrs=None) -> PipAttrs:
    a = dict(attrs or {})
    a.pop("normalization", None)
    nreal = a.pop("nrealizations", None) or nbits(cols) + 1
    return PipAttrs(int(nreal), **a)


def upweight(P, Q, sep_weight) -> np.ndarray:
    """Angular upweights of every pair (len(P), len(Q)): the table converted
    to cos(theta), sorted ascending, interpolated linearly strictly above its
    first node and up to its last, 1 elsewhere."""
    sep, weight = (np.asarray(x, dtype=np.float64) for x in sep_weight)
    c = np.cos(np.deg2rad(sep))
    order = np.argsort(c)
    c, weight = c[order], weight[order]
    P = np.asarray(P, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    p, q = P[:, None, :], Q[None, :, :]
    dot = p[..., 0] * q[..., 0] + p[..., 1] * q[..., 1] + p[..., 2] * q[..., 2]
    pn = np.sqrt(P[:, 0] * P[:, 0] + P[:, 1] * P[:, 1] + P[:, 2] * P[:, 2])
    qn = np.sqrt(Q[:, 0] * Q[:, 0] + Q[:, 1] * Q[:, 1] + Q[:, 2] * Q[:, 2])
    cos = np.minimum(dot / (pn[:, None] * qn[None, :]), 1.0)
    equal = (P[:, None, :] == Q[None, :, :]).all(axis=-1)
    cos = np.where(equal, 1.0, cos)
    inside = (cos > c[0]) & (cos <= c[-1])
    return np.where(inside, np.interp(cos, c, weight), 1.0)


# -- the counts -----------------------------------------------------------------


@dataclass
class Cat:
    """One catalogue: positions, individual weights, bitwise columns and kind."""

    pos: np.ndarray
    w: np.ndarray
    bits: list | None = None
    random: bool = False

    @classmethod
    def of(cls, pos, w=None, bits=None, random=False) -> Cat:
        pos = np.asarray(pos, dtype=np.float64)
        n = len(pos)
        w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
        return cls(pos, w, None if bits is None else bit_columns(bits, n), random)


def _splits(r, rw):
    if r is None:
        return []
    if isinstance(r, (list, tuple)):
        rw = [None] * len(r) if rw is None else list(rw)
        return [Cat.of(x, w, random=True) for x, w in zip(r, rw, strict=True)]
    return [Cat.of(r, rw, random=True)]


def pair_weights(a: Cat, b: Cat, pip: PipAttrs | None, tables: dict, name: str) -> np.ndarray:
    """The weight of every pair of a and b counted into count ``name``."""
    if pip is not None and not a.random and not b.random:
        w = pip.inverse(and_popcount(a.bits, b.bits)) * np.outer(a.w, b.w)
    else:
        xa = a.w if (a.random or pip is None) else pip.inverse(popcount(a.bits)) * a.w
        xb = b.w if (b.random or pip is None) else pip.inverse(popcount(b.bits)) * b.w
        w = np.outer(xa, xb)
    t = tables.get(name)
    if t is not None:
        w = w * upweight(a.pos, b.pos, t)
    return w


def angular_tables(twopoint_weights, names) -> dict:
    if twopoint_weights is None:
        return {}
    if isinstance(twopoint_weights, dict):
        return dict(twopoint_weights)
    return {n: twopoint_weights for n in names if n not in ("RR", "R1R2")}


def counts(
    spec: Spec,
    data,
    randoms=None,
    data2=None,
    randoms2=None,
    *,
    dw=None,
    rw=None,
    d2w=None,
    r2w=None,
    bits1=None,
    bits2=None,
    attrs=None,
    twopoint_weights=None,
    box=None,
    los="midpoint",
) -> dict[str, np.ndarray]:
    """Every count (by name) of one tracer or two, brute force. Positions are
    (N, 3) (unit vectors for "theta"); ``randoms`` / ``randoms2`` may be
    lists (random splits) with lists of weights."""
    d1 = Cat.of(data, dw, bits1)
    r1 = _splits(randoms, rw)
    pip = None if bits1 is None else pip_attrs(d1.bits, attrs)
    kw = dict(box=box, los=los)
    if data2 is None:
        names = ("DD", "DR", "RR")
        tab = angular_tables(twopoint_weights, names)
        out = {
            "DD": table(
                d1.pos, d1.pos, pair_weights(d1, d1, pip, tab, "DD"), spec, kind="within", **kw
            )
        }
        if r1:
            out["DR"] = sum(
                table(
                    d1.pos, r.pos, pair_weights(d1, r, pip, tab, "DR"), spec, kind="between", **kw
                )
                for r in r1
            )
            out["RR"] = sum(
                table(r.pos, r.pos, pair_weights(r, r, pip, tab, "RR"), spec, kind="within", **kw)
                for r in r1
            )
        return out
    d2 = Cat.of(data2, d2w, bits2)
    r2 = _splits(randoms2, r2w)
    tab = angular_tables(twopoint_weights, ("D1D2", "D1R2", "R1D2", "R1R2"))

    def cross(a, b, name):
        return table(a.pos, b.pos, pair_weights(a, b, pip, tab, name), spec, kind="cross", **kw)

    out = {"D1D2": cross(d1, d2, "D1D2")}
    if r2:
        out["D1R2"] = sum(cross(d1, r, "D1R2") for r in r2)
    if r1:
        out["R1D2"] = sum(cross(r, d2, "R1D2") for r in r1)
    if r1 and r2:
        out["R1R2"] = sum(cross(a, b, "R1R2") for a, b in zip(r1, r2, strict=True))
    return out


# -- normalisations -------------------------------------------------------------


@cache
def expected_pip(nreal: int, n0: int, default_value: float, c1: int, c2: int) -> float:
    """pycorr's joint occurrence (eq. 21 of arXiv:1912.08803): the expected
    PIP weight of two galaxies selected c1 and c2 times among ``nreal``
    realisations, the first ``n0`` shared by both: the sum over their joint
    selections c12 of f(c12) times the hypergeometric probability
    C(c1 - n0, c12 - n0) C(nreal - c1, c2 - c12) / C(nreal - n0, c2 - n0),
    with f(c12) = nreal / c12 (default_value at 0)."""
    total = 0.0
    for c12 in range(max(n0, c1 + c2 - nreal), min(c1, c2) + 1):
        p = comb(c1 - n0, c12 - n0) * comb(nreal - c1, c2 - c12) / comb(nreal - n0, c2 - n0)
        f = default_value if c12 == 0 else nreal / c12
        total += f * p
    return total


def pip_total_norm(a: Cat, b: Cat | None, pip: PipAttrs) -> float:
    """Expected PIP weight summed over all galaxy pairs (unordered within a
    when b is None), pair by pair: w_i w_j J(c_i + noffset, c_j + noffset)
    with the first noffset + nalways realisations shared."""
    n0 = pip.noffset + pip.nalways
    ca = popcount(a.bits) + pip.noffset
    other = a if b is None else b
    cb = popcount(other.bits) + pip.noffset
    total = 0.0
    for i in range(len(ca)):
        js = range(i + 1, len(cb)) if b is None else range(len(cb))
        for j in js:
            total += (
                a.w[i]
                * other.w[j]
                * expected_pip(pip.nrealizations, n0, pip.default_value, int(ca[i]), int(cb[j]))
            )
    return total


def norms(
    data,
    randoms=None,
    data2=None,
    randoms2=None,
    *,
    dw=None,
    rw=None,
    d2w=None,
    r2w=None,
    bits1=None,
    bits2=None,
    attrs=None,
) -> dict[str, float]:
    """The normalisation of every count, pair by pair where it matters."""
    d1 = Cat.of(data, dw, bits1)
    r1 = _splits(randoms, rw)
    pip = None if bits1 is None else pip_attrs(d1.bits, attrs)
    mode = (attrs or {}).get("normalization", "total")

    def x(c: Cat) -> np.ndarray:  # weights in pairs with a random
        return c.w if pip is None else pip.inverse(popcount(c.bits)) * c.w

    def galaxy_pairs(a: Cat, b: Cat | None) -> float:
        if pip is None:
            if b is None:
                return float(np.triu(np.outer(a.w, a.w), 1).sum())
            return float(a.w.sum() * b.w.sum())
        if mode == "counter":
            if b is None:
                return float(np.triu(np.outer(x(a), x(a)), 1).sum())
            return float(x(a).sum() * x(b).sum())
        return pip_total_norm(a, b, pip)

    def within(r: Cat) -> float:
        return float(np.triu(np.outer(r.w, r.w), 1).sum())

    if data2 is None:
        out = {"DD": galaxy_pairs(d1, None)}
        if r1:
            out["DR"] = float(x(d1).sum() * sum(r.w.sum() for r in r1))
            out["RR"] = sum(within(r) for r in r1)
        return out
    d2 = Cat.of(data2, d2w, bits2)
    r2 = _splits(randoms2, r2w)
    out = {"D1D2": galaxy_pairs(d1, d2)}
    if r2:
        out["D1R2"] = float(x(d1).sum() * sum(r.w.sum() for r in r2))
    if r1:
        out["R1D2"] = float(sum(r.w.sum() for r in r1) * x(d2).sum())
    if r1 and r2:
        out["R1R2"] = float(sum(a.w.sum() * b.w.sum() for a, b in zip(r1, r2, strict=True)))
    return out


# -- inputs -------------------------------------------------------------------


def survey(rng, n, size=20.0, centre=(60.0, 40.0, 30.0), clustered=False) -> np.ndarray:
    """(n, 3) points in a cube of side ``size`` around ``centre`` (away from
    the observer at the origin): uniform, or in a few tight clumps; with a
    fifth on the integer lattice and a tenth duplicated."""
    c = np.asarray(centre, dtype=np.float64)
    if clustered:
        centres = c + rng.uniform(-0.3 * size, 0.3 * size, (4, 3))
        pts = centres[rng.integers(0, 4, n)] + rng.normal(0, 1.0, (n, 3))
    else:
        pts = c + rng.uniform(-0.5 * size, 0.5 * size, (n, 3))
    k = n // 5
    pts[:k] = np.round(pts[:k])
    pts[k : k + n // 10] = pts[: n // 10]
    return pts


def lattice(rng, n, size) -> np.ndarray:
    """n integer-lattice points in [0, size)^3 with duplicates: separations
    land exactly on integer bin edges, and pairs at d = 0."""
    pts = rng.integers(0, int(size), (n, 3)).astype(np.float64)
    pts[n // 2 : n // 2 + n // 8] = pts[: n // 8]
    return pts


def sky(rng, n, ra=(10.0, 40.0), dec=(-15.0, 15.0)) -> np.ndarray:
    """(n, 2) RA/Dec in degrees, uniform on a patch, a tenth duplicated."""
    u = rng.uniform(np.sin(np.deg2rad(dec[0])), np.sin(np.deg2rad(dec[1])), n)
    out = np.column_stack([rng.uniform(*ra, n), np.rad2deg(np.arcsin(u))])
    out[n // 2 : n // 2 + n // 10] = out[: n // 10]
    return out


def bitwise(rng, n, nbytes, p=0.5, dtype=np.uint8) -> np.ndarray:
    """(n, k) random bitwise weights of ``dtype`` with ``nbytes`` bytes per
    galaxy, each bit set with probability p."""
    size = np.dtype(dtype).itemsize
    assert nbytes % size == 0
    bits = (rng.random((n, 8 * nbytes)) < p).astype(np.uint8)
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view(np.dtype(dtype).newbyteorder("<")).astype(dtype)
