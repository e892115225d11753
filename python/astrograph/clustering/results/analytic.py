"""Expected counts of unclustered points in a periodic box (no randoms needed)."""

from __future__ import annotations

import numpy as np

from ..bins import Bins


def sorted_mask(nb: int) -> np.ndarray:
    b1, b2, b3 = np.indices((nb, nb, nb))
    return (b1 <= b2) & (b2 <= b3)


def _labelled_integral(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> float:
    """int_a dr1 int_b dr2 int_c dr3 r1 r2 r3 over closed triangles, exactly.

    The r3 integral is analytic; the rest is piecewise polynomial in r2 and
    r1 with breakpoints where r1 +- r2 meets an edge of c, so Gauss-Legendre
    on each piece integrates it to rounding error.
    """
    x, w = np.polynomial.legendre.leggauss(6)

    def pieces(lo: float, hi: float, cuts: list[float]) -> tuple[np.ndarray, np.ndarray]:
        pts = np.unique(np.clip([lo, hi, *cuts], lo, hi))
        a0, a1 = pts[:-1, None], pts[1:, None]
        return (0.5 * (a1 - a0) * x + 0.5 * (a1 + a0)).ravel(), (0.5 * (a1 - a0) * w).ravel()

    r1, w1 = pieces(*a, [bb + cc for bb in b for cc in c] + [abs(bb - cc) for bb in b for cc in c])
    total = 0.0
    for ri, wi in zip(r1, w1, strict=False):
        r2, w2 = pieces(*b, [ri + cc for cc in c] + [ri - cc for cc in c] + [cc - ri for cc in c])
        lo = np.maximum(c[0], np.abs(ri - r2))
        hi = np.minimum(c[1], ri + r2)
        inner = np.where(hi > lo, 0.5 * (hi * hi - lo * lo), 0.0)
        total += wi * ri * float((w2 * r2 * inner).sum())
    return total


def triangle_probability(bins: Bins, box: float) -> np.ndarray:
    """Probability that three uniform points in a periodic box form a triangle
    whose sorted side bins are (b1, b2, b3), shape (nbins,)*3 (sorted entries only).

    For labelled vertices the side lengths (r12, r13, r23) have density
    8 pi^2 r12 r13 r23 / V^2 on the triangle-inequality region (valid while
    the sides are below box/2); the unordered probability sums the distinct
    assignments of the sorted bins to the three labelled sides.
    """
    e = bins.edges
    nb = bins.nbins
    edge = [(e[i], e[i + 1]) for i in range(nb)]
    labelled: dict[tuple[int, int, int], float] = {}
    out = np.zeros((nb, nb, nb))
    for b1, b2, b3 in zip(*np.nonzero(sorted_mask(nb)), strict=False):
        for p in {
            (b1, b2, b3),
            (b1, b3, b2),
            (b2, b1, b3),
            (b2, b3, b1),
            (b3, b1, b2),
            (b3, b2, b1),
        }:
            if p not in labelled:
                labelled[p] = _labelled_integral(edge[p[0]], edge[p[1]], edge[p[2]])
            out[b1, b2, b3] += labelled[p]
    return out * 8.0 * np.pi**2 / box**6
