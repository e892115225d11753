"""Counts against the peers' own code where it is installed: Corrfunc 2.5.3
(theory DD, DDsmu, DDrppi in a box; mocks DDsmu_mocks, DDrppi_mocks on sky
coordinates with the midpoint line of sight; DDtheta_mocks) and TreeCorr's
NNCorrelation (w(theta), bin_slop=0), on the same points, auto and cross.

CI installs Corrfunc (it builds from source and needs GSL) and sets
ASTROGRAPH_PEERS=1, which turns the absence of a peer into a failure;
TreeCorr comes with the ``test`` extra (a wheel). Elsewhere a test is
skipped when its peer is missing (the exactness of every count is checked
against brute force in the other tests either way).

Conventions: Corrfunc counts the pairs of one catalogue in both orders
(twice ours); TreeCorr counts them once (as ours). Cross counts (Corrfunc's
``autocorr=0``, TreeCorr's ``process(cat1, cat2)``) take every pair once in
all three. Corrfunc 2.5.3 bins |mu| over [0, mu_max] (ours: unsigned mu,
``mu_min=0``) and |pi| in unit bins.

Exactness: the peers compute separations with other formulas (Corrfunc
compares squares, and cos(theta) for angles; TreeCorr logs of arc lengths),
so a pair within a rounding error of a bin edge may fall on either side.
Every test therefore first checks, from the pairs' separations computed
here (float64, cancellation-free formulas, errors ~1e-15 relative), that no
pair lies within 1e-9 (relative) of any bin edge it could cross; the counts
must then agree exactly. The points are random, so this holds with
overwhelming probability; it is asserted, not assumed.
"""

from __future__ import annotations

import importlib
import math
import os

import numpy as np
import pytest

import astrograph as ag

#: Corrfunc's PI_OVER_180 (utils/function_precision.h), as a double.
PI_OVER_180 = float("0.017453292519943295769236907684886127134428718885417254560971")
#: The smallest relative distance of any pair to a bin edge the tests demand.
MARGIN = 1e-9


def _peer(module: str, name: str | None = None, hint: str = ""):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        if os.environ.get("ASTROGRAPH_PEERS"):
            pytest.fail(f"ASTROGRAPH_PEERS is set but {module} cannot be imported")
        pytest.skip(f"{module.split('.')[0]} is not installed ({hint})")
    return getattr(mod, name) if name else mod


def _corrfunc(module: str, name: str):
    return _peer(f"Corrfunc.{module}", name, "pip install Corrfunc; it needs GSL")


def _treecorr():
    return _peer("treecorr", hint="pip install treecorr")


def _assert_clear(values: np.ndarray, edges, what: str) -> None:
    """No value lies within MARGIN (relative) of an edge."""
    v = np.asarray(values, float).ravel()
    for e in np.atleast_1d(np.asarray(edges, float)):
        close = np.abs(v - e) <= MARGIN * abs(e)
        assert not close.any(), (
            f"a pair's {what} is within {MARGIN:g} of the edge {e!r}: choose other points"
        )


# -- geometry of all pairs, computed here -----------------------------------
def _pairs(p: np.ndarray, q: np.ndarray | None, box: float | None = None):
    """Separations q_j - p_i and sums p_i + q_j of every pair (i < j when q
    is None), minimum image in a periodic box."""
    if q is None:
        i, j = np.triu_indices(len(p), 1)
        a, b = p[i], p[j]
    else:
        a = np.repeat(p, len(q), axis=0)
        b = np.tile(q, (len(p), 1))
    s = b - a
    if box is not None:
        s = (s + 0.5 * box) % box - 0.5 * box
    return s, a + b


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt((v * v).sum(axis=-1))


def _smu_rppi(s: np.ndarray, los: np.ndarray | None):
    """s, |mu|, rp, |pi| of separations s along lines of sight los (None: z)."""
    d = _norm(s)
    if los is None:
        pi = np.abs(s[:, 2])
        rp = _norm(s[:, :2])
    else:
        u = los / _norm(los)[:, None]
        pi = np.abs((s * u).sum(axis=1))
        rp = _norm(np.cross(s, u))  # no cancellation for small rp
    return d, pi / d, rp, pi


def _check_margins(d, mu, rp, pi, s_edges, nmu, rp_edges, pimax):
    """Every (s, mu) and (rp, pi) boundary a counted pair could cross."""
    near = d < s_edges[-1] * (1 + 1e-6)
    _assert_clear(d, s_edges, "s")
    _assert_clear(mu[near], np.linspace(0, 1, nmu + 1)[1:], "mu")
    inside = pi < pimax * (1 + 1e-6)
    _assert_clear(rp[inside], rp_edges, "rp")
    _assert_clear(pi[rp < rp_edges[-1] * (1 + 1e-6)], np.arange(1, int(pimax) + 1.0), "pi")


