"""Expected counts of unclustered points in a periodic box (no randoms needed).

Pairs: for separations below boxsize/2 the minimum-image separation vector of
two uniform points is uniform in the ball of that radius, so RR is the shell
volume over the box volume, and mu is uniform in [0, 1] — exact for every
rmax < boxsize/2 (which the core enforces).

Triangles: the side lengths (r12, r13, r23) of three labelled uniform points
have density 8 pi^2 r12 r13 r23 / V^2 on the triangle-inequality region
while r23 is the Euclidean distance |d13 - d12|. That holds when no component
of d13 - d12 can exceed boxsize/2, which is guaranteed while every counted
side is at most boxsize/4 (|d13 - d12| components <= r12 + r13). Above that
the minimum image changes r23 and the formula is wrong, so the analytic RRR
is refused there (:class:`~astrograph.errors.BoxError`): pass randoms.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...errors import BoxError
from ..bins import Bins

#: Gauss-Legendre nodes per polynomial piece: exact for the degree-6 pieces below.
_X, _W = np.polynomial.legendre.leggauss(5)


def sorted_mask(nb: int) -> np.ndarray:
    b1, b2, b3 = np.indices((nb, nb, nb))
    return (b1 <= b2) & (b2 <= b3)


def _inner(r1: np.ndarray, b0: np.ndarray, b1: np.ndarray, c: np.ndarray) -> np.ndarray:
    """int_{b0}^{b1} dr2 r2 int_{|r1-r2|}^{min(c, r1+r2)} r3 dr3, in closed form.

    The r3 integral is r2 * 2 r1 r2 while r1 + r2 <= c (piece A) and
    r2 * (c^2 - (r1 - r2)^2) / 2 while r1 + r2 > c > |r1 - r2| (piece B).
    """

    def prim_a(x: np.ndarray) -> np.ndarray:
        return 2.0 / 3.0 * r1 * x**3

    def prim_b(x: np.ndarray) -> np.ndarray:
        return 0.5 * (c * c * x * x / 2 - (r1 * r1 * x * x / 2 - 2 * r1 * x**3 / 3 + x**4 / 4))

    def span(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.maximum(lo, b0), np.minimum(hi, b1)
        return lo, np.maximum(hi, lo)

    lo, hi = span(np.zeros_like(r1), c - r1)
    a = prim_a(hi) - prim_a(lo)
    lo, hi = span(np.maximum(c - r1, r1 - c), r1 + c)
    return a + prim_b(hi) - prim_b(lo)


def _g(a0, a1, b0, b1, c) -> np.ndarray:
    """int_{a0}^{a1} dr1 r1 int_{b0}^{b1} dr2 r2 int_{|r1-r2|}^{min(c, r1+r2)} r3 dr3.

    The r2 integral is piecewise polynomial in r1, with breakpoints where
    c - r1, r1 - c or r1 + c meets b0 or b1 (or r1 = c); Gauss-Legendre on
    each piece integrates it to rounding error.
    """
    cuts = np.stack([a0, a1, c - b0, c - b1, b0 + c, b1 + c, b0 - c, b1 - c, c], axis=1)
    pts = np.sort(np.clip(cuts, a0[:, None], a1[:, None]), axis=1)
    lo, hi = pts[:, :-1, None], pts[:, 1:, None]
    r1 = 0.5 * (hi - lo) * _X + 0.5 * (hi + lo)  # (combos, pieces, nodes)
    w = 0.5 * (hi - lo) * _W
    b0, b1, c = (np.broadcast_to(v[:, None, None], r1.shape) for v in (b0, b1, c))
    return (w * r1 * _inner(r1, b0, b1, c)).sum(axis=(1, 2))


def _cumulative(e: np.ndarray) -> np.ndarray:
    """G[i, j, m]: :func:`_g` for r1 in bin i, r2 in bin j, c = e[m].

    G is symmetric in (i, j); it is 0 while c is below the smallest |r1 - r2|
    of the two bins and constant once c passes the largest r1 + r2, so only
    i <= j and the edges in between are integrated (in chunks, to bound
    memory); the zero and constant parts are exact, so configurations that
    cannot close get exactly zero.
    """
    nb = len(e) - 1
    i, j = np.triu_indices(nb)
    lower = np.maximum(0.0, np.maximum(e[i] - e[j + 1], e[j] - e[i + 1]))
    upper = e[i + 1] + e[j + 1]
    g = np.zeros((nb, nb, nb + 1))
    # the constant part: c = r1 + r2 at its largest
    full = np.concatenate(
        [_g(e[i[s]], e[i[s] + 1], e[j[s]], e[j[s] + 1], upper[s]) for s in _chunks(len(i))]
    )
    band = (e[None, :] > lower[:, None]) & (e[None, :] < upper[:, None])
    g[i, j] = np.where(e[None, :] >= upper[:, None], full[:, None], 0.0)
    p, m = np.nonzero(band)
    vals = np.concatenate(
        [
            _g(e[i[p[s]]], e[i[p[s]] + 1], e[j[p[s]]], e[j[p[s]] + 1], e[m[s]])
            for s in _chunks(len(p))
        ]
    )
    g[i[p], j[p], m] = vals
    g[j, i] = g[i, j]
    return g


def _chunks(n: int, size: int = 50_000) -> list[slice]:
    return [slice(k, min(k + size, n)) for k in range(0, max(n, 1), size)]


@lru_cache(maxsize=32)
def _probability(edges: bytes, boxsize: float) -> np.ndarray:
    e = np.frombuffer(edges, dtype=np.float64)
    nb = len(e) - 1
    g = _cumulative(e)
    labelled = g[:, :, 1:] - g[:, :, :-1]  # symmetric in its three indices
    b1, b2, b3 = np.indices((nb, nb, nb))
    distinct = np.where(b1 == b3, 1, np.where((b1 == b2) | (b2 == b3), 3, 6))
    out = np.where(sorted_mask(nb), distinct * labelled, 0.0) * 8.0 * np.pi**2 / boxsize**6
    out.flags.writeable = False
    return out


def triangle_probability(bins: Bins, boxsize: float) -> np.ndarray:
    """Probability that three uniform points in a periodic box form a triangle
    whose sorted side bins are (b1, b2, b3), shape (nbins,)*3 (sorted entries only).

    Exact (to rounding) while ``bins.rmax <= boxsize / 4``; refused above.
    Cached per (bins, boxsize).
    """
    if bins.rmax > boxsize / 4:
        raise BoxError(
            f"the analytic RRR of a periodic box is exact only while every side is at most "
            f"boxsize/4 = {boxsize / 4:g} (the third side's minimum image changes above it), "
            f"but the bins reach {bins.rmax:g}: pass randoms to count_triangles, or use "
            f"bins up to boxsize/4"
        )
    return _probability(bins.edges.tobytes(), float(boxsize)).copy()
