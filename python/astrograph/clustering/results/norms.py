"""Weight power sums of a catalogue: the normalisations of every count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Norms:
    """Power sums of one catalogue's weights: S_k = sum w^k, k = 1..4."""

    n: int
    s1: float
    s2: float
    s3: float
    s4: float

    @classmethod
    def of(cls, n: int, w: np.ndarray | None) -> Norms:
        """The power sums of ``n`` points with weights ``w`` (None: all 1)."""
        if w is None:
            return cls(n, float(n), float(n), float(n), float(n))
        return cls(n, *(float((w**k).sum()) for k in (1, 2, 3, 4)))

    @property
    def pairs(self) -> float:
        """sum over unordered pairs i != j of w_i w_j."""
        return 0.5 * (self.s1 * self.s1 - self.s2)

    @property
    def triples(self) -> float:
        """sum over unordered triples of w_i w_j w_k."""
        return (self.s1**3 - 3.0 * self.s1 * self.s2 + 2.0 * self.s3) / 6.0

    @property
    def quadruples(self) -> float:
        """sum over unordered quadruples of w_i w_j w_k w_l."""
        s1, s2, s3, s4 = self.s1, self.s2, self.s3, self.s4
        return (s1**4 - 6 * s1 * s1 * s2 + 3 * s2 * s2 + 8 * s1 * s3 - 6 * s4) / 24.0

    def combinations(self, k: int) -> float:
        """Elementary symmetric sum of order k (0..4) of the weights."""
        return (1.0, self.s1, self.pairs, self.triples, self.quadruples)[k]
