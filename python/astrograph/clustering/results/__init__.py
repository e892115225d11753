"""Result classes, each built by one constructor (``from_raw``) from the
core's raw arrays and the weight norms: pair, triangle and quad counts with
their estimators and outputs. Every result's ``save`` writes one Parquet file
that its class's ``load``, or :func:`load_result` whatever the class, reads
back."""

from __future__ import annotations

from .angular import AngularCounts
from .multipoles import TriangleMultipoles
from .norms import Norms
from .pairs import PairCounts
from .projected import ProjectedCounts
from .quad_multipoles import QuadMultipoles
from .quads import QUAD_EDGES, QUAD_PAIRINGS, QUAD_TYPES, QuadCounts
from .resampling import Resampling, region_sums
from .table import load_result
from .triangles import TRIANGLE_TYPES, TriangleCounts
from .twopoint import AUTO, CROSS, ESTIMATORS, TwoPointCounts

__all__ = [
    "Norms",
    "TwoPointCounts",
    "PairCounts",
    "AngularCounts",
    "ProjectedCounts",
    "TriangleCounts",
    "QuadCounts",
    "TriangleMultipoles",
    "QuadMultipoles",
    "Resampling",
    "region_sums",
    "load_result",
    "TRIANGLE_TYPES",
    "AUTO",
    "CROSS",
    "ESTIMATORS",
    "QUAD_TYPES",
    "QUAD_EDGES",
    "QUAD_PAIRINGS",
]
