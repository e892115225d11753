"""Projected counts DD(rp, pi), xi(rp, pi) and wp(rp): exact against brute
force (direct and graph paths, z and midpoint lines of sight, periodic and
not, weighted, 1 and 2 threads), analytic RR in a box, jackknife errors."""

from __future__ import annotations

import numpy as np
import pytest

import astrograph as ag
from astrograph import errors
from astrograph.clustering.mocks import thomas_process, uniform_randoms

import reference as ref


@pytest.mark.parametrize("los, box", [("z", 20.0), ("midpoint", None), ("z", None)])
@pytest.mark.parametrize("weighted", [False, True])
def test_rppi_matches_brute_force(los, box, weighted):
    rng = np.random.default_rng(4)
    off = 0.0 if box else 50.0
    d = ref.clustered(rng, 150, 20.0) + off
    r = ref.lattice_with_duplicates(rng, 170, 20.0) + off
    dw, rw = (rng.uniform(0.5, 2, 150), rng.uniform(0.5, 2, 170)) if weighted else (None, None)
    rp = ag.Bins([0.0, 0.5, 1.0, 2.0, 3.5, 5.0])
    want = ref.rppi(d, r, rp_edges=rp.edges, pimax=6.0, npi=6, box=box, los=los, dw=dw, rw=rw)
    kw = dict(data_weights=dw, random_weights=rw, boxsize=box, los=los)
    runs = []
    for threads in (1, 2):
        pc = ag.count_pairs_rppi(d, r, rp_bins=rp, pimax=6.0, **kw, num_threads=threads)
        got = np.stack([pc.dd, pc.dr, pc.rr])
        runs.append(got)
        if weighted:
            np.testing.assert_allclose(got, want, rtol=1e-12)
        else:
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(runs[0], runs[1])
    g = ag.NeighbourGraph.build(d, r, rmax=np.hypot(5.0, 6.0) + 1e-6, **kw)
    gp = g.count_pairs_rppi(rp, pimax=6.0)
    np.testing.assert_allclose(np.stack([gp.dd, gp.dr, gp.rr]), runs[0], rtol=1e-12)
    assert pc.wp().shape == (5,) and pc.to_arrow().num_rows == 30


def test_graph_too_small_for_the_projection_is_refused():
    pts = np.random.default_rng(0).uniform(0, 20, (300, 3))
    g = ag.NeighbourGraph.build(pts, rmax=5.0)
    with pytest.raises(errors.BinningError, match=r"rebuild it with rmin = 0 and rmax >= 7.8"):
        g.count_pairs_rppi([0.5, 5.0], pimax=6.0)


def test_uniform_box_has_wp_consistent_with_zero_and_clustering_gives_positive_wp():
    box = 60.0
    pts = uniform_randoms(20000, box, seed=5)
    pc = ag.count_pairs_rppi(pts, rp_bins=ag.Bins.log(1, 10, 4), pimax=10.0, boxsize=box)
    np.testing.assert_allclose(pc.dd, pc.rr_analytic(), rtol=0.05)
    assert np.all(np.abs(pc.wp()) < 1.0)
    d = thomas_process(1000, 8.0, 1.5, box, seed=6)
    r = uniform_randoms(2 * len(d), box, seed=7)  # error bars in a box need randoms
    pc = ag.count_pairs_rppi(
        d, r, rp_bins=ag.Bins.log(0.5, 5, 4), pimax=20.0, boxsize=box, regions=27
    )
    wp, err = pc.wp(), pc.std("wp")
    assert np.all(wp[:3] > 3 * err[:3]) and np.all(err > 0)
    assert pc.cov("wp").shape == (4, 4)
    with pytest.raises(errors.InputError, match="no multipoles"):
        pc.multipoles()


@pytest.mark.parametrize("pimax", [0.0, -1.0, np.inf])
def test_bad_pimax_is_refused(pimax):
    with pytest.raises(errors.InputError, match="pimax"):
        ag.count_pairs_rppi(np.ones((5, 3)), rp_bins=[0.1, 1.0], pimax=pimax)
