"""The disconnected (Gaussian) part of the 4-point multipoles, estimated from
the same pass as the counts (as ENCORE does, Philcox et al. 2021).

For a Gaussian field the 4-point function is the sum over the three pairings
of the four points of products of 2-point functions. About a point x with
neighbours at x + r1, x + r2, x + r3, the pairing (x, x + r1)(x + r2, x + r3)
gives xi(r1) xi2(r2, r3), with xi the 2PCF about the field's points and xi2
the 2PCF of two points seen from a random centre. Both are measured in
harmonics, anisotropically, so that the survey window enters as it enters the
counts:

    xi(r)       = sum_lm xi_lm Y_lm(r^),
    xi2(r2, r3) = sum xi_{lm,l'm'} Y_lm(r2^) Y_l'm'(r3^),

from the core's sums NN_lm (the field about every point, weighted as in the
field), RR_lm (the randoms about the randoms), RNN and RRR (products of the
coefficients of two bins about each random point), each edge-corrected by the
randoms' own multipoles through Gaunt integrals G(a, b, c) = int Y_a Y_b Y*_c.
Projected on the isotropic basis,

    zeta_L = (-1)^J sum_m (l1 l2 l3; m1 m2 m3) [xi_l1m1(b1) xi2_{l2m2,l3m3}(b2, b3)
             + xi_l2m2(b2) xi2_{l1m1,l3m3}(b1, b3) + xi_l3m3(b3) xi2_{l1m1,l2m2}(b1, b2)],

parity-even triples only (odd ones vanish for a parity-symmetric field; they
are set to zero). The core's coefficients lack Condon-Shortley's (-1)^m; every
coupling here conserves m, so the phase cancels throughout.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ...errors import InputError
from .coupling import three_j


def _lm(ell: int, m: int) -> int:
    return ell * ell + ell + m


@cache
def gaunt(lmax: int) -> np.ndarray:
    """G[a, b, c] = int Y_a Y_b conj(Y_c) dOmega over (l, m) indices l^2 + l + m
    (l <= lmax), shape ((lmax + 1)^2,) * 3."""
    nx = (lmax + 1) ** 2
    g = np.zeros((nx, nx, nx))
    for l1 in range(lmax + 1):
        for l2 in range(lmax + 1):
            for big in range(abs(l1 - l2), min(l1 + l2, lmax) + 1):
                zero = three_j(l1, l2, big, 0, 0, 0)
                if zero == 0.0:
                    continue
                norm = np.sqrt((2 * l1 + 1) * (2 * l2 + 1) * (2 * big + 1) / (4 * np.pi)) * zero
                for m1 in range(-l1, l1 + 1):
                    for m2 in range(-l2, l2 + 1):
                        m = m1 + m2
                        if abs(m) > big:
                            continue
                        c = three_j(l1, l2, big, m1, m2, -m)
                        g[_lm(l1, m1), _lm(l2, m2), _lm(big, m)] = (-1) ** m * norm * c
    return g


def split_sums(raw: np.ndarray, lmax: int, nb: int) -> tuple[np.ndarray, ...]:
    """The core's flat sums as complex arrays: NN, RR (nbins, nx) and RNN,
    RRR (bin pairs b2 < b3, nx, nx)."""
    nx = (lmax + 1) ** 2
    pairs = nb * (nb - 1) // 2
    c = raw[0::2] + 1j * raw[1::2]
    one, two = nb * nx, pairs * nx * nx
    if len(c) != 2 * one + 2 * two:
        raise InputError(
            f"the disconnected sums have {len(raw)} values, not {2 * (2 * one + 2 * two)}"
        )
    nn, rr = c[:one].reshape(nb, nx), c[one : 2 * one].reshape(nb, nx)
    rnn = c[2 * one : 2 * one + two].reshape(pairs, nx, nx)
    rrr = c[2 * one + two :].reshape(pairs, nx, nx)
    return nn, rr, rnn, rrr


def xi_lm(nn: np.ndarray, rr: np.ndarray, scale2: float, g: np.ndarray) -> np.ndarray:
    """Edge-corrected xi_lm per bin: NN_lm / (alpha^2 RR_00) = sum_l'm'
    [sum_LM f_LM G(l'm', lm, LM)] xi_l'm', f = RR / RR_00 (NaN where a bin
    has no random pairs)."""
    out = np.full_like(nn, np.nan)
    for b in range(len(nn)):
        if rr[b, 0] == 0:
            continue
        f = rr[b] / rr[b, 0]
        a = np.einsum("c,pac->ap", f, g)  # a[lm, l'm']
        out[b] = _solve(a, nn[b] / (scale2 * rr[b, 0]))
    return out


def xi_pairs(rnn: np.ndarray, rrr: np.ndarray, scale2: float, g: np.ndarray) -> np.ndarray:
    """Edge-corrected xi_{lm,l'm'} per bin pair: RNN / (alpha^2 RRR_{00,00}) =
    sum [sum f2_{LM,L'M'} G(a, lm, LM) G(b, l'm', L'M')] xi_ab."""
    nx = g.shape[0]
    out = np.full_like(rnn, np.nan)
    for p in range(len(rnn)):
        if rrr[p, 0, 0] == 0:
            continue
        f2 = rrr[p] / rrr[p, 0, 0]
        t = np.einsum("LK,aiL->iaK", f2, g)
        mat = np.einsum("iaK,bjK->ijab", t, g).reshape(nx * nx, nx * nx)
        rhs = (rnn[p] / (scale2 * rrr[p, 0, 0])).ravel()
        out[p] = _solve(mat, rhs).reshape(nx, nx)
    return out


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a^-1 b, NaN where the randoms' coupling is singular (too few randoms
    in the bins to fix the window's multipoles)."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.full_like(b, np.nan)


def combine(
    xi: np.ndarray, xi2: np.ndarray, ells: np.ndarray, triplets: np.ndarray, nb: int
) -> np.ndarray:
    """zeta_L of the three pairings, (n_ells, n_triplets); odd triples zero."""
    pair = np.full((nb, nb), -1)
    pair[np.triu_indices(nb, 1)] = np.arange(nb * (nb - 1) // 2)
    b1, b2, b3 = (np.asarray(triplets)[:, k, None] for k in range(3))
    out = np.zeros((len(ells), len(triplets)))
    for row, (l1, l2, l3) in enumerate(ells):
        if (l1 + l2 + l3) % 2:
            continue
        terms = [
            (w, _lm(l1, m1), _lm(l2, m2), _lm(l3, -m1 - m2))
            for m1 in range(-l1, l1 + 1)
            for m2 in range(-l2, l2 + 1)
            if (w := three_j(int(l1), int(l2), int(l3), m1, m2, -m1 - m2)) != 0.0
        ]
        c, i1, i2, i3 = (np.array(t) for t in zip(*terms, strict=True))
        total = (
            xi[b1, i1] * xi2[pair[b2, b3], i2, i3]
            + xi[b2, i2] * xi2[pair[b1, b3], i1, i3]
            + xi[b3, i3] * xi2[pair[b1, b2], i1, i2]
        )
        out[row] = (total @ c).real
    return out


def disconnected_zeta(
    raw: np.ndarray,
    lmax: int,
    nb: int,
    random_scale: float,
    ells: np.ndarray,
    triplets: np.ndarray,
) -> np.ndarray:
    """The disconnected zeta_L (isotropic normalisation), (n_ells, n_triplets),
    from the core's flat sums."""
    nn, rr, rnn, rrr = split_sums(np.asarray(raw, dtype=np.float64), lmax, nb)
    g = gaunt(lmax)
    scale2 = random_scale**2
    return combine(xi_lm(nn, rr, scale2, g), xi_pairs(rnn, rrr, scale2, g), ells, triplets, nb)
