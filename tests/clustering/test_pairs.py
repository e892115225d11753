"""Exact pair counts against the brute-force reference, on every path."""

from __future__ import annotations

import numpy as np
import pytest

import astrograph as ag
from astrograph.clustering.mocks import thomas_process, thomas_xi, uniform_randoms

import reference as ref

THREADS = [1, 2, None]


def catalogues(kind: str, seed: int = 0, n: int = 180, size: float = 20.0):
    rng = np.random.default_rng(seed)
    data = (
        ref.clustered(rng, n, size)
        if kind == "clustered"
        else ref.lattice_with_duplicates(rng, n, size)
    )
    randoms = ref.lattice_with_duplicates(rng, n + 20, size)
    return data, randoms, rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n + 20)


BIN_CASES = [
    ag.Bins([0.0, 1.0, 2.0, 3.0, 5.0, 8.0]),  # integer edges hit lattice separations exactly
    ag.Bins.log(0.5, 8.0, 6, nmu=4),
    ag.Bins.linear(1.0, 6.0, 5, nmu=3),
    ag.Bins([0.0, 0.001, 0.002, 9.0]),  # two (nearly) empty bins after d = 0
]


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("box", [None, 20.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("bins", BIN_CASES, ids=["int-edges", "log-mu", "lin-mu", "empty"])
def test_pairs_match_brute_force(kind, box, weighted, bins):
    data, randoms, dw, rw = catalogues(kind)
    if not weighted:
        dw = rw = None
    los = "z" if box else "midpoint"
    want = ref.pairs(data, randoms, edges=bins.edges, nmu=bins.nmu, box=box, los=los, dw=dw, rw=rw)
    results = []
    for threads in THREADS:
        pc = ag.count_pairs(
            data,
            randoms,
            bins=bins,
            data_weights=dw,
            random_weights=rw,
            boxsize=box,
            num_threads=threads,
        )
        got = np.stack([pc.dd, pc.dr, pc.rr])
        if weighted:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        else:
            np.testing.assert_array_equal(got, want)
        results.append(got)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])  # bit-identical across thread counts
    g = ag.NeighbourGraph.build(
        data, randoms, rmax=9.0, data_weights=dw, random_weights=rw, boxsize=box
    )
    for threads in THREADS:
        gp = g.count_pairs(bins, num_threads=threads)
        got = np.stack([gp.dd, gp.dr, gp.rr])
        if weighted:
            np.testing.assert_allclose(got, results[0], rtol=1e-12, atol=0)
        else:
            np.testing.assert_array_equal(got, results[0])


def test_data_only_counts_and_norms():
    data, _, dw, _ = catalogues("clustered", seed=3)
    bins = ag.Bins.linear(0.0, 6.0, 6)
    pc = ag.count_pairs(data, bins=bins, data_weights=dw)
    want = ref.pairs(data, edges=bins.edges, dw=dw)
    np.testing.assert_allclose(pc.dd, want[0], rtol=1e-12)
    assert not pc.has_randoms and pc.dr.sum() == 0 and pc.rr.sum() == 0
    assert pc.dd_norm == pytest.approx(0.5 * (dw.sum() ** 2 - (dw**2).sum()))


def test_graph_without_mu_and_with_rmin_counts_the_same():
    data, randoms, _, _ = catalogues("clustered", seed=5)
    bins = ag.Bins.linear(1.0, 6.0, 5, nmu=5)
    direct = ag.count_pairs(data, randoms, bins=bins)
    g = ag.NeighbourGraph.build(data, randoms, rmin=1.0, rmax=6.0, store_mu=False)
    assert g.bytes_per_edge == 8
    gp = g.count_pairs(bins)
    np.testing.assert_array_equal(
        np.stack([gp.dd, gp.dr, gp.rr]), np.stack([direct.dd, direct.dr, direct.rr])
    )
    with pytest.raises(ag.errors.BinningError, match="rebuild the graph"):
        g.count_pairs(ag.Bins.linear(0.5, 6.0, 5))


def test_landy_szalay_recovers_the_thomas_process():
    box, n_parents, sigma = 200.0, 3000, 2.0
    data = thomas_process(n_parents, 6.0, sigma, box, seed=11)
    randoms = uniform_randoms(2 * len(data), box, seed=12)
    bins = ag.Bins.log(1.0, 8.0, 6)
    pc = ag.count_pairs(data, randoms, bins=bins)
    xi, want = pc.xi_s(), thomas_xi(bins.centers, n_parents, sigma, box)
    # Bin-averaged xi vs xi at the bin centre: agree within 15% where xi > 0.3.
    strong = want > 0.3
    np.testing.assert_allclose(xi[strong], want[strong], rtol=0.15)
    # Natural estimator with analytic RR in the box agrees with Landy-Szalay.
    box_pc = ag.count_pairs(data, bins=bins, boxsize=box)
    np.testing.assert_allclose(box_pc.xi_s()[strong], xi[strong], rtol=0.1)
    for est in ("natural", "davis-peebles", "hamilton"):
        np.testing.assert_allclose(pc.xi_s(est)[strong], want[strong], rtol=0.25)


def test_uniform_points_are_unclustered_and_isotropic():
    box = 100.0
    data = uniform_randoms(20000, box, seed=3)
    bins = ag.Bins.linear(5.0, 25.0, 4, nmu=10)
    pc = ag.count_pairs(data, bins=bins, boxsize=box)
    xi = pc.xi_s()
    assert np.all(np.abs(xi) < 0.02), xi
    mono, quad, hexa = pc.multipoles()
    assert np.all(np.abs(quad) < 0.03) and np.all(np.abs(mono) < 0.02)
    assert pc.rr_analytic().sum() == pytest.approx(pc.dd_norm * bins.shell_volumes().sum() / box**3)


def test_multipoles_of_a_squashed_catalogue_have_a_quadrupole():
    box = 100.0
    rng = np.random.default_rng(1)
    parents = rng.uniform(0, box, (2000, 3))
    kids = np.repeat(parents, 5, axis=0)
    offs = rng.normal(0, 2.0, kids.shape)
    offs[:, 2] *= 0.3  # flattened along the line of sight (Kaiser-like squashing)
    data = np.mod(kids + offs, box)
    pc = ag.count_pairs(data, bins=ag.Bins.linear(1.0, 5.0, 4, nmu=10), boxsize=box, los="z")
    mono, quad, _ = pc.multipoles()
    assert np.all(mono > 0.05) and np.all(quad < -0.2 * mono), (mono, quad)


def test_outputs_table_parquet_ascii(tmp_path):
    data, randoms, _, _ = catalogues("clustered", seed=2)
    pc = ag.count_pairs(data, randoms, bins=ag.Bins.log(0.5, 8.0, 5, nmu=2))
    t = pc.to_arrow()
    assert t.num_rows == 10 and set(t.column_names) >= {
        "r_lo",
        "r_hi",
        "mu_lo",
        "mu_hi",
        "DD",
        "DR",
        "RR",
        "xi",
    }
    np.testing.assert_array_equal(t.column("DD").to_numpy(), pc.dd.ravel())
    pc.save_parquet(tmp_path / "xi.parquet")
    pc.save_ascii(tmp_path / "xi.txt")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "xi.parquet").equals(t)
    txt = np.loadtxt(tmp_path / "xi.txt")
    np.testing.assert_allclose(txt[:, 4], pc.dd.ravel(), rtol=1e-9)
    import matplotlib

    matplotlib.use("Agg")
    for kind in ("xi", "s2xi", "multipoles", "xi_smu"):
        assert pc.plot(kind) is not None
