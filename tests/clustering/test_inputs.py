"""Bad input raises a specific, clear exception; catalogues read from files."""

from __future__ import annotations

import numpy as np
import pytest

import astrograph as ag
from astrograph import errors

rng = np.random.default_rng(0)
GOOD = rng.uniform(0, 10, (50, 3))
BINS = ag.Bins.linear(0.5, 3.0, 3)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(data=np.full((5, 3), np.nan)), errors.InputError, "NaN"),
        (dict(data=np.array([[0, 0, np.inf], [1, 1, 1]])), errors.InputError, "row 0"),
        (dict(data=np.zeros((5, 2))), errors.InputError, r"shape \(N, 3\)"),
        (dict(data=np.zeros((0, 3))), errors.InputError, "empty"),
        (dict(randoms=np.zeros((0, 3))), errors.InputError, "random catalogue is empty"),
        (dict(data_weights=np.ones(49)), errors.InputError, r"shape \(50,\)"),
        (dict(data_weights=-np.ones(50)), errors.InputError, ">= 0"),
        (dict(data_weights=np.full(50, np.nan)), errors.InputError, "NaN"),
        (dict(boxsize=10.0, bins=ag.Bins.linear(0.5, 6.0, 3)), errors.BoxError, "half the box"),
        (dict(boxsize=5.0), errors.BoxError, "outside the periodic box"),
        (dict(boxsize=-1.0), errors.BoxError, "positive"),
        (dict(los="sideways"), errors.InputError, "los"),
        (dict(num_threads=0), errors.InputError, "num_threads"),
        (dict(boxsize=10.0, los="midpoint"), errors.BoxError, "use 'x', 'y' or 'z'"),
    ],
)
def test_count_pairs_refuses_bad_input(kwargs, exc, match):
    args = dict(data=GOOD, randoms=None, bins=BINS)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        ag.count_pairs(args.pop("data"), args.pop("randoms"), **args)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ag.Bins([1.0, 0.5]), "strictly increasing"),
        (lambda: ag.Bins([0.0, np.nan]), "finite"),
        (lambda: ag.Bins([1.0]), "at least 2"),
        (lambda: ag.Bins([-1.0, 1.0]), ">= 0"),
        (lambda: ag.Bins.linear(2.0, 1.0, 3), "smaller than rmax"),
        (lambda: ag.Bins.linear(1.0, 1.0, 3), "smaller than rmax"),
        (lambda: ag.Bins.log(0.0, 1.0, 3), "rmin > 0"),
        (lambda: ag.Bins([0, 1], nmu=0), "nmu"),
    ],
)
def test_bad_bins(make, match):
    with pytest.raises(errors.BinningError, match=match):
        make()


def test_graph_build_errors():
    with pytest.raises(errors.BinningError, match="smaller than rmax"):
        ag.NeighbourGraph.build(GOOD, rmax=1.0, rmin=1.0)
    with pytest.raises(errors.BoxError, match="half the box"):
        ag.NeighbourGraph.build(GOOD, rmax=5.0, boxsize=10.0)
    with pytest.raises(
        errors.MemoryBudgetError, match=r"estimated .* edges.*smaller rmax.*MPI ranks"
    ):
        ag.NeighbourGraph.build(GOOD, rmax=9.0, max_memory=10_000)
    assert issubclass(errors.MemoryBudgetError, MemoryError)
    assert issubclass(errors.InputError, ValueError)


def test_memory_estimate_is_close_to_the_real_edge_count():
    pts = rng.uniform(0, 50, (20000, 3))
    est = ag.NeighbourGraph.estimate(pts, rmax=3.0)
    g = ag.NeighbourGraph.build(pts, rmax=3.0)
    assert est["edges"] == pytest.approx(g.n_edges, rel=0.1)


