"""Property-based exactness: random small catalogues (duplicates, lattice points
on bin edges, clumps), random bins, mu bins, weights and periodic boxes;
count_pairs / count_triangles / count_quads and the graph paths against the
brute-force references, on 1 and 2 threads.

A bounded number of examples runs with the suite; ``pytest -m fuzz`` runs the
same properties with many more (nightly-style).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astrograph as ag

import reference as ref

SIZE = 12.0
CI = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def points(draw, max_n):
    """(n, 3) points: uniform, integer-lattice (separations exactly on integer
    bin edges), exact duplicates and tight clumps, mixed."""
    n = draw(st.integers(1, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 4, n)
    pts = rng.uniform(0, SIZE, (n, 3))
    pts[kind == 1] = rng.integers(0, int(SIZE), ((kind == 1).sum(), 3)).astype(float)
    centre = rng.uniform(2, SIZE - 2, 3)
    pts[kind == 2] = np.clip(centre + rng.normal(0, 0.3, ((kind == 2).sum(), 3)), 0, SIZE - 1e-9)
    dup = np.flatnonzero(kind == 3)
    if dup.size and n > 1:
        pts[dup] = pts[rng.integers(0, n, dup.size)]
    return pts


@st.composite
def binning(draw, max_bins=5, periodic=False):
    """Sorted bin edges (integers, halves and arbitrary values), up to rmax < SIZE/2."""
    top = SIZE / 2 - 0.01 if periodic else SIZE / 2
    pool = st.one_of(
        st.integers(0, int(top)).map(float),
        st.integers(0, int(2 * top)).map(lambda v: v / 2),
        st.floats(0.0, top, allow_nan=False),
    )
    edges = sorted(set(draw(st.lists(pool, min_size=2, max_size=max_bins + 1))))
    if len(edges) < 2:
        edges = [0.0, top]
    return [e for e in edges if e <= top]


@st.composite
def case(draw, max_n, max_bins=5, mu=False, weights=True):
    periodic = draw(st.booleans())
    edges = draw(binning(max_bins, periodic))
    if len(edges) < 2:
        edges = [0.0, 1.0]
    data = draw(points(max_n))
    randoms = draw(st.one_of(st.none(), points(max_n)))
    rng = np.random.default_rng(len(data))
    dw = rng.uniform(0.1, 2.0, len(data)) if weights and draw(st.booleans()) else None
    rw = (
        rng.uniform(0.1, 2.0, len(randoms))
        if weights and randoms is not None and draw(st.booleans())
        else None
    )
    nmu = draw(st.integers(1, 4)) if mu else 1
    return dict(
        data=data,
        randoms=randoms,
        dw=dw,
        rw=rw,
        bins=ag.Bins(edges, nmu),
        boxsize=SIZE if periodic else None,
    )


def _check(got, want, weighted):
    if weighted:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(got, want)


def _pairs(c):
    b, box = c["bins"], c["boxsize"]
    los = "z" if box else "midpoint"
    want = ref.pairs(
        c["data"], c["randoms"], edges=b.edges, nmu=b.nmu, box=box, los=los, dw=c["dw"], rw=c["rw"]
    )
    weighted = c["dw"] is not None or c["rw"] is not None
    kw = dict(bins=b, data_weights=c["dw"], random_weights=c["rw"], boxsize=box)
    runs = []
    for threads in (1, 2):
        pc = ag.count_pairs(c["data"], c["randoms"], **kw, num_threads=threads)
        runs.append(np.stack([pc.dd, pc.dr, pc.rr]))
        _check(runs[-1], want, weighted)
    np.testing.assert_array_equal(runs[0], runs[1])  # bit-identical over thread counts
    g = ag.NeighbourGraph.build(
        c["data"],
        c["randoms"],
        rmax=b.rmax,
        rmin=b.rmin,
        data_weights=c["dw"],
        random_weights=c["rw"],
        boxsize=box,
    )
    gp = g.count_pairs(b, num_threads=2)
    _check(np.stack([gp.dd, gp.dr, gp.rr]), runs[0], weighted)


def _triangles(c):
    b, box = c["bins"], c["boxsize"]
    want = ref.triangles(c["data"], c["randoms"], edges=b.edges, box=box, dw=c["dw"], rw=c["rw"])
    weighted = c["dw"] is not None or c["rw"] is not None
    kw = dict(bins=b, data_weights=c["dw"], random_weights=c["rw"], boxsize=box)
    runs = []
    for threads in (1, 2):
        tc = ag.count_triangles(c["data"], c["randoms"], **kw, num_threads=threads)
        runs.append(np.stack([tc.ddd, tc.ddr, tc.drr, tc.rrr]))
        _check(runs[-1], want, weighted)
    np.testing.assert_array_equal(runs[0], runs[1])
    g = ag.NeighbourGraph.build(
        c["data"],
        c["randoms"],
        rmax=b.rmax,
        data_weights=c["dw"],
        random_weights=c["rw"],
        boxsize=box,
    )
    gt = g.count_triangles(b, num_threads=2)
    _check(np.stack([gt.ddd, gt.ddr, gt.drr, gt.rrr]), runs[0], weighted)


def _quads(c):
    b, box = c["bins"], c["boxsize"]
    want = ref.quads(c["data"], c["randoms"], edges=b.edges, box=box)
    for threads in (1, 2):
        qc = ag.count_quads(c["data"], c["randoms"], bins=b, boxsize=box, num_threads=threads)
        got = {tuple(s): qc.counts[:, k] for k, s in enumerate(qc.shapes) if qc.counts[:, k].any()}
        assert set(got) == set(want)
        for shape, counts in want.items():
            np.testing.assert_array_equal(got[shape], counts)


@CI
@given(case(max_n=40, mu=True))
def test_pairs_are_exact(c):
    _pairs(c)


@CI
@given(case(max_n=20))
def test_triangles_are_exact(c):
    _triangles(c)


@CI
@given(case(max_n=9, max_bins=3, weights=False))
def test_quads_are_exact(c):
    _quads(c)


@pytest.mark.fuzz
@FUZZ
@given(case(max_n=60, max_bins=8, mu=True))
def test_pairs_are_exact_fuzz(c):
    _pairs(c)


@pytest.mark.fuzz
@FUZZ
@given(case(max_n=30, max_bins=8))
def test_triangles_are_exact_fuzz(c):
    _triangles(c)


@pytest.mark.fuzz
@FUZZ
@given(case(max_n=12, max_bins=4, weights=False))
def test_quads_are_exact_fuzz(c):
    _quads(c)
