"""The two-point engine (count_pairs, count_pairs_rppi, count_angular)
against brute-force numpy references written from the documented
conventions (twopoint_reference.py): auto- and cross-correlations, every
line of sight, signed and unsigned mu and pi, random splits, individual,
PIP / IIP and angular weights, periodic boxes, exact bin edges, the
normalisations and estimators, the delete-one jackknife against recounts,
thread-count invariance, property tests and bad input.

Integer counts (unit weights; halves from the two orientations of a pair)
must agree exactly; weighted sums to rtol 1e-12.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import astrograph as ag
from astrograph.errors import AstrographError, BinningError, BoxError, InputError

import twopoint_reference as R

SURVEY_LOS = ("midpoint", "firstpoint", "endpoint")
AXIS_LOS = ("x", "y", "z")
ALL_LOS = SURVEY_LOS + AXIS_LOS
SIZE = 20.0
#: Survey catalogues sit in a cube of side SIZE at this (integer) offset from
#: the observer, so that lattice points stay on the lattice.
OFFSET = np.array([50.0, 30.0, 20.0])
SMU_BINS = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0]
RP_EDGES = [0.0, 1.0, 2.0, 3.5, 5.0]
PIMAX, NPI = 4.0, 4


# -- inputs ---------------------------------------------------------------------


def points(kind: str, n: int, seed: int, box: float | None = None) -> np.ndarray:
    """About n points: uniform randoms or a Thomas process, with a fifth moved
    to the integer lattice (separations on integer edges) and a tenth
    duplicated (d = 0); in a cube of side SIZE (the box) or, for surveys, at
    OFFSET from the observer."""
    size = box or SIZE
    if kind == "clustered":
        p = ag.thomas_process(max(n // 6, 1), 6.0, 1.0, size, seed=seed)[:n]
    else:
        p = ag.uniform_randoms(n, size, seed=seed)
    m = len(p)
    p[: m // 5] = np.floor(p[: m // 5])
    p[m // 5 : m // 5 + m // 10] = p[: m // 10]
    return p if box else p + OFFSET


def weights(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1000).uniform(0.2, 2.0, n)


def assert_counts(got, want: dict, exact: bool, rtol: float = 1e-12) -> None:
    """Every count of a result (or dict) equals the reference's."""
    counts = got.counts if hasattr(got, "counts") else got
    assert tuple(counts) == tuple(want), (tuple(counts), tuple(want))
    for name, w in want.items():
        g = np.asarray(counts[name])
        assert g.shape == w.shape, (name, g.shape, w.shape)
        if exact:
            np.testing.assert_array_equal(g, w, err_msg=name)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=0, err_msg=name)


def nonzero(want: dict) -> None:
    """The reference counted something (a test of empty tables proves nothing)."""
    for name, w in want.items():
        assert w.sum() > 0, f"{name} is empty: the test case is too small"


# -- (s, mu): auto-correlations ---------------------------------------------------


@pytest.mark.parametrize("los", ALL_LOS)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("weighted", [False, True])
def test_smu_auto_matches_brute_force(los, signed, kind, weighted):
    seed = 7 + ALL_LOS.index(los)
    d, r = points(kind, 240, seed), points("uniform", 300, seed + 1)
    dw, rw = (weights(len(d), seed), weights(len(r), seed + 1)) if weighted else (None, None)
    nmu = 5 if signed else 4
    bins = ag.Bins(SMU_BINS, nmu=nmu, mu_min=-1 if signed else 0)
    want = R.counts(R.smu(SMU_BINS, nmu, signed), d, r, dw=dw, rw=rw, los=los)
    nonzero(want)
    pc = ag.count_pairs(d, r, bins=bins, data_weights=dw, random_weights=rw, los=los)
    assert pc.los == los and pc.names == ("DD", "DR", "RR")
    assert_counts(pc, want, exact=not weighted)
    if not weighted:
        # halves appear where the two orientations of a pair fall in different bins
        halves = any((want[n] % 1 != 0).any() for n in want)
        assert halves == (signed or los in ("firstpoint", "endpoint"))


@pytest.mark.parametrize("los", ALL_LOS)
@pytest.mark.parametrize("signed", [False, True])
def test_smu_without_randoms_and_with_one_mu_bin(los, signed):
    d = points("clustered", 200, 3)
    for nmu in (1, 3):
        bins = ag.Bins(SMU_BINS, nmu=nmu, mu_min=-1 if signed else 0)
        want = R.counts(R.smu(SMU_BINS, nmu, signed), d, los=los)
        pc = ag.count_pairs(d, bins=bins, los=los)
        assert_counts(pc, want, exact=True)
        if nmu == 1:
            # one mu bin: every pair once, whatever the orientation
            assert (want["DD"] % 1 == 0).all()


# -- (s, mu): cross-correlations --------------------------------------------------


@pytest.mark.parametrize("los", ALL_LOS)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_smu_cross_matches_brute_force(los, signed, weighted):
    seed = 31 + ALL_LOS.index(los)
    d1, r1 = points("clustered", 200, seed), points("uniform", 230, seed + 1)
    d2, r2 = points("uniform", 180, seed + 2), points("uniform", 210, seed + 3)
    w = [weights(len(x), seed + k) if weighted else None for k, x in enumerate((d1, r1, d2, r2))]
    nmu = 4
    bins = ag.Bins(SMU_BINS, nmu=nmu, mu_min=-1 if signed else 0)
    want = R.counts(
        R.smu(SMU_BINS, nmu, signed), d1, r1, d2, r2,
        dw=w[0], rw=w[1], d2w=w[2], r2w=w[3], los=los,
    )  # fmt: skip
    nonzero(want)
    pc = ag.count_pairs(
        d1, r1, bins=bins, data2=d2, randoms2=r2, los=los,
        data_weights=w[0], random_weights=w[1], data2_weights=w[2], random2_weights=w[3],
    )  # fmt: skip
    assert pc.is_cross and pc.names == ("D1D2", "D1R2", "R1D2", "R1R2")
    assert_counts(pc, want, exact=not weighted)
    # every pair between the tracers counts once, with its full weight
    if not weighted:
        assert all((v % 1 == 0).all() for v in want.values())


def test_cross_is_oriented_from_tracer_1_to_tracer_2():
    """Swapping the tracers mirrors the signed mu bins (s -> -s) for the
    midpoint, and moves the first point to the end point."""
    # off the lattice: no pair at mu = 0 exactly (its mirror is itself)
    d1, d2 = (
        ag.uniform_randoms(150, SIZE, seed=5) + OFFSET,
        ag.uniform_randoms(150, SIZE, seed=6) + OFFSET,
    )
    bins = ag.Bins(SMU_BINS, nmu=4, mu_min=-1)
    a = ag.count_pairs(d1, bins=bins, data2=d2).counts["D1D2"]
    b = ag.count_pairs(d2, bins=bins, data2=d1).counts["D1D2"]
    assert a.sum() > 0
    np.testing.assert_array_equal(a, b[:, ::-1])
    first = ag.count_pairs(d1, bins=bins, data2=d2, los="firstpoint").counts["D1D2"]
    end = ag.count_pairs(d2, bins=bins, data2=d1, los="endpoint").counts["D1D2"]
    np.testing.assert_array_equal(first, end[:, ::-1])
    assert not np.array_equal(first, a)


@pytest.mark.parametrize("randoms", ["1", "2"])
def test_cross_with_one_tracers_randoms(randoms):
    d1, d2, r = points("clustered", 200, 11), points("uniform", 170, 12), points("uniform", 260, 13)
    bins = ag.Bins(SMU_BINS, nmu=2)
    spec = R.smu(SMU_BINS, 2)
    if randoms == "1":
        pc = ag.count_pairs(d1, r, bins=bins, data2=d2)
        want = R.counts(spec, d1, r, d2)
        names = ("D1D2", "R1D2")
    else:
        pc = ag.count_pairs(d1, bins=bins, data2=d2, randoms2=r)
        want = R.counts(spec, d1, None, d2, r)
        names = ("D1D2", "D1R2")
    assert tuple(want) == names
    assert_counts(pc, want, exact=True)
    # Davis-Peebles with the one data-random count
    n = R.norms(d1, r if randoms == "1" else None, d2, r if randoms == "2" else None)
    dd, dr = want[names[0]].sum(1) / n[names[0]], want[names[1]].sum(1) / n[names[1]]
    assert pc.default_estimator() == "davis-peebles"
    np.testing.assert_allclose(pc.xi_s(), dd / dr - 1.0, rtol=1e-12)


# -- periodic boxes ---------------------------------------------------------------


@pytest.mark.parametrize("los", AXIS_LOS)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_box_axis_los_minimum_image(los, signed, cross):
    box = SIZE
    d = points("clustered", 220, 41, box=box)
    r = points("uniform", 260, 42, box=box)
    # points on the faces: 0 and L are the same place, and pairs across faces
    faces = np.array(
        [[0.0, 0.0, 0.0], [box, box, box], [box, 3.0, 0.5], [0.0, 3.0, 0.5], [19.5, 10.0, 0.2]]
    )
    d = np.vstack([d, faces])
    bins = ag.Bins(SMU_BINS, nmu=4, mu_min=-1 if signed else 0)
    spec = R.smu(SMU_BINS, 4, signed)
    if cross:
        d2 = np.vstack([points("uniform", 150, 43, box=box), faces[::-1]])
        cats = (d, r, d2, r[::2])
        pc = ag.count_pairs(d, r, bins=bins, data2=d2, randoms2=r[::2], boxsize=box, los=los)
    else:
        cats = (d, r)
        pc = ag.count_pairs(d, r, bins=bins, boxsize=box, los=los)
    want = R.counts(spec, *cats, box=box, los=los)
    nonzero(want)
    assert_counts(pc, want, exact=True)
    # the box changes the counts (pairs across the faces)
    open_ = R.counts(spec, *cats, los=los)
    assert not np.array_equal(open_[pc.names[0]], want[pc.names[0]])


def test_box_defaults_to_z():
    d = points("uniform", 200, 2, box=SIZE)
    pc = ag.count_pairs(d, bins=ag.Bins(SMU_BINS, nmu=3), boxsize=SIZE)
    assert pc.los == "z"
    assert_counts(pc, R.counts(R.smu(SMU_BINS, 3), d, box=SIZE, los="z"), exact=True)


# -- edge cases -------------------------------------------------------------------


@pytest.mark.parametrize("los", ALL_LOS)
def test_lattice_points_on_integer_edges(los):
    """Integer-lattice points: separations (and pi along an axis) exactly on
    the integer bin edges, duplicates at d = 0, both tracers."""
    rng = np.random.default_rng(3)
    d = R.lattice(rng, 160, 7) + 5.0
    r = R.lattice(rng, 140, 7) + 5.0
    d2 = R.lattice(rng, 120, 7) + 5.0
    edges = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    for signed in (False, True):
        bins = ag.Bins(edges, nmu=4, mu_min=-1 if signed else 0)
        spec = R.smu(edges, 4, signed)
        assert_counts(
            ag.count_pairs(d, r, bins=bins, los=los), R.counts(spec, d, r, los=los), exact=True
        )
        assert_counts(
            ag.count_pairs(d, r, bins=bins, data2=d2, randoms2=r, los=los),
            R.counts(spec, d, r, d2, r, los=los),
            exact=True,
        )
        spec = R.rppi(edges, 3.0, 3, signed)
        assert_counts(
            ag.count_pairs_rppi(d, r, rp_bins=edges, pimax=3.0, npi=3, signed=signed, los=los),
            R.counts(spec, d, r, los=los),
            exact=True,
        )
    # the duplicates: d = 0 pairs sit in the first bin, at mu = 0
    want = R.counts(R.smu([0.0, 1e-9], 2), d, los=los)["DD"]
    assert want[0, 0] > 0 and want[0, 1] == 0
    np.testing.assert_array_equal(
        ag.count_pairs(d, bins=ag.Bins([0.0, 1e-9], nmu=2), los=los).counts["DD"], want
    )