def test_read_catalog_formats(tmp_path):
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather
    import pyarrow.parquet as pq
    from astropy.table import Table

    w = rng.uniform(0.5, 1.5, len(GOOD))
    table = pa.table({"x": GOOD[:, 0], "y": GOOD[:, 1], "z": GOOD[:, 2], "weight": w})
    pq.write_table(table, tmp_path / "c.parquet")
    feather.write_feather(table, tmp_path / "c.feather")
    pcsv.write_csv(table, tmp_path / "c.csv")
    Table({"X": GOOD[:, 0], "Y": GOOD[:, 1], "Z": GOOD[:, 2], "WEIGHT": w}).write(
        tmp_path / "c.fits"
    )
    np.savetxt(tmp_path / "c.txt", np.column_stack([GOOD, w]), header="x y z w")
    for name in ("c.parquet", "c.feather", "c.csv", "c.fits", "c.txt"):
        cat = ag.read_catalog(tmp_path / name)
        np.testing.assert_allclose(cat.positions, GOOD, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(cat.weights, w, rtol=1e-12, err_msg=name)
    np.savetxt(tmp_path / "bad.txt", GOOD[:, :2])
    with pytest.raises(errors.CatalogFormatError, match="3 .* or 4"):
        ag.read_catalog(tmp_path / "bad.txt")
    pq.write_table(pa.table({"a": [1.0]}), tmp_path / "cols.parquet")
    with pytest.raises(errors.CatalogFormatError, match="x, y, z or ra, dec, z"):
        ag.read_catalog(tmp_path / "cols.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(errors.CatalogFormatError, match="junk.parquet"):
        ag.read_catalog(tmp_path / "junk.parquet")
    with pytest.raises(FileNotFoundError):
        ag.read_catalog(tmp_path / "missing.fits")


def test_catalog_from_sky_matches_astropy():
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.cosmology import Planck18

    ra, dec, z = rng.uniform(0, 360, 20), rng.uniform(-80, 80, 20), rng.uniform(0.01, 0.5, 20)
    cat = ag.Catalog.from_sky(ra, dec, z)
    c = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, distance=Planck18.comoving_distance(z))
    want = (
        np.column_stack([c.cartesian.x.value, c.cartesian.y.value, c.cartesian.z.value])
        * Planck18.h
    )
    np.testing.assert_allclose(cat.positions, want, rtol=1e-10)
    mpc = ag.Catalog.from_sky(ra * u.deg, dec, z, h_units=False)
    np.testing.assert_allclose(mpc.positions, want / Planck18.h, rtol=1e-10)
    with pytest.raises(errors.InputError, match="redshifts"):
        ag.Catalog.from_sky(ra, dec, -z)


def test_catalog_objects_are_accepted_everywhere():
    w = rng.uniform(0.5, 1.5, len(GOOD))
    cat = ag.Catalog(GOOD, w)
    a = ag.count_pairs(cat, bins=BINS)
    b = ag.count_pairs(GOOD, bins=BINS, data_weights=w)
    np.testing.assert_array_equal(a.dd, b.dd)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(data=GOOD * (1 + 1j)), "complex"),
        (dict(data_weights=np.ones(50) * (1 + 0j)), "complex"),
        (dict(data=np.array([["a", "b", "c"]] * 5)), "numbers"),
        (dict(random_weights=np.ones(50)), "random_weights were given without randoms"),
        (dict(num_threads=10_000), "num_threads=10000 is more than"),
        (dict(num_threads=2.5), "num_threads"),
    ],
)
def test_validation_gaps_are_closed(kwargs, match):
    args = dict(data=GOOD, randoms=None, bins=BINS)
    args.update(kwargs)
    with pytest.raises(errors.InputError, match=match):
        ag.count_pairs(args.pop("data"), args.pop("randoms"), **args)


@pytest.mark.parametrize("max_memory", [-1, 0, "1XB", "lots", float("nan"), True])
def test_bad_memory_budgets_are_refused(max_memory):
    with pytest.raises(errors.InputError, match="max_memory"):
        ag.count_triangles(GOOD, bins=BINS, max_memory=max_memory)


def test_memory_budgets_accept_sizes_with_units():
    with pytest.raises(errors.MemoryBudgetError):
        ag.count_triangles(GOOD, bins=BINS, max_memory="1kB")
    assert ag.count_triangles(GOOD, bins=BINS, max_memory="2 GiB").total >= 0


def test_declination_outside_the_sphere_is_refused():
    with pytest.raises(errors.InputError, match=r"\[-90, 90\].*row 1"):
        ag.Catalog.from_sky([10.0, 20.0], [10.0, -91.0], [0.1, 0.2])


