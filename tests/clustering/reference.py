"""Brute-force references in plain numpy, spelling out the core's formulas.

Separations are s = p_j - p_i (minimum image in a box), d = sqrt(sx*sx +
sy*sy + sz*sz); a pair is in bin b when edges[b] <= d < edges[b+1]; mu is
|s.m| / (d |m|) with m the midpoint (or |sz| / d for los='z'), 0 at d = 0,
in bin min(floor(mu * nmu), nmu - 1). Same operations, same order: the
counts must agree exactly.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

QUAD_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def merged(data, randoms=None, dw=None, rw=None):
    p = [np.asarray(data, float)]
    w = [np.ones(len(data)) if dw is None else np.asarray(dw, float)]
    t = [np.zeros(len(data), int)]
    if randoms is not None:
        p.append(np.asarray(randoms, float))
        w.append(np.ones(len(randoms)) if rw is None else np.asarray(rw, float))
        t.append(np.ones(len(randoms), int))
    return np.vstack(p), np.concatenate(w), np.concatenate(t)


def separation(p, q, box=None):
    s = q - p
    if box is not None:
        half = 0.5 * box
        s = np.where(s > half, s - box, np.where(s < -half, s + box, s))
    d = np.sqrt(s[..., 0] * s[..., 0] + s[..., 1] * s[..., 1] + s[..., 2] * s[..., 2])
    return s, d


def mu_of(p, q, s, d, los):
    """|mu| from its square, (s.l)^2 / (|l|^2 d^2), as the core computes it."""
    d2 = s[..., 0] * s[..., 0] + s[..., 1] * s[..., 1] + s[..., 2] * s[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        if los == "z":
            num, den = s[..., 2] * s[..., 2], d2
        else:
            m = p + q
            ll = m[..., 0] * m[..., 0] + m[..., 1] * m[..., 1] + m[..., 2] * m[..., 2]
            dot = s[..., 0] * m[..., 0] + s[..., 1] * m[..., 1] + s[..., 2] * m[..., 2]
            num, den = dot * dot, ll * d2
        mu = np.minimum(np.sqrt(num / den), 1.0)
    return np.where(den == 0, 0.0, mu)


def bin_of(d, edges):
    b = np.searchsorted(edges, d, side="right") - 1
    return np.where((d >= edges[0]) & (d < edges[-1]), b, -1)


def pairs(data, randoms=None, *, edges, nmu=1, box=None, los="midpoint", dw=None, rw=None):
    """(3, nbins, nmu): DD, DR, RR over unordered pairs."""
    edges = np.asarray(edges, float)
    p, w, t = merged(data, randoms, dw, rw)
    out = np.zeros((3, len(edges) - 1, nmu))
    for i in range(len(p) - 1):
        q = p[i + 1 :]
        s, d = separation(p[i], q, box)
        b = bin_of(d, edges)
        ok = b >= 0
        mu = mu_of(np.broadcast_to(p[i], q.shape), q, s, d, los)
        mb = np.minimum((mu * nmu).astype(int), nmu - 1)
        np.add.at(out, (t[i] + t[i + 1 :][ok], b[ok], mb[ok]), w[i] * w[i + 1 :][ok])
    return out


def pair_bins(p, edges, box=None):
    n = len(p)
    _, d = separation(p[:, None, :], p[None, :, :], box)
    b = bin_of(d, edges)
    b[np.arange(n), np.arange(n)] = -1
    return b


def triangles(data, randoms=None, *, edges, box=None, dw=None, rw=None):
    """(4, nb, nb, nb): triangles by number of randoms, at sorted side bins."""
    edges = np.asarray(edges, float)
    p, w, t = merged(data, randoms, dw, rw)
    nb = len(edges) - 1
    b = pair_bins(p, edges, box)
    out = np.zeros((4, nb, nb, nb))
    n = len(p)
    for i in range(n):
        for j in range(i + 1, n):
            if b[i, j] < 0:
                continue
            k = np.arange(j + 1, n)
            ok = (b[i, k] >= 0) & (b[j, k] >= 0)
            k = k[ok]
            sides = np.sort(np.stack([np.full(k.size, b[i, j]), b[i, k], b[j, k]]), axis=0)
            np.add.at(out, (t[i] + t[j] + t[k], sides[0], sides[1], sides[2]), w[i] * w[j] * w[k])
    return out


def canonical(sides):
    """Smallest relabelling of six side bins (QUAD_EDGES order) over vertex permutations."""
    slot = {e: s for s, e in enumerate(QUAD_EDGES)}
    best = None
    for perm in permutations(range(4)):
        t = tuple(sides[slot[tuple(sorted((perm[a], perm[b])))]] for a, b in QUAD_EDGES)
        best = t if best is None or t < best else best
    return best


def quads(data, randoms=None, *, edges, box=None):
    """dict canonical shape -> array of 5 counts (by number of randoms)."""
    edges = np.asarray(edges, float)
    p, _, t = merged(data, randoms)
    b = pair_bins(p, edges, box)
    n = len(p)
    out: dict[tuple, np.ndarray] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if b[i, j] < 0:
                continue
            for k in range(j + 1, n):
                if b[i, k] < 0 or b[j, k] < 0:
                    continue
                for m in range(k + 1, n):
                    v = (i, j, k, m)
                    s = [b[v[a], v[c]] for a, c in QUAD_EDGES]
                    if min(s) < 0:
                        continue
                    key = canonical(s)
                    out.setdefault(key, np.zeros(5))[t[i] + t[j] + t[k] + t[m]] += 1
    return out


def lattice_with_duplicates(rng, n, size):
    """Uniform points plus integer-lattice points (exact separations on integer
    bin edges) and exact duplicates (d = 0)."""
    pts = rng.uniform(0, size, (n, 3))
    k = n // 5
    pts[:k] = rng.integers(0, int(size), (k, 3)).astype(float)
    pts[k : k + n // 10] = pts[: n // 10]
    return pts


def clustered(rng, n, size, nclumps=4, width=1.0):
    centres = rng.uniform(0.2 * size, 0.8 * size, (nclumps, 3))
    pts = centres[rng.integers(0, nclumps, n)] + rng.normal(0, width, (n, 3))
    return np.clip(pts, 0, size)


def rppi(data, randoms=None, *, rp_edges, pimax, npi, box=None, los="midpoint", dw=None, rw=None):
    """(3, nrp, npi): DD, DR, RR in (rp, pi) bins over unordered pairs, with the
    core's formulas (z: pi = |sz|, rp^2 = sx^2 + sy^2; midpoint: pi = |s.m|/|m|,
    rp^2 = d^2 - pi^2)."""
    rp_edges = np.asarray(rp_edges, float)
    p, w, t = merged(data, randoms, dw, rw)
    out = np.zeros((3, len(rp_edges) - 1, npi))
    for i in range(len(p) - 1):
        q = p[i + 1 :]
        s, _ = separation(p[i], q, box)
        if los == "z":
            pi = np.abs(s[:, 2])
            rp2 = s[:, 0] * s[:, 0] + s[:, 1] * s[:, 1]
        else:
            m = 0.5 * (p[i] + q)
            mn = np.sqrt(m[:, 0] * m[:, 0] + m[:, 1] * m[:, 1] + m[:, 2] * m[:, 2])
            d2 = s[:, 0] * s[:, 0] + s[:, 1] * s[:, 1] + s[:, 2] * s[:, 2]
            with np.errstate(invalid="ignore", divide="ignore"):
                pi = np.where(
                    mn == 0,
                    0.0,
                    np.abs(s[:, 0] * m[:, 0] + s[:, 1] * m[:, 1] + s[:, 2] * m[:, 2]) / mn,
                )
            rp2 = np.maximum(d2 - pi * pi, 0.0)
        b = bin_of(np.sqrt(rp2), rp_edges)
        k = np.minimum((pi * npi / pimax).astype(int), npi - 1)
        ok = (b >= 0) & (pi < pimax)
        np.add.at(out, (t[i] + t[i + 1 :][ok], b[ok], k[ok]), w[i] * w[i + 1 :][ok])
    return out


def legendre_multipoles(points, weights, *, edges, lmax, box=None):
    """N_l(b1, b2) = sum_i w_i sum_{j != k, r_ij in b1, r_ik in b2} w_j w_k
    P_l(rhat_ij . rhat_ik), with scipy's Legendre polynomials, O(N^3); also
    the same sum of |w_i w_j w_k| (the scale rounding errors are relative to).
    """
    from scipy.special import eval_legendre

    p, w = np.asarray(points, float), np.asarray(weights, float)
    nb = len(edges) - 1
    out, scale = np.zeros((lmax + 1, nb, nb)), np.zeros((nb, nb))
    for i in range(len(p)):
        s, d = separation(p[i], p, box)
        d[i] = -1.0
        b = bin_of(d, np.asarray(edges, float))
        idx = np.flatnonzero(b >= 0)
        u = s[idx] / d[idx, None]
        mu = np.clip(u @ u.T, -1.0, 1.0)
        ww = np.outer(w[idx], w[idx])
        np.fill_diagonal(ww, 0.0)
        onehot = (b[idx][:, None] == np.arange(nb)).astype(float)
        for ell in range(lmax + 1):
            out[ell] += w[i] * onehot.T @ (eval_legendre(ell, mu) * ww) @ onehot
        scale += abs(w[i]) * onehot.T @ np.abs(ww) @ onehot
    return out, scale
