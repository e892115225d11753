"""3PCF multipoles (O(N m)) against an O(N^3) Legendre sum, the exact triangle
counts, and the edge-corrected estimator's algebra."""

from __future__ import annotations

import numpy as np
import pytest
import test_properties as props  # the shared hypothesis strategies
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import eval_legendre

import astrograph as ag
from astrograph import errors
from astrograph.clustering.mocks import thomas_process, uniform_randoms
from astrograph.clustering.results import Norms, TriangleMultipoles
from astrograph.clustering.results.multipoles import coupling_terms, encore_factor

import reference as ref

EDGES = [1.0, 3.0, 5.0, 8.0]
LMAX = 10


def catalogue(kind: str, seed: int, n: int, size: float) -> np.ndarray:
    """Uniform points, or clumps (no clipping, so no coincident points)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.uniform(0, size, (n, 3))
    centres = rng.uniform(0.3 * size, 0.7 * size, (4, 3))
    return (centres[rng.integers(0, 4, n)] + rng.normal(0, 1.5, (n, 3))) % size


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("box", [None, 20.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_multipoles_match_brute_force(kind, box, weighted):
    data, randoms = catalogue(kind, 1, 70, 20.0), catalogue("uniform", 2, 90, 20.0)
    rng = np.random.default_rng(3)
    dw, rw = (rng.uniform(0.5, 2, 70), rng.uniform(0.5, 2, 90)) if weighted else (None, None)
    wd = np.ones(70) if dw is None else dw
    wr = np.ones(90) if rw is None else rw
    alpha = wd.sum() / wr.sum()
    points = np.vstack([data, randoms])
    field, fscale = ref.legendre_multipoles(
        points, np.concatenate([wd, -alpha * wr]), edges=EDGES, lmax=LMAX, box=box
    )
    rand, rscale = ref.legendre_multipoles(randoms, wr, edges=EDGES, lmax=LMAX, box=box)
    assert rscale.min() > 0
    for threads in (1, 2):
        m = ag.count_triangle_multipoles(
            data,
            randoms,
            bins=EDGES,
            lmax=LMAX,
            data_weights=dw,
            random_weights=rw,
            boxsize=box,
            num_threads=threads,
        )
        assert m.random_scale == pytest.approx(-alpha, rel=1e-15)
        assert np.all(np.abs(m.field - field) <= 1e-10 * fscale)
        assert np.all(np.abs(m.randoms - rand) <= 1e-10 * rscale)
        np.testing.assert_array_equal(m.field, np.swapaxes(m.field, 1, 2))
        if threads == 1:
            first = m
        else:  # the same bits on any number of threads
            np.testing.assert_array_equal(m.field, first.field)
            np.testing.assert_array_equal(m.randoms, first.randoms)


def test_data_only_multipoles_in_a_box_match_brute_force():
    data = catalogue("clustered", 4, 120, 20.0)
    w = np.random.default_rng(5).uniform(0.5, 2.0, 120)
    want, scale = ref.legendre_multipoles(data, w, edges=EDGES, lmax=LMAX, box=20.0)
    m = ag.count_triangle_multipoles(data, bins=EDGES, lmax=LMAX, data_weights=w, boxsize=20.0)
    assert m.randoms is None and m.random_scale == 0.0
    assert np.all(np.abs(m.field - want) <= 1e-10 * scale)


def test_monopole_equals_the_exact_triangle_counts():
    """N_0(b1, b2) counts every triangle once per ordered pair of its sides in
    (b1, b2): from exact counts with the third side binned anywhere, equal."""
    box = 60.0
    data = thomas_process(60, 20, 2.0, box, seed=3)
    edges = np.array([2.0, 4.0, 6.0, 9.0])
    # Triangle bins: below, the multipole bins, and above (the third side is < 18).
    tri = np.concatenate([[0.0], edges, [18.0]])
    tc = ag.count_triangles(data, bins=ag.Bins(tri), boxsize=box)
    nb, off = len(edges) - 1, 1
    want = np.zeros((nb, nb))
    for t in zip(*np.nonzero(tc.ddd), strict=True):
        for p in range(3):
            for q in range(3):
                b1, b2 = t[p] - off, t[q] - off
                if p != q and 0 <= b1 < nb and 0 <= b2 < nb:
                    want[b1, b2] += tc.ddd[t]
    m = ag.count_triangle_multipoles(data, bins=edges, lmax=2, boxsize=box)
    assert want.min() > 0
    np.testing.assert_allclose(m.field[0], want, rtol=1e-12)


def test_higher_multipoles_converge_to_the_exact_route():
    """With the sides binned finely, the Legendre projection of exact triangle
    counts (mu from the three sides) approaches N_l, closer as bins shrink."""
    box = 50.0
    data = thomas_process(40, 25, 1.5, box, seed=7)
    lo, hi = 5.0, 6.0
    m = ag.count_triangle_multipoles(data, bins=[lo, hi], lmax=4, boxsize=box)
    errors_by_width = []
    for width in (0.5, 0.25):
        tri = np.arange(0.0, 2 * hi + width / 2, width)
        tc = ag.count_triangles(data, bins=ag.Bins(tri), boxsize=box)
        c = tc.bins.centers
        got = np.zeros(5)
        for t in zip(*np.nonzero(tc.ddd), strict=True):
            for p in range(3):
                for q in range(3):
                    if p == q or not (lo <= c[t[p]] < hi and lo <= c[t[q]] < hi):
                        continue
                    r3 = c[t[3 - p - q]]
                    mu = (c[t[p]] ** 2 + c[t[q]] ** 2 - r3**2) / (2 * c[t[p]] * c[t[q]])
                    got += tc.ddd[t] * eval_legendre(np.arange(5), np.clip(mu, -1, 1))
        np.testing.assert_allclose(got[0], m.field[0, 0, 0], rtol=1e-12)
        errors_by_width.append(np.abs(got[1:] / got[0] - m.field[1:, 0, 0] / m.field[0, 0, 0]))
    assert np.all(errors_by_width[1] < errors_by_width[0])
    assert errors_by_width[1].max() < 0.02


def test_uniform_points_give_zeta_consistent_with_zero_and_clumps_do_not():
    box, edges = 100.0, [4.0, 8.0, 12.0]
    uniform = uniform_randoms(20000, box, seed=2)
    randoms = uniform_randoms(40000, box, seed=3)
    mu = ag.count_triangle_multipoles(uniform, randoms, bins=edges, lmax=4, boxsize=box)
    clumps = thomas_process(1000, 20, 2.0, box, seed=4)
    mc = ag.count_triangle_multipoles(clumps, randoms, bins=[1.0, 2.5, 4.0], lmax=4, boxsize=box)
    # The shot noise of 20,000 points in these shells is a few 1e-3.
    assert np.abs(mu.zeta()).max() < 0.02
    # Clumps of width 2: zeta_0 well above 1 inside them, falling outwards.
    z0 = mc.zeta()[0]
    assert z0[0, 0] > 3.0 and z0[0, 0] > z0[0, 1] > z0[1, 1] > 1.0
    # Without randoms (analytic R_0, full DDD/RRR - 1): the same for uniform points.
    assert (
        np.abs(ag.count_triangle_multipoles(uniform, bins=edges, lmax=4, boxsize=box).zeta()).max()
        < 0.02
    )


def test_coupling_terms_are_legendre_triple_integrals():
    t = coupling_terms(6)
    for a, b, k in [(0, 0, 0), (1, 1, 2), (2, 3, 1), (3, 3, 6), (2, 4, 5), (6, 6, 6)]:

        def triple(x, a=a, b=b, k=k):
            return eval_legendre(a, x) * eval_legendre(b, x) * eval_legendre(k, x)

        integral = quad(triple, -1, 1)[0]
        assert t[a, b, k] == pytest.approx((2 * k + 1) / 2 * integral, abs=1e-12)


def test_edge_correction_inverts_the_coupling():
    """Counts made from a known zeta and known random multipoles give it back."""
    lmax, nb = 4, 2
    rng = np.random.default_rng(0)
    zeta = rng.normal(size=(lmax + 1, nb, nb))
    zeta = zeta + np.swapaxes(zeta, 1, 2)
    rand = np.zeros((lmax + 1, nb, nb))
    rand[0] = 1e6
    rand[1:] = rng.uniform(-0.2, 0.2, (lmax, nb, nb)) * 1e6
    rand = rand + np.swapaxes(rand, 1, 2)
    f = rand / rand[0]
    terms = coupling_terms(lmax)
    alpha = 0.5  # randoms weigh twice the data
    r0 = rand[0] * alpha**3
    field = np.einsum("abk,kxy,bxy->axy", terms, f, zeta) * r0
    m = TriangleMultipoles(ag.Bins([1.0, 2.0, 3.0]), lmax, field, rand, -alpha, Norms.of(10, None))
    np.testing.assert_allclose(m.zeta(), zeta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        m.zeta("encore"), zeta / encore_factor(lmax)[:, None, None], rtol=1e-10
    )
    k = encore_factor(lmax)[:, None, None]
    fe, re = m.counts("encore")
    np.testing.assert_allclose(fe, k * field)
    np.testing.assert_allclose(re, k * rand * alpha**3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lmax": -1}, "lmax"),
        ({"lmax": 21}, "lmax"),
        ({"lmax": 2.5}, "lmax"),
        ({"boxsize": None, "randoms": None}, "randoms"),
        ({"bins": [0.0, 2.0]}, "coincident"),
        ({"lmax": True}, "lmax"),
    ],
)
def test_bad_multipole_inputs_are_refused(kwargs, match):
    data = uniform_randoms(300, 20.0, seed=1)
    data[1] = data[0]  # a coincident pair: fine unless the first bin starts at 0
    args = {"randoms": uniform_randoms(300, 20.0, seed=2), "bins": [1.0, 2.0], "boxsize": 20.0}
    args.update(kwargs)
    randoms = args.pop("randoms")
    with pytest.raises(errors.AstrographError, match=match):
        ag.count_triangle_multipoles(data, randoms, **args)


@pytest.mark.parametrize("box", [None, 20.0])
def test_jackknife_realisations_equal_counts_without_each_region(box):
    """Delete-one from the single pass = counting again without the region
    (every triplet with a vertex in it gone, random scale of what is left)."""
    data, randoms = catalogue("clustered", 6, 90, 20.0), catalogue("uniform", 7, 110, 20.0)
    rng = np.random.default_rng(8)
    dw, rw = rng.uniform(0.5, 2, 90), rng.uniform(0.5, 2, 110)
    dl, rl = (data[:, 0] // 5).astype(int), (randoms[:, 0] // 5).astype(int)
    kw = {"bins": EDGES, "lmax": 4, "boxsize": box}
    m = ag.count_triangle_multipoles(
        data, randoms, data_weights=dw, random_weights=rw, regions=(dl, rl), **kw
    )
    assert m.nregions == 4
    alpha = m.random_scale
    np.testing.assert_allclose(
        sum(alpha**t * m.typed[t] for t in range(4)), m.field, atol=1e-10 * np.abs(m.typed).max()
    )
    np.testing.assert_allclose(m.typed[3], m.randoms, rtol=1e-12)
    real = m.realisations(lambda t: np.stack([t.field, t.randoms]))
    for k in range(4):
        a, b = dl != k, rl != k
        want = ag.count_triangle_multipoles(
            data[a], randoms[b], data_weights=dw[a], random_weights=rw[b], **kw
        )
        scale = np.abs(m.typed).max()
        np.testing.assert_allclose(real[k, 0], want.field, rtol=1e-9, atol=1e-10 * scale)
        np.testing.assert_allclose(real[k, 1], want.randoms, rtol=1e-9, atol=1e-10 * scale)
    zeta = m.realisations()
    assert zeta.shape == (4, 5, 3, 3)
    d = zeta.reshape(4, -1) - zeta.reshape(4, -1).mean(0)
    np.testing.assert_allclose(m.cov(), 3 / 4 * d.T @ d)
    assert np.all(m.std() >= 0)
    with pytest.raises(errors.InputError, match="jackknife"):
        m.cov(method="bootstrap")


def test_jackknife_in_a_box_without_randoms():
    data = catalogue("clustered", 9, 120, 20.0)
    labels = (data[:, 2] // 10).astype(int)
    m = ag.count_triangle_multipoles(data, bins=EDGES, lmax=3, boxsize=20.0, regions=(labels, None))
    for k in range(2):
        want = ag.count_triangle_multipoles(data[labels != k], bins=EDGES, lmax=3, boxsize=20.0)
        got = m.typed[0] - m.jackknife[k, 0]  # all-data triplets without region k
        np.testing.assert_allclose(got, want.field, rtol=1e-9, atol=1e-10 * np.abs(m.field).max())
    with pytest.raises(errors.InputError, match="need randoms"):
        m.std()  # the analytic R_0 is that of the whole box
    with pytest.raises(errors.InputError, match="without regions"):
        ag.count_triangle_multipoles(data, bins=EDGES, lmax=3, boxsize=20.0).std()


def test_graph_route_equals_the_catalogue_route():
    data, randoms = catalogue("clustered", 10, 100, 20.0), catalogue("uniform", 11, 120, 20.0)
    dw = np.random.default_rng(12).uniform(0.5, 2, 100)
    labels = ((data[:, 1] // 10).astype(int), (randoms[:, 1] // 10).astype(int))
    g = ag.build_graph(data, randoms, rmax=8.0, data_weights=dw, regions=labels)
    got = g.count_triangle_multipoles(EDGES, lmax=6)
    want = ag.count_triangle_multipoles(
        data, randoms, bins=EDGES, lmax=6, data_weights=dw, regions=labels
    )
    for name in ("field", "randoms", "typed", "jackknife"):
        a, b = getattr(got, name), getattr(want, name)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max(), err_msg=name)
    np.testing.assert_allclose(got.std(), want.std(), rtol=1e-8)
    with pytest.raises(errors.InputError, match="rebuild the graph"):
        g.count_triangle_multipoles([1.0, 9.0])


def test_multipole_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, randoms = catalogue("clustered", 13, 150, 20.0), catalogue("uniform", 14, 200, 20.0)
    m = ag.count_triangle_multipoles(data, randoms, bins=EDGES, lmax=3, boxsize=20.0)
    fig, ax = plt.subplots(1, 2)
    m.plot("r1r2", ell=1, ax=ax[0])
    m.plot("slices", ax=ax[1])
    assert len(ax[1].lines) == 2 and ax[0].get_xlabel().startswith("$r_1$")
    with pytest.raises(errors.InputError, match="ell"):
        m.plot("r1r2", ell=4)
    with pytest.raises(errors.InputError, match="kind"):
        m.plot("bao")
    plt.close(fig)


def _property_case(data, randoms, edges, periodic, lmax, seed, threads):
    """The core's N_l against the O(N^3) reference, or the coincident-pair refusal."""
    box = ref_size() if periodic else None
    rng = np.random.default_rng(seed)
    dw = rng.uniform(0.5, 2.0, len(data))
    rw = None if randoms is None else rng.uniform(0.5, 2.0, len(randoms))
    pts = data if randoms is None else np.vstack([data, randoms])
    alpha = 0.0 if randoms is None else dw.sum() / rw.sum()
    w = dw if randoms is None else np.concatenate([dw, -alpha * rw])
    _, d = ref.separation(pts[:, None, :], pts[None, :, :], box)
    np.fill_diagonal(d, np.inf)
    coincident = edges[0] == 0.0 and bool((d == 0).any())
    if randoms is None and box is None:
        box = ref_size()  # data alone need the box's analytic normalisation
    args = {"bins": edges, "lmax": lmax, "boxsize": box, "num_threads": threads}
    if coincident:
        with pytest.raises(errors.InputError, match="coincident"):
            ag.count_triangle_multipoles(data, randoms, data_weights=dw, random_weights=rw, **args)
        return
    m = ag.count_triangle_multipoles(data, randoms, data_weights=dw, random_weights=rw, **args)
    want, scale = ref.legendre_multipoles(pts, w, edges=edges, lmax=lmax, box=box)
    assert np.all(np.abs(m.field - want) <= 1e-10 * scale + 1e-12)
    if randoms is not None:
        want, scale = ref.legendre_multipoles(randoms, rw, edges=edges, lmax=lmax, box=box)
        assert np.all(np.abs(m.randoms - want) <= 1e-10 * scale + 1e-12)