def test_column_choice_is_explicit_never_guessed(tmp_path):
    """The issue: x, y, z, ra, dec was read as sky with the Cartesian z as
    redshift; x, y, z, ra was refused. Now the first is refused as ambiguous
    (naming both candidates) until coords= says which, the second is Cartesian."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    z = rng.uniform(0.01, 0.1, 50)
    cols = {"x": GOOD[:, 0], "y": GOOD[:, 1], "z": z, "ra": GOOD[:, 0] * 30, "dec": GOOD[:, 1]}
    pq.write_table(pa.table(cols), tmp_path / "both.parquet")
    with pytest.raises(errors.CatalogFormatError, match=r"ambiguous.*\['x', 'y', 'z'\].*ra"):
        ag.read_catalog(tmp_path / "both.parquet")
    cart = ag.read_catalog(tmp_path / "both.parquet", coords="cartesian")
    np.testing.assert_array_equal(cart.positions[:, 2], z)
    sky = ag.read_catalog(tmp_path / "both.parquet", coords="sky")
    assert np.all(np.linalg.norm(sky.positions, axis=1) > 20)  # z read as redshift on request
    by_name = ag.read_catalog(tmp_path / "both.parquet", columns=["ra", "dec", "x"])
    np.testing.assert_array_equal(by_name.positions[:, 2], GOOD[:, 0])
    pq.write_table(pa.table({k: cols[k] for k in ("x", "y", "z", "ra")}), tmp_path / "xyzra.pq")
    np.testing.assert_array_equal(ag.read_catalog(tmp_path / "xyzra.pq").positions[:, 2], z)
    pq.write_table(pa.table({**cols, "w": z, "weight": z}), tmp_path / "two_w.parquet")
    with pytest.raises(
        errors.CatalogFormatError, match=r"several candidate weight.*\['w', 'weight'\]"
    ):
        ag.read_catalog(tmp_path / "two_w.parquet", coords="cartesian")
    cat = ag.read_catalog(tmp_path / "two_w.parquet", coords="cartesian", weight="weight")
    np.testing.assert_array_equal(cat.weights, z)
    assert (
        ag.read_catalog(tmp_path / "two_w.parquet", coords="cartesian", weight=False).weights
        is None
    )


def test_fits_text_columns_are_ignored_unless_asked_for(tmp_path):
    """A FITS table with a text column is read serially as under MPI (one
    reader for both): unused columns do not matter, a used one is named."""
    from astropy.table import Table

    Table({"NAME": ["g"] * 50, "X": GOOD[:, 0], "Y": GOOD[:, 1], "Z": GOOD[:, 2]}).write(
        tmp_path / "t.fits"
    )
    np.testing.assert_allclose(ag.read_catalog(tmp_path / "t.fits").positions, GOOD)
    with pytest.raises(errors.CatalogFormatError, match="'NAME' is not a numeric"):
        ag.read_catalog(tmp_path / "t.fits", columns=["X", "Y", "NAME"])


def test_absurd_tables_are_refused_before_allocation():
    """The issue: nmu=1e9 aborted the process allocating 6 TB; 254 bins of
    triangles on 50 points ran at 2.6 GB under max_memory=1e6."""
    pts = rng.uniform(0, 10, (50, 3))
    with pytest.raises(errors.MemoryBudgetError, match="pair-count tables"):
        ag.count_pairs(pts, bins=ag.Bins.linear(1, 10, 254, nmu=10**9))
    with pytest.raises(errors.MemoryBudgetError, match="triangle-count tables"):
        ag.count_triangles(pts, bins=ag.Bins.linear(0.1, 4.0, 254), max_memory=1e6)
    with pytest.raises(errors.MemoryBudgetError, match="4-point"):
        ag.count_quads(pts, bins=ag.Bins.linear(0.1, 4.0, 25), max_memory=1e6)
    g = ag.NeighbourGraph.build(pts, rmax=4.0)
    with pytest.raises(errors.MemoryBudgetError, match="pair-count tables"):
        g.count_pairs(ag.Bins.linear(1, 4, 254, nmu=10**9))


def test_memory_refusal_is_fast_for_huge_searches():
    """2e6 points with rmax 40 in a box of 100: refused from a sampled
    estimate in seconds (it took 74 s), before any list is built."""
    import time

    pts = np.random.default_rng(1).uniform(0, 100, (2_000_000, 3))
    t0 = time.perf_counter()
    with pytest.raises(errors.MemoryBudgetError, match="neighbour"):
        ag.NeighbourGraph.build(pts, rmax=40.0, boxsize=100.0, max_memory="1GB")
    assert time.perf_counter() - t0 < 10


def test_thread_pools_are_reused():
    import threading

    pts = rng.uniform(0, 10, (500, 3))
    for _ in range(3):
        ag.count_pairs(pts, bins=BINS, num_threads=3)
    before = threading.active_count()
    with open(f"/proc/{__import__('os').getpid()}/status") as f:
        threads0 = int(next(line for line in f if line.startswith("Threads:")).split()[1])
    for _ in range(30):
        ag.count_pairs(pts, bins=BINS, num_threads=3)
    with open(f"/proc/{__import__('os').getpid()}/status") as f:
        threads1 = int(next(line for line in f if line.startswith("Threads:")).split()[1])
    assert threads1 <= threads0 + 1, (threads0, threads1)
    assert threading.active_count() == before