def test_zero_separation_pairs_go_to_mu_zero():
    """Duplicates count in the mu = 0 bin: bin 0 unsigned, bin n/2 signed
    (floor((0 + 1) n / 2)), once with their full weight."""
    p = np.array([[60.0, 30.0, 20.0]] * 3 + [[61.0, 30.0, 20.0]])
    for los in ALL_LOS:
        for nmu, signed, k in ((4, False, 0), (4, True, 2), (5, True, 2)):
            pc = ag.count_pairs(
                p, bins=ag.Bins([0.0, 0.5], nmu=nmu, mu_min=-1 if signed else 0), los=los
            )
            want = np.zeros((1, nmu))
            want[0, k] = 3.0
            np.testing.assert_array_equal(pc.counts["DD"], want, err_msg=f"{los} {nmu} {signed}")


def test_observer_on_the_line_of_sight():
    """A point at the observer (firstpoint / endpoint) and a pair symmetric
    about it (midpoint): the line of sight is 0 and mu = 0 by definition."""
    p = np.array(
        [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [-3.0, 0.0, 0.0], [0.0, 2.0, 1.0], [1.0, 1.0, 1.0]]
    )
    for los in SURVEY_LOS:
        for signed in (False, True):
            bins = ag.Bins([0.0, 2.0, 4.0, 7.0], nmu=4, mu_min=-1 if signed else 0)
            want = R.counts(R.smu(bins.edges, 4, signed), p, los=los)
            assert_counts(ag.count_pairs(p, bins=bins, los=los), want, exact=True)
            want = R.counts(R.rppi([0.0, 2.0, 7.0], 6.5, 2, signed), p, los=los)
            got = ag.count_pairs_rppi(
                p, rp_bins=[0.0, 2.0, 7.0], pimax=6.5, npi=2, signed=signed, los=los
            )
            assert_counts(got, want, exact=True)
    # midpoint, p and -p: l = 0, mu = 0 -> the first |mu| bin
    pc = ag.count_pairs(p[1:3], bins=ag.Bins([5.0, 7.0], nmu=4), los="midpoint")
    np.testing.assert_array_equal(pc.counts["DD"], [[1.0, 0.0, 0.0, 0.0]])


def test_single_point_catalogues():
    one = np.array([[55.0, 31.0, 22.0]])
    other = np.array([[55.0, 31.0, 24.5]])  # 2.5 away, along z
    bins = ag.Bins(SMU_BINS, nmu=2)
    pc = ag.count_pairs(one, bins=bins)
    np.testing.assert_array_equal(pc.counts["DD"], np.zeros((5, 2)))
    assert pc.norms() == {"DD": 0.0}
    pc = ag.count_pairs(one, one, bins=bins)  # the random is the same point: d = 0
    want = np.zeros((5, 2))
    np.testing.assert_array_equal(pc.counts["DD"], want)
    want[0, 0] = 1.0
    np.testing.assert_array_equal(pc.counts["DR"], want)
    pc = ag.count_pairs(one, bins=bins, data2=other, los="z")
    want = np.zeros((5, 2))
    want[2, 1] = 1.0  # s = 2.5 in [2, 3), mu = 1 in the last bin
    np.testing.assert_array_equal(pc.counts["D1D2"], want)
    assert pc.norms() == {"D1D2": 1.0}
    ac = ag.count_angular(np.array([[10.0, 0.0]]), bins=[0, 1, 2], data2=np.array([[11.5, 0.0]]))
    np.testing.assert_array_equal(ac.counts["D1D2"], [[0.0], [1.0]])


def test_empty_bins_stay_zero():
    d, r = points("uniform", 150, 9), points("uniform", 150, 10)
    edges = [0.0, 1e-3, 2e-3, 0.5, 0.6, 9.0]
    want = R.counts(R.smu(edges, 2), d, r)
    pc = ag.count_pairs(d, r, bins=ag.Bins(edges, nmu=2))
    assert_counts(pc, want, exact=True)
    assert pc.counts["RR"][1].sum() == 0 and pc.counts["DD"][-1].sum() > 0
    # nothing in range at all
    pc = ag.count_pairs(d, r, bins=ag.Bins([50.0, 60.0], nmu=3))
    for name in pc.names:
        np.testing.assert_array_equal(pc.counts[name], np.zeros((1, 3)))


# -- random splits ----------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("los", ["midpoint", "firstpoint"])
def test_random_splits_auto(weighted, los):
    d = points("clustered", 200, 51)
    splits = [points("uniform", n, 52 + k) for k, n in enumerate((150, 170, 130))]
    dw = weights(len(d), 1) if weighted else None
    rw = [weights(len(s), 2 + k) for k, s in enumerate(splits)] if weighted else None
    bins = ag.Bins(SMU_BINS, nmu=3, mu_min=-1)
    want = R.counts(R.smu(SMU_BINS, 3, True), d, splits, dw=dw, rw=rw, los=los)
    pc = ag.count_pairs(d, splits, bins=bins, data_weights=dw, random_weights=rw, los=los)
    assert pc.nsplits == 3
    assert_counts(pc, want, exact=not weighted)
    # RR within each split only: fewer pairs than over the concatenation
    whole = R.counts(R.smu(SMU_BINS, 3, True), d, np.vstack(splits), los=los)
    assert whole["RR"].sum() > pc.counts["RR"].sum()
    if not weighted:
        np.testing.assert_array_equal(pc.counts["DR"], whole["DR"])
    n = R.norms(d, splits, dw=dw, rw=rw)
    assert pc.norms() == pytest.approx(n, rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_random_splits_cross(weighted):
    d1, d2 = points("clustered", 160, 61), points("uniform", 140, 62)
    r1 = [points("uniform", 120, 63), points("uniform", 110, 64)]
    r2 = [points("uniform", 100, 65), points("uniform", 130, 66)]
    w = {
        "dw": weights(len(d1), 1), "d2w": weights(len(d2), 2),
        "rw": [weights(len(x), 3 + k) for k, x in enumerate(r1)],
        "r2w": [weights(len(x), 5 + k) for k, x in enumerate(r2)],
    } if weighted else {}  # fmt: skip
    bins = ag.Bins(SMU_BINS, nmu=2)
    want = R.counts(R.smu(SMU_BINS, 2), d1, r1, d2, r2, **w)
    nonzero(want)
    pc = ag.count_pairs(
        d1, r1, bins=bins, data2=d2, randoms2=r2,
        data_weights=w.get("dw"), random_weights=w.get("rw"),
        data2_weights=w.get("d2w"), random2_weights=w.get("r2w"),
    )  # fmt: skip
    assert_counts(pc, want, exact=not weighted)
    assert pc.norms() == pytest.approx(R.norms(d1, r1, d2, r2, **w), rel=1e-12)


def test_random_splits_of_one_tracer_in_a_cross_and_other_binnings():
    rng = np.random.default_rng(14)
    d1, d2 = points("clustered", 150, 71), points("uniform", 130, 72)
    splits = [points("uniform", 110, 73), points("uniform", 90, 74), points("uniform", 100, 75)]
    spec, bins = R.smu(SMU_BINS, 2, True), ag.Bins(SMU_BINS, nmu=2, mu_min=-1)
    pc = ag.count_pairs(d1, splits, bins=bins, data2=d2)
    assert pc.names == ("D1D2", "R1D2")
    assert_counts(pc, R.counts(spec, d1, splits, d2), exact=True)
    assert pc.norms() == pytest.approx(R.norms(d1, splits, d2), rel=1e-13)
    pc = ag.count_pairs(d1, bins=bins, data2=d2, randoms2=splits)
    assert pc.names == ("D1D2", "D1R2")
    assert_counts(pc, R.counts(spec, d1, None, d2, splits), exact=True)
    assert pc.norms() == pytest.approx(R.norms(d1, None, d2, splits), rel=1e-13)
    # (rp, pi) and theta with splits
    pc = ag.count_pairs_rppi(
        d1, splits, rp_bins=RP_EDGES, pimax=PIMAX, npi=NPI, signed=True, los="firstpoint"
    )
    assert_counts(
        pc, R.counts(R.rppi(RP_EDGES, PIMAX, NPI, True), d1, splits, los="firstpoint"), exact=True
    )
    sky = [R.sky(rng, n, ra=(0, 10), dec=(-5, 5)) for n in (200, 150, 160)]
    rw = [rng.uniform(0.5, 1.5, len(x)) for x in sky[1:]]
    ac = ag.count_angular(sky[0], sky[1:], bins=THETA_EDGES, random_weights=rw)
    want = R.counts(
        R.theta(THETA_EDGES), R.unit_vectors(sky[0]), [R.unit_vectors(x) for x in sky[1:]], rw=rw
    )
    assert_counts(ac, want, exact=False)
    assert ac.nsplits == 2 and ac.norms() == pytest.approx(
        R.norms(sky[0], sky[1:], rw=rw), rel=1e-13
    )


# -- (rp, pi) -----------------------------------------------------------------------


@pytest.mark.parametrize("los", ALL_LOS)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_rppi_auto_and_cross(los, signed, weighted):
    seed = 71 + ALL_LOS.index(los)
    d, r = points("clustered", 220, seed), points("uniform", 260, seed + 1)
    d2 = points("uniform", 160, seed + 2)
    dw, rw, d2w = (
        (weights(len(d), 1), weights(len(r), 2), weights(len(d2), 3)) if weighted else (None,) * 3
    )
    spec = R.rppi(RP_EDGES, PIMAX, NPI, signed)
    kw = dict(rp_bins=RP_EDGES, pimax=PIMAX, npi=NPI, signed=signed, los=los)
    want = R.counts(spec, d, r, dw=dw, rw=rw, los=los)
    nonzero(want)
    pc = ag.count_pairs_rppi(d, r, data_weights=dw, random_weights=rw, **kw)
    assert pc.pimax == PIMAX and pc.counts["DD"].shape == (4, NPI)
    assert_counts(pc, want, exact=not weighted)
    want = R.counts(spec, d, r, d2, r, dw=dw, rw=rw, d2w=d2w, r2w=rw, los=los)
    pc = ag.count_pairs_rppi(
        d, r, data2=d2, randoms2=r, data_weights=dw, random_weights=rw,
        data2_weights=d2w, random2_weights=rw, **kw,
    )  # fmt: skip
    assert_counts(pc, want, exact=not weighted)


@pytest.mark.parametrize("los", AXIS_LOS)
@pytest.mark.parametrize("signed", [False, True])
def test_rppi_box(los, signed):
    box = SIZE
    d = points("clustered", 250, 81, box=box)
    r = points("uniform", 250, 82, box=box)
    spec = R.rppi(RP_EDGES, PIMAX, NPI, signed)
    want = R.counts(spec, d, r, box=box, los=los)
    nonzero(want)
    pc = ag.count_pairs_rppi(
        d, r, rp_bins=RP_EDGES, pimax=PIMAX, npi=NPI, signed=signed, boxsize=box, los=los
    )
    assert_counts(pc, want, exact=True)
    want = R.counts(spec, d, r, d[::3], r[::2], box=box, los=los)
    pc = ag.count_pairs_rppi(
        d, r, data2=d[::3], randoms2=r[::2], rp_bins=RP_EDGES, pimax=PIMAX, npi=NPI,
        signed=signed, boxsize=box, los=los,
    )  # fmt: skip
    assert_counts(pc, want, exact=True)


def test_rppi_default_npi_and_pi_edges():
    d = points("uniform", 150, 3)
    pc = ag.count_pairs_rppi(d, rp_bins=RP_EDGES, pimax=3.5)
    assert pc.counts["DD"].shape == (4, 4)  # unit-width pi bins: ceil(pimax)
    np.testing.assert_allclose(pc.pi_edges, np.linspace(0, 3.5, 5))
    assert_counts(pc, R.counts(R.rppi(RP_EDGES, 3.5, 4), d), exact=True)
    pc = ag.count_pairs_rppi(d, rp_bins=RP_EDGES, pimax=3.5, signed=True)
    assert pc.counts["DD"].shape == (4, 8)
    np.testing.assert_allclose(pc.pi_edges, np.linspace(-3.5, 3.5, 9))
    assert_counts(pc, R.counts(R.rppi(RP_EDGES, 3.5, 8, True), d), exact=True)


# -- angular counts -----------------------------------------------------------------


THETA_EDGES = [0.0, 0.05, 0.3, 1.0, 3.0, 10.0, 30.0]
WIDE_EDGES = [0.0, 20.0, 60.0, 90.0, 120.0, 160.0, 179.0, 180.0]


def full_sky(rng, n) -> np.ndarray:
    """Uniform on the sphere, with a few near-antipodal pairs and duplicates."""
    out = np.column_stack([rng.uniform(0, 360, n), np.rad2deg(np.arcsin(rng.uniform(-1, 1, n)))])
    k = n // 10
    out[k : 2 * k, 0] = (out[:k, 0] + 180.0 + rng.normal(0, 0.3, k)) % 360.0
    out[k : 2 * k, 1] = -out[:k, 1] + rng.normal(0, 0.3, k)
    out[k : 2 * k, 1] = np.clip(out[k : 2 * k, 1], -90, 90)
    out[-k:] = out[2 * k : 3 * k]
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("patch", ["patch", "full-sky"])
def test_angular_matches_brute_force(weighted, cross, patch):
    rng = np.random.default_rng(91 + 2 * cross + weighted)
    if patch == "patch":
        cats = [R.sky(rng, n) for n in (260, 300, 200, 220)]
        edges = THETA_EDGES
    else:
        cats = [full_sky(rng, n) for n in (200, 220, 180, 190)]
        edges = WIDE_EDGES
    w = [rng.uniform(0.3, 2.0, len(c)) if weighted else None for c in cats]
    u = [R.unit_vectors(c) for c in cats]
    spec = R.theta(edges)
    if cross:
        want = R.counts(spec, *u, dw=w[0], rw=w[1], d2w=w[2], r2w=w[3])
        ac = ag.count_angular(
            cats[0], cats[1], bins=edges, data2=cats[2], randoms2=cats[3],
            data_weights=w[0], random_weights=w[1], data2_weights=w[2], random2_weights=w[3],
        )  # fmt: skip
    else:
        want = R.counts(spec, u[0], u[1], dw=w[0], rw=w[1])
        ac = ag.count_angular(cats[0], cats[1], bins=edges, data_weights=w[0], random_weights=w[1])
    nonzero(want)
    assert_counts(ac, want, exact=not weighted)
    np.testing.assert_array_equal(ac.theta_edges, edges)
    assert ac.wtheta().shape == (len(edges) - 1,)


# Edges from an arcsecond to 180 degrees, through the chord / anti-chord switch at 90.
EDGE_CASES = [0.0, 1.0 / 3600, 0.01, 1.0, 45.0, 89.999, 90.0, 90.001, 135.0, 179.9999, 180.0]


def _pair_at(t: float, how: str, rng) -> np.ndarray:
    """Two (RA, Dec) points t degrees apart."""
    if how == "equator":
        return np.array([[0.0, 0.0], [t, 0.0]])
    if how == "meridian":
        ra = rng.uniform(0, 360)
        return np.array([[ra, -0.5 * t], [ra, 0.5 * t]])
    # a random orientation away from the poles: rotate the equator pair
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    r = np.deg2rad(t)
    v = np.array([[1.0, 0.0, 0.0], [np.cos(r), np.sin(r), 0.0]]) @ q.T
    ra = np.rad2deg(np.arctan2(v[:, 1], v[:, 0])) % 360.0
    dec = np.rad2deg(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1])))
    return np.column_stack([ra, dec])


