"""Angular pair counts and w(theta)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import InputError
from .. import plotting
from .twopoint import TwoPointCounts


@dataclass(repr=False)
class AngularCounts(TwoPointCounts):
    """Weighted pair counts in bins of angular separation theta (degrees) on
    the sky, of one tracer (DD, DR, RR) or two (D1D2, D1R2, R1D2, R1R2), each
    of shape (nbins, 1); ``bins.edges`` are the theta edges in degrees.
    """

    STATISTIC: ClassVar[str] = "wtheta"

    @property
    def theta_edges(self) -> np.ndarray:
        """The theta bin edges (degrees)."""
        return self.bins.edges

    def analytic_rr(self) -> np.ndarray:
        raise InputError("angular counts need randoms (no periodic box on the sky)")

    def wtheta(self, estimator: str | None = None) -> np.ndarray:
        """w(theta), shape (nbins,); estimators as :meth:`TwoPointCounts.xi`."""
        return self.xi(estimator)[:, 0]

    def _axes(self) -> dict[str, np.ndarray]:
        e = self.bins.edges
        return {"theta_lo": e[:-1], "theta_hi": e[1:]}

    def plot(self, kind: str = "wtheta", ax: Any = None, **kwargs: Any) -> Any:
        """Plots w(theta) (``kind="wtheta"``, with jackknife errors when the
        counts carry regions); returns the axes."""
        return plotting.plot_angular(self, kind=kind, ax=ax, **kwargs)
