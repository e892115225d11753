"""Projected pair counts DD(rp, pi), xi(rp, pi) and wp(rp)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .norms import Norms
from .pairs import PairCounts
from .resampling import Resampling


@dataclass
class ProjectedCounts(PairCounts):
    """Weighted pair counts in bins of rp (across the line of sight) and pi
    (along it), over unordered pairs: ``dd``, ``dr``, ``rr`` of shape
    (nrp, npi). ``bins`` holds the rp edges and ``bins.nmu`` = npi linear pi
    bins over [0, ``pimax``). Along z (boxes): pi = |dz|, rp^2 = dx^2 + dy^2
    (Corrfunc's DDrppi convention, which counts ordered pairs: twice these);
    along the midpoint m (surveys): pi = |s.m|/|m|, rp^2 = s^2 - pi^2.
    """

    pimax: float = 0.0

    @classmethod
    def from_raw(  # type: ignore[override]
        cls,
        bins: Bins,
        raw: Sequence[np.ndarray],
        data: Norms,
        randoms: Norms | None,
        boxsize: float | None,
        sums: tuple | None = None,
        pimax: float = 0.0,
    ) -> ProjectedCounts:
        shape = (bins.nbins, bins.nmu)
        dd, dr, rr = (np.asarray(a, dtype=np.float64).reshape(shape) for a in raw[:3])
        rs = Resampling.from_raw(raw[3], (3, *shape), *sums) if sums and len(raw) > 3 else None
        return cls(bins, dd, dr, rr, data, randoms, boxsize, rs, float(pimax))

    @property
    def rp_edges(self) -> np.ndarray:
        """The rp bin edges."""
        return self.bins.edges

    @property
    def pi_edges(self) -> np.ndarray:
        """The ``npi + 1`` linear pi bin edges over [0, pimax]."""
        return np.linspace(0.0, self.pimax, self.bins.nmu + 1)

    def rr_analytic(self) -> np.ndarray:
        """Expected DD of an unclustered catalogue in the periodic box, (nrp, npi):
        the ring volume pi (rp_hi^2 - rp_lo^2) times 2 dpi (both signs of pi)."""
        if self.boxsize is None:
            raise InputError("analytic RR needs a periodic box (boxsize=...)")
        e = self.rp_edges
        ring = np.pi * np.diff(e**2)[:, None] * 2.0 * np.diff(self.pi_edges)[None, :]
        return self.dd_norm * ring / self.boxsize**3

    def xi_rppi(self, estimator: str = "landy-szalay") -> np.ndarray:
        """xi(rp, pi), shape (nrp, npi); see :meth:`PairCounts.xi` for the estimators."""
        return self.xi(estimator)

    def wp(self, estimator: str = "landy-szalay") -> np.ndarray:
        """wp(rp) = 2 sum_pi xi(rp, pi) dpi up to pimax, shape (nrp,)."""
        return 2.0 * (self.xi(estimator) * np.diff(self.pi_edges)[None, :]).sum(axis=1)

    def xi_s(self, estimator: str = "landy-szalay") -> np.ndarray:
        raise InputError("projected counts have no xi(s): use wp() or xi_rppi()")

    def multipoles(self, ells: tuple[int, ...] = (0, 2, 4), estimator: str = "landy-szalay"):
        raise InputError("projected counts have no multipoles: use wp() or xi_rppi()")

    def to_arrow(self) -> Any:
        """One row per (rp, pi) bin: edges, counts and xi (rr analytic in a box)."""
        e, p = self.rp_edges, self.pi_edges
        nrp, npi = self.bins.nbins, self.bins.nmu
        ib, ip = np.divmod(np.arange(nrp * npi), npi)
        ok = self.has_randoms or self.boxsize
        rr = self.rr if self.has_randoms or not self.boxsize else self.rr_analytic()
        table = pa.table(
            {
                "rp_lo": e[ib],
                "rp_hi": e[ib + 1],
                "pi_lo": p[ip],
                "pi_hi": p[ip + 1],
                "dd": self.dd.ravel(),
                "dr": self.dr.ravel(),
                "rr": rr.ravel(),
                "xi": self.xi().ravel() if ok else np.full(nrp * npi, np.nan),
            }
        )
        meta = {
            "pimax": str(self.pimax),
            "boxsize": "" if self.boxsize is None else str(self.boxsize),
        }
        return table.replace_schema_metadata(meta)

    def save_ascii(self, path: Any) -> None:
        """rp and pi edges, DD, RR and xi per bin; wp per rp bin in the header."""
        t = self.to_arrow()
        cols = [
            t.column(c).to_numpy() for c in ("rp_lo", "rp_hi", "pi_lo", "pi_hi", "dd", "rr", "xi")
        ]
        ok = self.has_randoms or self.boxsize
        wp = " ".join(f"{v:.8g}" for v in self.wp()) if ok else "-"
        header = f"rp_lo rp_hi pi_lo pi_hi DD RR xi\nwp(rp) = {wp}"
        np.savetxt(path, np.column_stack(cols), header=header, fmt="%.10g")

    def plot(self, kind: str = "wp", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"wp", "xi_rppi"}; returns the axes."""
        return plotting.plot_projected(self, kind=kind, ax=ax, **kwargs)
