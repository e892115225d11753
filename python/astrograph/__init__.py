"""astrograph: exact clustering statistics through a neighbour-graph database,
and machine learning for astronomy.

Two halves: :mod:`astrograph.clustering` (``count_pairs``,
``count_triangles``, ``count_quads``, ``NeighbourGraph``, ..., backed by a
Rust core; its main names are also available here) and :mod:`astrograph.ml`
(photometric redshifts, classification, unsupervised learning, neural
networks; needs the ``[ml]`` extra). Neither half imports the other.
"""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.1.0"

# Public names resolved on first use, so that ``import astrograph`` stays fast
# and the ML half does not pull in jax / scikit-learn unless it is used.
_LAZY = {
    name: "astrograph.clustering"
    for name in (
        "Bins",
        "Catalog",
        "read_catalog",
        "count_pairs",
        "count_triangles",
        "count_quads",
        "build_graph",
        "NeighbourGraph",
        "PairCounts",
        "TriangleCounts",
        "QuadCounts",
        "thomas_process",
        "uniform_randoms",
    )
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__, __dir__ = attach("astrograph", _LAZY, globals())