@pytest.mark.parametrize("how", ["equator", "meridian", "rotated"])
def test_angular_bins_are_exact_at_every_edge(how):
    """A pair at edge * (1 -+ 1e-9) is in the bin below / above the edge, at
    arcsecond scales, around 90 degrees and near the antipode."""
    rng = np.random.default_rng(5)
    nb = len(EDGE_CASES) - 1
    checked = 0
    for k, e in enumerate(EDGE_CASES):
        for f, above in ((1.0 - 1e-9, False), (1.0 + 1e-9, True)):
            t = e * f
            if t == e or t > 180.0:
                continue
            if how == "rotated" and e < 0.01:
                continue  # the RA/Dec round trip is too coarse for 1e-9 of an arcsecond
            pair = _pair_at(t, how, rng)
            want = k if above else k - 1
            ref_bin = R.oriented_bins(
                R.unit_vectors(pair[:1]), R.unit_vectors(pair[1:]), R.theta(EDGE_CASES)
            )
            assert ref_bin[0, 0] == (want if 0 <= want < nb else -1), (t, e)
            got = ag.count_angular(pair, bins=EDGE_CASES).counts["DD"][:, 0]
            expected = np.zeros(nb)
            if 0 <= want < nb:
                expected[want] = 1.0
            np.testing.assert_array_equal(got, expected, err_msg=f"theta = {t!r} near edge {e}")
            # the same pair as a cross-correlation, both ways
            got = ag.count_angular(pair[:1], bins=EDGE_CASES, data2=pair[1:]).counts["D1D2"][:, 0]
            np.testing.assert_array_equal(got, expected, err_msg=f"cross, theta = {t!r}")
            checked += 1
    assert checked >= 15


def test_angular_exact_antipode_and_duplicates():
    """theta = 180 exactly is past the last edge (edges[k] <= theta <
    edges[k+1]); theta = 0 (duplicates) is in the first bin. Directions come
    from a Catalog's positions (any distance)."""
    pos = np.array([[2.0, 0.0, 0.0], [-5.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 7.0, 0.0]])
    ac = ag.count_angular(ag.Catalog(pos), bins=[0.0, 45.0, 90.0, 180.0])
    # pairs: (0,1) 180 -> out, (0,2) (0,3) (1,2) (1,3) 90 -> bin 2, (2,3) 0 -> bin 0
    np.testing.assert_array_equal(ac.counts["DD"][:, 0], [1.0, 0.0, 4.0])
    want = R.counts(R.theta([0.0, 45.0, 90.0, 180.0]), pos)
    np.testing.assert_array_equal(ac.counts["DD"], want["DD"])


def test_angular_catalog_directions_equal_radec():
    rng = np.random.default_rng(8)
    radec = R.sky(rng, 200)
    dist = rng.uniform(100, 2000, len(radec))
    cat = ag.Catalog(R.unit_vectors(radec) * dist[:, None])
    a = ag.count_angular(radec, bins=THETA_EDGES).counts["DD"]
    b = ag.count_angular(cat, bins=THETA_EDGES).counts["DD"]
    assert a.sum() > 0
    # the same directions up to rounding: equal but for pairs within 1e-12 of an edge
    np.testing.assert_array_equal(a, b)


# -- PIP weights ------------------------------------------------------------------------


PIP_CASES = [
    # (bytes per galaxy, dtype, as a list of columns, weight_attrs)
    (1, np.uint8, False, None),
    (2, np.uint8, True, {"noffset": 0, "default_value": 3.5}),
    (4, np.int32, False, {"noffset": 1}),
    (8, np.uint64, False, {"nrealizations": 100}),
    (16, np.int64, True, {"noffset": 0}),
    (12, np.uint32, True, {"nrealizations": 130, "noffset": 2, "default_value": 1.0}),
]


def _bits(rng, n, nbytes, dtype, as_list, p=0.4):
    b = R.bitwise(rng, n, nbytes, p=p, dtype=dtype)
    return [b[:, k] for k in range(b.shape[1])] if as_list else b


@pytest.mark.parametrize(
    "case", PIP_CASES, ids=[f"{c[0]}B-{np.dtype(c[1]).name}" for c in PIP_CASES]
)
@pytest.mark.parametrize("counter", ["smu", "angular"])
def test_pip_weights_match_brute_force(case, counter):
    nbytes, dtype, as_list, attrs = case
    rng = np.random.default_rng(nbytes)
    # sparse bits: some galaxies and pairs with no common bit (the default value)
    p = 0.15 if nbytes <= 2 else 0.4
    if counter == "smu":
        d, r, d2 = points("clustered", 200, 1), points("uniform", 220, 2), points("uniform", 150, 3)
        u, u_r, u2 = d, r, d2
        spec = R.smu(SMU_BINS, 3, True)

        def run(*a, **k):
            return ag.count_pairs(*a, bins=ag.Bins(SMU_BINS, nmu=3, mu_min=-1), **k)
    else:
        d, r, d2 = R.sky(rng, 220), R.sky(rng, 240), R.sky(rng, 170)
        u, u_r, u2 = (R.unit_vectors(x) for x in (d, r, d2))
        spec = R.theta(THETA_EDGES)

        def run(*a, **k):
            return ag.count_angular(*a, bins=THETA_EDGES, **k)

    b1 = _bits(rng, len(d), nbytes, dtype, as_list, p)
    b2 = _bits(rng, len(d2), nbytes, dtype, as_list, p)
    dw, d2w, rw = weights(len(d), 1), weights(len(d2), 2), weights(len(r), 3)
    # auto
    want = R.counts(spec, u, u_r, dw=dw, rw=rw, bits1=b1, attrs=attrs)
    nonzero(want)
    pc = run(d, r, data_weights=dw, random_weights=rw, data_bitwise_weights=b1, weight_attrs=attrs)
    assert_counts(pc, want, exact=False)
    assert pc.pip is not None and pc.pip.nbits == 8 * nbytes
    nreal = (attrs or {}).get("nrealizations", 8 * nbytes + 1)
    assert pc.pip.nrealizations == nreal
    # cross
    want = R.counts(
        spec, u, u_r, u2, u_r, dw=dw, rw=rw, d2w=d2w, r2w=rw, bits1=b1, bits2=b2, attrs=attrs
    )
    pc = run(
        d, r, data2=d2, randoms2=r, data_weights=dw, random_weights=rw, data2_weights=d2w,
        random2_weights=rw, data_bitwise_weights=b1, data2_bitwise_weights=b2, weight_attrs=attrs,
    )  # fmt: skip
    assert_counts(pc, want, exact=False)


def test_pip_default_value_reaches_pairs_without_common_bits():
    """Two galaxies with disjoint bits and noffset = 0: the pair weighs
    default_value; a galaxy with no bit set has IIP weight default_value."""
    p = np.array([[50.0, 30.0, 20.0], [50.0, 30.0, 21.5], [50.0, 30.0, 23.0]])
    bits = np.array([[0b0011], [0b1100], [0b0000]], dtype=np.uint8)
    r = np.array([[50.0, 30.0, 20.5]])
    bins = ag.Bins([0.0, 1.0, 2.0, 4.0])
    pc = ag.count_pairs(
        p,
        r,
        bins=bins,
        data_bitwise_weights=bits,
        weight_attrs={"noffset": 0, "default_value": 7.0},
    )
    # pairs: (0,1) d=1.5 -> 7; (1,2) d=1.5 -> 7; (0,2) d=3 -> 7 (all disjoint)
    np.testing.assert_allclose(pc.counts["DD"][:, 0], [0.0, 14.0, 7.0], rtol=1e-15)
    # IIP: 9/2, 9/2, 7 at d = 0.5, 1.0, 2.5 from the random
    np.testing.assert_allclose(pc.counts["DR"][:, 0], [4.5, 4.5, 7.0], rtol=1e-15)
    pc = ag.count_pairs(p, r, bins=bins, data_bitwise_weights=bits)  # defaults: 9 / (1 + c)
    np.testing.assert_allclose(pc.counts["DD"][:, 0], [0.0, 18.0, 9.0], rtol=1e-15)
    np.testing.assert_allclose(pc.counts["DR"][:, 0], [3.0, 3.0, 9.0], rtol=1e-15)


