"""Regions (patches) for jackknife and bootstrap errors.

Survey catalogues are cut into ``k`` patches on the sky by k-means on the unit
vectors of their directions (the way TreeCorr makes patches); randoms take the
patch of the nearest centre. Periodic boxes are cut into equal sub-cubes.
User labels (non-negative integers) are accepted as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _lib
from ..errors import InputError

#: Most regions a count accepts (each region adds one count array).
MAX_REGIONS = 10_000
#: Points used to place the k-means centres (the rest are only assigned):
#: 200 per patch at 50 patches, whose sizes came out as even as with 400
#: (randoms per patch scattered by 27 % against 26 %, 50 cones of a box
#: seen from its corner) in two thirds of the time (4.3 ms against 6.6 ms).
KMEANS_SAMPLE = 10_000


_AT_ORIGIN = (
    "sky patches need every point away from the observer at the origin; "
    "pass regions as labels instead"
)


def sky_centres(pos: np.ndarray, k: int, *, seed: int = 0, iterations: int = 30) -> np.ndarray:
    """``k`` patch centres (unit vectors) from k-means on the directions of ``pos`` (N, 3).

    k-means++ seeding on a sample of :data:`KMEANS_SAMPLE` points, then
    Lloyd iterations on the sphere (centres renormalised), in the core;
    deterministic for a given seed, whatever the thread count.
    """
    x = np.asarray(pos, dtype=np.float64)
    if not 1 <= k <= len(x):
        raise InputError(f"cannot make {k} patches from {len(x)} points")
    rng = np.random.default_rng(seed)
    cols = x.T  # a (3, N) catalogue passed as its transpose is gathered by rows
    if len(x) > KMEANS_SAMPLE:
        cols = cols[:, np.sort(rng.choice(len(x), KMEANS_SAMPLE, replace=False))]
    return _lib.sky_centres(np.ascontiguousarray(cols), rng.random(k).tolist(), iterations)


def sky_labels(pos: np.ndarray, centres: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """The patch of each point ((N, 3)): the centre nearest its direction
    (the largest dot product, the first of equals, which scaling a point
    does not change, so the points are not normalised), in the core on
    every thread (no (N, k) matrix; a transposed (3, N) array is not
    copied). Labels as ``dtype`` (the core's uint32 are not copied)."""
    p = np.asarray(pos, dtype=np.float64)
    if not (p != 0).any(axis=1).all():
        raise InputError(_AT_ORIGIN)
    cols = np.ascontiguousarray(p.T)
    centres = np.ascontiguousarray(centres, dtype=np.float64)
    return _lib.nearest_centres(cols, centres).astype(dtype, copy=False)


def box_labels(pos: np.ndarray, boxsize: float, k: int) -> np.ndarray:
    """Equal sub-cubes of a periodic box: ``k`` must be a cube (8, 27, 64, 125...)."""
    side = round(k ** (1 / 3))
    if side**3 != k:
        raise InputError(
            f"a periodic box is cut into n^3 equal sub-cubes; regions={k} is not a cube "
            f"(try {max(side, 1) ** 3} or {(side + 1) ** 3})"
        )
    cell = np.floor(np.mod(np.asarray(pos, dtype=np.float64), boxsize) / boxsize * side)
    cell = np.clip(cell.astype(np.int64), 0, side - 1)
    return (cell[:, 0] * side + cell[:, 1]) * side + cell[:, 2]


def labels(values: Any, n: int, what: str) -> np.ndarray:
    """User region labels: integers >= 0, one per point."""
    a = np.asarray(values)
    if a.shape != (n,):
        raise InputError(f"{what} region labels must have shape ({n},), got {a.shape}")
    if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
        raise InputError(f"{what} region labels must be integers, got {a.dtype}")
    a = a.astype(np.int64)
    if n and (a.min() < 0 or a.max() >= MAX_REGIONS):
        raise InputError(
            f"{what} region labels must lie in [0, {MAX_REGIONS}), got {a.min()}..{a.max()}"
        )
    return a


def make(
    regions: Any,
    data: np.ndarray,
    randoms: np.ndarray | None,
    boxsize: float | None,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, int] | None:
    """Region labels of data and randoms ((3, N) arrays) and the number of regions.

    ``regions``: None (no resampling), an int K (sub-cubes in a box, sky
    patches otherwise, placed on the data, randoms assigned to the nearest),
    or a pair of label arrays (data labels, random labels or None).
    """
    if regions is None:
        return None
    if isinstance(regions, (int, np.integer)) and not isinstance(regions, bool):
        k = int(regions)
        if not 2 <= k <= MAX_REGIONS:
            raise InputError(f"regions must be between 2 and {MAX_REGIONS}, got {k}")
        if boxsize is not None:
            dl = box_labels(data.T, boxsize, k)
            rl = None if randoms is None else box_labels(randoms.T, boxsize, k)
        else:
            centres = sky_centres(data.T, k, seed=seed)
            dl = sky_labels(data.T, centres)
            rl = None if randoms is None else sky_labels(randoms.T, centres)
        return dl, rl, k
    if not isinstance(regions, (tuple, list)) or len(regions) != 2:
        raise InputError(
            "regions must be a number of regions or a pair (data labels, random labels)"
        )
    dl = labels(regions[0], data.shape[1], "data")
    if randoms is None:
        if regions[1] is not None:
            raise InputError("random region labels were given without randoms")
        rl = None
    else:
        if regions[1] is None:
            raise InputError("with randoms, regions needs labels for the randoms too")
        rl = labels(regions[1], randoms.shape[1], "random")
    k = int(max(dl.max(), -1 if rl is None else rl.max())) + 1
    if k < 2:
        raise InputError("jackknife errors need at least 2 regions")
    return dl, rl, k