def ref_size() -> float:
    return props.SIZE


@st.composite
def multipole_case(draw):
    periodic = draw(st.booleans())
    data = draw(props.points(30))
    randoms = draw(st.one_of(st.none(), props.points(30)))
    edges = draw(props.binning(4, periodic=True))
    return data, randoms, edges, periodic, draw(st.integers(0, 6)), draw(st.integers(0, 99))


@props.CI
@given(c=multipole_case(), threads=st.sampled_from([1, 2]))
def test_multipoles_match_brute_force_on_random_catalogues(c, threads):
    _property_case(*c, threads)


@pytest.mark.fuzz
@props.FUZZ
@given(c=multipole_case(), threads=st.sampled_from([1, 2]))
def test_multipoles_fuzz(c, threads):
    _property_case(*c, threads)


def test_multipole_tables_go_through_the_memory_budget():
    data = catalogue("uniform", 15, 200, 20.0)
    with pytest.raises(errors.MemoryBudgetError, match="multipole"):
        ag.count_triangle_multipoles(data, bins=EDGES, lmax=20, boxsize=20.0, max_memory=10_000)


def test_bad_estimator_arguments_are_refused():
    data, randoms = catalogue("uniform", 16, 100, 20.0), catalogue("uniform", 17, 120, 20.0)
    m = ag.count_triangle_multipoles(data, randoms, bins=EDGES, lmax=2, boxsize=20.0, regions=8)
    for call, match in [
        (lambda: m.zeta(normalisation="treecorr"), "normalisation"),
        (lambda: m.counts("treecorr"), "normalisation"),
        (lambda: m.realisations("xi_s"), "statistic"),
        (lambda: m.cov(method="bootstrap"), "jackknife"),
    ]:
        with pytest.raises(errors.InputError, match=match):
            call()
    assert m.std().shape == (3, 3, 3)