@pytest.mark.parametrize("noffset", [0, 1])
def test_pip_with_every_bit_set_is_a_constant(noffset):
    """All bits set: every PIP (and IIP) weight is nreal / (noffset + nbits),
    so the counts are that constant times the product-weight counts."""
    d, r = points("clustered", 200, 4), points("uniform", 200, 5)
    dw, rw = weights(len(d), 4), weights(len(r), 5)
    nbits, nreal = 64, 100
    bits = np.full((len(d), 1), np.iinfo(np.uint64).max, dtype=np.uint64)
    attrs = {"nrealizations": nreal, "noffset": noffset}
    bins = ag.Bins(SMU_BINS, nmu=2)
    pc = ag.count_pairs(
        d,
        r,
        bins=bins,
        data_weights=dw,
        random_weights=rw,
        data_bitwise_weights=bits,
        weight_attrs=attrs,
    )
    plain = ag.count_pairs(d, r, bins=bins, data_weights=dw, random_weights=rw)
    c = nreal / (noffset + nbits)
    np.testing.assert_allclose(pc.counts["DD"], c * plain.counts["DD"], rtol=1e-13)
    np.testing.assert_allclose(pc.counts["DR"], c * plain.counts["DR"], rtol=1e-13)
    np.testing.assert_array_equal(pc.counts["RR"], plain.counts["RR"])
    # the normalisations: DR carries the IIP weights; DD the expected PIP weight,
    # here that of galaxies selected in every realisation: nreal / (noffset + nbits)
    # when nreal = noffset + nbits, pycorr's joint occurrence otherwise
    n = R.norms(d, r, dw=dw, rw=rw, bits1=bits, attrs=attrs)
    assert pc.norms() == pytest.approx(n, rel=1e-12)
    assert pc.norm("DR") == pytest.approx(c * plain.norm("DR"), rel=1e-13)
    full = {"noffset": noffset, "nrealizations": noffset + nbits}
    pc = ag.count_pairs(
        d,
        r,
        bins=bins,
        data_weights=dw,
        random_weights=rw,
        data_bitwise_weights=bits,
        weight_attrs=full,
    )
    np.testing.assert_allclose(pc.counts["DD"], plain.counts["DD"], rtol=1e-13)
    assert pc.norm("DD") == pytest.approx(plain.norm("DD"), rel=1e-13)


def test_pip_default_nrealizations_counts_every_input_byte():
    """nrealizations defaults to 8 * bytes + 1: three uint8 columns -> 25,
    one int16 and one int32 -> 49."""
    p = np.array([[50.0, 30.0, 20.0], [50.0, 30.0, 21.0]])
    bins = ag.Bins([0.0, 2.0])
    for cols, nreal in (
        ([np.array([1, 3], np.uint8)] * 3, 25),  # common bits: 1 + 1 + 1
        ([np.array([1, 3], np.int16), np.array([1, 3], np.int32)], 49),  # 1 + 1
    ):
        pc = ag.count_pairs(p, bins=bins, data_bitwise_weights=cols)
        assert pc.pip.nrealizations == nreal
        np.testing.assert_allclose(pc.counts["DD"], [[nreal / (1 + len(cols))]], rtol=1e-15)
    # negative integers are two's-complement bit patterns: -1 has every bit set
    pc = ag.count_pairs(p, bins=bins, data_bitwise_weights=np.array([[-1], [-1]], np.int8))
    np.testing.assert_allclose(pc.counts["DD"], [[9.0 / 9.0]], rtol=1e-15)


def test_pip_bitwise_columns_of_mixed_widths_and_many_words():
    """A list of integer columns of different widths (7 bytes: padded to one
    64-bit word) and 64 full words (4096 bits) per galaxy."""
    rng = np.random.default_rng(6)
    d, r = points("clustered", 150, 12), points("uniform", 160, 13)
    n = len(d)
    cols = [
        rng.integers(0, 256, n).astype(np.uint8),
        rng.integers(-(2**15), 2**15, n).astype(np.int16),
        rng.integers(0, 2**32, n).astype(np.uint32),
    ]
    spec, bins = R.smu(SMU_BINS, 2), ag.Bins(SMU_BINS, nmu=2)
    for bits in (cols, R.bitwise(rng, n, 512, p=0.3, dtype=np.uint64)):
        pc = ag.count_pairs(d, r, bins=bins, data_bitwise_weights=bits)
        assert pc.pip.nrealizations == R.nbits(R.bit_columns(bits, n)) + 1
        assert_counts(pc, R.counts(spec, d, r, bits1=bits), exact=False)
        if isinstance(bits, list):  # (the pair-by-pair norm of 4097 realisations is too slow)
            assert pc.norms() == pytest.approx(R.norms(d, r, bits1=bits), rel=1e-12)


@pytest.mark.parametrize("nalways", [1, 3])
def test_nalways_changes_only_the_normalisation(nalways):
    rng = np.random.default_rng(nalways)
    d, r, d2 = points("clustered", 150, 6), points("uniform", 160, 7), points("uniform", 120, 8)
    b1, b2 = R.bitwise(rng, len(d), 2), R.bitwise(rng, len(d2), 2)
    b1[:, 0] |= (1 << nalways) - 1  # the first nalways bits are always set
    b2[:, 0] |= (1 << nalways) - 1
    dw = weights(len(d), 9)
    bins = ag.Bins(SMU_BINS, nmu=2)
    kw = dict(bins=bins, data_weights=dw, data_bitwise_weights=b1)
    for attrs in ({"noffset": 1}, {"noffset": 0}):
        base = ag.count_pairs(d, r, **kw, weight_attrs=attrs)
        alw = ag.count_pairs(d, r, **kw, weight_attrs={**attrs, "nalways": nalways})
        for name in base.names:
            np.testing.assert_array_equal(alw.counts[name], base.counts[name])
        n = R.norms(d, r, dw=dw, bits1=b1, attrs={**attrs, "nalways": nalways})
        assert alw.norms() == pytest.approx(n, rel=1e-12)
        assert alw.norm("DD") != pytest.approx(base.norm("DD"), rel=1e-6)
        assert alw.norm("DR") == base.norm("DR")
        cross = ag.count_pairs(
            d, r, bins=bins, data2=d2, data_bitwise_weights=b1, data2_bitwise_weights=b2,
            data_weights=dw, weight_attrs={**attrs, "nalways": nalways},
        )  # fmt: skip
        n = R.norms(d, r, d2, dw=dw, bits1=b1, bits2=b2, attrs={**attrs, "nalways": nalways})
        assert cross.norms() == pytest.approx(n, rel=1e-12)


def test_pycorr_counter_normalisation_is_refused():
    """pycorr's "counter" also rescales every pair weight: not offered, said so."""
    d = points("uniform", 50, 1)
    b = R.bitwise(np.random.default_rng(0), len(d), 1, p=0.5)
    with pytest.raises(InputError, match="'counter'"):
        ag.count_pairs(
            d, bins=ag.Bins(SMU_BINS), data_bitwise_weights=b,
            weight_attrs={"normalization": "counter"},
        )  # fmt: skip


@pytest.mark.parametrize("normalization", ["total"])
@pytest.mark.parametrize("attrs", [{}, {"noffset": 0}, {"nrealizations": 40, "default_value": 2.0}])
def test_pip_normalisations(normalization, attrs):
    """The PIP norms against their definitions summed pair by pair: the
    expected PIP weight (pycorr's joint occurrences)."""
    rng = np.random.default_rng(len(attrs))
    d, r, d2, r2 = (points("uniform", n, 90 + n) for n in (120, 130, 110, 140))
    b1, b2 = R.bitwise(rng, len(d), 2, p=0.3), R.bitwise(rng, len(d2), 2, p=0.6)
    dw, d2w, rw = weights(len(d), 1), weights(len(d2), 2), weights(len(r), 3)
    a = {**attrs, "normalization": normalization}
    bins = ag.Bins(SMU_BINS)
    pc = ag.count_pairs(
        d, r, bins=bins, data_weights=dw, random_weights=rw, data_bitwise_weights=b1, weight_attrs=a
    )
    assert pc.norms() == pytest.approx(R.norms(d, r, dw=dw, rw=rw, bits1=b1, attrs=a), rel=1e-12)
    pc = ag.count_pairs(
        d, r, bins=bins, data2=d2, randoms2=r2, data_weights=dw, random_weights=rw,
        data2_weights=d2w, data_bitwise_weights=b1, data2_bitwise_weights=b2, weight_attrs=a,
    )  # fmt: skip
    want = R.norms(d, r, d2, r2, dw=dw, rw=rw, d2w=d2w, bits1=b1, bits2=b2, attrs=a)
    assert pc.norms() == pytest.approx(want, rel=1e-12)


def test_expected_pip_weight_reference_is_an_expectation():
    """Self-check of the reference's joint occurrence: Monte Carlo over
    random realisations sharing the first n0 ones."""
    rng = np.random.default_rng(0)
    nreal, n0, ndraw = 12, 1, 40000
    for c1, c2 in ((1, 1), (3, 5), (12, 4), (7, 7), (2, 11)):
        # beyond the n0 shared realisations, each galaxy is selected in a
        # uniformly random subset of the others
        rank1 = rng.random((ndraw, nreal - n0)).argsort(axis=1)
        rank2 = rng.random((ndraw, nreal - n0)).argsort(axis=1)
        c12 = n0 + ((rank1 < c1 - n0) & (rank2 < c2 - n0)).sum(axis=1)
        assert R.expected_pip(nreal, n0, 0.0, c1, c2) == pytest.approx(
            np.mean(nreal / c12), rel=0.01
        )
    assert R.expected_pip(nreal, n0, 0.0, nreal, nreal) == 1.0


# -- angular upweights ------------------------------------------------------------------


UPWEIGHTS = (np.array([0.0, 0.2, 0.5, 1.0, 2.0, 4.0]), np.array([4.0, 3.0, 2.0, 1.6, 1.3, 1.1]))


@pytest.mark.parametrize("counter", ["smu", "rppi", "angular"])
@pytest.mark.parametrize("cross", [False, True])
def test_angular_upweights_single_table(counter, cross):
    rng = np.random.default_rng(17)
    if counter == "angular":
        cats = [R.sky(rng, n, ra=(10, 18), dec=(-4, 4)) for n in (220, 240, 180, 200)]
        pos = [R.unit_vectors(c) for c in cats]
        spec = R.theta(THETA_EDGES)
    else:
        cats = pos = [
            points(k, n, 20 + n)
            for k, n in (("clustered", 200), ("uniform", 220), ("uniform", 150), ("uniform", 170))
        ]
        spec = R.smu(SMU_BINS, 3, True) if counter == "smu" else R.rppi(RP_EDGES, PIMAX, NPI)

    def run(*a, **k):
        if counter == "angular":
            return ag.count_angular(*a, bins=THETA_EDGES, **k)
        if counter == "smu":
            return ag.count_pairs(*a, bins=ag.Bins(SMU_BINS, nmu=3, mu_min=-1), **k)
        return ag.count_pairs_rppi(*a, rp_bins=RP_EDGES, pimax=PIMAX, npi=NPI, **k)

    dw, rw = weights(len(cats[0]), 1), weights(len(cats[1]), 2)
    bits = R.bitwise(rng, len(cats[0]), 1)
    if cross:
        bits2 = R.bitwise(rng, len(cats[2]), 1)
        kw = dict(dw=dw, rw=rw, bits1=bits, bits2=bits2)
        want = R.counts(spec, *pos, **kw, twopoint_weights=UPWEIGHTS)
        plain = R.counts(spec, *pos, **kw)
        got = run(
            cats[0], cats[1], data2=cats[2], randoms2=cats[3], data_weights=dw, random_weights=rw,
            data_bitwise_weights=bits, data2_bitwise_weights=bits2, twopoint_weights=UPWEIGHTS,
        )  # fmt: skip
        untouched = "R1R2"
    else:
        kw = dict(dw=dw, rw=rw, bits1=bits)
        want = R.counts(spec, pos[0], pos[1], **kw, twopoint_weights=UPWEIGHTS)
        plain = R.counts(spec, pos[0], pos[1], **kw)
        got = run(
            cats[0],
            cats[1],
            data_weights=dw,
            random_weights=rw,
            data_bitwise_weights=bits,
            twopoint_weights=UPWEIGHTS,
        )
        untouched = "RR"
    nonzero(want)
    assert_counts(got, want, exact=False)
    for name in want:
        if name == untouched:
            np.testing.assert_array_equal(want[name], plain[name])
        else:
            assert (want[name] > plain[name]).any(), name  # the upweights were applied


