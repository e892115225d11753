"""Error bars from regions: the single-pass delete-one jackknife is exact (each
realisation equals counting the catalogue without that region), for pairs,
triangles and quads, weighted or not, periodic or not, direct or from a graph,
on 1 and 2 threads; covariances follow their formulas; regions are made on
the sky or as sub-cubes; bad input is refused."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

import astrograph as ag
from astrograph import errors
from astrograph.clustering.mocks import thomas_process, uniform_randoms
from astrograph.clustering.regions import box_labels, sky_centres, sky_labels

import reference as ref

K = 5


def _catalogue(seed: int, boxsize: float | None):
    rng = np.random.default_rng(seed)
    size = 20.0
    d = thomas_process(30, 5.0, 1.0, size, seed=seed)
    r = uniform_randoms(2 * len(d), size, seed=seed + 1)
    if boxsize is None:  # a survey-like patch away from the observer
        d, r = d + 100.0, r + 100.0
    dw, rw = rng.uniform(0.5, 1.5, len(d)), rng.uniform(0.5, 1.5, len(r))
    dl, rl = rng.integers(0, K, len(d)), rng.integers(0, K, len(r))
    return d, r, dw, rw, dl, rl


def _stacked(res):
    return res._stacked()


@pytest.mark.parametrize("boxsize", [None, 20.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_delete_one_equals_recounting_without_the_region(boxsize, weighted):
    d, r, dw, rw, dl, rl = _catalogue(3, boxsize)
    if not weighted:
        dw = rw = None
    pb = ag.Bins.linear(0.5, 4.0, 3, nmu=2)
    tb = ag.Bins.linear(0.5, 4.0, 3)
    kw = dict(data_weights=dw, random_weights=rw, boxsize=boxsize, regions=(dl, rl))
    g = ag.NeighbourGraph.build(d, r, rmax=4.0, **kw)
    assert g.n_regions == K
    results = {
        "pairs": [ag.count_pairs(d, r, bins=pb, **kw, num_threads=t) for t in (1, 2)]
        + [g.count_pairs(pb)],
        "triangles": [ag.count_triangles(d, r, bins=tb, **kw, num_threads=t) for t in (1, 2)]
        + [g.count_triangles(tb)],
        "quads": [ag.count_quads(d, r, bins=tb, **kw)] + [g.count_quads(tb)],
    }
    fns = {"pairs": ag.count_pairs, "triangles": ag.count_triangles, "quads": ag.count_quads}
    for kind, res in results.items():
        real = res[0].realisations(_stacked)
        norms = res[0].realisations(lambda x: [x.data.s1, x.data.s2, x.randoms.s1])
        for other in res[1:]:
            np.testing.assert_allclose(other.realisations(_stacked), real, rtol=1e-12, atol=1e-9)
        bins = pb if kind == "pairs" else tb
        for k in range(K):
            keep_d, keep_r = dl != k, rl != k
            want = fns[kind](
                d[keep_d],
                r[keep_r],
                bins=bins,
                data_weights=None if dw is None else dw[keep_d],
                random_weights=None if rw is None else rw[keep_r],
                boxsize=boxsize,
            )
            if kind == "quads":  # shapes present in the full count, in its order
                got = dict(zip(map(tuple, res[0].shapes), real[k].T, strict=True))
                for s, c in zip(map(tuple, want.shapes), want.counts.T, strict=True):
                    np.testing.assert_allclose(got[s], c, rtol=1e-12, atol=1e-9)
            else:
                np.testing.assert_allclose(real[k], _stacked(want), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(
                norms[k], [want.data.s1, want.data.s2, want.randoms.s1], rtol=1e-12
            )
            # The tuples within region k: the counts of region k alone.
            inside = fns[kind](
                d[~keep_d],
                r[~keep_r],
                bins=bins,
                data_weights=None if dw is None else dw[~keep_d],
                random_weights=None if rw is None else rw[~keep_r],
                boxsize=boxsize,
            )
            for res_one in res:
                within = res_one.resampling.within[k]
                if kind == "quads":
                    got = dict(zip(map(tuple, res_one.shapes), within[:5].T, strict=True))
                    for s, c in zip(map(tuple, inside.shapes), inside.counts.T, strict=True):
                        np.testing.assert_allclose(got[s], c, rtol=1e-12, atol=1e-9)
                else:
                    np.testing.assert_allclose(within, _stacked(inside), rtol=1e-12, atol=1e-9)


def test_jackknife_covariance_follows_its_formula():
    d, r, _, _, dl, rl = _catalogue(5, None)
    pc = ag.count_pairs(d, r, bins=ag.Bins.log(0.5, 5.0, 4), regions=(dl, rl))
    x = pc.realisations("xi_s")
    assert x.shape == (K, 4)
    dx = x - x.mean(0)
    np.testing.assert_allclose(pc.cov("xi_s"), (K - 1) / K * dx.T @ dx)
    np.testing.assert_allclose(pc.std("xi_s"), np.sqrt(np.diag(pc.cov("xi_s"))))
    assert pc.cov("multipoles").shape == (12, 12)
    b1 = pc.cov("xi_s", method="bootstrap", nboot=50, seed=3)
    np.testing.assert_array_equal(b1, pc.cov("xi_s", method="bootstrap", nboot=50, seed=3))
    assert not np.array_equal(b1, pc.cov("xi_s", method="bootstrap", nboot=50, seed=4))
    assert np.all(np.diag(b1) > 0)


def test_bootstrap_tables_add_up_to_the_total():
    """Each tuple is in the table of its smallest region exactly once."""
    d, r, dw, rw, dl, rl = _catalogue(8, 20.0)
    tc = ag.count_triangles(
        d, r, bins=ag.Bins.linear(0.5, 4.0, 3), data_weights=dw, boxsize=20.0, regions=(dl, rl)
    )
    np.testing.assert_allclose(tc.resampling.low.sum(0), tc._stacked(), rtol=1e-12)
    np.testing.assert_allclose(
        tc.resampling.data_sums.sum(0), [tc.data.n, tc.data.s1, tc.data.s2, tc.data.s3, tc.data.s4]
    )


def test_regions_from_a_number():
    box = 60.0
    pts = uniform_randoms(4000, box, seed=1)
    lab = box_labels(pts, box, 27)
    assert set(np.unique(lab)) == set(range(27))
    assert np.bincount(lab).min() > 100  # equal sub-cubes of a uniform box
    pc = ag.count_pairs(pts, bins=ag.Bins.linear(1, 5, 2), boxsize=box, regions=27)
    assert pc.resampling.nregions == 27
    with pytest.raises(errors.InputError, match="not a cube"):
        ag.count_pairs(pts, bins=ag.Bins.linear(1, 5, 2), boxsize=box, regions=10)
    # sky patches: k-means on directions, randoms take the nearest centre
    rng = np.random.default_rng(2)
    ra, dec = rng.uniform(0, 60, 5000), rng.uniform(-10, 30, 5000)
    cat = ag.Catalog.from_sky(ra, dec, rng.uniform(0.05, 0.1, 5000))
    centres = sky_centres(cat.positions, 10)
    lab = sky_labels(cat.positions, centres)
    sizes = np.bincount(lab, minlength=10)
    assert sizes.min() > 0.4 * sizes.mean()  # k-means patches of similar size
    pc = ag.count_pairs(cat, bins=ag.Bins.linear(1, 10, 2), regions=10)
    assert pc.resampling.nregions == 10
    assert np.isfinite(pc.cov(lambda p: p.dd[:, 0] / p.dd_norm)).all()


@pytest.mark.parametrize(
    "regions, match",
    [
        (1, "between 2"),
        ((np.zeros(10), None), r"shape \(200,\)"),
        ((np.full(200, -1), None), r"\[0, "),
        ((np.full(200, 0.5), None), "integers"),
        ((np.zeros(200, int), None), "at least 2 regions"),
        ("five", "number of regions or labels per catalogue"),
    ],
)
def test_bad_regions_are_refused(regions, match):
    pts = np.random.default_rng(0).uniform(0, 10, (200, 3))
    with pytest.raises(errors.InputError, match=match):
        ag.count_pairs(pts, bins=[0.5, 1.0], regions=regions)


def test_no_regions_no_error_bars():
    pc = ag.count_pairs(np.random.default_rng(0).uniform(0, 10, (50, 3)), bins=[0.5, 1.0])
    with pytest.raises(errors.InputError, match="regions="):
        pc.cov()


def test_jackknife_variance_matches_the_scatter_of_independent_mocks():
    """40 Thomas-process mocks in periodic boxes, with randoms (the analytic
    RR of the whole box would bias every realisation): the mean jackknife variance
    of xi(s) (27 sub-cubes) is within a factor 2 of the mock-to-mock variance
    in every bin, with and without the correction (a small version of the
    benchmark check). The number of
    clusters is Poisson, as in the process itself: with a fixed number the
    mocks would lack that scatter and the jackknife, which sees independent
    regions, would look 2-3x too large."""
    bins = ag.Bins.log(1.0, 8.0, 4)
    rng = np.random.default_rng(0)
    xs, vars_ = [], []
    for seed in range(40):
        d = thomas_process(int(rng.poisson(400)), 6.0, 1.5, 80.0, seed=100 + seed)
        r = uniform_randoms(2 * len(d), 80.0, seed=500 + seed)
        pc = ag.count_pairs(d, r, bins=bins, boxsize=80.0, regions=27)
        xs.append(pc.xi_s())
        vars_.append([pc.std("xi_s") ** 2, pc.std("xi_s", correction="mohammad21") ** 2])
    # Plain and Mohammad-Percival-corrected jackknife alike.
    ratio = np.mean(vars_, axis=0) / np.var(xs, axis=0, ddof=1)
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    assert np.all(ratio[1] < ratio[0]), ratio  # the correction only lowers the variance


def test_saved_graph_keeps_its_regions(tmp_path):
    d, r, dw, rw, dl, rl = _catalogue(11, None)
    g = ag.NeighbourGraph.build(d, r, rmax=4.0, data_weights=dw, regions=(dl, rl))
    g.save(tmp_path / "g.arrow")
    h = ag.NeighbourGraph.load(tmp_path / "g.arrow")
    assert h.n_regions == K
    bins = ag.Bins.linear(0.5, 4.0, 3)
    np.testing.assert_array_equal(
        h.count_triangles(bins).realisations(_stacked),
        g.count_triangles(bins).realisations(_stacked),
    )
    np.testing.assert_allclose(h.count_pairs(bins).cov("xi_s"), g.count_pairs(bins).cov("xi_s"))


def test_error_bars_in_a_box_without_randoms_are_refused():
    """Realisations normalised by the whole box's analytic randoms would be
    biased (the deleted region's pairs are gone from DD, not from RR)."""
    d = thomas_process(100, 6.0, 1.5, 60.0, seed=4)
    pc = ag.count_pairs(d, bins=ag.Bins.log(1.0, 8.0, 4), boxsize=60.0, regions=8)
    tc = ag.count_triangles(d, bins=ag.Bins.linear(1.0, 8.0, 3), boxsize=60.0, regions=8)
    mp = ag.count_triangle_multipoles(d, bins=[1.0, 4.0, 8.0], lmax=2, boxsize=60.0, regions=8)
    for fn in (pc.std, pc.cov, lambda: tc.cov("zeta"), mp.std):
        with pytest.raises(errors.InputError, match="need randoms"):
            fn()
    with pytest.raises(errors.InputError, match="need randoms"):
        pc.cov(method="bootstrap", nboot=10)
    assert pc.resampling.touch.sum() > 0  # the tables themselves are kept


def _corrected_brute_force(points, weights, types, labels, k, alpha, nvert, box, edges):
    """Normalised counts of the Mohammad-Percival realisation without region k,
    tuple by tuple: a tuple within k leaves, one crossing k's border keeps
    weight 1 - alpha, the others 1; the norms are the same weighted sums over
    every tuple of points (binned or not). Shape (nvert + 1, *side bins)."""
    nb = len(edges) - 1
    counts = np.zeros((nvert + 1,) + (nb,) * (nvert * (nvert - 1) // 2))
    norms = np.zeros(nvert + 1)
    for tup in combinations(range(len(points)), nvert):
        tup = list(tup)
        regs = labels[tup]
        keep = 1.0 if k not in regs else (0.0 if np.all(regs == k) else 1.0 - alpha)
        w = keep * np.prod(weights[tup])
        t = int(types[tup].sum())
        norms[t] += w
        sides = [
            int(ref.bin_of(ref.separation(points[a], points[b], box)[1], edges))
            for a, b in combinations(tup, 2)
        ]
        if min(sides) >= 0:
            counts[(t, *sorted(sides))] += w
    with np.errstate(invalid="ignore"):
        return counts / norms.reshape((-1,) + (1,) * (counts.ndim - 1))


@pytest.mark.parametrize("boxsize", [None, 8.0])
def test_mohammad_percival_realisations_follow_their_definition(boxsize):
    """correction='mohammad21': every normalised count of every realisation
    equals the brute-force sum with the crossing tuples weighted 1 - alpha,
    alpha = K / (2 + sqrt(2)(K - 1)), for pairs and triangles, weighted."""
    rng = np.random.default_rng(7)
    d, r = rng.uniform(0, 8.0, (22, 3)), rng.uniform(0, 8.0, (26, 3))
    dw, rw = rng.uniform(0.5, 1.5, len(d)), rng.uniform(0.5, 1.5, len(r))
    kreg = 3
    dl, rl = (np.minimum((x[:, 0] / 8.0 * kreg).astype(int), kreg - 1) for x in (d, r))
    edges = np.array([0.5, 2.0, 3.5])
    kw = dict(data_weights=dw, random_weights=rw, boxsize=boxsize, regions=(dl, rl))
    pc = ag.count_pairs(d, r, bins=ag.Bins(edges), **kw)
    tc = ag.count_triangles(d, r, bins=ag.Bins(edges), **kw)
    alpha = kreg / (2 + np.sqrt(2) * (kreg - 1))
    pts, w = np.vstack([d, r]), np.concatenate([dw, rw])
    types, labels = np.repeat([0, 1], [len(d), len(r)]), np.concatenate([dl, rl])

    def normalised_pairs(x):
        return np.stack([x.dd[:, 0] / x.dd_norm, x.dr[:, 0] / x.dr_norm, x.rr[:, 0] / x.rr_norm])

    def normalised_triangles(x):
        return np.stack([getattr(x, c) / x.norm(c) for c in ("ddd", "ddr", "drr", "rrr")])

    got_p = pc.realisations(normalised_pairs, correction="mohammad21")
    got_t = tc.realisations(normalised_triangles, correction="mohammad21")
    for k in range(kreg):
        args = (pts, w, types, labels, k, alpha)
        want_p = _corrected_brute_force(*args, 2, boxsize, edges)
        want_t = _corrected_brute_force(*args, 3, boxsize, edges)
        np.testing.assert_allclose(got_p[k], want_p, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(got_t[k], want_t, rtol=1e-10, atol=1e-14)
    # The plain jackknife is the same sum with alpha = 1.
    np.testing.assert_allclose(
        tc.realisations(normalised_triangles)[1],
        _corrected_brute_force(pts, w, types, labels, 1, 1.0, 3, boxsize, edges),
        rtol=1e-10,
        atol=1e-14,
    )
    assert not np.allclose(pc.std("xi_s", correction="mohammad21"), pc.std("xi_s"))


def test_corrected_jackknife_from_a_graph_equals_the_direct_count():
    d, r, dw, rw, dl, rl = _catalogue(13, 20.0)
    kw = dict(data_weights=dw, random_weights=rw, boxsize=20.0, regions=(dl, rl))
    g = ag.NeighbourGraph.build(d, r, rmax=4.0, **kw)
    bins = ag.Bins.linear(0.5, 4.0, 3)
    for direct, graph, stat in (
        (ag.count_pairs(d, r, bins=bins, **kw), g.count_pairs(bins), "xi_s"),
        (ag.count_triangles(d, r, bins=bins, **kw), g.count_triangles(bins), "zeta"),
        (ag.count_quads(d, r, bins=bins, **kw), g.count_quads(bins), "eta"),
    ):
        np.testing.assert_allclose(
            graph.cov(stat, correction="mohammad21"),
            direct.cov(stat, correction="mohammad21"),
            rtol=1e-10,
        )


def test_multipole_within_tables_equal_the_regions_alone():
    """The multipoles' within-region tables are the typed sums of each region
    counted alone, and the corrected realisations follow the same algebra as
    the triangle counts (checked against its definition: rows scaled by the
    corrected norms of the brute-force sums of the triangles test)."""
    d, r, dw, rw, dl, rl = _catalogue(17, None)
    bins = [0.5, 2.0, 4.0]
    kw = dict(data_weights=dw, random_weights=rw)
    mp = ag.count_triangle_multipoles(d, r, bins=bins, lmax=3, regions=(dl, rl), **kw)
    for k in range(K):
        alone = ag.count_triangle_multipoles(
            d[dl == k],
            r[rl == k],
            bins=bins,
            lmax=3,
            data_weights=dw[dl == k],
            random_weights=rw[rl == k],
            regions=(np.zeros((dl == k).sum(), int), np.arange((rl == k).sum()) % 2),
        )  # fmt: skip  (two regions: typed sums come with regions; their total is all)
        np.testing.assert_allclose(mp.within[k], alone.typed, rtol=1e-10, atol=1e-12)
    alpha = K / (2 + np.sqrt(2) * (K - 1))
    typed = mp.realisations(lambda t: t.randoms, correction="mohammad21")
    plain = mp.realisations(lambda t: t.randoms)
    # RRR of realisation k: total - within - alpha (touch - within), times N_out / N_w
    rsum = mp.region_sums[1]
    for k in range(K):
        want = mp.typed[3] - mp.within[k, 3] - alpha * (mp.jackknife[k, 3] - mp.within[k, 3])
        e3 = [ag.clustering.results.Norms(0, *s[1:]).triples for s in (rsum.sum(0), rsum[k])]
        n_out = ag.clustering.results.Norms(0, *(rsum.sum(0) - rsum[k])[1:]).triples
        n_w = (1 - alpha) * (e3[0] - e3[1]) + alpha * n_out
        np.testing.assert_allclose(typed[k], want * n_out / n_w, rtol=1e-10)
        np.testing.assert_allclose(plain[k], mp.typed[3] - mp.jackknife[k, 3], rtol=1e-12)
    assert np.all(mp.std(correction="mohammad21") <= mp.std() * 1.5)


def test_bad_corrections_are_refused():
    d, r, _, _, dl, rl = _catalogue(5, None)
    pc = ag.count_pairs(d, r, bins=ag.Bins.log(0.5, 5.0, 4), regions=(dl, rl))
    with pytest.raises(errors.InputError, match="correction must be one of"):
        pc.cov(correction="mohammad")
    with pytest.raises(errors.InputError, match="jackknife only"):
        pc.cov(method="bootstrap", correction="mohammad21")
    mp = ag.count_triangle_multipoles(d, r, bins=[0.5, 2.0, 4.0], lmax=2, regions=(dl, rl))
    with pytest.raises(errors.InputError, match="correction must be one of"):
        mp.std(correction="MP")


def test_sky_labels_are_the_nearest_centre():
    """Patch labels (assigned in the core, points not normalised) equal a
    brute-force argmax of the dot products of unit vectors, (N, 3) rows and
    transposed (3, N) views alike; a point at the observer and a missing
    centre are refused."""
    rng = np.random.default_rng(11)
    pos = rng.normal(size=(3000, 3)) * rng.uniform(0.5, 2000.0, (3000, 1))
    centres = rng.normal(size=(12, 3))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    unit = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    want = np.argmax(unit @ centres.T, axis=1)
    dots = np.sort(unit @ centres.T, axis=1)
    clear = dots[:, -1] - dots[:, -2] > 1e-12  # no near-tie that rounding may flip
    got = sky_labels(pos, centres)
    np.testing.assert_array_equal(got[clear], want[clear])
    np.testing.assert_array_equal(sky_labels(np.ascontiguousarray(pos.T).T, centres), got)
    with pytest.raises(errors.InputError, match="away from the observer"):
        sky_labels(np.vstack([pos, [0.0, 0.0, 0.0]]), centres)
    with pytest.raises(errors.InputError, match="centres"):
        sky_labels(pos, np.empty((0, 3)))


@pytest.mark.parametrize("boxsize", [None, 20.0])
def test_many_thin_regions_pair_by_pair(monkeypatch, boxsize):
    """Separation bins alone (no mu: pairs within a region go to interleaved
    lanes), weighted, 12 slabs thinner than rmax: a primary has pairs in up
    to 8 other regions and the primaries' region changes often. Delete-one
    realisations equal recounts without the region, on 1 and 2 threads, and
    the AVX-512 and baseline kernels give the same bits."""
    d, r, dw, rw, _, _ = _catalogue(5, boxsize)
    k = 12
    dl, rl = (((p[:, 0] % 20.0) // (20.0 / k)).astype(int) for p in (d, r))
    bins = ag.Bins.linear(0.5, 7.0, 4)
    kw = dict(data_weights=dw, random_weights=rw, boxsize=boxsize, regions=(dl, rl))

    def run(threads: int = 2):
        return ag.count_pairs(d, r, bins=bins, **kw, num_threads=threads)

    fast = run()
    real = fast.realisations(_stacked)
    np.testing.assert_allclose(run(1).realisations(_stacked), real, rtol=1e-12, atol=1e-9)
    for j in range(k):
        keep_d, keep_r = dl != j, rl != j
        want = ag.count_pairs(d[keep_d], r[keep_r], bins=bins, data_weights=dw[keep_d],
                              random_weights=rw[keep_r], boxsize=boxsize)  # fmt: skip
        np.testing.assert_allclose(real[j], _stacked(want), rtol=1e-12, atol=1e-9)
    monkeypatch.setenv("ASTROGRAPH_SIMD", "baseline")
    base = run()
    for table in ("touch", "low", "within"):
        np.testing.assert_array_equal(getattr(fast.resampling, table),
                                      getattr(base.resampling, table), err_msg=table)  # fmt: skip
    for name in fast.counts:
        np.testing.assert_array_equal(fast.counts[name], base.counts[name], err_msg=name)