# -- Corrfunc theory: points in a box, line of sight z -----------------------
BOX = 100.0
EDGES = np.geomspace(0.5, 20.0, 9)
NMU = 5
PIMAX = 20.0


def _box_points():
    d1 = ag.thomas_process(300, 5, 2.0, BOX, seed=2)
    d2 = ag.thomas_process(300, 5, 2.0, BOX, seed=4)
    return d1, d2


def _xyz(p: np.ndarray, which: str = "1") -> dict[str, np.ndarray]:
    return {k + which: np.ascontiguousarray(p[:, a]) for a, k in enumerate("XYZ")}


@pytest.mark.parametrize("periodic", [True, False])
def test_rppi_counts_equal_corrfunc_ddrppi(periodic):
    ddrppi = _corrfunc("theory.DDrppi", "DDrppi")
    box, pimax = 100.0, 20.0
    data = ag.thomas_process(300, 5, 2.0, box, seed=2)
    randoms = ag.uniform_randoms(2000, box, seed=3)
    edges = np.geomspace(0.5, 20.0, 9)
    ours = ag.count_pairs_rppi(
        data,
        randoms,
        rp_bins=ag.Bins(edges),
        pimax=pimax,
        npi=int(pimax),
        boxsize=box if periodic else None,
        los="z",
    )
    shape = (len(edges) - 1, int(pimax))
    x, y, z = (np.ascontiguousarray(data[:, a]) for a in range(3))
    rx, ry, rz = (np.ascontiguousarray(randoms[:, a]) for a in range(3))
    opts = {"periodic": periodic, "boxsize": box, "verbose": False}
    dd = ddrppi(1, 1, pimax, edges, x, y, z, **opts)["npairs"].reshape(shape)
    dr = ddrppi(0, 1, pimax, edges, x, y, z, X2=rx, Y2=ry, Z2=rz, **opts)["npairs"].reshape(shape)
    assert dd.sum() > 1000 and dr.sum() > 1000
    # Corrfunc counts each pair of one catalogue twice (i, j and j, i).
    np.testing.assert_array_equal(dd, 2 * ours.counts["DD"])
    np.testing.assert_array_equal(dr, ours.counts["DR"])


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("cross", [False, True], ids=["auto", "cross"])
def test_theory_counts_equal_corrfunc(periodic, cross):
    """theory.DD, DDsmu (|mu| of the z axis) and DDrppi, autocorr=1 and 0."""
    dd_, ddsmu, ddrppi = (
        _corrfunc("theory.DD", "DD"),
        _corrfunc("theory.DDsmu", "DDsmu"),
        _corrfunc("theory.DDrppi", "DDrppi"),
    )
    d1, d2 = _box_points()
    box = BOX if periodic else None
    s, _ = _pairs(d1, d2 if cross else None, box)
    d, mu, rp, pi = _smu_rppi(s, None)
    _check_margins(d, mu, rp, pi, EDGES, NMU, EDGES, PIMAX)

    auto = 0 if cross else 1
    two = _xyz(d2, "2") if cross else {}
    opts = {"periodic": periodic, "boxsize": BOX, "verbose": False, **_xyz(d1), **two}
    got_s = dd_(auto, 1, EDGES, **opts)["npairs"]
    got_smu = ddsmu(auto, 1, EDGES, 1.0, NMU, **opts)["npairs"].reshape(-1, NMU)
    got_rppi = ddrppi(auto, 1, PIMAX, EDGES, **opts)["npairs"].reshape(-1, int(PIMAX))

    kw = {"data2": d2} if cross else {}
    common = {"boxsize": box, "los": "z", **kw}
    name, factor = ("D1D2", 1) if cross else ("DD", 2)
    s_ = ag.count_pairs(d1, bins=ag.Bins(EDGES), **common).counts[name]
    smu = ag.count_pairs(d1, bins=ag.Bins(EDGES, NMU), **common).counts[name]
    rppi = ag.count_pairs_rppi(d1, rp_bins=EDGES, pimax=PIMAX, npi=int(PIMAX), **common).counts[
        name
    ]
    assert got_s.sum() > 1000
    np.testing.assert_array_equal(got_s, factor * s_[:, 0])
    np.testing.assert_array_equal(got_smu, factor * smu)
    np.testing.assert_array_equal(got_rppi, factor * rppi)


