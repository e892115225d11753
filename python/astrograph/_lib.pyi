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
_U32 = npt.NDArray[np.uint32]
_Bool = npt.NDArray[np.bool_]

_U64 = npt.NDArray[np.uint64]

#: One catalogue of ``count_two_point``: positions (3, N), weights, weights
#: with randoms (cross weights), bitwise words (N, nwords), region labels,
#: MPI owner keys, buffer flags.
_Catalogue = tuple[
    _F64,
    _F64 | None,
    _F64 | None,
    _U64 | None,
    _U32 | None,
    _U64 | None,
    _U8 | None,
]
#: The binning, (kind, edges, pimax, n, signed): ("smu", s edges, _, nmu,
#: signed mu), ("rppi", rp edges, pimax, npi, signed pi) or ("theta", edges
#: in degrees, _, _, _).
_BinningArgs = tuple[str, list[float], float, int, bool]
#: PIP weights, (nrealizations, noffset, default_value, nwords): pycorr's
#: inverse-bitwise conventions.
_PipArgs = tuple[float, int, float, int]
#: Table names, flat tables and the resampling tables of a two-point count.
_TwoPointArrays = tuple[list[str], list[_F64], _F64]
#: DDD, DDR, DRR, RRR (flat nbins^3) and the jackknife tables (flat (nregions, 4, nbins^3)).
_TriangleArrays = tuple[list[_F64], _F64]
_MultipoleArrays = tuple[_F64, _F64, float, _F64, _F64]
#: Field, randoms, random scale, (l1, l2, l3) and bin triplets (n, 3), the
#: delete-one counts (flat (nregions, 2, triples, triplets)) and their scales,
#: the disconnected estimator's sums (empty unless asked for).
_QuadMultipoleArrays = tuple[_F64, _F64, float, _U8, _U8, _F64, _F64, _F64]
#: Shapes (n, 6), counts by number of randoms (5 arrays of n), the jackknife
#: tables, the parity-odd counts (flat (5, n); empty without parity), chiral shapes.
_QuadArrays = tuple[_U8, list[_F64], _F64, _F64, _Bool]

__all__ = [
    "count_two_point",
    "quad_shapes",
    "count_triangles",
    "count_quads",
    "count_multipoles",
    "count_quad_multipoles",
    "intersect_sorted",
    "nearest_centres",
    "sky_centres",
    "Graph",
    "GRAPH_FORMAT",
    "GRAPH_FORMAT_VERSION",
]

GRAPH_FORMAT: str
GRAPH_FORMAT_VERSION: str

def count_two_point(
    data1: _Catalogue,
    randoms1: list[_Catalogue],
    data2: _Catalogue | None,
    randoms2: list[_Catalogue],
    binning_args: _BinningArgs,
    boxsize: float | None,
    los: str,
    nregions: int = 0,
    pip: _PipArgs | None = None,
    angular: list[tuple[list[float], list[float]]] = ...,
    max_memory: int | None = None,
    num_threads: int | None = None,
    progress: _Progress = None,
    carry: _F64 | None = None,
) -> _TwoPointArrays: ...
def count_triangles(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = None,
    regions: _U32 | None = None,
    nregions: int = 0,
    parity: bool = False,
    num_threads: int | None = None,
    progress: _Progress = None,
) -> _TriangleArrays: ...
def count_quads(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    boxsize: float | None,
    max_memory: int | None = None,
    regions: _U32 | None = None,
    nregions: int = 0,
    parity: bool = False,
    num_threads: int | None = None,
    progress: _Progress = None,
) -> _QuadArrays: ...
def count_multipoles(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    lmax: int,
    boxsize: float | None,
    max_memory: int | None = None,
    regions: _U32 | None = None,
    nregions: int = 0,
    primaries: npt.NDArray[np.bool_] | None = None,
    random_scale: float | None = None,
    num_threads: int | None = None,
    progress: _Progress = None,
) -> _MultipoleArrays: ...
def count_quad_multipoles(
    data: _F64,
    data_weights: _F64 | None,
    randoms: _F64 | None,
    random_weights: _F64 | None,
    edges: list[float],
    lmax: int,
    parity: str,
    boxsize: float | None,
    max_memory: int | None = None,
    regions: _U32 | None = None,
    nregions: int = 0,
    primaries: npt.NDArray[np.bool_] | None = None,
    random_scale: float | None = None,
    region_scales: _F64 | None = None,
    disconnected: bool = False,
    num_threads: int | None = None,
    progress: _Progress = None,
) -> _QuadMultipoleArrays: ...
def quad_shapes(nbins: int) -> _U8: ...
def intersect_sorted(a: _U32, b: _U32) -> _U32: ...
def nearest_centres(pos: _F64, centres: _F64) -> _U32: ...
def sky_centres(pos: _F64, draws: list[float], iterations: int) -> _F64: ...

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
        store_mu: bool = True,
        max_memory: int | None = None,
        ids: list[int] | None = None,
        buffer: list[int] | None = None,
        regions: list[int] | None = None,
        nregions: int = 0,
        tracer: list[int] | None = None,
        num_threads: int | None = None,
        progress: _Progress = None,
        estimate_only: bool = False,
    ) -> Any: ...
    @staticmethod
    def from_arrow(batch: Any, num_threads: int | None = None) -> Graph: ...
    def to_arrow(self) -> Any: ...
    def count_two_point(
        self,
        binning_args: _BinningArgs,
        los: str,
        max_memory: int | None = None,
        jackknife: bool = False,
        num_threads: int | None = None,
        progress: _Progress = None,
    ) -> _TwoPointArrays: ...
    def count_triangles(
        self,
        edges: list[float],
        max_memory: int | None = None,
        jackknife: bool = False,
        num_threads: int | None = None,
        progress: _Progress = None,
    ) -> _TriangleArrays: ...
    def count_quads(
        self,
        edges: list[float],
        max_memory: int | None = None,
        jackknife: bool = False,
        parity: bool = False,
        num_threads: int | None = None,
        progress: _Progress = None,
    ) -> _QuadArrays: ...
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
    def n_regions(self) -> int: ...
    @property
    def n_tracers(self) -> int: ...
    @property
    def has_mu(self) -> bool: ...
