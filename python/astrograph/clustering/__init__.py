"""Clustering statistics through a neighbour-graph database.

Layers, bottom to top (a module imports only modules below it):
``inputs``, ``bins`` < ``weights`` < ``io`` < ``catalog`` < ``mocks``,
``plotting`` < ``results`` < ``direct``, ``twopoint``, ``graph_file`` <
``graph`` < ``mpi`` < ``api``.
The public names are re-exported here and at the package top level.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "Bins": "astrograph.clustering.bins",
    "Catalog": "astrograph.clustering.catalog",
    "read_catalog": "astrograph.clustering.catalog",
    "RandomSplits": "astrograph.clustering.splits",
    "count_pairs": "astrograph.clustering.api",
    "count_triangles": "astrograph.clustering.api",
    "count_quads": "astrograph.clustering.api",
    "count_pairs_rppi": "astrograph.clustering.api",
    "count_angular": "astrograph.clustering.api",
    "AngularCounts": "astrograph.clustering.results",
    "TwoPointCounts": "astrograph.clustering.results",
    "fkp_weights": "astrograph.clustering.weights",
    "Footprint": "astrograph.clustering.footprint",
    "sky_randoms": "astrograph.clustering.footprint",
    "count_triangle_multipoles": "astrograph.clustering.api",
    "TriangleMultipoles": "astrograph.clustering.results",
    "count_quad_multipoles": "astrograph.clustering.api",
    "QuadMultipoles": "astrograph.clustering.results",
    "ProjectedCounts": "astrograph.clustering.results",
    "build_graph": "astrograph.clustering.api",
    "NeighbourGraph": "astrograph.clustering.graph",
    "PairCounts": "astrograph.clustering.results",
    "TriangleCounts": "astrograph.clustering.results",
    "QuadCounts": "astrograph.clustering.results",
    "Norms": "astrograph.clustering.results",
    "thomas_process": "astrograph.clustering.mocks",
    "uniform_randoms": "astrograph.clustering.mocks",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = attach("astrograph.clustering", _LAZY, globals())
