"""Type stubs for the Rust extension (rust/bindings).

Checked against the compiled module by ``python -m mypy.stubtest astrograph._lib``
(CI), so every name, signature and property here must match rust/bindings.
"""

from collections.abc import Callable
from typing import Any, final

import numpy as np
import numpy.typing as npt

_Progress = Callable[[int, int, int], None] | None
_F64 = npt.NDArray[np.float64]
_U8 = npt.NDArray[np.uint8]

__all__ = [
    "count_pairs",
    "quad_shapes",
    "count_triangles",
    "count_quads",
    "Graph",
    "GRAPH_FORMAT",
    "GRAPH_FORMAT_VERSION",
]

GRAPH_FORMAT: str
GRAPH_FORMAT_VERSION: str

def count_pairs(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    nmu: int,
    boxsize: float | None,
    los: str,
    num_threads: int | None = ...,
    progress: _Progress = ...,
) -> tuple[_F64, _F64, _F64]: ...
def count_triangles(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = ...,
    num_threads: int | None = ...,
    progress: _Progress = ...,
) -> list[_F64]: ...
def count_quads(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = ...,
    num_threads: int | None = ...,
    progress: _Progress = ...,
) -> tuple[_U8, list[_F64]]: ...
def quad_shapes(nbins: int) -> _U8: ...

@final
class Graph:
    @staticmethod
    def build(
        data: _F64,
        data_weights: _F64 | None,
        randoms: _F64 | None,
        random_weights: _F64 | None,
        rmin: float,
        rmax: float,
        boxsize: float | None,
        los: str,
        store_mu: bool = ...,
        max_memory: int | None = ...,
        ids: list[int] | None = ...,
        buffer: list[int] | None = ...,
        num_threads: int | None = ...,
        progress: _Progress = ...,
        estimate_only: bool = ...,
    ) -> Any: ...
    @staticmethod
    def from_arrow(batch: Any, num_threads: int | None = ...) -> Graph: ...
    def to_arrow(self) -> Any: ...
    def count_pairs(
        self, edges: list[float], nmu: int, num_threads: int | None = ..., progress: _Progress = ...
    ) -> tuple[_F64, _F64, _F64]: ...
    def count_triangles(
        self, edges: list[float], num_threads: int | None = ..., progress: _Progress = ...
    ) -> list[_F64]: ...
    def count_quads(
        self,
        edges: list[float],
        max_memory: int | None = ...,
        num_threads: int | None = ...,
        progress: _Progress = ...,
    ) -> tuple[_U8, list[_F64]]: ...
    def buffer_addresses(self) -> dict[str, int]: ...
    @property
    def n_nodes(self) -> int: ...
    @property
    def n_edges(self) -> int: ...
    @property
    def n_data(self) -> int: ...
    @property
    def n_random(self) -> int: ...
    @property
    def rmin(self) -> float: ...
    @property
    def rmax(self) -> float: ...
    @property
    def boxsize(self) -> float | None: ...
    @property
    def los(self) -> str: ...
    @property
    def has_mu(self) -> bool: ...
