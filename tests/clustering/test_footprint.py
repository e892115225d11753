"""Survey footprints and sky randoms: uniform on the sphere inside the footprint
(RA and sin Dec), holes and polygons respected, exact areas, redshifts that
follow the data's smoothed n(z), and clear errors for bad input."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy import stats

from astrograph.clustering.footprint import Footprint, sky_randoms, smoothed_nz
from astrograph.errors import InputError

FULL_SKY = 4 * np.pi * (180 / np.pi) ** 2


def rect_area(ra1, ra2, d1, d2):
    """Solid angle (deg^2) of an RA/Dec rectangle."""
    return (
        np.radians(ra2 - ra1)
        * (np.sin(np.radians(d2)) - np.sin(np.radians(d1)))
        * (180 / np.pi) ** 2
    )


def fraction_ok(k, n, p, nsigma=5.0):
    """k of n points in a region that holds a fraction p of the footprint (binomial)."""
    return abs(k - n * p) < nsigma * np.sqrt(n * p * (1 - p))


# -- uniformity --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2])
def test_rectangle_is_uniform_in_ra_and_sin_dec(seed):
    ra1, ra2, d1, d2 = 10.0, 70.0, -30.0, 50.0
    ra, dec = Footprint((ra1, ra2, d1, d2)).sample(40_000, seed=seed)
    assert ra.shape == dec.shape == (40_000,)
    assert ra.min() >= ra1 and ra.max() < ra2 and dec.min() >= d1 and dec.max() <= d2
    s1, s2 = np.sin(np.radians(d1)), np.sin(np.radians(d2))
    assert stats.kstest(ra, stats.uniform(ra1, ra2 - ra1).cdf).pvalue > 0.01
    assert stats.kstest(np.sin(np.radians(dec)), stats.uniform(s1, s2 - s1).cdf).pvalue > 0.01
    # the test has power: uniform in Dec (not on the sphere) is rejected outright
    assert stats.kstest(dec, stats.uniform(d1, d2 - d1).cdf).pvalue < 1e-10
    # and jointly: equal counts in 10 x 10 cells of equal area
    counts, _, _ = np.histogram2d(ra, np.sin(np.radians(dec)), [np.linspace(ra1, ra2, 11),
                                                                 np.linspace(s1, s2, 11)])  # fmt: skip
    chi2 = ((counts - counts.mean()) ** 2 / counts.mean()).sum()
    assert chi2 < stats.chi2.ppf(0.999, 99)


def test_rectangle_across_ra_zero():
    a, b = Footprint((350.0, 370.0, -5.0, 5.0)), Footprint((-10.0, 10.0, -5.0, 5.0))
    ra, dec = a.sample(20_000, seed=3)
    assert ((ra >= 350.0) | (ra < 10.0)).all() and ((ra >= 0) & (ra < 360)).all()
    assert b.contains(ra, dec).all()
    assert stats.kstest((ra + 10.0) % 360.0, stats.uniform(0, 20).cdf).pvalue > 0.01
    assert a.area == pytest.approx(rect_area(-10, 10, -5, 5), rel=1e-12)
    assert not a.contains(np.array([11.0, 349.0, 0.0]), np.array([0.0, 0.0, 6.0])).any()


def test_same_seed_same_catalogue():
    fp = Footprint([(0.0, 30.0, 0.0, 10.0)])
    z = np.linspace(0.05, 0.2, 500)
    a = sky_randoms(1000, fp, z, seed=7)
    b = sky_randoms(1000, fp, z, seed=7)
    c = sky_randoms(1000, fp, z, seed=8)
    for x, y, w in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, w)


# -- holes, overlaps, areas ----------------------------------------------------------------
def test_holes_are_excluded_and_the_rest_stays_uniform():
    outer, hole = (100.0, 140.0, -10.0, 10.0), (110.0, 120.0, -2.0, 4.0)
    fp = Footprint([outer], holes=[hole])
    expected = rect_area(*outer) - rect_area(*hole)
    assert fp.area == pytest.approx(expected, rel=1e-12)
    n = 60_000
    ra, dec = fp.sample(n, seed=4)
    in_hole = (ra >= 110) & (ra < 120) & (dec >= -2) & (dec <= 4)
    assert not in_hole.any()
    # the strip beside the hole holds its share of the points
    beside = (ra >= 110) & (ra < 120) & (dec > 4)
    assert fraction_ok(beside.sum(), n, rect_area(110, 120, 4, 10) / expected)
    # the hole has the effect of a missing area: density elsewhere is unchanged
    west = ra < 110
    assert fraction_ok(west.sum(), n, rect_area(100, 110, -10, 10) / expected)


def test_overlapping_rectangles_are_not_counted_twice():
    r1, r2 = (0.0, 20.0, 0.0, 10.0), (10.0, 30.0, 5.0, 15.0)
    fp = Footprint([r1, r2])
    overlap = rect_area(10, 20, 5, 10)
    union = rect_area(*r1) + rect_area(*r2) - overlap
    assert fp.area == pytest.approx(union, rel=1e-12)
    n = 60_000
    ra, dec = fp.sample(n, seed=5)
    assert fp.contains(ra, dec).all()
    in_overlap = (ra >= 10) & (ra < 20) & (dec >= 5) & (dec <= 10)
    assert fraction_ok(in_overlap.sum(), n, overlap / union)
    # (sampling each rectangle by its area without the correction would put
    # 2 * overlap / (area1 + area2) there: far outside these bounds)
    assert not fraction_ok(in_overlap.sum(), n, 2 * overlap / (rect_area(*r1) + rect_area(*r2)))


def test_full_sky_and_holes_that_cover_everything():
    assert Footprint((0.0, 360.0, -90.0, 90.0)).area == pytest.approx(FULL_SKY, rel=1e-12)
    with pytest.raises(InputError, match="empty"):
        Footprint([(10.0, 20.0, 0.0, 5.0)], holes=[(5.0, 15.0, -1.0, 6.0), (15.0, 25.0, -1, 6)])


def test_sky_randoms_takes_rectangles_as_a_shortcut():
    z = np.random.default_rng(0).uniform(0.05, 0.1, 300)
    ra, dec, zr = sky_randoms(2000, [(145.0, 190.5, -2.0, 2.0)], z, seed=1)
    assert ra.shape == dec.shape == zr.shape == (2000,)
    assert Footprint((145.0, 190.5, -2.0, 2.0)).contains(ra, dec).all()


# -- polygons -----------------------------------------------------------------------------
def test_polygon_with_constant_dec_edges_is_the_rectangle():
    poly = Footprint(polygon=[(10.0, -5.0), (30.0, -5.0), (30.0, 5.0), (10.0, 5.0)])
    rect = Footprint((10.0, 30.0, -5.0, 5.0))
    assert poly.area == pytest.approx(rect.area, rel=1e-10)
    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(0, 40, 20_000), rng.uniform(-10, 10, 20_000)
    np.testing.assert_array_equal(poly.contains(ra, dec), rect.contains(ra, dec))


def test_concave_polygon_excludes_its_notch():
    # an L: [0, 10] x [0, 10] less the corner [5, 10] x [5, 10]
    L = [(0, 0), (10, 0), (10, 5), (5, 5), (5, 10), (0, 10)]
    fp = Footprint(polygon=L)
    full, notch = rect_area(0, 10, 0, 10), rect_area(5, 10, 5, 10)
    assert fp.area == pytest.approx(full - notch, rel=1e-10)
    n = 40_000
    ra, dec = fp.sample(n, seed=6)
    assert not ((ra > 5) & (dec > 5)).any()
    assert ra.min() >= 0 and ra.max() <= 10 and dec.min() >= 0 and dec.max() <= 10
    # each of the three squares holds its share
    for sq in ((0, 5, 0, 5), (5, 10, 0, 5), (0, 5, 5, 10)):
        k = ((ra >= sq[0]) & (ra < sq[1]) & (dec >= sq[2]) & (dec < sq[3])).sum()
        assert fraction_ok(k, n, rect_area(*sq) / fp.area)
    # the sense of the vertices does not matter
    rev = Footprint(polygon=L[::-1])
    np.testing.assert_array_equal(rev.contains(ra, dec), np.ones(n, dtype=bool))
    assert rev.area == pytest.approx(fp.area, rel=1e-12)


def test_polygon_across_ra_zero_and_with_holes():
    tri = Footprint(polygon=[(359.0, -1.0), (2.0, -1.0), (0.5, 2.0)])
    assert tri.area == pytest.approx(4.5, rel=1e-3)  # base 3, height 3, cos(Dec) ~ 1
    ra, dec = tri.sample(5000, seed=2)
    assert ((ra >= 359.0) | (ra <= 2.0)).all()
    assert tri.contains([0.5, 180.5, 0.5], [0.0, 0.0, 2.5]).tolist() == [True, False, False]
    holed = Footprint(polygon=[(350, -5), (10, -5), (10, 5), (350, 5)], holes=[(-2, 2, -1, 1)])
    assert holed.area == pytest.approx(
        rect_area(-10, 10, -5, 5) - rect_area(-2, 2, -1, 1), rel=0.01
    )
    ra, dec = holed.sample(20_000, seed=3)
    assert not (((ra + 2) % 360 < 4) & (np.abs(dec) <= 1)).any()


def test_polygon_round_a_pole_is_refused():
    with pytest.raises(InputError, match="pole"):
        Footprint(polygon=[(0, 80), (90, 80), (180, 80), (270, 80)])


# -- HEALPix ------------------------------------------------------------------------------
def test_healpix_without_healpy_or_hpgeom_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "healpy", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "hpgeom", None)
    with pytest.raises(InputError, match="pip install healpy"):
        Footprint(healpix=np.ones(12 * 4**2))


def test_healpix_map_of_a_wrong_size_is_refused():
    with pytest.raises(InputError, match="12 nside"):
        Footprint(healpix=np.ones(100))


def _hp_centres(backend, nside, nest=False):
    pix = np.arange(12 * nside**2)
    if backend.__name__ == "healpy":
        return backend.pix2ang(nside, pix, nest=nest, lonlat=True)
    return backend.pixel_to_angle(nside, pix, nest=nest, lonlat=True, degrees=True)


def _hp_pixels(backend, nside, ra, dec, nest=False):
    if backend.__name__ == "healpy":
        return backend.ang2pix(nside, ra, dec, nest=nest, lonlat=True)
    return backend.angle_to_pixel(nside, ra, dec, nest=nest, lonlat=True, degrees=True)


@pytest.mark.parametrize("name", ["healpy", "hpgeom"])
def test_healpix_mask(name, monkeypatch):
    backend = pytest.importorskip(name)
    other = {"healpy": "hpgeom", "hpgeom": "healpy"}[name]
    monkeypatch.setitem(sys.modules, other, None)  # use this backend
    nside = 32
    ra_c, dec_c = _hp_centres(backend, nside)
    mask = ((ra_c > 350) | (ra_c < 20)) & (np.abs(dec_c) < 10)  # across RA = 0
    fp = Footprint(healpix=mask)
    assert fp.area == pytest.approx(mask.sum() * FULL_SKY / mask.size, rel=1e-12)
    n = 100_000
    ra, dec = fp.sample(n, seed=1)
    assert fp.contains(ra, dec).all()
    counts = np.bincount(_hp_pixels(backend, nside, ra, dec), minlength=mask.size)
    assert counts[~mask].sum() == 0
    # pixels have equal areas: Poisson counts of one mean (no pixel part cut off)
    c = counts[mask]
    chi2 = ((c - c.mean()) ** 2 / c.mean()).sum()
    assert chi2 < stats.chi2.ppf(0.999, len(c) - 1)
    # every point of the sky inside the mask lies inside the sampling box
    sky_ra = np.random.default_rng(0).uniform(0, 360, 400_000)
    sky_dec = np.degrees(np.arcsin(np.random.default_rng(1).uniform(-1, 1, 400_000)))
    inside = fp.contains(sky_ra, sky_dec)
    ra0, width, d1, d2 = fp._boxes[0]
    assert (np.mod(sky_ra[inside] - ra0, 360) < width).all()
    assert (sky_dec[inside] >= d1).all() and (sky_dec[inside] <= d2).all()
    # NESTED ordering: the same footprint
    nest_mask = np.zeros_like(mask)
    nest_mask[_hp_pixels(backend, nside, ra_c[mask], dec_c[mask], nest=True)] = True
    nested = Footprint(healpix=nest_mask, nest=True)
    np.testing.assert_array_equal(nested.contains(sky_ra, sky_dec), inside)


# -- redshifts ----------------------------------------------------------------------------
def test_nz_follows_the_data():
    rng = np.random.default_rng(11)
    z = rng.gamma(6.0, 0.02, 30_000)
    z = z[(z > 0.03) & (z < 0.3)]
    _, _, zr = sky_randoms(200_000, (0.0, 50.0, -5.0, 5.0), z, sigma_z=0.005, zmin=0.03,
                           zmax=0.3, seed=12)  # fmt: skip
    assert zr.min() >= 0.03 and zr.max() <= 0.3
    assert stats.ks_2samp(z, zr).pvalue > 0.01
    edges = np.linspace(0.03, 0.3, 28)
    nd, _ = np.histogram(z, edges)
    nr, _ = np.histogram(zr, edges)
    expect = nr * len(z) / len(zr)
    ok = nd > 20
    chi2 = ((nd[ok] - expect[ok]) ** 2 / nd[ok]).sum()
    assert chi2 < stats.chi2.ppf(0.999, ok.sum())
    # mean and width: smoothing adds sigma_z^2 to the variance, nothing else
    assert abs(zr.mean() - z.mean()) < 3 * z.std() / np.sqrt(len(z))
    assert np.sqrt(zr.var() - 0.005**2) == pytest.approx(z.std(), rel=0.02)


def test_smoothing_removes_a_wall_but_keeps_the_shape():
    rng = np.random.default_rng(3)
    smooth = rng.uniform(0.02, 0.12, 9000)
    wall = rng.normal(0.08, 0.0005, 1000)  # 10 % of the galaxies in a thin wall
    z = np.concatenate([smooth, wall])
    _, _, zr = sky_randoms(100_000, (0.0, 10.0, 0.0, 5.0), z, sigma_z=0.01, zmin=0.02, zmax=0.12,
                           seed=4)  # fmt: skip
    near = lambda x: np.mean(np.abs(x - 0.08) < 0.002)  # noqa: E731
    assert near(z) > 0.1 and near(zr) < 0.5 * near(z)
    # flat part 0.9 * 0.004 / 0.1, plus the wall's share of a Gaussian of width sigma_z
    assert near(zr) == pytest.approx(0.036 + 0.1 * math.erf(0.002 / (0.01 * np.sqrt(2))), rel=0.1)
    # the wall's galaxies are still counted, spread over sigma_z
    assert np.mean((zr > 0.06) & (zr < 0.10)) == pytest.approx(
        np.mean((z > 0.06) & (z < 0.10)), abs=0.01
    )
    # raw redshifts (sigma_z = 0) copy the wall
    _, _, raw = sky_randoms(100_000, (0.0, 10.0, 0.0, 5.0), z, sigma_z=0.0, seed=4)
    assert np.isin(raw, z).all() and near(raw) == pytest.approx(near(z), abs=0.01)


def test_nz_is_mirrored_at_the_cut_edges():
    z = np.random.default_rng(5).uniform(0.02, 0.12, 20_000)
    edges, pdf = smoothed_nz(z, sigma_z=0.01, zmin=0.02, zmax=0.12)
    assert np.sum(pdf * np.diff(edges)) == pytest.approx(1.0, rel=1e-12)
    assert edges[0] == 0.02 and edges[-1] == 0.12 and (pdf >= 0).all()
    # flat data stay flat up to the edges (10.0 = 1 / 0.1), no halving there
    np.testing.assert_allclose(pdf, 10.0, rtol=0.06)
    _, _, zr = sky_randoms(100_000, (0.0, 10.0, 0.0, 5.0), z, zmin=0.02, zmax=0.12, seed=6)
    first, middle = np.mean(zr < 0.025), np.mean((zr > 0.07) & (zr < 0.075))
    assert first == pytest.approx(middle, rel=0.1)


def test_redshift_range_defaults_to_the_data():
    z = np.random.default_rng(7).uniform(0.1, 0.2, 1000)
    _, _, zr = sky_randoms(5000, (0.0, 10.0, 0.0, 5.0), z, seed=1)
    assert zr.min() >= z.min() and zr.max() <= z.max()


# -- bad input ----------------------------------------------------------------------------
BAD_FOOTPRINTS = [
    ({"rectangles": (20.0, 10.0, 0.0, 5.0)}, "ra_min"),
    ({"rectangles": (0.0, 400.0, 0.0, 5.0)}, "at most 360"),
    ({"rectangles": (0.0, 10.0, -95.0, 5.0)}, r"\[-90, 90\]"),
    ({"rectangles": (0.0, 10.0, 5.0, 5.0)}, "dec_min"),
    ({"rectangles": (0.0, 10.0, np.nan, 5.0)}, "NaN"),
    ({"rectangles": (0.0, 10.0, 5.0)}, "4-tuple"),
    ({"rectangles": []}, "at least one"),
    ({"rectangles": [(0.0, 10.0, 0.0, 5.0), (0.0, 1.0)]}, "of numbers"),
    ({"polygon": [(0, 0), (1, 0), (1,)]}, "of numbers"),
    ({"rectangles": (0.0, 10.0, 0.0, 5.0), "holes": (0.0, 5.0, 3.0, 1.0)}, "dec_min"),
    ({}, "exactly one"),
    ({"rectangles": (0.0, 10.0, 0.0, 5.0), "polygon": [(0, 0), (1, 0), (0, 1)]}, "exactly one"),
    ({"polygon": [(0, 0), (1, 0)]}, "nvertices >= 3"),
    ({"polygon": [(0, 0), (1, 0), (0, 91)]}, r"\[-90, 90\]"),
    ({"polygon": [(0, 0), (1, 1), (2, 2)]}, "empty"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_FOOTPRINTS)
def test_bad_footprints(kwargs, match):
    with pytest.raises(InputError, match=match):
        Footprint(**kwargs)


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "10"])
def test_n_must_be_a_positive_integer(n):
    fp = Footprint((0.0, 10.0, 0.0, 5.0))
    with pytest.raises(InputError, match="positive integer"):
        sky_randoms(n, fp, [0.1, 0.2])
    with pytest.raises(InputError, match="positive integer"):
        fp.sample(n)


@pytest.mark.parametrize(
    ("z", "kwargs", "match"),
    [
        ([], {}, "empty"),
        ([0.1, np.nan], {}, "NaN"),
        ([0.1, 0.2], {"zmin": 0.3, "zmax": 0.2}, "smaller than zmax"),
        ([0.1, 0.2], {"zmin": 0.3, "zmax": 0.4}, "no data redshift"),
        ([0.1, 0.1], {}, "give zmin and zmax"),
        ([0.1, 0.2], {"sigma_z": -0.01}, "sigma_z"),
    ],
)
def test_bad_redshifts(z, kwargs, match):
    with pytest.raises(InputError, match=match):
        sky_randoms(10, (0.0, 10.0, 0.0, 5.0), z, **kwargs)


def test_contains_checks_its_input():
    fp = Footprint((0.0, 10.0, 0.0, 5.0))
    with pytest.raises(InputError, match=r"\[-90, 90\]"):
        fp.contains([1.0], [95.0])
    with pytest.raises(InputError, match="one shape"):
        fp.contains([1.0, 2.0], [1.0])
    assert issubclass(InputError, ValueError)
