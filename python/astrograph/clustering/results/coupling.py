"""Angular-momentum coupling for the 4-point multipoles: Wigner 3j, 6j and
9j symbols (Racah's sums in exact fractions) and the integral of three
isotropic basis functions, which couples the window's multipoles to the
4PCF's (the edge correction)."""

from __future__ import annotations

from fractions import Fraction
from functools import cache, lru_cache
from math import factorial, prod, sqrt

import numpy as np

#: (4 pi)^(-3/2): P_000 of the isotropic basis.
P000 = (4.0 * np.pi) ** -1.5


def _triangle(a: int, b: int, c: int) -> Fraction:
    """(a+b-c)! (a-b+c)! (-a+b+c)! / (a+b+c+1)!, the square of Racah's Delta."""
    return Fraction(
        factorial(a + b - c) * factorial(a - b + c) * factorial(-a + b + c),
        factorial(a + b + c + 1),
    )


def _admissible(a: int, b: int, c: int) -> bool:
    return abs(a - b) <= c <= a + b


@cache
def three_j(l1: int, l2: int, l3: int, m1: int, m2: int, m3: int) -> float:
    """The Wigner 3j symbol (l1 l2 l3; m1 m2 m3)."""
    if m1 + m2 + m3 or abs(m1) > l1 or abs(m2) > l2 or abs(m3) > l3:
        return 0.0
    if not _admissible(l1, l2, l3):
        return 0.0
    total = Fraction(0)
    for k in range(l1 + l2 + l3 + 1):
        args = (k, l3 - l2 + k + m1, l3 - l1 + k - m2, l1 + l2 - l3 - k, l1 - k - m1, l2 - k + m2)
        if min(args) >= 0:
            total += Fraction((-1) ** k, prod(factorial(a) for a in args))
    tails = prod(factorial(x) for x in (l1 + m1, l1 - m1, l2 + m2, l2 - m2, l3 + m3, l3 - m3))
    return (-1) ** (l1 - l2 - m3) * sqrt(_triangle(l1, l2, l3) * tails) * float(total)


@cache
def _six_j_exact(j1: int, j2: int, j3: int, j4: int, j5: int, j6: int) -> tuple[Fraction, Fraction]:
    """The 6j symbol as (square of its Delta factors, Racah's sum)."""
    triads = ((j1, j2, j3), (j1, j5, j6), (j4, j2, j6), (j4, j5, j3))
    if not all(_admissible(*t) for t in triads):
        return Fraction(0), Fraction(0)
    deltas = prod((_triangle(*t) for t in triads), start=Fraction(1))
    lo = max(sum(t) for t in triads)
    hi = min(j1 + j2 + j4 + j5, j2 + j3 + j5 + j6, j3 + j1 + j6 + j4)
    total = Fraction(0)
    for t in range(lo, hi + 1):
        den = prod(factorial(t - sum(x)) for x in triads) * factorial(j1 + j2 + j4 + j5 - t)
        den *= factorial(j2 + j3 + j5 + j6 - t) * factorial(j3 + j1 + j6 + j4 - t)
        total += Fraction((-1) ** t * factorial(t + 1), den)
    return deltas, total


def six_j(j1: int, j2: int, j3: int, j4: int, j5: int, j6: int) -> float:
    """The Wigner 6j symbol {j1 j2 j3; j4 j5 j6}."""
    deltas, total = _six_j_exact(j1, j2, j3, j4, j5, j6)
    return sqrt(deltas) * float(total)


@cache
def nine_j(a: tuple[int, int, int], b: tuple[int, int, int], c: tuple[int, int, int]) -> float:
    """The Wigner 9j symbol with rows a, b, c, as a sum of products of 6j
    symbols over the intermediate x."""
    (j11, j12, j13), (j21, j22, j23), (j31, j32, j33) = a, b, c
    lo = max(abs(j11 - j33), abs(j32 - j21), abs(j23 - j12))
    hi = min(j11 + j33, j32 + j21, j23 + j12)
    return sum(
        (2 * x + 1)
        * six_j(j11, j21, j31, j32, j33, x)
        * six_j(j12, j22, j32, j21, x, j23)
        * six_j(j13, j23, j33, x, j11, j12)
        for x in range(lo, hi + 1)
    )


def _column(ell: int, lp: int, lpp: int) -> float:
    """sqrt((2l + 1)(2l' + 1)(2l'' + 1)) (l l' l''; 0 0 0): one direction's
    part of the Gaunt integrals, times sqrt(4 pi)."""
    return sqrt((2 * ell + 1) * (2 * lp + 1) * (2 * lpp + 1)) * three_j(ell, lp, lpp, 0, 0, 0)


def triple_integral(
    a: tuple[int, int, int], b: tuple[int, int, int], c: tuple[int, int, int]
) -> float:
    """G(a, b, c) = integral over three directions of P_a P_b P_c, for the
    isotropic basis P of Cahn & Slepian (2020): (4 pi)^(-3/2) times, per
    direction, sqrt((2l+1)(2l'+1)(2l''+1)) (l l' l''; 0 0 0), times the 9j
    symbol of the three triples. Real and symmetric in a, b, c; zero unless
    every direction's three l add up to an even number."""
    cols = [_column(a[i], b[i], c[i]) for i in range(3)]
    if not all(cols):
        return 0.0
    return P000 * prod(cols) * nine_j(a, b, c)


@cache
def _signed(a: tuple[int, int, int], b: tuple[int, int, int], c: tuple[int, int, int]) -> float:
    """s G for sorted (a, b, c) (G is symmetric)."""
    g = triple_integral(a, b, c)
    odd = sum(a) % 2 + sum(b) % 2 + sum(c) % 2
    return -g if odd == 2 else g


@lru_cache(maxsize=16)
def coupling_tensor(
    counted: tuple[tuple[int, int, int], ...],
    window: tuple[tuple[int, int, int], ...] | None = None,
    coefficients: tuple[tuple[int, int, int], ...] | None = None,
) -> np.ndarray:
    """T[a, b, c] = s(a, b, c) G(a, b, c) for a in `counted`, b in `window`
    and c in `coefficients` (both default to `counted`), with s = -1 when
    two of a, b, c are parity-odd (else 1): the real form of

        n_a = sum_{b, c} T[a, b, c] r_b y_c,

    the counts n of a field with 4PCF coefficients y through a window with
    multipoles r, where odd multipoles are stored as their imaginary parts
    and odd coefficients are those of Im P. It holds exactly when the window
    multipoles run up to twice the coefficients' lmax (P_b P_c expands into
    triples up to that); with the window cut at the counted lmax, as ENCORE
    does, the multipoles near lmax are the least accurate."""
    window = counted if window is None else window
    coefficients = counted if coefficients is None else coefficients
    out = np.zeros((len(counted), len(window), len(coefficients)))
    for i, a in enumerate(counted):
        for j, b in enumerate(window):
            for k, c in enumerate(coefficients):
                out[i, j, k] = _signed(*sorted((a, b, c)))
    return out
