"""Exact triangle and quad counts against O(N^3) / O(N^4) brute force, and estimators."""

from __future__ import annotations

import numpy as np
import pytest

import astrograph as ag
from astrograph import errors
from astrograph.clustering.mocks import thomas_process, uniform_randoms
from astrograph.clustering.results import QUAD_EDGES
from astrograph.clustering.results.analytic import triangle_probability

import reference as ref


def small(kind: str, seed: int, n: int, size: float):
    rng = np.random.default_rng(seed)
    if kind == "clustered":
        return ref.clustered(rng, n, size, nclumps=3, width=1.2)
    return ref.lattice_with_duplicates(rng, n, size)


TRI_BINS = ag.Bins([0.0, 1.0, 2.0, 3.0, 4.5, 6.0])


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("box", [None, 14.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_triangles_match_brute_force(kind, box, weighted):
    data, randoms = small(kind, 1, 90, 14.0), small("uniform", 2, 70, 14.0)
    rng = np.random.default_rng(3)
    dw, rw = (rng.uniform(0.5, 2, 90), rng.uniform(0.5, 2, 70)) if weighted else (None, None)
    want = ref.triangles(data, randoms, edges=TRI_BINS.edges, box=box, dw=dw, rw=rw)
    assert want.sum() > 0
    graph = ag.NeighbourGraph.build(
        data, randoms, rmax=6.0, boxsize=box, data_weights=dw, random_weights=rw
    )
    for threads in (1, 2, None):
        direct = ag.count_triangles(
            data,
            randoms,
            bins=TRI_BINS,
            data_weights=dw,
            random_weights=rw,
            boxsize=box,
            num_threads=threads,
        )
        viag = graph.count_triangles(TRI_BINS, num_threads=threads)
        for tc in (direct, viag):
            got = np.stack([tc.ddd, tc.ddr, tc.drr, tc.rrr])
            if weighted:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
            else:
                np.testing.assert_array_equal(got, want)
    # only sorted configurations are filled
    b1, b2, b3 = np.nonzero(want.sum(axis=0))
    assert np.all((b1 <= b2) & (b2 <= b3))


def test_triangles_do_not_depend_on_input_order():
    data, randoms = small("clustered", 4, 120, 12.0), small("uniform", 5, 100, 12.0)
    a = ag.count_triangles(data, randoms, bins=TRI_BINS)
    p, q = np.random.default_rng(0).permutation(120), np.random.default_rng(1).permutation(100)
    b = ag.count_triangles(data[p], randoms[q], bins=TRI_BINS)
    np.testing.assert_array_equal(
        np.stack([a.ddd, a.ddr, a.drr, a.rrr]), np.stack([b.ddd, b.ddr, b.drr, b.rrr])
    )


def _quad_table(qc):
    out = {}
    for s, shape in enumerate(qc.shapes):
        if qc.counts[:, s].any():
            out[tuple(int(v) for v in shape)] = qc.counts[:, s]
    return out


@pytest.mark.parametrize("box", [None, 10.0])
def test_quads_match_brute_force_and_input_order(box):
    data, randoms = small("clustered", 6, 34, 10.0), small("uniform", 7, 22, 10.0)
    bins = ag.Bins([0.0, 1.5, 3.0, 4.5])
    want = ref.quads(data, randoms, edges=bins.edges, box=box)
    assert sum(v.sum() for v in want.values()) > 0
    qc = ag.count_quads(data, randoms, bins=bins, boxsize=box)
    got = _quad_table(qc)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    g = ag.NeighbourGraph.build(data, randoms, rmax=4.5, boxsize=box)
    np.testing.assert_array_equal(g.count_quads(bins, num_threads=1).counts, qc.counts)
    p = np.random.default_rng(9).permutation(len(data))
    np.testing.assert_array_equal(
        ag.count_quads(data[p], randoms, bins=bins, boxsize=box).counts, qc.counts
    )


def test_quad_shapes_are_canonical():
    shapes = ag._lib.quad_shapes(3)
    assert shapes.shape[1] == 6
    # Burnside: edge-colourings of K4 with 3 colours up to vertex relabelling
    assert len(shapes) == (3**6 + 9 * 3**4 + 8 * 3**2 + 6 * 3**2) // 24
    for s in shapes:
        assert ref.canonical(list(s)) == tuple(s)
    assert QUAD_EDGES == ref.QUAD_EDGES


def test_too_many_bins_for_the_four_point_table_is_refused_before_allocating():
    pts = np.random.default_rng(0).uniform(0, 10, (30, 3))
    with pytest.raises(errors.MemoryBudgetError, match="4-point configuration table"):
        ag.count_quads(pts, bins=ag.Bins.linear(0.1, 4.0, 60))
    with pytest.raises(errors.MemoryBudgetError, match="4-point"):
        ag.count_quads(pts, bins=ag.Bins.linear(0.1, 4.0, 8), max_memory=1000)
    with pytest.raises(errors.MemoryBudgetError, match="neighbour lists.*smaller rmax"):
        ag.count_triangles(pts, bins=ag.Bins.linear(0.1, 4.0, 3), max_memory=1000)


def test_uniform_catalogue_has_zeta_consistent_with_zero():
    box = 60.0
    data = uniform_randoms(6000, box, seed=21)
    randoms = uniform_randoms(12000, box, seed=22)
    bins = ag.Bins.linear(2.0, 8.0, 3)
    tc = ag.count_triangles(data, randoms, bins=bins)
    z = tc.zeta()
    assert (~z.mask).sum() >= 5
    assert np.all(np.abs(z.compressed()) < 0.05), z
    # no NaN noise in outputs: impossible configurations are masked, not NaN
    assert np.isfinite(tc.to_arrow().column("zeta").to_numpy()).all()


def test_hierarchical_mock_has_positive_q():
    box = 100.0
    data = thomas_process(1500, 6.0, 1.5, box, seed=31)
    randoms = uniform_randoms(2 * len(data), box, seed=32)
    bins = ag.Bins.linear(0.5, 4.0, 3)
    tc = ag.count_triangles(data, randoms, bins=bins)
    q = tc.q()
    eq = np.array([q[i, i, i] for i in range(3)])
    assert np.all(tc.equilateral() > 0)
    assert np.all(eq > 0.2), eq


def test_periodic_box_analytic_rrr_matches_random_triangles():
    box = 40.0
    pts = uniform_randoms(8000, box, seed=41)
    bins = ag.Bins.linear(1.0, 5.0, 3)
    tc = ag.count_triangles(pts, bins=bins, boxsize=box)
    rrr = tc.rrr_analytic()
    ok = tc.valid
    # Poisson scatter of millions of triangles: a few per cent at most
    np.testing.assert_allclose(tc.ddd[ok], rrr[ok], rtol=0.06)
    assert abs(tc.ddd[ok].sum() / rrr[ok].sum() - 1) < 0.01
    assert np.all(np.abs(tc.zeta().compressed()) < 0.1)
    # all sides < R: (4/3 pi R^3 / V)^2 * 15/32 exactly, however the range is binned
    exact = (4 / 3 * np.pi * 5.0**3 / box**3) ** 2 * 15 / 32
    for edges in ([0.0, 5.0], [0.0, 2.5, 5.0], [0.0, 1.0, 2.5, 3.0, 5.0]):
        assert triangle_probability(ag.Bins(edges), box).sum() == pytest.approx(exact, rel=1e-12)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_analytic_rrr_matches_independent_quadrature():
    """The closed-form/Gauss route against scipy's adaptive quadrature of
    int r1 r2 r3 over the triangle region, on log bins with unequal widths."""
    from scipy.integrate import dblquad

    bins = ag.Bins(np.geomspace(0.5, 9.0, 6))
    box = 40.0
    p = triangle_probability(bins, box)
    e = bins.edges

    def labelled(a, b, c):
        def f(r2, r1):
            lo, hi = max(e[c], abs(r1 - r2)), min(e[c + 1], r1 + r2)
            return r1 * r2 * 0.5 * max(hi * hi - lo * lo, 0.0)

        val, _ = dblquad(f, e[a], e[a + 1], e[b], e[b + 1], epsabs=0, epsrel=1e-11)
        return val

    for b1, b2, b3 in [(0, 0, 0), (1, 2, 2), (0, 3, 3), (2, 3, 4), (4, 4, 4), (0, 1, 4)]:
        perms = {(b1, b2, b3), (b1, b3, b2), (b2, b1, b3), (b2, b3, b1), (b3, b1, b2), (b3, b2, b1)}
        want = sum(labelled(*q) for q in perms) * 8 * np.pi**2 / box**6
        assert p[b1, b2, b3] == pytest.approx(want, rel=1e-8, abs=1e-30), (b1, b2, b3)


def test_analytic_rrr_is_refused_above_a_quarter_box():
    """Beyond boxsize/4 the third side's minimum image breaks the formula: the
    issue's case gave zeta = +0.54 on uniform points; now it is refused."""
    pts = uniform_randoms(3000, 100.0, seed=7)
    tc = ag.count_triangles(pts, bins=ag.Bins.linear(33, 45, 1), boxsize=100.0)
    with pytest.raises(errors.BoxError, match="boxsize/4.*pass randoms"):
        tc.zeta()
    # at boxsize/4 exactly it is allowed and agrees with the counts of uniform points
    tc = ag.count_triangles(pts, bins=ag.Bins.linear(15, 25, 1), boxsize=100.0)
    assert abs(float(tc.zeta().compressed()[0])) < 0.05


def test_analytic_rr_with_mu_bins_matches_uniform_points():
    """RR(s, mu) from the shell volume is exact up to boxsize/2: uniform points
    in a box agree with it in every (s, mu) bin, including s near boxsize/2."""
    box = 30.0
    pts = uniform_randoms(20000, box, seed=8)
    pc = ag.count_pairs(pts, bins=ag.Bins.linear(9.0, 14.9, 3, nmu=4), boxsize=box)
    np.testing.assert_allclose(pc.dd, pc.rr_analytic(), rtol=0.01)


def test_four_point_estimator_and_disconnected_terms():
    box = 40.0
    data = thomas_process(400, 5.0, 1.0, box, seed=51)
    randoms = uniform_randoms(2 * len(data), box, seed=52)
    bins = ag.Bins.linear(0.5, 3.0, 2)
    qc = ag.count_quads(data, randoms, bins=bins)
    eta = qc.eta()
    assert eta.count() > 0
    assert np.all(qc.disconnected() > 0)
    tet = qc.tetrahedra()
    assert len(tet) == 2 and np.all((qc.shapes[tet] == qc.shapes[tet][:, :1]).all(axis=1))
    assert np.all(eta[tet] > 0)
    t = qc.to_arrow()
    assert t.num_rows == len(qc.shapes) and "eta" in t.column_names


def test_triangle_outputs(tmp_path):
    data, randoms = small("clustered", 8, 150, 14.0), small("uniform", 9, 150, 14.0)
    tc = ag.count_triangles(data, randoms, bins=TRI_BINS)
    t = tc.to_arrow()
    assert t.num_rows == tc.valid.sum()
    tc.save_parquet(tmp_path / "z.parquet")
    tc.save_ascii(tmp_path / "z.txt")
    txt = np.loadtxt(tmp_path / "z.txt")
    assert txt.shape == (t.num_rows, 12)
    r3, theta, z = tc.zeta_r1r2(1, 2)
    assert r3.shape == theta.shape == z.shape == (5,)
    assert np.all((theta >= 0) & (theta <= np.pi))
    import matplotlib

    matplotlib.use("Agg")
    for kind in ("r1r2", "equilateral", "isosceles", "q"):
        assert tc.plot(kind) is not None
