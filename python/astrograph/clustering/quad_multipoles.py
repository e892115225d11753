"""Multipoles of the 4-point counts in the isotropic basis, parity-even and
parity-odd, in O(N m): the large-scale 4PCF, from the cell scan straight
away (no stored graph, which would not fit at these radii)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _lib
from .._progress import progress_bar
from ..errors import InputError
from . import inputs, sanity
from .bins import Bins, as_bins
from .direct import region_arguments
from .results import Norms
from .results.quad_multipoles import PARITIES, QuadMultipoles

#: Highest l of a 4-point multipole count (the core's exact 3j sums and its
#: coupling tables stay small up to it).
MAX_QUAD_LMAX = 10
QUAD_REGIONS = (
    "jackknife regions of the 4-point multipoles need randoms: in a periodic box "
    "without them the normalisation is analytic and knows nothing of a deleted "
    "region; pass randoms, or estimate the covariance from mocks (chi2_odd(mocks))"
)


def check_disconnected(disconnected: Any, has_randoms: bool, has_regions: bool) -> None:
    """Refuses a disconnected part without randoms or with regions."""
    if not isinstance(disconnected, bool):
        raise InputError(f"disconnected must be True or False, got {disconnected!r}")
    if disconnected and not has_randoms:
        raise InputError(
            "the disconnected part is estimated with randoms (about which the "
            "2-point functions of two neighbours are measured): pass randoms"
        )
    if disconnected and has_regions:
        raise InputError(
            "the disconnected part has no jackknife realisations yet: count it "
            "without regions, or the regions without it"
        )


def region_scales(sums: tuple | None, has_randoms: bool) -> np.ndarray | None:
    """The field's random scale once each region is deleted: minus the data
    weight over the random weight of the other regions (None without
    regions). Refuses regions without randoms, and a region holding all the
    random weight."""
    if sums is None:
        return None
    if not has_randoms:
        raise InputError(QUAD_REGIONS)
    dsum, rsum, _ = sums
    wd = dsum[:, 1].sum() - dsum[:, 1]
    wr = rsum[:, 1].sum() - rsum[:, 1]
    if (wr == 0).any():
        k = int(np.flatnonzero(wr == 0)[0])
        raise InputError(
            f"deleting region {k} leaves no random weight: the other regions' field "
            "cannot be normalised; use fewer or other regions"
        )
    return np.ascontiguousarray(-wd / wr)


def check_quad_arguments(bins: Any, lmax: Any, parity: Any) -> Bins:
    """The bins, once lmax, parity and the number of bins are checked."""
    b = Bins(as_bins(bins).edges)
    if isinstance(lmax, bool) or not isinstance(lmax, int) or not 0 <= lmax <= MAX_QUAD_LMAX:
        raise InputError(f"lmax must be an integer between 0 and {MAX_QUAD_LMAX}, got {lmax!r}")
    if parity not in PARITIES:
        raise InputError(f"parity must be one of {PARITIES}, got {parity!r}")
    if b.nbins < 3:
        raise InputError(
            f"4-point multipoles need at least 3 radial bins (b1 < b2 < b3), got {b.nbins}"
        )
    return b


def count_quad_multipoles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    lmax: int = 4,
    parity: str = "both",
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    regions: Any = None,
    disconnected: bool = False,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
) -> QuadMultipoles:
    """Multipoles N_l1l2l3(r1, r2, r3) of the 4-point counts in the isotropic
    basis (Cahn & Slepian 2020), parity-even and parity-odd, in O(N m).

    No quad is enumerated: for every point (data and randoms), the
    spherical-harmonic coefficients a_lm(b) of its neighbours in each radial
    bin are summed and coupled by Wigner 3j symbols, for every bin triplet
    b1 < b2 < b3 (so the three neighbours are distinct points and there is
    no self term). One pass gives the D - R field (randoms weighted by minus
    the data weight over the random weight) and the randoms alone. Exact to
    rounding: the tests compare it with an O(N^4) sum of the basis functions
    written from scipy's spherical harmonics. See docs/fourpcf.md for the
    basis, the estimator and the conventions against ENCORE.

    Parameters
    ----------
    data, randoms : ndarray (N, 3) or Catalog
        Comoving positions.
    bins : Bins or array_like of edges
        Radial bins of the three sides r1 < r2 < r3 (at least 3 bins; the
        first edge must be above 0 if points may coincide).
    lmax : int
        Highest l of each of l1, l2, l3, 0 <= lmax <= 10 (ENCORE's 4PCF
        default is 4).
    parity : {"both", "even", "odd"}
        Which multipoles: odd l1 + l2 + l3 are the parity-odd ones (their
        imaginary part is returned); "even" or "odd" computes only that half
        (the edge correction needs both).
    data_weights, random_weights : ndarray, optional
    boxsize : float, optional
        Periodic box: minimum-image separations; rmax must be < boxsize/2.
    regions : int or (data labels, random labels), optional
        Regions for jackknife errors (as for the other counts; randoms
        needed): the same pass gives, per region, the counts with it deleted
        (every quad with a vertex in it removed, the field at the random
        scale of the points left), so ``cov()``, ``std()`` and
        ``chi2_odd()`` have exact delete-one jackknife errors. Costs about
        one more coupling per region near each point.
    disconnected : bool
        Also estimate the disconnected (Gaussian) part from the same pass,
        as ENCORE does (randoms needed, no regions): the 2PCF about every
        point and the 2PCF of two neighbours of a random point, both in
        harmonics and edge-corrected, combined over the three pairings
        (``results.disconnected``). ``zeta(connected=True)`` subtracts it.
    max_memory : int, str, "auto" or "unlimited"
        Bound on the tables and per-thread scratch, checked before allocation.
    num_threads : int, optional
    progress : bool

    Returns
    -------
    QuadMultipoles
        ``field``, ``randoms``, ``ells``, ``triplets``, ``zeta()``,
        ``chi2_odd()``, ``save()``.
    """
    b = check_quad_arguments(bins, lmax, parity)
    d, dw, r, rw, boxsize, _ = inputs.catalogues(
        data, randoms, data_weights, random_weights, boxsize, None
    )
    sanity.check_catalogues({"D1": d, "R1.0": r}, boxsize)
    if regions is not None and r is None:
        raise InputError(QUAD_REGIONS)
    check_disconnected(disconnected, r is not None, regions is not None)
    reg, sums = region_arguments(regions, d, dw, r, rw, boxsize)
    scales = region_scales(sums, r is not None)
    n = d.shape[1] + (0 if r is None else r.shape[1])
    with progress_bar("4-point multipoles", progress, n) as cb:
        raw = _lib.count_quad_multipoles(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            lmax,
            parity,
            boxsize,
            max_memory=inputs.budget(max_memory),
            **reg,
            region_scales=scales,
            disconnected=bool(disconnected),
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
        )
    norms = Norms.of(d.shape[1], dw)
    return QuadMultipoles.from_raw(b, lmax, parity, raw, norms, boxsize, sums)