@pytest.mark.parametrize("cross", [False, True])
def test_angular_upweights_per_count(cross):
    cats = [
        points("clustered", 200, 3),
        points("uniform", 210, 4),
        points("uniform", 160, 5),
        points("uniform", 150, 6),
    ]
    t1 = (np.array([0.0, 1.0, 3.0]), np.array([5.0, 2.0, 1.5]))
    t2 = (np.array([0.5, 2.0, 6.0, 9.0]), np.array([0.5, 2.5, 1.0, 3.0]))
    t3 = {"sep": np.array([0.0, 10.0]), "weight": np.array([2.0, 2.0])}  # pycorr's mapping form
    bins = ag.Bins(SMU_BINS, nmu=2)
    spec = R.smu(SMU_BINS, 2)
    dw = weights(len(cats[0]), 2)
    if cross:
        tables = {"D1D2": t1, "R1D2": t2, "R1R2": t3}
        ref_tables = {"D1D2": t1, "R1D2": t2, "R1R2": (t3["sep"], t3["weight"])}
        want = R.counts(spec, *cats, dw=dw, twopoint_weights=ref_tables)
        pc = ag.count_pairs(
            cats[0],
            cats[1],
            bins=bins,
            data2=cats[2],
            randoms2=cats[3],
            data_weights=dw,
            twopoint_weights=tables,
        )
    else:
        tables = {"DD": t1, "DR": t2, "RR": t3}
        ref_tables = {"DD": t1, "DR": t2, "RR": (t3["sep"], t3["weight"])}
        want = R.counts(spec, cats[0], cats[1], dw=dw, twopoint_weights=ref_tables)
        pc = ag.count_pairs(cats[0], cats[1], bins=bins, data_weights=dw, twopoint_weights=tables)
    nonzero(want)
    assert_counts(pc, want, exact=False)