def test_theory_weighted_cross_counts_match_corrfunc():
    """Weighted D1D2 against Corrfunc's pair_product weights: Corrfunc gives
    the mean weight per bin (its sum over the count, in double), so the sums
    agree to rounding, not bit for bit."""
    ddsmu = _corrfunc("theory.DDsmu", "DDsmu")
    d1, d2 = _box_points()
    rng = np.random.default_rng(7)
    w1, w2 = rng.uniform(0.5, 1.5, len(d1)), rng.uniform(0.5, 1.5, len(d2))
    s, _ = _pairs(d1, d2, BOX)
    d, mu, rp, pi = _smu_rppi(s, None)
    _check_margins(d, mu, rp, pi, EDGES, NMU, EDGES, PIMAX)
    res = ddsmu(
        0, 1, EDGES, 1.0, NMU, **_xyz(d1), **_xyz(d2, "2"), weights1=w1, weights2=w2,
        weight_type="pair_product", periodic=True, boxsize=BOX,
    )  # fmt: skip
    ours = ag.count_pairs(
        d1,
        bins=ag.Bins(EDGES, NMU),
        data2=d2,
        data_weights=w1,
        data2_weights=w2,
        boxsize=BOX,
        los="z",
    )
    got = (res["npairs"] * res["weightavg"]).reshape(-1, NMU)
    np.testing.assert_allclose(ours.counts["D1D2"], got, rtol=1e-13, atol=0)


