"""astrograph: exact clustering statistics through a neighbour-graph database,
and machine learning for astronomy.

Two halves: :mod:`astrograph.clustering` (``count_pairs``,
``count_triangles``, ``count_quads``, ``NeighbourGraph``, ..., backed by a
Rust core; its main names are also available here) and :mod:`astrograph.ml`
(photometric redshifts, classification, unsupervised learning, neural
networks; needs the ``[ml]`` extra). Neither half imports the other.

Examples
--------
Three points on a line are 1, 2 and 3 apart: one unordered pair in each of
three bins, and one triangle.

>>> import numpy as np
>>> import astrograph as ag
>>> points = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
>>> bins = ag.Bins.linear(0.5, 3.5, 3)
>>> ag.count_pairs(points, bins=bins).dd.ravel()
array([1., 1., 1.])
>>> graph = ag.NeighbourGraph.build(points, rmax=3.5)
>>> graph.n_edges
3
>>> graph.count_pairs(bins).dd.ravel()  # the same counts, from the stored edges
array([1., 1., 1.])
>>> ag.count_triangles(points, bins=bins).total
1.0

The version is the installed package's (one version, set in ``Cargo.toml``):

>>> from importlib.metadata import version
>>> ag.__version__ == version("astrograph")
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._lazy import attach

# The one version lives in Cargo.toml ([workspace.package] version); maturin
# writes it into the installed package's metadata, read here.
try:
    __version__: str = _version("astrograph")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

# Public names resolved on first use, so that ``import astrograph`` stays fast
# and the ML half does not pull in jax / scikit-learn unless it is used.
_LAZY = {
    name: "astrograph.clustering"
    for name in (
        "Bins",
        "Catalog",
        "read_catalog",
        "RandomSplits",
        "count_pairs",
        "count_triangles",
        "count_quads",
        "count_pairs_rppi",
        "count_angular",
        "AngularCounts",
        "TwoPointCounts",
        "fkp_weights",
        "Footprint",
        "sky_randoms",
        "count_triangle_multipoles",
        "TriangleMultipoles",
        "count_quad_multipoles",
        "QuadMultipoles",
        "ProjectedCounts",
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
