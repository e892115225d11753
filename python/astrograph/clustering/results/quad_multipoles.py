"""Multipoles of the 4-point function in the isotropic basis (Cahn & Slepian
2020): the large-scale 4PCF, parity-even and parity-odd."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ..bins import Bins
from .norms import Norms

PARITIES = ("both", "even", "odd")
#: (4 pi)^(3/2) / R_000 turns a count into a basis coefficient (P_000 is
#: (4 pi)^(-3/2)).
_FOUR_PI_3_2 = (4.0 * np.pi) ** 1.5


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
        """R_000 per triplet: the (0, 0, 0) counts of the randoms scaled to
        the data's total weight, shape (n_triplets,)."""
        if self.randoms is None:
            raise InputError(
                "the 4-point multipoles are normalised by the randoms: count with randoms"
            )
        if not (self.ells == 0).all(axis=1).any():
            raise InputError(
                "R_000 needs the (0, 0, 0) multipole: count with parity 'even' or 'both'"
            )
        return self.randoms[self.index(0, 0, 0)] * self.random_scale**4

    def zeta(self) -> np.ndarray:
        """The 4PCF coefficients without edge correction, (4 pi)^(3/2)
        N_l1l2l3 / R_000, shape (n_ells, n_triplets): zeta(r1, r2, r3) =
        sum over even triples of zeta_L P_L + sum over odd triples of zeta_L
        Im P_L, where the survey window is uniform (a periodic box, or the
        interior far from edges)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return _FOUR_PI_3_2 * self.field / self.r000
