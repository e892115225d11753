"""astrograph: exact clustering statistics through a neighbour-graph database,
and machine learning for astronomy.

The clustering half (``count_pairs``, ``NeighbourGraph``, ``count_triangles``,
...) is backed by a Rust core; the machine-learning half lives in the
``photoz``, ``classify``, ``unsupervised``, ``nn`` and ``morphology`` modules
and needs the ``[ml]`` extra.
"""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.1.0"

# Public names resolved on first use, so that ``import astrograph`` stays fast
# and the ML half does not pull in jax / scikit-learn unless it is used.
_LAZY = {
    "Bins": "astrograph.bins",
    "Catalog": "astrograph.catalog",
    "read_catalog": "astrograph.catalog",
    "count_pairs": "astrograph.paircounts",
    "PairCounts": "astrograph.paircounts",
    "NeighbourGraph": "astrograph.graph",
    "count_triangles": "astrograph.npoint",
    "TriangleCounts": "astrograph.npoint",
    "count_quads": "astrograph.npoint",
    "QuadCounts": "astrograph.npoint",
    "thomas_process": "astrograph.mocks",
    "uniform_randoms": "astrograph.mocks",
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__, __dir__ = attach("astrograph", _LAZY, globals())
