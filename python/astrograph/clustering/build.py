"""Building the core graph from validated (3, N) arrays: the one call to
``_lib.Graph.build`` that the local and the distributed graph share."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _lib
from .._progress import progress_bar
from . import inputs


def build_core(
    d: np.ndarray,
    dw: np.ndarray | None,
    r: np.ndarray | None,
    rw: np.ndarray | None,
    boxsize: float | None,
    los: str,
    *,
    rmin: float,
    rmax: float,
    store_mu: bool = True,
    max_memory: Any = "auto",
    ids: Any = None,
    buffer: Any = None,
    regions: Any = None,
    nregions: int = 0,
    tracer: Any = None,
    num_threads: int | None = None,
    progress: bool = False,
    estimate_only: bool = False,
) -> Any:
    """The core graph of validated (3, N) arrays (or its sampled size estimate)."""
    n = d.shape[1] + (0 if r is None else r.shape[1])
    with progress_bar("building graph", progress and not estimate_only, n) as cb:
        return _lib.Graph.build(
            d,
            dw,
            r,
            rw,
            float(rmin),
            float(rmax),
            boxsize,
            los,
            store_mu=store_mu,
            max_memory=None if estimate_only else inputs.budget(max_memory),
            ids=ids,
            buffer=buffer,
            regions=None if regions is None else np.asarray(regions, dtype=np.uint32).tolist(),
            nregions=nregions,
            tracer=tracer,
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
            estimate_only=estimate_only,
        )