def test_angular_upweight_interpolation_range():
    """cos(theta) is interpolated linearly between the nodes strictly above
    the first (largest-angle) node and up to the last; duplicates have
    cos = 1 and take the theta = 0 node's weight when the table starts at 0,
    1 otherwise."""
    p = np.array([[100.0, 0.0, 0.0], [100.0, 0.0, 0.0], [50.0, 0.0, 0.0]])  # same direction
    bins = ag.Bins([0.0, 60.0])
    table = (np.array([0.0, 1.0]), np.array([5.0, 2.0]))
    pc = ag.count_pairs(p, bins=bins, twopoint_weights=table)
    # three pairs, all at theta = 0 (cos = 1 exactly): 5 each
    np.testing.assert_allclose(pc.counts["DD"], [[15.0]], rtol=1e-15)
    pc = ag.count_pairs(p, bins=bins, twopoint_weights=(np.array([0.1, 1.0]), np.array([5.0, 2.0])))
    np.testing.assert_allclose(pc.counts["DD"], [[3.0]], rtol=1e-15)
    # pycorr's forms: an object with sep and weight, or a mapping
    for form in (
        SimpleNamespace(sep=table[0], weight=table[1]),
        {"sep": table[0], "weight": table[1]},
    ):
        pc = ag.count_pairs(p, bins=bins, twopoint_weights=form)
        np.testing.assert_allclose(pc.counts["DD"], [[15.0]], rtol=1e-15)
    # a pair at 0.5 degrees: halfway in cos, not in theta
    t = np.deg2rad(0.5)
    q = np.array([[100.0, 0.0, 0.0], [100.0 * np.cos(t), 100.0 * np.sin(t), 0.0]])
    pc = ag.count_pairs(q, bins=bins, twopoint_weights=table)
    c0, c1 = np.cos(np.deg2rad(1.0)), 1.0
    frac = (np.cos(t) - c0) / (c1 - c0)
    np.testing.assert_allclose(pc.counts["DD"], [[2.0 + frac * 3.0]], rtol=1e-9)
    assert abs(frac - 0.75) < 1e-3  # cos is ~quadratic in theta
    # beyond the table's largest angle: 1
    t = np.deg2rad(2.0)
    q = np.array([[100.0, 0.0, 0.0], [100.0 * np.cos(t), 100.0 * np.sin(t), 0.0]])
    pc = ag.count_pairs(q, bins=bins, twopoint_weights=table)
    np.testing.assert_allclose(pc.counts["DD"], [[1.0]], rtol=1e-15)
    # a table over [0, 180]: cos in [-1, 1]; the antipodal pair (cos = -1
    # exactly, the first node) is not upweighted, pairs at 90 degrees
    # (cos = 0) get the middle of the two weights
    p = np.array([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    pc = ag.count_pairs(p, bins=ag.Bins([0.0, 30.0]), twopoint_weights=([0.0, 180.0], [5.0, 3.0]))
    np.testing.assert_allclose(pc.counts["DD"], [[1.0 + 4.0 + 4.0]], rtol=1e-15)
    np.testing.assert_allclose(
        R.counts(R.smu([0.0, 30.0]), p, twopoint_weights=([0.0, 180.0], [5.0, 3.0]))["DD"],
        [[9.0]],
        rtol=1e-15,
    )


# -- normalisations and estimators -----------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_norms_follow_their_formulas(weighted):
    d, r, d2, r2 = (points("uniform", n, n) for n in (120, 150, 100, 140))
    w = [weights(len(x), k) if weighted else None for k, x in enumerate((d, r, d2, r2))]
    bins = ag.Bins(SMU_BINS)
    pc = ag.count_pairs(d, r, bins=bins, data_weights=w[0], random_weights=w[1])
    s = lambda x, k: float((np.ones(len(x)) if k is None else k).sum())  # noqa: E731
    s2 = lambda x, k: float(((np.ones(len(x)) if k is None else k) ** 2).sum())  # noqa: E731
    assert pc.norms() == pytest.approx(
        {
            "DD": 0.5 * (s(d, w[0]) ** 2 - s2(d, w[0])),
            "DR": s(d, w[0]) * s(r, w[1]),
            "RR": 0.5 * (s(r, w[1]) ** 2 - s2(r, w[1])),
        },
        rel=1e-13,
    )
    assert pc.norms() == pytest.approx(R.norms(d, r, dw=w[0], rw=w[1]), rel=1e-12)
    if not weighted:
        assert pc.norms() == {"DD": 120 * 119 / 2, "DR": 120 * 150, "RR": 150 * 149 / 2}
    pc = ag.count_pairs(
        d, r, bins=bins, data2=d2, randoms2=r2, data_weights=w[0], random_weights=w[1],
        data2_weights=w[2], random2_weights=w[3],
    )  # fmt: skip
    assert pc.norms() == pytest.approx(
        {
            "D1D2": s(d, w[0]) * s(d2, w[2]),
            "D1R2": s(d, w[0]) * s(r2, w[3]),
            "R1D2": s(r, w[1]) * s(d2, w[2]),
            "R1R2": s(r, w[1]) * s(r2, w[3]),
        },
        rel=1e-13,
    )
    # splits
    pc = ag.count_pairs(
        d,
        [r[:60], r[60:]],
        bins=bins,
        data_weights=w[0],
        random_weights=None if w[1] is None else [w[1][:60], w[1][60:]],
    )
    rr = sum(
        0.5 * (s(x, k) ** 2 - s2(x, k))
        for x, k in (
            (r[:60], None if w[1] is None else w[1][:60]),
            (r[60:], None if w[1] is None else w[1][60:]),
        )
    )
    assert pc.norm("RR") == pytest.approx(rr, rel=1e-13)
    assert pc.norm("DR") == pytest.approx(s(d, w[0]) * s(r, w[1]), rel=1e-13)


def test_estimators_from_the_counts():
    d1, r1 = points("clustered", 250, 1), points("uniform", 300, 2)
    d2, r2 = points("clustered", 200, 3), points("uniform", 280, 4)
    spec = R.smu(SMU_BINS, 2)
    bins = ag.Bins(SMU_BINS, nmu=2)
    c = R.counts(spec, d1, r1, d2, r2)
    n = R.norms(d1, r1, d2, r2)
    x = {k: c[k] / n[k] for k in c}
    pc = ag.count_pairs(d1, r1, bins=bins, data2=d2, randoms2=r2)
    assert pc.default_estimator() == "landy-szalay"
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = (x["D1D2"] - x["D1R2"] - x["R1D2"] + x["R1R2"]) / x["R1R2"]
        np.testing.assert_allclose(pc.xi(), ls, rtol=1e-12)
        np.testing.assert_allclose(pc.xi("natural"), x["D1D2"] / x["R1R2"] - 1, rtol=1e-12)
        np.testing.assert_allclose(pc.xi("davis-peebles"), x["D1D2"] / x["D1R2"] - 1, rtol=1e-12)
        np.testing.assert_allclose(
            pc.xi("hamilton"), x["D1D2"] * x["R1R2"] / (x["D1R2"] * x["R1D2"]) - 1, rtol=1e-12
        )
        s = {k: v.sum(1) for k, v in x.items()}
        np.testing.assert_allclose(
            pc.xi_s(), (s["D1D2"] - s["D1R2"] - s["R1D2"] + s["R1R2"]) / s["R1R2"], rtol=1e-12
        )
    # one tracer: (DD - 2 DR + RR) / RR
    c = R.counts(spec, d1, r1)
    n = R.norms(d1, r1)
    x = {k: c[k].sum(1) / n[k] for k in c}
    pc = ag.count_pairs(d1, r1, bins=bins)
    np.testing.assert_allclose(pc.xi_s(), (x["DD"] - 2 * x["DR"] + x["RR"]) / x["RR"], rtol=1e-12)
    assert np.isfinite(pc.xi_s()).all() and pc.xi_s()[1] > 0  # clustered


# -- jackknife: realisation r == recount without region r -------------------------------

K = 4


def _labels(rng, *cats):
    """Labels 0..K-1, every region present in every catalogue."""
    out = []
    for c in cats:
        lab = rng.integers(0, K, len(c))
        lab[:K] = np.arange(K)
        out.append(lab)
    return out


def _check_realisations(pc, recount, exact):
    reals = pc._realisations("jackknife", 0, 0)
    assert len(reals) == K
    stacked = pc.realisations(lambda p: np.stack([p.counts[n] for n in p.names]))
    for k, real in enumerate(reals):
        other = recount(k)
        assert real.names == other.names
        for name in real.names:
            if exact:
                np.testing.assert_array_equal(
                    real.counts[name], other.counts[name], err_msg=f"region {k} {name}"
                )
                np.testing.assert_array_equal(
                    stacked[k][real.names.index(name)], other.counts[name]
                )
            else:
                scale = np.abs(pc.counts[name]).max()
                np.testing.assert_allclose(
                    real.counts[name], other.counts[name], rtol=1e-12, atol=1e-12 * scale
                )
        assert real.norms() == pytest.approx(other.norms(), rel=1e-12)
    return reals


@pytest.mark.parametrize("counter", ["smu", "rppi", "angular"])
@pytest.mark.parametrize("weighted", [False, True])
def test_jackknife_cross_equals_recount(counter, weighted):
    rng = np.random.default_rng(3)
    if counter == "angular":
        cats = [R.sky(rng, n, ra=(10, 16), dec=(-3, 3)) for n in (150, 170, 130, 160)]

        def run(d, r, d2, r2, **kw):
            return ag.count_angular(d, r, bins=[0.0, 0.2, 0.6, 1.5], data2=d2, randoms2=r2, **kw)
    else:
        cats = [
            points("clustered", 150, 1),
            points("uniform", 170, 2),
            points("uniform", 130, 3),
            points("uniform", 160, 4),
        ]
        if counter == "smu":

            def run(d, r, d2, r2, **kw):
                return ag.count_pairs(
                    d,
                    r,
                    bins=ag.Bins(SMU_BINS, nmu=3, mu_min=-1),
                    data2=d2,
                    randoms2=r2,
                    los="firstpoint",
                    **kw,
                )
        else:

            def run(d, r, d2, r2, **kw):
                return ag.count_pairs_rppi(
                    d,
                    r,
                    rp_bins=RP_EDGES,
                    pimax=PIMAX,
                    npi=NPI,
                    signed=True,
                    data2=d2,
                    randoms2=r2,
                    **kw,
                )

    w = [weights(len(c), k) if weighted else None for k, c in enumerate(cats)]
    labels = _labels(rng, *cats)
    names = ("data_weights", "random_weights", "data2_weights", "random2_weights")
    pc = run(*cats, regions=tuple(labels), **dict(zip(names, w, strict=True)))
    assert pc.resampling.nregions == K

    def recount(k):
        keep = [lab != k for lab in labels]
        sub = [c[m] for c, m in zip(cats, keep, strict=True)]
        sw = {n: None if x is None else x[m] for n, x, m in zip(names, w, keep, strict=True)}
        return run(*sub, **sw)

    reals = _check_realisations(pc, recount, exact=not weighted)
    # the errors are the jackknife spread of the recounts
    xs = np.array([r.xi() for r in reals])
    xs_re = np.array([recount(k).xi() for k in range(K)])
    np.testing.assert_allclose(xs, xs_re, rtol=1e-10, atol=1e-12)
    std = np.sqrt((K - 1) / K * ((xs_re - xs_re.mean(0)) ** 2).sum(0))
    stat = "wtheta" if counter == "angular" else "xi"
    ok = np.isfinite(std)
    assert ok.any()
    np.testing.assert_allclose(pc.std(stat).reshape(std.shape)[ok], std[ok], rtol=1e-8)


@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_jackknife_random_splits_equals_recount(cross, weighted):
    rng = np.random.default_rng(5)
    d = points("clustered", 160, 11)
    r = [points("uniform", 120, 12), points("uniform", 110, 13)]
    d2 = points("uniform", 130, 14)
    r2 = [points("uniform", 100, 15), points("uniform", 115, 16)]
    dl, rl0, rl1, d2l, r2l0, r2l1 = _labels(rng, d, *r, d2, *r2)
    dw = weights(len(d), 1) if weighted else None
    rw = [weights(len(x), 2 + k) for k, x in enumerate(r)] if weighted else None
    bins = ag.Bins(SMU_BINS, nmu=2, mu_min=-1)

    def run(d, r, d2, r2, dw, rw, **kw):
        if cross:
            return ag.count_pairs(
                d, r, bins=bins, data2=d2, randoms2=r2, data_weights=dw, random_weights=rw, **kw
            )
        return ag.count_pairs(d, r, bins=bins, data_weights=dw, random_weights=rw, **kw)

    regions = (dl, [rl0, rl1], d2l, [r2l0, r2l1]) if cross else (dl, [rl0, rl1])
    pc = run(d, r, d2, r2, dw, rw, regions=regions)

    def recount(k):
        keep = lambda lab: lab != k  # noqa: E731
        sr = [r[0][keep(rl0)], r[1][keep(rl1)]]
        srw = None if rw is None else [rw[0][keep(rl0)], rw[1][keep(rl1)]]
        sr2 = [r2[0][keep(r2l0)], r2[1][keep(r2l1)]]
        return run(d[keep(dl)], sr, d2[keep(d2l)], sr2, None if dw is None else dw[keep(dl)], srw)

    reals = _check_realisations(pc, recount, exact=not weighted)
    # the covariance of xi(s) is that of the recounts
    xs = np.array([recount(k).xi_s() for k in range(K)])
    np.testing.assert_allclose(np.array([x.xi_s() for x in reals]), xs, rtol=1e-10)
    dev = xs - xs.mean(0)
    np.testing.assert_allclose(pc.cov("xi_s"), (K - 1) / K * dev.T @ dev, rtol=1e-8, atol=1e-14)


def test_jackknife_with_pip_and_upweights_equals_recount():
    rng = np.random.default_rng(8)
    d, r, d2 = points("clustered", 150, 21), points("uniform", 160, 22), points("uniform", 120, 23)
    b1, b2 = R.bitwise(rng, len(d), 2), R.bitwise(rng, len(d2), 2)
    dl, rl, d2l = _labels(rng, d, r, d2)
    bins = ag.Bins(SMU_BINS, nmu=2)
    for attrs in ({"noffset": 1}, {"noffset": 0, "nalways": 1}):

        def run(d, r, d2, b1, b2, attrs=attrs, **kw):
            return ag.count_pairs(
                d, r, bins=bins, data2=d2, data_bitwise_weights=b1, data2_bitwise_weights=b2,
                weight_attrs=attrs, twopoint_weights=UPWEIGHTS, **kw,
            )  # fmt: skip

        pc = run(d, r, d2, b1, b2, regions=(dl, rl, d2l))
        _check_realisations(
            pc,
            lambda k: run(d[dl != k], r[rl != k], d2[d2l != k], b1[dl != k], b2[d2l != k]),
            exact=False,
        )
    # one tracer, PIP, random splits
    splits, sl = [r[:80], r[80:]], [rl[:80], rl[80:]]

    def auto(d, splits, b1, **kw):
        return ag.count_pairs(
            d,
            splits,
            bins=bins,
            data_bitwise_weights=b1,
            los="endpoint",
            twopoint_weights=UPWEIGHTS,
            **kw,
        )

    pc = auto(d, splits, b1, regions=(dl, sl))
    want = R.counts(
        R.smu(SMU_BINS, 2), d, splits, bits1=b1, los="endpoint", twopoint_weights=UPWEIGHTS
    )
    assert_counts(pc, want, exact=False)
    _check_realisations(
        pc,
        lambda k: auto(
            d[dl != k], [x[lab != k] for x, lab in zip(splits, sl, strict=True)], b1[dl != k]
        ),
        exact=False,
    )


def test_jackknife_with_a_number_of_regions():
    """regions=K: sub-cubes of a box, k-means patches on the sky; each
    realisation is the recount without the points of that region."""
    from astrograph.clustering.regions import box_labels, sky_centres, sky_labels
    from astrograph.clustering.twopoint import sky_directions

    d, r, d2 = (
        points("clustered", 300, 1, box=SIZE),
        points("uniform", 300, 2, box=SIZE),
        points("uniform", 250, 3, box=SIZE),
    )
    bins = ag.Bins(SMU_BINS, nmu=2, mu_min=-1)

    def run(d, r, d2, **kw):
        return ag.count_pairs(d, r, bins=bins, data2=d2, boxsize=SIZE, los="x", **kw)

    pc = run(d, r, d2, regions=8)
    labels = [box_labels(x, SIZE, 8) for x in (d, r, d2)]
    reals = pc._realisations("jackknife", 0, 0)
    assert len(reals) == 8
    for k, real in enumerate(reals):
        other = run(*(x[lab != k] for x, lab in zip((d, r, d2), labels, strict=True)))
        for name in pc.names:
            np.testing.assert_array_equal(real.counts[name], other.counts[name])
        assert real.norms() == pytest.approx(other.norms(), rel=1e-13)
    rng = np.random.default_rng(4)
    cats = [R.sky(rng, n, ra=(0, 40), dec=(-10, 10)) for n in (200, 220, 180)]
    pc = ag.count_angular(cats[0], cats[1], bins=[0.0, 1.0, 3.0, 8.0], data2=cats[2], regions=3)
    dirs = [sky_directions(c, "x").T for c in cats]
    centres = sky_centres(np.vstack([dirs[0], dirs[2]]), 3)
    labels = [sky_labels(x, centres) for x in dirs]
    for k, real in enumerate(pc._realisations("jackknife", 0, 0)):
        keep = [c[lab != k] for c, lab in zip(cats, labels, strict=True)]
        other = ag.count_angular(keep[0], keep[1], bins=[0.0, 1.0, 3.0, 8.0], data2=keep[2])
        assert other.names == ("D1D2", "R1D2")
        for name in pc.names:
            np.testing.assert_array_equal(real.counts[name], other.counts[name])
        assert real.norms() == pytest.approx(other.norms(), rel=1e-13)


# -- threads --------------------------------------------------------------------------


def _thread_cases():
    rng = np.random.default_rng(12)
    d = points("clustered", 2500, 31)
    r = [points("uniform", 1500, 32), points("uniform", 1500, 33)]
    d2 = points("uniform", 2000, 34)
    bits = R.bitwise(rng, len(d), 2)
    bits2 = R.bitwise(rng, len(d2), 2)
    dw = weights(len(d), 3)
    lab = [rng.integers(0, 5, len(x)) for x in (d, r[0], r[1], d2)]
    sky = [R.sky(rng, n, ra=(0, 30), dec=(-10, 10)) for n in (3000, 3000)]
    bins = ag.Bins(np.geomspace(0.3, 8, 7), nmu=4, mu_min=-1)
    return {
        "smu-auto-splits-pip-upweights": lambda t: ag.count_pairs(
            d,
            r,
            bins=bins,
            data_weights=dw,
            data_bitwise_weights=bits,
            twopoint_weights=UPWEIGHTS,
            los="firstpoint",
            regions=(lab[0], [lab[1], lab[2]]),
            num_threads=t,
        ),
        "smu-cross": lambda t: ag.count_pairs(
            d,
            r[0],
            bins=bins,
            data2=d2,
            randoms2=r[1],
            data_bitwise_weights=bits,
            data2_bitwise_weights=bits2,
            num_threads=t,
        ),
        "rppi-cross-regions": lambda t: ag.count_pairs_rppi(
            d,
            r[0],
            rp_bins=RP_EDGES,
            pimax=PIMAX,
            npi=NPI,
            signed=True,
            data2=d2,
            randoms2=r[1],
            data_weights=dw,
            regions=(lab[0], lab[1], lab[3], lab[2]),
            num_threads=t,
        ),
        "angular-cross": lambda t: ag.count_angular(
            sky[0],
            sky[1],
            bins=THETA_EDGES,
            data2=sky[1][::2],
            randoms2=sky[0][::3],
            data_weights=np.linspace(0.5, 1.5, 3000),
            twopoint_weights=UPWEIGHTS,
            regions=3,
            num_threads=t,
        ),
        "box-auto": lambda t: ag.count_pairs(
            points("clustered", 3000, 35, box=SIZE),
            points("uniform", 3000, 36, box=SIZE),
            bins=bins,
            boxsize=SIZE,
            los="y",
            regions=8,
            num_threads=t,
        ),
    }


@pytest.mark.parametrize("case", list(_thread_cases()))
def test_thread_count_does_not_change_a_bit(case):
    run = _thread_cases()[case]
    one, two = run(1), run(2)
    assert one.names == two.names
    for name in one.names:
        assert one.counts[name].sum() > 0
        np.testing.assert_array_equal(one.counts[name], two.counts[name], err_msg=name)
    if one.resampling is not None:
        for t in ("touch", "low", "within"):
            np.testing.assert_array_equal(
                getattr(one.resampling, t), getattr(two.resampling, t), err_msg=t
            )


# -- properties ------------------------------------------------------------------------

CI = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
PSIZE = 12.0


@st.composite
def cloud(draw, max_n, box):
    """(n, 3) points: uniform, lattice, clumps and duplicates (survey: offset)."""
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = rng.integers(0, 4, n)
    pts = rng.uniform(0, PSIZE, (n, 3))
    pts[kind == 1] = rng.integers(0, int(PSIZE), ((kind == 1).sum(), 3)).astype(float)
    centre = rng.uniform(2, PSIZE - 2, 3)
    pts[kind == 2] = np.clip(centre + rng.normal(0, 0.4, ((kind == 2).sum(), 3)), 0, PSIZE - 1e-9)
    dup = np.flatnonzero(kind == 3)
    if dup.size:
        pts[dup] = pts[rng.integers(0, n, dup.size)]
    return pts if box else pts + draw(st.sampled_from([0.0, 5.0, 30.0]))


@st.composite
def edges(draw, top, max_bins=5):
    pool = st.one_of(
        st.integers(0, int(top)).map(float),
        st.integers(0, int(2 * top)).map(lambda v: v / 2),
        st.floats(0.0, top, allow_nan=False),
    )
    e = sorted(set(draw(st.lists(pool, min_size=2, max_size=max_bins + 1))))
    return e if len(e) >= 2 else [0.0, top]


PIP_ATTRS = [None, {"noffset": 0}, {"noffset": 0, "default_value": 2.0}, {"nrealizations": 40}]
UPWEIGHT_TABLES = [
    None,
    UPWEIGHTS,
    (np.array([0.0, 5.0, 30.0, 90.0, 180.0]), np.array([2.0, 1.5, 0.5, 3.0, 1.0])),
]


@st.composite
def extra_weights(draw, cats, upweights=True):
    """PIP bitwise weights (1 or 2 bytes, sparse or dense) for the data and
    angular upweights, or neither."""
    out = {"bits": None, "attrs": None, "table": None}
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        nbytes, p = draw(st.sampled_from([1, 2])), draw(st.sampled_from([0.1, 0.5, 0.9]))
        out["bits"] = [
            None if k % 2 or c is None else R.bitwise(rng, len(c), nbytes, p=p)
            for k, c in enumerate(cats)
        ]
        out["attrs"] = draw(st.sampled_from(PIP_ATTRS))
    if upweights:
        out["table"] = draw(st.sampled_from(UPWEIGHT_TABLES))
    return out


def _pip_kw(c):
    bits = (c["bits"] or []) + [None] * 4
    return (
        dict(
            data_bitwise_weights=bits[0],
            data2_bitwise_weights=bits[2],
            weight_attrs=c["attrs"],
            twopoint_weights=c["table"],
        ),
        dict(bits1=bits[0], bits2=bits[2], attrs=c["attrs"], twopoint_weights=c["table"]),
    )


@st.composite
def spatial_case(draw, max_n):
    box = PSIZE if draw(st.booleans()) else None
    cross = draw(st.booleans())
    los = draw(st.sampled_from(AXIS_LOS if box else ALL_LOS))
    cats = [draw(cloud(max_n, box))]
    cats.append(draw(st.one_of(st.none(), cloud(max_n, box))))
    if cross:
        cats += [draw(cloud(max_n, box)), draw(st.one_of(st.none(), cloud(max_n, box)))]
    rng = np.random.default_rng(sum(len(c) for c in cats if c is not None))
    w = [
        None if c is None or not draw(st.booleans()) else rng.uniform(0.1, 2.0, len(c))
        for c in cats
    ]
    rppi = draw(st.booleans())
    top = PSIZE / 2 - 0.01 if box else PSIZE / 2
    e = draw(edges(top * (0.6 if rppi else 1.0)))
    extra = draw(extra_weights(cats, upweights=box is None))
    if extra["table"] is not None:
        # a point at the observer has no direction (cos theta = 0 / 0): keep
        # the catalogues off the origin when pairs are upweighted by angle
        cats = [None if c is None else c + 5.0 for c in cats]
    return dict(
        cats=cats, w=w, box=box, los=los, edges=e, n2=draw(st.integers(1, 4)),
        signed=draw(st.booleans()), rppi=rppi, pimax=draw(st.sampled_from([0.5, 2.0, 3.0, 3.7])),
        **extra,
    )  # fmt: skip


def _spatial(c):
    d, r = c["cats"][:2]
    d2, r2 = (c["cats"] + [None, None])[2:4]
    w = c["w"] + [None, None]
    extra, ref_extra = _pip_kw(c)
    kw = dict(
        data_weights=w[0], random_weights=w[1], data2=d2, randoms2=r2,
        data2_weights=w[2], random2_weights=w[3], boxsize=c["box"], los=c["los"], **extra,
    )  # fmt: skip
    if c["rppi"]:
        spec = R.rppi(c["edges"], c["pimax"], c["n2"], c["signed"])
        run = lambda t: ag.count_pairs_rppi(  # noqa: E731
            d,
            r,
            rp_bins=c["edges"],
            pimax=c["pimax"],
            npi=c["n2"],
            signed=c["signed"],
            num_threads=t,
            **kw,
        )
    else:
        spec = R.smu(c["edges"], c["n2"], c["signed"])
        bins = ag.Bins(c["edges"], nmu=c["n2"], mu_min=-1 if c["signed"] else 0)
        run = lambda t: ag.count_pairs(d, r, bins=bins, num_threads=t, **kw)  # noqa: E731
    want = R.counts(
        spec,
        d,
        r,
        d2,
        r2,
        dw=w[0],
        rw=w[1],
        d2w=w[2],
        r2w=w[3],
        box=c["box"],
        los=c["los"],
        **ref_extra,
    )
    weighted = any(x is not None for x in w) or c["bits"] is not None or c["table"] is not None
    one, two = run(1), run(2)
    assert_counts(one, want, exact=not weighted)
    for name in one.names:
        np.testing.assert_array_equal(one.counts[name], two.counts[name])


@st.composite
def angular_case(draw, max_n):
    def cat():
        n = draw(st.integers(1, max_n))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        if draw(st.booleans()):
            out = np.column_stack(
                [rng.uniform(0, 360, n), np.rad2deg(np.arcsin(rng.uniform(-1, 1, n)))]
            )
        else:
            out = R.sky(rng, n, ra=(20, 24), dec=(-2, 2))
        dup = rng.random(n) < 0.15
        out[dup] = out[rng.integers(0, n, dup.sum())]
        return out

    cross = draw(st.booleans())
    cats = [cat(), cat() if draw(st.booleans()) else None]
    if cross:
        cats += [cat(), cat() if draw(st.booleans()) else None]
    rng = np.random.default_rng(len(cats[0]))
    w = [
        None if c is None or not draw(st.booleans()) else rng.uniform(0.1, 2.0, len(c))
        for c in cats
    ]
    top = draw(st.sampled_from([3.0, 90.0, 180.0]))
    return dict(cats=cats, w=w, edges=draw(edges(top)), **draw(extra_weights(cats)))


def _angular(c):
    d, r = c["cats"][:2]
    d2, r2 = (c["cats"] + [None, None])[2:4]
    w = c["w"] + [None, None]
    u = [None if x is None else R.unit_vectors(x) for x in (d, r, d2, r2)]
    extra, ref_extra = _pip_kw(c)
    want = R.counts(R.theta(c["edges"]), *u, dw=w[0], rw=w[1], d2w=w[2], r2w=w[3], **ref_extra)
    kw = dict(
        data_weights=w[0], random_weights=w[1], data2=d2, randoms2=r2, data2_weights=w[2],
        random2_weights=w[3], **extra,
    )  # fmt: skip
    one = ag.count_angular(d, r, bins=c["edges"], num_threads=1, **kw)
    two = ag.count_angular(d, r, bins=c["edges"], num_threads=2, **kw)
    plain = all(x is None for x in w) and c["bits"] is None and c["table"] is None
    assert_counts(one, want, exact=plain)
    for name in one.names:
        np.testing.assert_array_equal(one.counts[name], two.counts[name])


@CI
@given(spatial_case(max_n=40))
def test_property_spatial_counts_are_exact(c):
    _spatial(c)


@CI
@given(angular_case(max_n=40))
def test_property_angular_counts_are_exact(c):
    _angular(c)


@pytest.mark.fuzz
@FUZZ
@given(spatial_case(max_n=80))
def test_property_spatial_counts_are_exact_fuzz(c):
    _spatial(c)


@pytest.mark.fuzz
@FUZZ
@given(angular_case(max_n=80))
def test_property_angular_counts_are_exact_fuzz(c):
    _angular(c)


# -- bad input --------------------------------------------------------------------------

_rng = np.random.default_rng(0)
_D = _rng.uniform(0, 10, (50, 3))
_R = _rng.uniform(0, 10, (60, 3))
_SKY = _rng.uniform(0, 10, (40, 2))
_B = ag.Bins([0.0, 1.0, 2.0])
_BITS = np.ones((50, 1), dtype=np.uint8)

BAD = {
    "data2 shape": (
        lambda: ag.count_pairs(_D, bins=_B, data2=_D[:, :2]),
        InputError,
        r"data2 positions must have shape \(N, 3\)",
    ),
    "randoms2 shape": (
        lambda: ag.count_pairs(_D, _R, bins=_B, data2=_D, randoms2=np.ones((5, 4))),
        InputError,
        r"random2 positions must have shape",
    ),
    "angular data2 shape": (
        lambda: ag.count_angular(_SKY, bins=[0, 1], data2=_D),
        InputError,
        r"data2 positions for angular counts are \(RA, Dec\)",
    ),
    "data2 weights length": (
        lambda: ag.count_pairs(_D, bins=_B, data2=_D, data2_weights=np.ones(49)),
        InputError,
        r"data2 weights must have shape \(50,\)",
    ),
    "bitwise float": (
        lambda: ag.count_pairs(_D, bins=_B, data_bitwise_weights=np.ones((50, 2))),
        InputError,
        r"bitwise weights must be integer arrays.*float64",
    ),
    "bitwise bool": (
        lambda: ag.count_pairs(_D, bins=_B, data_bitwise_weights=_BITS.astype(bool)),
        InputError,
        r"bitwise weights must be integer arrays",
    ),
    "bitwise rows": (
        lambda: ag.count_pairs(_D, bins=_B, data_bitwise_weights=np.ones((49, 2), np.uint8)),
        InputError,
        r"bitwise weights must have 50 rows",
    ),
    "bitwise list rows": (
        lambda: ag.count_pairs(
            _D, bins=_B, data_bitwise_weights=[np.ones(50, np.int32), np.ones(49, np.int32)]
        ),
        InputError,
        r"bitwise weights must have 50 rows",
    ),
    "bitwise data2 rows": (
        lambda: ag.count_pairs(
            _D, bins=_B, data2=_D[:30], data_bitwise_weights=_BITS, data2_bitwise_weights=_BITS
        ),
        InputError,
        r"data2 bitwise weights must have 30 rows",
    ),
    "bitwise more than 64 words": (
        lambda: ag.count_pairs(_D, bins=_B, data_bitwise_weights=np.ones((50, 65), np.uint64)),
        InputError,
        r"1 to 64 64-bit words per galaxy, got 65",
    ),
    "bitwise widths differ": (
        lambda: ag.count_pairs(
            _D,
            bins=_B,
            data2=_D,
            data_bitwise_weights=_BITS,
            data2_bitwise_weights=_BITS.astype(np.uint16),
        ),
        InputError,
        r"same number of bits",
    ),
    "bitwise for one tracer": (
        lambda: ag.count_pairs(_D, bins=_B, data2=_D, data_bitwise_weights=_BITS),
        InputError,
        r"need bitwise weights for both tracers",
    ),
    "theta beyond 180": (
        lambda: ag.count_angular(_SKY, bins=[0, 90, 180.5]),
        BinningError,
        r"degrees in \[0, 180\]",
    ),
    "theta negative": (
        lambda: ag.count_angular(_SKY, bins=[-1, 90]),
        BinningError,
        r"bin edges must be >= 0",
    ),
    "theta with mu bins": (
        lambda: ag.count_angular(_SKY, bins=ag.Bins([0, 1], nmu=2)),
        BinningError,
        r"nmu must be 1",
    ),
    "dec beyond 90": (
        lambda: ag.count_angular(np.array([[0, 91.0], [0, 0]]), bins=[0, 1]),
        InputError,
        r"Dec must lie in \[-90, 90\]",
    ),
    "midpoint in a box": (
        lambda: ag.count_pairs(_D, bins=_B, boxsize=10.0, los="midpoint"),
        BoxError,
        r"los='midpoint' needs an observer",
    ),
    "firstpoint in a box (rppi)": (
        lambda: ag.count_pairs_rppi(_D, rp_bins=[0, 1], pimax=2, boxsize=10.0, los="firstpoint"),
        BoxError,
        r"los='firstpoint' needs an observer",
    ),
    "unknown los": (
        lambda: ag.count_pairs(_D, bins=_B, los="sideways"),
        InputError,
        r"los must be one of",
    ),
    "upweight angles not increasing": (
        lambda: ag.count_pairs(_D, bins=_B, twopoint_weights=([0, 2, 1], [1, 1, 1])),
        InputError,
        r"angles must be strictly increasing",
    ),
    "upweight angles beyond 180": (
        lambda: ag.count_pairs(_D, bins=_B, twopoint_weights=([0, 200], [1, 1])),
        InputError,
        r"angles must lie in \[0, 180\]",
    ),
    "upweight negative": (
        lambda: ag.count_pairs(_D, bins=_B, twopoint_weights=([0, 20], [1, -1])),
        InputError,
        r"weights must be >= 0",
    ),
    "upweight lengths": (
        lambda: ag.count_pairs(_D, bins=_B, twopoint_weights=([0, 1, 2], [1, 1])),
        InputError,
        r"1-D of one length",
    ),
    "upweight count names": (
        lambda: ag.count_pairs(_D, _R, bins=_B, twopoint_weights={"D1D2": ([0, 1], [1, 1])}),
        InputError,
        r"by count name \(DD, DR, RR\).*D1D2",
    ),
    "upweights in a box": (
        lambda: ag.count_pairs(_D, bins=_B, boxsize=10.0, twopoint_weights=([0, 1], [1, 1])),
        InputError,
        r"angular upweights need an observer",
    ),
    "weight_attrs unknown key": (
        lambda: ag.count_pairs(
            _D, bins=_B, data_bitwise_weights=_BITS, weight_attrs={"nrealisations": 3}
        ),
        InputError,
        r"weight_attrs takes .*nrealisations",
    ),
    "weight_attrs without bits": (
        lambda: ag.count_pairs(_D, bins=_B, weight_attrs={"noffset": 0}),
        InputError,
        r"weight_attrs were given without bitwise weights",
    ),
    "noffset negative": (
        lambda: ag.count_pairs(
            _D, bins=_B, data_bitwise_weights=_BITS, weight_attrs={"noffset": -1}
        ),
        InputError,
        r"noffset.*integer >= 0",
    ),
    "normalization unknown": (
        lambda: ag.count_pairs(
            _D, bins=_B, data_bitwise_weights=_BITS, weight_attrs={"normalization": "brute_force"}
        ),
        InputError,
        r"normalization'] = 'brute_force' is not supported",
    ),
    "randoms2 without data2": (
        lambda: ag.count_pairs(_D, _R, bins=_B, randoms2=_R),
        InputError,
        r"randoms2 and data2 weights need data2",
    ),
    "data2 weights without data2": (
        lambda: ag.count_pairs(_D, bins=_B, data2_weights=np.ones(50)),
        InputError,
        r"need data2",
    ),
    "random weights without randoms": (
        lambda: ag.count_pairs(_D, bins=_B, random_weights=np.ones(3)),
        InputError,
        r"random_weights were given without randoms",
    ),
    "split weights: one array": (
        lambda: ag.count_pairs(_D, [_R[:30], _R[30:]], bins=_B, random_weights=np.ones(60)),
        InputError,
        r"come in 2 splits: pass a list of 2",
    ),
    "split weights: short list": (
        lambda: ag.count_pairs(_D, [_R[:30], _R[30:]], bins=_B, random_weights=[np.ones(30)]),
        InputError,
        r"come in 2 splits",
    ),
    "split weights: wrong length": (
        lambda: ag.count_pairs(
            _D, [_R[:30], _R[30:]], bins=_B, random_weights=[np.ones(30), np.ones(29)]
        ),
        InputError,
        r"random split 1 weights must have shape \(30,\)",
    ),
    "splits differ between tracers": (
        lambda: ag.count_pairs(
            _D, [_R[:30], _R[30:]], bins=_B, data2=_D, randoms2=[_R[:20], _R[20:40], _R[40:]]
        ),
        InputError,
        r"same number of splits, got 2 and 3",
    ),
    "region labels missing": (
        lambda: ag.count_pairs(
            _D, _R, bins=_B, data2=_D, regions=(np.zeros(50, int), np.arange(60) % 2)
        ),
        InputError,
        r"region labels are missing for the D2",
    ),
    "split region labels": (
        lambda: ag.count_pairs(
            _D, [_R[:30], _R[30:]], bins=_B, regions=(np.arange(50) % 2, [np.zeros(30, int)])
        ),
        InputError,
        r"R1 has 2 splits",
    ),
    "pimax": (
        lambda: ag.count_pairs_rppi(_D, rp_bins=[0, 1], pimax=0.0),
        InputError,
        r"pimax must be a positive",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused(case):
    fn, cls, match = BAD[case]
    with pytest.raises(cls, match=match) as info:
        fn()
    assert isinstance(info.value, AstrographError)


def test_angular_upweights_refuse_a_point_at_the_observer():
    """cos(theta) of a point at the origin is 0/0: refused, not guessed."""
    pts = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.5, 0.2, 0.1]])
    with pytest.raises(ag.errors.InputError, match="away from the observer"):
        ag.count_pairs(pts, bins=ag.Bins([0.0, 3.0]), twopoint_weights=([0, 10, 90], [4, 2, 1.5]))


@pytest.mark.parametrize("threads", [1, 2])
def test_unit_weights_path_equals_the_weighted_one(threads):
    """Unit weights with neighbours of one kind take a loop that reads only
    the bins; weights of 2 (exact products of 4) take the general one, and
    DD, DR, RR counted in one call (neighbours of both kinds) the mixed one:
    all agree exactly, for separations, (s, mu) (both orientations' halves
    with the first-point line of sight) and angles; with regions (another
    loop again) the totals are the same too."""
    d = points("clustered", 400, 71)
    r = points("uniform", 700, 72)
    edges = np.linspace(0.5, 12.0, 9)
    sky = full_sky(np.random.default_rng(73), 900)
    theta = np.geomspace(0.5, 30.0, 12)
    kw = {"num_threads": threads}
    for count, a, b, extra in ((ag.count_pairs, d, r, {"bins": ag.Bins(edges)}),
                               (ag.count_pairs, d, r, {"bins": ag.Bins(edges, 5)}),
                               (ag.count_pairs, d, r, {"bins": ag.Bins(edges, 4, mu_min=-1),
                                                       "los": "firstpoint"}),
                               (ag.count_angular, sky[:400], sky[400:], {"bins": theta})):  # fmt: skip
        unit = {n: count(x, **extra, **kw).counts["DD"] for n, x in (("DD", a), ("RR", b))}
        mixed = count(a, b, **extra, **kw).counts
        # a cross count orients its pairs (first point from data): the same
        # as DR of one tracer only where the line of sight is symmetric
        symmetric = "los" not in extra
        unit["DR"] = count(a, **extra, data2=b, **kw).counts["D1D2"] if symmetric else mixed["DR"]
        two = count(a, b, **extra, data_weights=np.full(len(a), 2.0),
                    random_weights=np.full(len(b), 2.0), **kw).counts  # fmt: skip
        labels = (np.arange(len(a)) % 3, np.arange(len(b)) % 3)
        regions = count(a, b, **extra, regions=labels, **kw).counts
        for name in ("DD", "DR", "RR"):
            np.testing.assert_array_equal(two[name], 4.0 * unit[name], err_msg=name)
            np.testing.assert_array_equal(mixed[name], unit[name], err_msg=name)
            np.testing.assert_array_equal(regions[name], unit[name], err_msg=name)
        assert unit["DD"].sum() > 0 and unit["DR"].sum() > 0


@pytest.mark.parametrize("nbins", [3, 4, 15, 16, 17, 40])
def test_vector_binning_changes_no_bit(monkeypatch, nbins):
    """Separation and angle bins found by the vector search (up to 16 bins),
    the gathered table (more) or, with unit weights, the cumulative counts
    of whole cells (up to 16 bins, open space and box) equal the scalar
    lookup's, edges included: points on a lattice put many separations
    exactly on the edges, and cell bounds on the points."""
    rng = np.random.default_rng(nbins)
    g = np.arange(6, dtype=float)
    lattice = np.stack(np.meshgrid(g, g, g), -1).reshape(-1, 3)
    d = np.vstack([lattice, points("clustered", 300, 61, 12.0)])
    r = points("uniform", 500, 62, 12.0)
    w = weights(len(d), 63)
    # lattice separations on edges in every case, random edges between
    edges = np.sort(
        np.concatenate([[1.0, np.sqrt(2.0), 2.0, 3.0], rng.uniform(0.4, 5.0, nbins - 3)])
    )
    sky = full_sky(rng, 800)
    theta = np.geomspace(0.5, 40.0, nbins + 1)

    def run():
        return (ag.count_pairs(d, r, bins=ag.Bins(edges), data_weights=w).counts,
                ag.count_pairs(d, r, bins=ag.Bins(edges)).counts,
                ag.count_pairs(d, r, bins=ag.Bins(edges), boxsize=12.0).counts,
                ag.count_angular(sky[:300], sky[300:], bins=theta).counts)  # fmt: skip

    fast = run()
    monkeypatch.setenv("ASTROGRAPH_SIMD", "baseline")
    base = run()
    for f, b in zip(fast, base, strict=True):
        for name in f:
            np.testing.assert_array_equal(f[name], b[name], err_msg=name)
    assert sum(float(np.sum(c)) for c in fast[0].values()) > 0


@pytest.mark.filterwarnings("ignore:only .* randoms")
@pytest.mark.parametrize("regions", [False, True])
@pytest.mark.parametrize("case", ["open", "box", "lattice", "angular", "angular cross"])
def test_cumulative_counts_change_no_bit(monkeypatch, case, regions):
    """Unit-weight counts in well-filled cells (more than 24 points per
    occupied cell) take the cumulative kernel: whole cells counted from
    their nearest and farthest d^2, the rest compared with a few thresholds.
    Its counts equal the baseline's hit by hit, with lattice separations and
    cell bounds exactly on the thresholds, galaxies and randoms mixed; with
    regions (slabs, a few points relabelled so that some cells mix regions)
    the jackknife tables too."""
    rng = np.random.default_rng(7)

    def labels(x, width):
        lab = (np.floor(x / width) % 4).astype(np.int64)
        lab[rng.random(len(lab)) < 0.01] = 3
        return lab

    if case in ("open", "box", "lattice"):
        g = np.arange(0.0, 10.0, 0.5)  # exact doubles: d^2 hits the edges' squares
        lattice = np.stack(np.meshgrid(g, g, g), -1).reshape(-1, 3)
        d = np.vstack([lattice, points("clustered", 4000, 71, 10.0)])
        r = np.vstack([lattice[::3], points("uniform", 6000, 72, 10.0)])
        if case == "lattice":  # cell corners on the lattice too: bounds on the edges
            d, r = lattice, lattice + 0.25
        edges = np.sort(np.concatenate([[0.5, np.sqrt(0.5), 1.0, 1.5, 2.0, 2.5],
                                        rng.uniform(0.3, 2.5, 6)]))  # fmt: skip
        box = 10.0 if case == "box" else None
        kw = {"regions": (labels(d[:, 0], 2.5), labels(r[:, 0], 2.5))} if regions else {}

        def run():
            return ag.count_pairs(d, r, bins=ag.Bins(edges), boxsize=box, **kw)

    else:
        sky = np.column_stack([rng.uniform(0, 10, 20000), rng.uniform(0, 10, 20000)])
        sky[:4000] = np.round(sky[:4000], 1)  # a lattice of 0.1 degrees
        sky[4000:5000] = sky[:1000]  # duplicates
        theta = np.geomspace(0.05, 1.0, 16)
        cross = case == "angular cross"
        parts = [sky[:8000], sky[8000:12000], sky[12000:16000], sky[16000:]]
        if not cross:
            parts = [sky[:10000], sky[10000:12000]]
        kw = {"regions": tuple(labels(p[:, 0], 2.5) for p in parts)} if regions else {}
        two = {"data2": parts[2], "randoms2": parts[3]} if cross else {}

        def run():
            return ag.count_angular(parts[0], parts[1], bins=theta, **two, **kw)

    fast = run()
    monkeypatch.setenv("ASTROGRAPH_SIMD", "baseline")
    base = run()
    for name in fast.counts:
        np.testing.assert_array_equal(fast.counts[name], base.counts[name], err_msg=name)
        # every bin filled, but those between lattice separations
        filled = np.count_nonzero(fast.counts[name])
        assert filled >= (4 if case == "lattice" else fast.counts[name].size), name
    if regions:
        for table in ("touch", "low", "within"):
            f, b = getattr(fast.resampling, table), getattr(base.resampling, table)
            np.testing.assert_array_equal(f, b, err_msg=table)
        assert np.count_nonzero(fast.resampling.touch) > 0


@pytest.mark.parametrize(
    "los, nmu, signed, box",
    [("midpoint", 4, False, None), ("firstpoint", 5, True, None), ("endpoint", 3, False, None),
     ("z", 6, True, 40.0), ("x", 1, False, 40.0)],
)  # fmt: skip
def test_vector_instructions_change_no_bit(monkeypatch, los, nmu, signed, box):
    """The kernel's AVX-512 / AVX2 variants and the baseline give the same
    bits (weighted sums included): no fused multiply-add, the same operations."""
    d = points("clustered", 300, 51, box)
    r = points("uniform", 600, 52, box)
    w = weights(len(d), 53)
    bins = ag.Bins(np.linspace(0.0, 12.0, 7), nmu, mu_min=-1 if signed else 0)

    def run():
        return ag.count_pairs(d, r, bins=bins, data_weights=w, boxsize=box, los=los).counts

    fast = run()
    monkeypatch.setenv("ASTROGRAPH_SIMD", "baseline")
    base = run()
    for name in fast:
        np.testing.assert_array_equal(fast[name], base[name], err_msg=name)
