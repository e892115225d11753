"""Valid input, wrong science: the cheap checks of astrograph.clustering.sanity.

Each case of the issue ("A cosmologist's first day") is reproduced on the real
SDSS DR7 stripe (../shared/data/sdss_dr7_stripe_west): it runs without error
but gives nonsense, and must now say so (an AstrographWarning) or refuse (an
InputError where the counts cannot mean anything). Legitimate inputs (a
clustered box with uniform randoms, a sky patch with footprint randoms) must
stay silent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import astrograph as ag
from astrograph.clustering import sanity
from astrograph.clustering.footprint import sky_randoms
from astrograph.clustering.weights import WeightSums
from astrograph.errors import AstrographWarning, InputError

#: The covered part of the stripe (README of the data): the rectangle without
#: its uncovered south-west corner (the narrow gap at RA ~ 153 is ignored).
FOOTPRINT = [(145.0, 171.5, -0.85, 2.0), (171.5, 190.5, -2.0, 2.0)]
ZMIN, ZMAX = 0.02, 0.12
#: Small bins keep the counts of the broken inputs (squeezed catalogues) fast.
BINS = ag.Bins.log(1.0, 5.0, 3)
C_KMS = 299_792.458


@pytest.fixture(scope="module")
def stripe(shared_data):
    """RA, Dec, z of the galaxies (every second one, 0.02 < z < 0.12, in the
    footprint) and of 3x as many footprint randoms."""
    from astropy.table import Table

    t = Table.read(shared_data / "sdss_dr7_stripe_west" / "sdss_dr7_stripe_west.fits")
    ra, dec, z = (np.asarray(t[c], dtype=np.float64) for c in ("ra", "dec", "z"))
    inside = (ra >= 145.0) & (ra < 190.5) & ((dec >= -0.85) | (ra >= 171.5))
    keep = inside & (z > ZMIN) & (z < ZMAX)
    ra, dec, z = ra[keep][::2], dec[keep][::2], z[keep][::2]
    rra, rdec, rz = sky_randoms(3 * len(z), FOOTPRINT, z, seed=5)
    return (ra, dec, z), (rra, rdec, rz)


@pytest.fixture(scope="module")
def catalogues(stripe):
    (ra, dec, z), (rra, rdec, rz) = stripe
    return ag.Catalog.from_sky(ra, dec, z), ag.Catalog.from_sky(rra, rdec, rz)


def silent(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AstrographWarning)
        return fn(*args, **kwargs)


# -- legitimate inputs: no word said ------------------------------------------------------
def test_a_sky_patch_with_footprint_randoms_is_silent(catalogues):
    data, randoms = catalogues
    pc = silent(ag.count_pairs, data, randoms, bins=ag.Bins.log(1.0, 20.0, 5))
    assert pc.xi_s()[0] > 1  # galaxies cluster
    silent(ag.count_pairs_rppi, data, randoms, rp_bins=BINS, pimax=10.0)
    silent(ag.count_angular, data, randoms, bins=np.geomspace(0.05, 0.5, 4))
    silent(ag.count_pairs, data, [randoms.positions[::2], randoms.positions[1::2]], bins=BINS)


def test_a_clustered_box_with_uniform_randoms_is_silent():
    box = 100.0
    data = ag.thomas_process(400, 5.0, 1.5, box, seed=2)
    randoms = ag.uniform_randoms(3 * len(data), box, seed=3)
    bins = ag.Bins.log(1.0, 10.0, 4)
    silent(ag.count_pairs, data, randoms, bins=bins, boxsize=box)
    silent(ag.count_pairs, data, randoms, bins=bins)  # no box: a survey-like cube
    silent(ag.count_pairs, data[::2], randoms, bins=bins, data2=data[1::2], randoms2=randoms)
    silent(ag.count_triangles, data[:500], randoms[:1500], bins=[2.0, 4.0, 6.0], boxsize=box)
    silent(ag.NeighbourGraph.build, data, randoms, rmax=5.0, boxsize=box)
    silent(ag.count_triangle_multipoles, data, randoms, bins=[5.0, 10.0, 15.0], lmax=2)


def test_small_and_unit_catalogues_are_silent():
    rng = np.random.default_rng(0)
    # a unit cube does not read as (RA, Dec, z); a handful of galaxies is no mismatch
    silent(ag.count_pairs, rng.uniform(0, 1, (300, 3)), rng.uniform(0, 1, (900, 3)),
           bins=[0.05, 0.1, 0.2])  # fmt: skip
    silent(ag.count_pairs, rng.uniform(0, 50, (5, 3)), rng.uniform(0, 50, (500, 3)), bins=[1, 10])


def test_catalogues_beyond_the_sample_are_checked_on_a_strided_sample():
    """Catalogues several times SAMPLE, sorted by distance (a strided sample
    must still span them): the same shell is silent, randoms over a shifted
    distance range or in other units still warn."""
    assert sanity.SAMPLE < 60_000
    rng = np.random.default_rng(4)

    def shell(n, r0, r1):
        u = rng.normal(size=(3, n))
        u /= np.sqrt((u * u).sum(axis=0))
        u[:, u[0] < 0] *= -1  # a hemisphere
        r = np.sort((rng.uniform(r0**3, r1**3, n)) ** (1 / 3))
        return u * r

    data, randoms = shell(3 * sanity.SAMPLE, 500, 1500), shell(8 * sanity.SAMPLE, 500, 1500)
    silent(sanity.check_catalogues, {"D1": data, "R1.0": randoms})
    with pytest.warns(AstrographWarning, match="different distances"):
        sanity.check_catalogues({"D1": data, "R1.0": shell(8 * sanity.SAMPLE, 1200, 2200)})
    with pytest.warns(AstrographWarning, match="different distances"):
        sanity.check_catalogues({"D1": data, "R1.0": 0.7 * randoms})


# -- 1. (RA, Dec, z) stacked as Cartesian positions ---------------------------------------
def test_ra_dec_z_stacked_as_cartesian_warns(stripe):
    (ra, dec, z), (rra, rdec, rz) = stripe
    data, randoms = np.column_stack([ra, dec, z]), np.column_stack([rra, rdec, rz])
    with pytest.warns(AstrographWarning, match=r"look like \(RA, Dec, redshift\)") as rec:
        ag.count_pairs(data, randoms, bins=BINS)
    message = str(rec[0].message)
    assert "data and randoms positions" in message
    assert "Catalog.from_sky(ra, dec, z)" in message
    assert "x 145" in message and "y -2..2" in message  # the columns' ranges
    assert rec[0].filename == __file__  # points at the caller, not at astrograph


def test_stacked_check_on_arrays():
    rng = np.random.default_rng(1)
    sky = np.stack(
        [rng.uniform(150, 200, 1000), rng.uniform(-5, 5, 1000), rng.uniform(0.1, 0.6, 1000)]
    )
    assert sanity.looks_like_sky(sky) is not None
    assert sanity.looks_like_sky(rng.uniform(0, 1, (3, 1000))) is None  # a unit box
    assert sanity.looks_like_sky(rng.uniform(0, 80, (3, 1000))) is None  # a small box
    assert sanity.looks_like_sky(sky - [[200.0], [0.0], [0.0]]) is None  # negative "RA"


# -- 2. data and randoms that do not cover the same volume --------------------------------
def test_data_in_radians_randoms_in_degrees(stripe, catalogues):
    (ra, dec, z), _ = stripe
    _, randoms = catalogues
    data = ag.Catalog.from_sky(np.radians(ra), np.radians(dec), z)
    with pytest.warns(AstrographWarning, match="do not cover the same sky") as rec:
        with pytest.raises(InputError, match="no data-randoms pair"):
            ag.count_pairs(data, randoms, bins=BINS)
    message = str(rec[0].message)
    assert "radians beside degrees" in message
    assert "RA 145..190" in message  # the randoms' directions, named


def test_randoms_in_mpc_beside_data_in_mpc_per_h(catalogues):
    data, randoms = catalogues
    with pytest.warns(AstrographWarning, match="different distances") as rec:
        ag.count_pairs(data, randoms.positions / 0.7, bins=BINS)
    assert "Mpc beside Mpc/h" in str(rec[0].message)
    # and the other way round
    with pytest.warns(AstrographWarning, match="different distances"):
        ag.count_pairs(ag.Catalog(data.positions / 0.7), randoms, bins=BINS)


def test_randoms_over_a_shifted_redshift_range(stripe, catalogues):
    _, (rra, rdec, rz) = stripe
    data, _ = catalogues
    shifted = ag.Catalog.from_sky(rra, rdec, rz + 0.1)
    with pytest.warns(AstrographWarning, match="different distances") as rec:
        ag.count_pairs(data, shifted, bins=BINS)
    assert "another redshift range" in str(rec[0].message)


def test_box_randoms_in_other_units_warn():
    box = 100.0
    data = ag.thomas_process(400, 5.0, 1.5, box, seed=2)
    randoms = ag.uniform_randoms(3 * len(data), box, seed=3)
    with pytest.warns(AstrographWarning, match="do not fill the same volume"):
        ag.count_pairs(data * 0.7, randoms, bins=BINS, boxsize=box)
    with pytest.warns(AstrographWarning, match="do not fill the same volume"):
        ag.NeighbourGraph.build(data * 0.7, randoms, rmax=5.0, boxsize=box)
    with pytest.warns(AstrographWarning, match="do not fill the same volume"):
        ag.count_triangles(data * 0.7, randoms, bins=[2.0, 4.0], boxsize=box)


def test_redshifts_in_km_per_s(stripe):
    # cz for both catalogues: consistent with each other, but every point at the horizon
    (ra, dec, z), (rra, rdec, rz) = stripe
    data = ag.Catalog.from_sky(ra, dec, C_KMS * z)
    randoms = ag.Catalog.from_sky(rra, rdec, C_KMS * rz)
    with pytest.warns(AstrographWarning, match="cz in km/s"):
        ag.count_pairs(data, randoms, bins=BINS)


def test_angular_data_in_radians_randoms_in_degrees(stripe):
    (ra, dec, _), (rra, rdec, _) = stripe
    data = np.column_stack([np.radians(ra), np.radians(dec)])
    with pytest.warns(AstrographWarning, match="do not cover the same sky"):
        with pytest.raises(InputError, match="no data-randoms pair"):
            ag.count_angular(data, np.column_stack([rra, rdec]), bins=[0.01, 0.1])


# -- 3. too few randoms -------------------------------------------------------------------
def test_100_randoms_for_thousands_of_galaxies(catalogues):
    data, randoms = catalogues
    with pytest.warns(
        AstrographWarning, match=rf"only 100 randoms for {len(data)} galaxies"
    ) as rec:
        ag.count_pairs(data, randoms.positions[:100], bins=BINS)
    assert "10 to 50 times" in str(rec[0].message)


def test_random_splits_count_together(catalogues):
    data, randoms = catalogues
    n = len(data) // 4 + 1  # each split alone would be too few, together they are enough
    splits = [randoms.positions[:n], randoms.positions[n : 2 * n]]
    silent(ag.count_pairs, data, splits, bins=BINS)
    small = [randoms.positions[:100], randoms.positions[100:200]]
    with pytest.warns(AstrographWarning, match="only 200 randoms .over 2 splits."):
        ag.count_pairs(data, small, bins=BINS)


def test_second_tracer_with_few_randoms_warns():
    box = 100.0
    data = ag.thomas_process(400, 5.0, 1.5, box, seed=2)
    randoms = ag.uniform_randoms(3 * len(data), box, seed=3)
    with pytest.warns(AstrographWarning, match=r"randoms2 for \d+ galaxies \(data2\)"):
        ag.count_pairs(data, randoms, bins=BINS, data2=data, randoms2=randoms[:50])


# -- 4. no data-random pair at all --------------------------------------------------------
def test_cartesian_data_with_sky_randoms_raises(stripe, catalogues):
    _, (rra, rdec, rz) = stripe
    data, _ = catalogues
    with pytest.warns(AstrographWarning), pytest.raises(InputError) as info:
        ag.count_pairs(data, np.column_stack([rra, rdec, rz]), bins=BINS)
    message = str(info.value)
    assert "no data-randoms pair at all" in message and "(DR = 0)" in message
    assert "the other counts with randoms in the same bins (RR = " in message
    assert "Cartesian positions beside (RA, Dec, z)" in message


def test_zero_cross_pairs_raise_for_two_tracers():
    box = 100.0
    data = ag.thomas_process(400, 5.0, 1.5, box, seed=2)
    randoms = ag.uniform_randoms(3 * len(data), box, seed=3)
    far = randoms + 1000.0  # tracer 2's randoms somewhere else
    with pytest.warns(AstrographWarning), pytest.raises(InputError, match="no data-randoms2 pair"):
        ag.count_pairs(data, randoms, bins=BINS, data2=data, randoms2=far)


def test_zero_pairs_from_a_graph_raise():
    box = 100.0
    data = ag.thomas_process(400, 5.0, 1.5, box, seed=2)
    far = ag.uniform_randoms(3 * len(data), box, seed=3) + 1000.0
    with pytest.warns(AstrographWarning):
        g = ag.NeighbourGraph.build(data, far, rmax=5.0)
    with pytest.raises(InputError, match="no data-randoms pair"):
        g.count_pairs(BINS)


def test_check_counts_predicts_the_galaxy_random_pairs():
    sums = {"D1": WeightSums.of(None, 1000), "R1.0": WeightSums.of(None, 10_000)}
    names = ["DD", "DR", "RR"]
    # RR = 500 of the randoms' 5e7 pairs predict 1e-5 x 1e7 = 100 galaxy-random pairs
    sanity.check_counts(names, [[1e4], [0.0], [450.0]], sums)  # 90 predicted: can be chance
    sanity.check_counts(names, [[1e4], [5.0], [1e6]], sums)
    with pytest.raises(InputError, match="predict about 2e"):
        sanity.check_counts(names, [[0.0], [0.0], [1e6]], sums)
    # random splits: RR within each split
    split = {"D1": sums["D1"], "R1.0": sums["R1.0"], "R1.1": sums["R1.0"]}
    with pytest.raises(InputError, match="predict about 4e"):
        sanity.check_counts(names, [[0.0], [0.0], [2e6]], split)
    # weights: the share of the weighted pairs, times the number of pairs
    heavy = {"D1": WeightSums.of(np.full(1000, 1e-3), 1000), "R1.0": sums["R1.0"]}
    with pytest.raises(InputError):
        sanity.check_counts(names, [[0.0], [0.0], [1e6]], heavy)
    # a count of a catalogue that was not given is zero, and not a problem
    cross = ["D1D2", "D1R2", "R1D2", "R1R2"]
    two = {"D1": sums["D1"], "R1.0": sums["R1.0"], "D2": sums["D1"]}
    sanity.check_counts(cross, [[1e6], [0.0], [5e5], [0.0]], two)
    # tracer 2's randoms elsewhere: D1R2 predicted from R1D2
    two["R2.0"] = sums["R1.0"]
    with pytest.raises(InputError, match="no data-randoms2 pair"):
        sanity.check_counts(cross, [[1e6], [0.0], [5e5], [0.0]], two)
