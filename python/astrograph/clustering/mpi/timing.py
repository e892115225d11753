"""Wall time per stage of the last MPI two-point count on each rank.

A long MPI run that is slower than the same run on threads loses its time
somewhere: loading and scattering from rank 0, the decomposition and its
buffers, waiting for the slowest rank, the reduction. :func:`last` says
where, per rank (``benchmarks/bench_mpi_bao.py`` prints it).
"""

from __future__ import annotations

import time
from typing import Any

#: {stage: [seconds on rank 0, rank 1, ...]} of the last count (rank 0 only).
_LAST: dict[str, list[float]] = {}


class Stages:
    """Marks the end of each stage of a count on one rank."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + now - self._t
        self._t = now

    def gather(self, comm: Any) -> None:
        """Collective: rank 0 keeps every rank's times for :func:`last`."""
        every = comm.gather(self.times, root=0)
        if comm.Get_rank() == 0:
            _LAST.clear()
            for name in every[0]:
                _LAST[name] = [t.get(name, 0.0) for t in every]


def last() -> dict[str, list[float]]:
    """Seconds per stage and rank of the last MPI two-point count (on rank 0;
    empty elsewhere and before any count)."""
    return {k: list(v) for k, v in _LAST.items()}