# -- Corrfunc mocks: sky coordinates, midpoint line of sight -----------------
def _sky(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RA, Dec (degrees) and comoving distance of a survey-like patch."""
    rng = np.random.default_rng(seed)
    return rng.uniform(160, 170, n), rng.uniform(0, 10, n), rng.uniform(900, 1000, n)


def _corrfunc_cartesian(ra, dec, dist) -> np.ndarray:
    """Cartesian positions exactly as Corrfunc's mocks make them
    (countpairs_{s_mu,rp_pi}_mocks_impl.c.src: X = D*COSD(dec)*COSD(ra),
    Y = D*COSD(dec)*SIND(ra), Z = D*SIND(dec), COSD(X) = cos(X*PI_OVER_180),
    libm's cos and sin, which math.cos/math.sin call; numpy's own SIMD
    cos/sin may differ in the last bit)."""
    rr, dr = np.asarray(ra) * PI_OVER_180, np.asarray(dec) * PI_OVER_180
    cos, sin = np.frompyfunc(math.cos, 1, 1), np.frompyfunc(math.sin, 1, 1)
    cd, sd = cos(dr).astype(float), sin(dr).astype(float)
    cr, sr = cos(rr).astype(float), sin(rr).astype(float)
    d = np.asarray(dist, float)
    return np.column_stack([d * cd * cr, d * cd * sr, d * sd])


MOCK_EDGES = np.geomspace(2.0, 20.0, 7)


@pytest.mark.parametrize("cross", [False, True], ids=["auto", "cross"])
def test_mocks_counts_equal_corrfunc(cross):
    """DDsmu_mocks and DDrppi_mocks (is_comoving_dist=True, midpoint line of
    sight) against ours on the same points converted as Corrfunc does."""
    ddsmu, ddrppi = (
        _corrfunc("mocks.DDsmu_mocks", "DDsmu_mocks"),
        _corrfunc("mocks.DDrppi_mocks", "DDrppi_mocks"),
    )
    a, b = _sky(600, 1), _sky(800, 2)
    p1, p2 = _corrfunc_cartesian(*a), _corrfunc_cartesian(*b)
    s, mid = _pairs(p1, p2 if cross else None)
    d, mu, rp, pi = _smu_rppi(s, mid)
    _check_margins(d, mu, rp, pi, MOCK_EDGES, NMU, MOCK_EDGES, PIMAX)

    auto = 0 if cross else 1
    two = {"RA2": b[0], "DEC2": b[1], "CZ2": b[2]} if cross else {}
    opts = {"is_comoving_dist": True, "RA1": a[0], "DEC1": a[1], "CZ1": a[2], **two}
    cosmology = 1  # unused with comoving distances
    got_smu = ddsmu(auto, cosmology, 1, 1.0, NMU, MOCK_EDGES, **opts)["npairs"].reshape(-1, NMU)
    got_rppi = ddrppi(auto, cosmology, 1, PIMAX, MOCK_EDGES, **opts)["npairs"].reshape(
        -1, int(PIMAX)
    )

    kw = {"data2": p2} if cross else {}
    name, factor = ("D1D2", 1) if cross else ("DD", 2)
    smu = ag.count_pairs(p1, bins=ag.Bins(MOCK_EDGES, NMU), los="midpoint", **kw).counts[name]
    rppi = ag.count_pairs_rppi(
        p1, rp_bins=MOCK_EDGES, pimax=PIMAX, npi=int(PIMAX), los="midpoint", **kw
    ).counts[name]
    assert got_smu.sum() > 2000 and got_rppi.sum() > 2000
    np.testing.assert_array_equal(got_smu, factor * smu)
    np.testing.assert_array_equal(got_rppi, factor * rppi)


# -- angular counts -----------------------------------------------------------
THETA_EDGES = np.geomspace(0.05, 3.0, 8)


def _radec(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(160, 170, n), rng.uniform(0, 10, n)])


def _angles(a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """Great-circle angles (degrees) of every pair, atan2(|u x v|, u.v)."""

    def unit(x):
        ra, dec = np.radians(x[:, 0]), np.radians(x[:, 1])
        return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])

    u, v = unit(a), unit(b if b is not None else a)
    if b is None:
        i, j = np.triu_indices(len(a), 1)
    else:
        i, j = (m.ravel() for m in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
    uu, vv = u[i], v[j]
    return np.degrees(np.arctan2(_norm(np.cross(uu, vv)), (uu * vv).sum(axis=1)))


@pytest.mark.parametrize("cross", [False, True], ids=["auto", "cross"])
def test_angular_counts_equal_corrfunc_ddtheta_mocks(cross):
    """DDtheta_mocks bins cos(theta) against cos(edges): exact only away
    from the edges, which the points are checked to be."""
    ddtheta = _corrfunc("mocks.DDtheta_mocks", "DDtheta_mocks")
    a, b = _radec(700, 11), _radec(900, 12)
    _assert_clear(_angles(a, b if cross else None), THETA_EDGES, "theta")
    two = {"RA2": b[:, 0], "DEC2": b[:, 1]} if cross else {}
    got = ddtheta(0 if cross else 1, 1, THETA_EDGES, a[:, 0], a[:, 1], **two)["npairs"]
    kw = {"data2": b} if cross else {}
    name, factor = ("D1D2", 1) if cross else ("DD", 2)
    ours = ag.count_angular(a, bins=THETA_EDGES, **kw).counts[name][:, 0]
    assert got.sum() > 10_000
    np.testing.assert_array_equal(got, factor * ours)


@pytest.mark.parametrize("bin_type", ["Log", "Linear"])
@pytest.mark.parametrize("cross", [False, True], ids=["auto", "cross"])
def test_angular_counts_equal_treecorr(cross, bin_type):
    """TreeCorr NNCorrelation with bin_slop=0 (exact binning), brute force,
    metric 'Arc' (great-circle angles; its default 'Euclidean' bins the
    chord 2 sin(theta/2) against the edges in radians, another binning).
    TreeCorr's npairs counts each pair of one catalogue once, as ours. It
    keeps weights in single precision; weights k/64 (exact in float32, and
    their products and sums exact in double whatever the order) make the
    weighted sums (``weight``) comparable exactly too."""
    treecorr = _treecorr()
    a, b = _radec(700, 11), _radec(900, 12)
    rng = np.random.default_rng(13)
    wa, wb = rng.integers(32, 97, len(a)) / 64.0, rng.integers(32, 97, len(b)) / 64.0
    nn = treecorr.NNCorrelation(
        min_sep=0.05, max_sep=3.0, nbins=7, sep_units="deg", bin_type=bin_type,
        bin_slop=0, brute=True, metric="Arc",
    )  # fmt: skip
    edges = np.append(nn.left_edges, nn.right_edges[-1])
    _assert_clear(_angles(a, b if cross else None), edges, "theta")

    def cat(x, w):
        return treecorr.Catalog(ra=x[:, 0], dec=x[:, 1], w=w, ra_units="deg", dec_units="deg")

    nn.process(cat(a, wa), cat(b, wb) if cross else None, num_threads=1)
    kw = {"data2": b, "data2_weights": wb} if cross else {}
    name = "D1D2" if cross else "DD"
    plain = ag.count_angular(a, bins=edges, **{k: v for k, v in kw.items() if "weights" not in k})
    weighted = ag.count_angular(a, bins=edges, data_weights=wa, **kw)
    assert nn.npairs.sum() > 10_000
    np.testing.assert_array_equal(nn.npairs, plain.counts[name][:, 0])
    np.testing.assert_array_equal(nn.weight, weighted.counts[name][:, 0])
