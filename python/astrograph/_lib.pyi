"""Type stubs for the Rust extension (rust/bindings)."""

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Progress = Callable[[int, int, int], None] | None
F64 = npt.NDArray[np.float64]

GRAPH_FORMAT: str
GRAPH_FORMAT_VERSION: str

def count_pairs(
    data: F64,
    data_weights: F64 | None,
    randoms: F64 | None,
    random_weights: F64 | None,
    edges: list[float],
    nmu: int,
    boxsize: float | None,
    los: str,
    num_threads: int | None = ...,
    progress: Progress = ...,
) -> tuple[F64, F64, F64]: ...
def count_triangles(
    data: F64,
    data_weights: F64 | None,
    randoms: F64 | None,
    random_weights: F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = ...,
    num_threads: int | None = ...,
    progress: Progress = ...,
) -> list[F64]: ...
def count_quads(
    data: F64,
    data_weights: F64 | None,
    randoms: F64 | None,
    random_weights: F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = ...,
    num_threads: int | None = ...,
    progress: Progress = ...,
) -> tuple[npt.NDArray[np.uint8], list[F64]]: ...
def quad_shapes(nbins: int) -> npt.NDArray[np.uint8]: ...

class Graph:
    @staticmethod
    def build(
        data: F64,
        data_weights: F64 | None,
        randoms: F64 | None,
        random_weights: F64 | None,
        rmin: float,
        rmax: float,
        boxsize: float | None,
        los: str,
        store_mu: bool = ...,
        max_memory: int | None = ...,
        ids: list[int] | None = ...,
        buffer: list[int] | None = ...,
        num_threads: int | None = ...,
        progress: Progress = ...,
        estimate_only: bool = ...,
    ) -> Any: ...
    @staticmethod
    def from_arrow(batch: Any, num_threads: int | None = ...) -> Graph: ...
    def to_arrow(self) -> Any: ...
    def count_pairs(
        self, edges: list[float], nmu: int, num_threads: int | None = ..., progress: Progress = ...
    ) -> tuple[F64, F64, F64]: ...
    def count_triangles(
        self, edges: list[float], num_threads: int | None = ..., progress: Progress = ...
    ) -> list[F64]: ...
    def count_quads(
        self,
        edges: list[float],
        max_memory: int | None = ...,
        num_threads: int | None = ...,
        progress: Progress = ...,
    ) -> tuple[npt.NDArray[np.uint8], list[F64]]: ...
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
