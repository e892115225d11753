"""Multipoles of the 4-point function in the isotropic basis (Cahn & Slepian
2020): the large-scale 4PCF, parity-even and parity-odd."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ..bins import Bins
from .coupling import P000, coupling_tensor
from .norms import Norms

PARITIES = ("both", "even", "odd")
NORMALISATIONS = ("isotropic", "encore")


@dataclass
class QuadMultipoles:
    """Multipoles of the weighted 4-point counts in the isotropic basis.

    For radial bins b1 < b2 < b3 and (l1, l2, l3) with li <= lmax and the
    triangle rule,

        N_l1l2l3(b1, b2, b3) = sum_i w_i sum_{j, k, l} w_j w_k w_l
                               P_l1l2l3(r_ij, r_ik, r_il),

    with r_ij in b1, r_ik in b2, r_il in b3 (so j, k, l are distinct) and

        P_l1l2l3(u1, u2, u3) = (-1)^(l1+l2+l3) sum_m (l1 l2 l3; m1 m2 m3)
                               Y_l1m1(u1) Y_l2m2(u2) Y_l3m3(u3)

    (Cahn & Slepian 2020; Y_lm with the Condon-Shortley phase). P is real for
    even l1 + l2 + l3 (parity-even) and imaginary for odd (parity-odd): for
    odd triples the tables hold the imaginary part. A mirror image flips the
    sign of the odd ones. No quad is enumerated: per point, O(m) harmonic
    coefficients per bin are coupled by Wigner 3j symbols.

    Attributes
    ----------
    bins : Bins
    lmax : int
    parity : str
        "both", "even" or "odd": which triples were counted.
    ells : ndarray, shape (n_ells, 3)
        (l1, l2, l3) of each row, lexicographic.
    triplets : ndarray, shape (n_triplets, 3)
        Bin indices (b1, b2, b3), b1 < b2 < b3, of each column, lexicographic.
    field : ndarray, shape (n_ells, n_triplets)
        Of the data minus the randoms scaled to the data's total weight (the
        data alone without randoms).
    randoms : ndarray or None, same shape
        Of the randoms alone (unscaled).
    random_scale : float
        Minus the data weight over the random weight (0 without randoms).
    data : Norms
    boxsize : float or None
    """

    bins: Bins
    lmax: int
    parity: str
    ells: np.ndarray
    triplets: np.ndarray
    field: np.ndarray
    randoms: np.ndarray | None
    random_scale: float
    data: Norms
    boxsize: float | None = None

    @classmethod
    def from_raw(
        cls,
        bins: Bins,
        lmax: int,
        parity: str,
        raw: tuple,
        data: Norms,
        boxsize: float | None,
    ) -> QuadMultipoles:
        """From the core's arrays (field, randoms, random scale, triples,
        triplets) and the data's norms."""
        field, randoms, scale, ells, triplets = raw
        ells = np.asarray(ells, dtype=np.int64).reshape(-1, 3)
        triplets = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
        shape = (len(ells), len(triplets))
        r = np.asarray(randoms, dtype=np.float64)
        return cls(
            bins,
            lmax,
            parity,
            ells,
            triplets,
            np.asarray(field, dtype=np.float64).reshape(shape),
            r.reshape(shape) if r.size else None,
            float(scale),
            data,
            boxsize,
        )

    @property
    def odd(self) -> np.ndarray:
        """Per row: is l1 + l2 + l3 odd (a parity-odd multipole)?"""
        return self.ells.sum(axis=1) % 2 == 1

    def index(self, l1: int, l2: int, l3: int) -> int:
        """The row of (l1, l2, l3)."""
        hit = np.flatnonzero((self.ells == (l1, l2, l3)).all(axis=1))
        if not hit.size:
            raise InputError(
                f"({l1}, {l2}, {l3}) is not counted here: lmax {self.lmax}, "
                f"parity {self.parity!r}, and l3 must lie in [|l1 - l2|, l1 + l2]"
            )
        return int(hit[0])

    @property
    def r000(self) -> np.ndarray:
        """R_000 per triplet, shape (n_triplets,): the (0, 0, 0) counts of the
        randoms scaled to the data's total weight (with randoms), or of a
        uniform field of the data's weights in the periodic box (without)."""
        if self.randoms is not None:
            if not (self.ells == 0).all(axis=1).any():
                raise InputError(
                    "R_000 needs the (0, 0, 0) multipole: count with parity 'even' or 'both'"
                )
            return self.randoms[self.index(0, 0, 0)] * self.random_scale**4
        if self.boxsize is None:
            raise InputError(
                "4-point multipoles without randoms are normalised only in a periodic box: "
                "pass randoms (or boxsize)"
            )
        shells = 4.0 * np.pi / 3.0 * np.diff(self.bins.edges**3)
        # sum over i and ordered distinct j, k, l of w_i w_j w_k w_l, times
        # the chance that j, k and l fall in the three shells.
        quads = 24.0 * self.data.quadruples
        return P000 * quads * shells[self.triplets].prod(axis=1) / self.boxsize**9

    def zeta(self, normalisation: str = "isotropic", edge_correction: bool = True) -> np.ndarray:
        """The 4PCF coefficients zeta_L(r1, r2, r3), shape (n_ells, n_triplets):
        zeta = sum over even triples of zeta_L P_L + sum over odd triples of
        zeta_L Im P_L (real coefficients for both parities).

        With randoms, edge-corrected: per triplet, solve

            N_a / R_000 = sum_c [sum_b T(a, b, c) f_b] zeta_c,   f_b = R_b / R_000,

        with T = s G, G(a, b, c) the integral of three basis functions
        (a 9j symbol times three Gaunt factors, :mod:`.coupling`) and s = -1
        where two of a, b, c are odd: the coupling of the window R's
        multipoles, both parities (so it needs ``parity="both"``). As in
        ENCORE, the window is cut at the counted lmax, so the multipoles
        near lmax are the least accurate. ``edge_correction=False`` (or a
        periodic box without randoms) gives (4 pi)^(3/2) N_L / R_000, exact
        for a uniform window.

        ``normalisation="encore"`` gives ENCORE's signs: its raw odd counts
        are minus these (it stores -i zeta of the coefficient of P_L). Its
        own edge correction couples the window's odd multipoles with the
        other sign (docs/estimators.md), so where the randoms have odd
        multipoles its edge-corrected odd values differ from these.
        """
        if normalisation not in NORMALISATIONS:
            raise InputError(
                f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}"
            )
        r000 = self.r000
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = self.field / r000
        if edge_correction and self.randoms is not None:
            if self.parity != "both":
                raise InputError(
                    "the edge correction couples both parities: count with parity='both', "
                    "or use zeta(edge_correction=False)"
                )
            ells = tuple(tuple(int(x) for x in e) for e in self.ells)
            with np.errstate(invalid="ignore", divide="ignore"):
                f = self.randoms / self.randoms[self.index(0, 0, 0)]
            m = np.einsum("abc,bt->tac", coupling_tensor(ells), f)
            ok = np.isfinite(m).all(axis=(1, 2))
            out = np.full_like(ratio, np.nan)
            if ok.any():
                out[:, ok] = np.linalg.solve(m[ok], ratio.T[ok][..., None])[..., 0].T
        else:
            out = ratio / P000
        if self.randoms is None and (self.ells == 0).all(axis=1).any():
            # Data alone: DDDD / RRRR - 1, whose 1 is (4 pi)^(3/2) P_000.
            out[self.index(0, 0, 0)] -= 1.0 / P000
        return np.where(self.odd[:, None], -out, out) if normalisation == "encore" else out
