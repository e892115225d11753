"""Legendre multipoles of the 3-point counts in O(N m): the large-scale
(BAO) 3PCF, from the cell scan straight away (no stored graph, which would
not fit at these radii) or from the nodes of a stored graph."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _lib
from .._progress import progress_bar
from ..errors import InputError
from . import inputs, sanity
from .bins import Bins, as_bins
from .direct import region_arguments
from .results import Norms, TriangleMultipoles

#: Most multipoles the core computes (its recurrences stay accurate past it).
MAX_LMAX = 20
NEEDS_RANDOMS = (
    "count_triangle_multipoles needs randoms outside a periodic box (the edge "
    "correction comes from them): pass randoms, or boxsize for a periodic box"
)


def check_lmax(lmax: Any) -> None:
    """Refuses an lmax that is not an integer in [0, MAX_LMAX]."""
    if isinstance(lmax, bool) or not isinstance(lmax, int) or not 0 <= lmax <= MAX_LMAX:
        raise InputError(f"lmax must be an integer between 0 and {MAX_LMAX}, got {lmax!r}")


def count_triangle_multipoles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    lmax: int = 10,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    regions: Any = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
) -> TriangleMultipoles:
    """Multipoles N_l(r1, r2), l <= lmax, of the triangle counts, and the 3PCF
    multipoles zeta_l(r1, r2) (Slepian & Eisenstein 2015), in O(N m).

    No triangle is enumerated: for every point (data and randoms), the
    spherical-harmonic coefficients of its neighbours in each radial bin are
    summed (polynomials of the unit separation, no trigonometric call) and
    combined by the addition theorem. One pass gives the D - R field (randoms
    weighted by minus the data weight over the random weight, ENCORE's
    convention) and the randoms alone. Exact to rounding: the tests check it
    against an O(N^3) Legendre sum and against exact triangle counts.

    Parameters
    ----------
    data, randoms : ndarray (N, 3) or Catalog
        Comoving positions. Without randoms (periodic box only) the result is
        the data's own N_l, normalised by the analytic R_0.
    bins : Bins or array_like of edges
        Radial bins of the two sides r1, r2 (any edges; the first must be
        above 0 if points may coincide: a zero separation has no direction).
    lmax : int
        Highest multipole, 0 <= lmax <= 20 (ENCORE's default is 10).
    data_weights, random_weights : ndarray, optional
    boxsize : float, optional
        Periodic box: minimum-image separations; rmax must be < boxsize/2.
    regions : int or (data labels, random labels), optional
        Regions for jackknife errors (as for the other counts): the same pass
        gives, per region, exactly what deleting it removes (every triplet
        with a vertex in it), so ``cov()`` / ``std()`` are exact delete-one
        jackknife errors of zeta_l. Costs one coefficient combination per
        region near each point.
    max_memory : int, str, "auto" or "unlimited"
        Bound on the tables and per-thread scratch, checked before allocation.
    num_threads : int, optional
    progress : bool

    Returns
    -------
    TriangleMultipoles
        ``field``, ``randoms``, ``zeta()`` (edge-corrected; ``normalisation=
        "encore"`` for ENCORE's numbers), ``to_arrow()``, ``plot()``.
    """
    b = Bins(as_bins(bins).edges)
    check_lmax(lmax)
    d, dw, r, rw, boxsize, _ = inputs.catalogues(
        data, randoms, data_weights, random_weights, boxsize, None
    )
    if r is None and boxsize is None:
        raise InputError(NEEDS_RANDOMS)
    sanity.check_catalogues({"D1": d, "R1.0": r}, boxsize)
    reg, sums = region_arguments(regions, d, dw, r, rw, boxsize)
    n = d.shape[1] + (0 if r is None else r.shape[1])
    with progress_bar("multipoles", progress, n) as cb:
        raw = _lib.count_multipoles(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            lmax,
            boxsize,
            max_memory=inputs.budget(max_memory),
            **reg,
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
        )
    return TriangleMultipoles.from_raw(b, lmax, raw, Norms.of(d.shape[1], dw), boxsize, sums)


def of_nodes(
    nodes: Any,
    span: tuple[float, float],
    boxsize: float | None,
    nregions: int,
    *,
    bins: Bins | Any,
    count: Any = None,
    **options: Any,
) -> Any:
    """The multipoles of a graph's nodes (its Arrow batch), for bins inside
    the graph's separation range ``span``, with its weights, box and regions
    (none with ``nregions=0``): ``count`` (the 3-point multipoles by default,
    or :func:`~astrograph.clustering.quad_multipoles.count_quad_multipoles`)."""
    b = Bins(as_bins(bins).edges)
    if b.rmax > span[1] or b.rmin < span[0]:
        raise InputError(
            f"the bins span [{b.rmin}, {b.rmax}) but the graph holds pairs in "
            f"[{span[0]}, {span[1]}): rebuild the graph, or count from the catalogue"
        )
    if (nodes.column("buffer").to_numpy() != 0).any():
        raise InputError(
            "a rank's share of a distributed graph: count multipoles from the "
            "catalogue with count_triangle_multipoles(..., comm=comm)"
        )
    pos = np.column_stack([nodes.column(c).to_numpy() for c in "xyz"])
    w = nodes.column("weight").to_numpy()
    rnd = nodes.column("is_random").to_numpy() == 1
    reg = nodes.column("region").to_numpy().astype(np.int64)
    has_r = bool(rnd.any())
    return (count or count_triangle_multipoles)(
        pos[~rnd],
        pos[rnd] if has_r else None,
        bins=b,
        data_weights=w[~rnd],
        random_weights=w[rnd] if has_r else None,
        boxsize=boxsize,
        regions=(reg[~rnd], reg[rnd] if has_r else None) if nregions else None,
        **options,
    )
