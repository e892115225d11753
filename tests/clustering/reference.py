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


def wigner_3j(l1, l2, l3, m1, m2, m3):
    """The Wigner 3j symbol by Racah's formula, summed in exact fractions."""
    from fractions import Fraction
    from math import factorial, prod, sqrt

    if m1 + m2 + m3 or abs(m1) > l1 or abs(m2) > l2 or abs(m3) > l3:
        return 0.0
    if not abs(l1 - l2) <= l3 <= l1 + l2:
        return 0.0
    total = Fraction(0)
    for k in range(l1 + l2 + l3 + 1):
        args = (k, l3 - l2 + k + m1, l3 - l1 + k - m2, l1 + l2 - l3 - k, l1 - k - m1, l2 - k + m2)
        if min(args) >= 0:
            total += Fraction((-1) ** k, prod(factorial(a) for a in args))
    triangle = Fraction(
        factorial(l1 + l2 - l3) * factorial(l1 - l2 + l3) * factorial(-l1 + l2 + l3),
        factorial(l1 + l2 + l3 + 1),
    )
    tails = prod(factorial(x) for x in (l1 + m1, l1 - m1, l2 + m2, l2 - m2, l3 + m3, l3 - m3))
    return (-1) ** (l1 - l2 - m3) * sqrt(triangle * tails) * float(total)


def spherical_harmonics(ell, u):
    """Y_lm(u), m = -l..l (scipy's, Condon-Shortley phase), shape (n, 2l + 1)."""
    from scipy.special import sph_harm_y

    theta = np.arccos(np.clip(u[:, 2], -1.0, 1.0))
    phi = np.arctan2(u[:, 1], u[:, 0])
    return np.stack([sph_harm_y(ell, m, theta, phi) for m in range(-ell, ell + 1)], axis=1)


def isotropic_basis(ells, u1, u2, u3, rows=False):
    """P_l1l2l3(u1, u2, u3) of Cahn & Slepian (2020) for every combination of
    the rows of u1, u2, u3: (-1)^(l1+l2+l3) sum_m (3j) Y Y Y, shape (n1, n2,
    n3); with ``rows``, for matching rows only, shape (n,)."""
    l1, l2, l3 = ells
    threej = np.array(
        [
            [
                [wigner_3j(l1, l2, l3, a, b, c) for c in range(-l3, l3 + 1)]
                for b in range(-l2, l2 + 1)
            ]
            for a in range(-l1, l1 + 1)
        ]
    )
    y1, y2, y3 = (spherical_harmonics(ell, u) for ell, u in zip(ells, (u1, u2, u3), strict=True))
    spec = "qa,qb,qc,abc->q" if rows else "ja,kb,lc,abc->jkl"
    return (-1) ** (l1 + l2 + l3) * np.einsum(spec, y1, y2, y3, threej)


def isotropic_multipoles(points, weights, *, edges, ells, box=None):
    """N_L(b1, b2, b3) = sum_i w_i sum_{j, k, l} w_j w_k w_l P_L(rhat_ij,
    rhat_ik, rhat_il), r_ij in b1 < r_ik in b2 < r_il in b3, by evaluating the
    basis on every quad (O(N^4)); complex, shape (len(ells), n_triplets) with
    the triplets b1 < b2 < b3 in lexicographic order; also the same sum of
    |w_i w_j w_k w_l| per triplet (the scale rounding errors are relative to)."""
    from itertools import combinations

    p, w = np.asarray(points, float), np.asarray(weights, float)
    edges = np.asarray(edges, float)
    triplets = list(combinations(range(len(edges) - 1), 3))
    out = np.zeros((len(ells), len(triplets)), complex)
    scale = np.zeros(len(triplets))
    for i in range(len(p)):
        s, d = separation(p[i], p, box)
        d[i] = -1.0
        b = bin_of(d, edges)
        for t, bins in enumerate(triplets):
            members = [np.flatnonzero(b == x) for x in bins]
            if any(m.size == 0 for m in members):
                continue
            u = [s[m] / d[m, None] for m in members]
            ww = w[i] * np.einsum("j,k,l->jkl", *(w[m] for m in members))
            scale[t] += np.abs(ww).sum()
            for a, ell in enumerate(ells):
                out[a, t] += (ww * isotropic_basis(ell, *u)).sum()
    return out, scale
