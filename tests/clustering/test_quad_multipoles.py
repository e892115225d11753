"""4-point multipoles in the isotropic basis (count_quad_multipoles) against
an O(N^4) sum of the basis functions built from scipy's spherical harmonics
and exact Wigner 3j symbols, and the symmetries the basis must have."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import test_properties as props  # the shared hypothesis strategies
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation
from scipy.special import eval_legendre

import astrograph as ag
from astrograph import errors
from astrograph.clustering.results import coupling, load_result

import reference as ref

EDGES = [1.0, 2.5, 4.0, 5.5, 7.0]
LMAX = 2
FOUR_PI_3_2 = (4 * np.pi) ** 1.5


def catalogue(kind: str, seed: int, n: int, size: float) -> np.ndarray:
    """Uniform points, or clumps (no clipping, so no coincident points)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.uniform(0, size, (n, 3))
    centres = rng.uniform(0.3 * size, 0.7 * size, (3, 3))
    return (centres[rng.integers(0, 3, n)] + rng.normal(0, 1.5, (n, 3))) % size


def expected(m, points, weights, box):
    """The reference for the rows of ``m``: the real part of even triples,
    the imaginary part of odd ones; each row's largest value; and the other
    part (zero in exact arithmetic)."""
    ells = [tuple(int(x) for x in e) for e in m.ells]
    want, _ = ref.isotropic_multipoles(points, weights, edges=m.bins.edges, ells=ells, box=box)
    odd = m.odd[:, None]
    kept = np.where(odd, want.imag, want.real)
    other = np.where(odd, want.real, want.imag)
    return kept, np.abs(kept).max(axis=1, keepdims=True), other


def assert_close(got, want, row_max, rel=1e-10):
    """Agreement to ``rel`` of each multipole's largest value."""
    tol = rel * row_max + 1e-13 * row_max.max()
    assert np.all(np.abs(got - want) <= tol), np.abs(got - want).max()


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("box", [None, 16.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_quad_multipoles_match_brute_force(kind, box, weighted):
    data, randoms = catalogue(kind, 1, 40, 16.0), catalogue("uniform", 2, 50, 16.0)
    rng = np.random.default_rng(3)
    dw, rw = (rng.uniform(0.5, 2, 40), rng.uniform(0.5, 2, 50)) if weighted else (None, None)
    wd = np.ones(40) if dw is None else dw
    wr = np.ones(50) if rw is None else rw
    alpha = wd.sum() / wr.sum()
    runs = [
        ag.count_quad_multipoles(
            data,
            randoms,
            bins=EDGES,
            lmax=LMAX,
            data_weights=dw,
            random_weights=rw,
            boxsize=box,
            num_threads=threads,
        )
        for threads in (1, 2)
    ]
    m = runs[0]
    assert m.random_scale == pytest.approx(-alpha, rel=1e-15)
    # Odd: (1, 1, 1), (1, 2, 2), (2, 1, 2), (2, 2, 1).
    assert len(m.ells) == 15 and m.odd.sum() == 4
    assert [tuple(t) for t in m.triplets] == list(combinations(range(4), 3))
    points = np.vstack([data, randoms])
    field, fmax, other = expected(m, points, np.concatenate([wd, -alpha * wr]), box)
    assert np.abs(other).max() <= 1e-12 * fmax.max()  # even real, odd imaginary
    assert_close(m.field, field, fmax)
    rand, rmax, _ = expected(m, randoms, wr, box)
    assert_close(m.randoms, rand, rmax)
    # The same bits on any number of threads.
    np.testing.assert_array_equal(runs[1].field, m.field)
    np.testing.assert_array_equal(runs[1].randoms, m.randoms)


def test_data_only_in_a_box_match_brute_force():
    data = catalogue("clustered", 4, 60, 16.0)
    w = np.random.default_rng(5).uniform(0.5, 2.0, 60)
    m = ag.count_quad_multipoles(data, bins=EDGES, lmax=3, data_weights=w, boxsize=16.0)
    assert m.randoms is None and m.random_scale == 0.0
    want, row_max, _ = expected(m, data, w, 16.0)
    assert_close(m.field, want, row_max)


def test_closed_forms_of_the_basis():
    """P_000 = (4 pi)^(-3/2); P_ll0 = (-1)^l sqrt(2l + 1) P_l(u1.u2) / (4 pi)^(3/2);
    P_111 = -3i / sqrt(2) u1.(u2 x u3) / (4 pi)^(3/2) (Cahn & Slepian 2020)."""
    rng = np.random.default_rng(6)
    u1, u2, u3 = (v / np.linalg.norm(v, axis=1)[:, None] for v in rng.normal(size=(3, 5, 3)))
    p000 = ref.isotropic_basis((0, 0, 0), u1, u2, u3)
    np.testing.assert_allclose(p000, FOUR_PI_3_2**-1, rtol=1e-13)
    for ell in (1, 2, 3):
        p = ref.isotropic_basis((ell, ell, 0), u1, u2, u3)
        legendre = eval_legendre(ell, u1 @ u2.T)[:, :, None] * np.ones(5)
        want = (-1) ** ell * np.sqrt(2 * ell + 1) * legendre / FOUR_PI_3_2
        np.testing.assert_allclose(p, want, atol=1e-15)
    p111 = ref.isotropic_basis((1, 1, 1), u1, u2, u3)
    triple = np.einsum("ja,kb,lc,abc->jkl", u1, u2, u3, _levi_civita())
    np.testing.assert_allclose(p111, -3j / np.sqrt(2) * triple / FOUR_PI_3_2, atol=1e-15)


def _levi_civita() -> np.ndarray:
    e = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        e[a, b, c], e[a, c, b] = 1.0, -1.0
    return e


def test_monopole_is_the_number_of_neighbour_triples():
    """N_000 = (4 pi)^(-3/2) times the weighted count of (i, j, k, l) with
    r_ij, r_ik, r_il in three distinct bins b1 < b2 < b3."""
    data = catalogue("clustered", 7, 80, 16.0)
    w = np.random.default_rng(8).uniform(0.5, 2.0, 80)
    m = ag.count_quad_multipoles(data, bins=EDGES, lmax=0, data_weights=w, boxsize=16.0)
    counts = np.zeros(len(m.triplets))
    for i in range(80):
        _, d = ref.separation(data[i], data, 16.0)
        d[i] = -1.0
        b = ref.bin_of(d, np.asarray(EDGES))
        per_bin = np.array([w[b == x].sum() for x in range(4)])
        counts += w[i] * np.array([per_bin[list(t)].prod() for t in m.triplets])
    np.testing.assert_allclose(m.field[0], counts / FOUR_PI_3_2, rtol=1e-12)


def test_parity_halves_are_the_rows_of_both():
    data, randoms = catalogue("clustered", 9, 150, 16.0), catalogue("uniform", 10, 200, 16.0)
    both = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=4)
    assert len(both.ells) == 65 and (~both.odd).sum() == 42  # as ENCORE's lmax 4
    for parity in ("even", "odd"):
        half = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=4, parity=parity)
        keep = both.odd if parity == "odd" else ~both.odd
        np.testing.assert_array_equal(half.ells, both.ells[keep])
        assert np.all(half.odd == (parity == "odd"))
        np.testing.assert_array_equal(half.field, both.field[keep])
        np.testing.assert_array_equal(half.randoms, both.randoms[keep])


def test_a_mirror_image_flips_the_odd_multipoles_and_a_rotation_keeps_all():
    data, randoms = catalogue("clustered", 11, 150, 16.0), catalogue("uniform", 12, 200, 16.0)
    args = {"bins": EDGES, "lmax": 3}
    m = ag.count_quad_multipoles(data, randoms, **args)
    scale = np.abs(m.field).max(axis=1, keepdims=True)
    mirror = np.array([-1.0, 1.0, 1.0])
    flipped = ag.count_quad_multipoles(data * mirror, randoms * mirror, **args)
    sign = np.where(m.odd, -1.0, 1.0)[:, None]
    assert np.all(np.abs(flipped.field - sign * m.field) <= 1e-11 * scale)
    assert m.odd.any() and np.abs(m.field[m.odd]).max() > 1e-6 * scale.max()
    rot = Rotation.from_euler("zyx", [0.3, 1.1, -0.7]).as_matrix()
    turned = ag.count_quad_multipoles(data @ rot.T, randoms @ rot.T, **args)
    assert np.all(np.abs(turned.field - m.field) <= 1e-11 * scale)


def test_zeta_without_edge_correction_is_the_count_over_r000():
    data, randoms = catalogue("uniform", 13, 100, 16.0), catalogue("uniform", 14, 200, 16.0)
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2)
    r000 = m.randoms[m.index(0, 0, 0)] * m.random_scale**4
    np.testing.assert_allclose(m.r000, r000)
    plain = m.zeta(edge_correction=False)
    np.testing.assert_allclose(plain, FOUR_PI_3_2 * m.field / r000)
    encore = m.zeta("encore", edge_correction=False)
    np.testing.assert_array_equal(encore, np.where(m.odd[:, None], -plain, plain))
    odd = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, parity="odd")
    with pytest.raises(errors.InputError, match="0, 0, 0"):
        odd.zeta(edge_correction=False)
    with pytest.raises(errors.InputError, match="not counted"):
        odd.index(0, 0, 0)
    even = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, parity="even")
    with pytest.raises(errors.InputError, match="both parities"):
        even.zeta()
    with pytest.raises(errors.InputError, match="normalisation"):
        m.zeta("legendre")


def test_edge_correction_inverts_the_window_coupling():
    """zeta() solves N_a / R_000 = sum_c [sum_b T(a, b, c) f_b] zeta_c per triplet."""
    data = catalogue("clustered", 18, 200, 16.0)
    randoms = catalogue("uniform", 19, 400, 16.0)[:, :] * [1.0, 1.0, 0.5]  # a slab: edges
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2)
    z = m.zeta()
    ells = tuple(tuple(int(x) for x in e) for e in m.ells)
    f = m.randoms / m.randoms[m.index(0, 0, 0)]
    back = np.einsum("abc,bt,ct->at", coupling.coupling_tensor(ells), f, z)
    np.testing.assert_allclose(back, m.field / m.r000, rtol=1e-9, atol=1e-12)
    assert np.abs(z - m.zeta(edge_correction=False)).max() > 1e-3 * np.abs(z).max()


def test_edge_correction_recovers_a_known_4pcf_through_an_anisotropic_window():
    """Quads of random directions with window weights W and a field zeta
    (both parities, lmax 2): the counts N_a = sum W zeta P_a and the window
    multipoles R_b = sum W P_b (to lmax 4, where the expansion of P_b P_c
    ends) give back zeta's coefficients exactly through the coupling."""
    rng = np.random.default_rng(20)
    nq = 120
    u = [v / np.linalg.norm(v, axis=1)[:, None] for v in rng.normal(size=(3, nq, 3))]
    w = rng.uniform(0.2, 2.0, nq) * (1.0 + 0.8 * u[0][:, 2] - 0.5 * u[1][:, 0] * u[2][:, 1])
    counted, window = _triples(2), _triples(4)
    basis = {e: ref.isotropic_basis(e, *u, rows=True) for e in window}

    def stored(values, ells):
        return np.array(
            [v.imag if sum(e) % 2 else v.real for v, e in zip(values, ells, strict=True)]
        )

    y = rng.normal(size=len(counted))
    field = sum(
        c * (basis[e].imag if sum(e) % 2 else basis[e].real)
        for c, e in zip(y, counted, strict=True)
    )
    n = stored([(w * field * basis[e]).sum() for e in counted], counted)
    r = stored([(w * basis[e]).sum() for e in window], window)
    m = np.einsum("abc,b->ac", coupling.coupling_tensor(counted, window, counted), r)
    np.testing.assert_allclose(np.linalg.solve(m, n), y, atol=1e-12)


def _triples(lmax):
    return tuple(
        (a, b, c)
        for a in range(lmax + 1)
        for b in range(lmax + 1)
        for c in range(abs(a - b), min(lmax, a + b) + 1)
    )


def test_the_product_of_two_basis_functions_expands_through_the_coupling():
    """P_b P_c = sum_a (-1)^(l1+l2+l3 of a) G(a, b, c) P_a, a up to 2 lmax:
    the triple integrals G against scipy's harmonics, pointwise."""
    rng = np.random.default_rng(21)
    u = [v / np.linalg.norm(v, axis=1)[:, None] for v in rng.normal(size=(3, 4, 3))]
    small, large = _triples(2), _triples(4)
    basis = {e: ref.isotropic_basis(e, *u, rows=True) for e in large}
    for b in small:
        for c in small:
            expansion = sum(
                (-1) ** sum(a) * coupling.triple_integral(a, b, c) * basis[a] for a in large
            )
            np.testing.assert_allclose(expansion, basis[b] * basis[c], atol=1e-14)


def test_wigner_symbols():
    for l1, l2, l3 in [(1, 1, 0), (2, 1, 3), (3, 3, 2), (4, 2, 4)]:
        for m1 in range(-l1, l1 + 1):
            for m2 in range(-l2, l2 + 1):
                want = ref.wigner_3j(l1, l2, l3, m1, m2, -m1 - m2)
                assert coupling.three_j(l1, l2, l3, m1, m2, -m1 - m2) == pytest.approx(want)
    assert coupling.six_j(1, 1, 1, 1, 1, 1) == pytest.approx(1 / 6)
    assert coupling.six_j(2, 2, 2, 2, 2, 2) == pytest.approx(-3 / 70)
    # {a b 0; c d 0; 0 0 0}-type reductions and the row-swap symmetry of 9j.
    assert coupling.nine_j((1, 1, 0), (1, 1, 0), (0, 0, 0)) == pytest.approx(1 / 3)
    rows = ((1, 2, 3), (2, 2, 2), (3, 2, 1))
    v = coupling.nine_j(*rows)
    assert coupling.nine_j(rows[1], rows[0], rows[2]) == pytest.approx(v * (-1) ** 18)
    g = coupling.triple_integral((1, 1, 0), (1, 1, 2), (2, 2, 2))
    assert g == pytest.approx(coupling.triple_integral((2, 2, 2), (1, 1, 0), (1, 1, 2)))


def test_data_only_zeta_in_a_box_is_consistent_with_zero_for_poisson_points():
    data = np.random.default_rng(22).uniform(0, 16.0, (1500, 3))
    m = ag.count_quad_multipoles(data, bins=[1.0, 2.0, 3.0, 4.0], lmax=0, boxsize=16.0)
    z000 = m.zeta()[0]
    # zeta_000 = (4 pi)^(3/2) (DDDD / RRRR - 1): within a few per cent here.
    assert np.all(np.abs(z000 / FOUR_PI_3_2) < 0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lmax": 11}, "lmax"),
        ({"lmax": -1}, "lmax"),
        ({"lmax": True}, "lmax"),
        ({"lmax": 2.0}, "lmax"),
        ({"parity": "chiral"}, "parity"),
        ({"bins": [1.0, 2.0, 3.0]}, "at least 3 radial bins"),
    ],
)
def test_bad_inputs_are_refused(kwargs, match):
    data = catalogue("uniform", 15, 50, 16.0)
    args = {"bins": EDGES, "lmax": 2, "boxsize": 16.0, **kwargs}
    with pytest.raises(errors.InputError, match=match):
        ag.count_quad_multipoles(data, **args)


def test_coincident_points_in_the_first_bin_are_refused():
    data = catalogue("uniform", 16, 50, 16.0)
    data[1] = data[0]
    with pytest.raises(errors.InputError, match="coincident"):
        ag.count_quad_multipoles(data, bins=[0.0, 2.0, 4.0, 6.0], lmax=1, boxsize=16.0)


def test_tables_go_through_the_memory_budget():
    data = catalogue("uniform", 17, 200, 16.0)
    with pytest.raises(errors.MemoryBudgetError, match="4-point multipole"):
        ag.count_quad_multipoles(data, bins=EDGES, lmax=10, boxsize=16.0, max_memory=10_000)


def _property_case(data, randoms, edges, periodic, lmax, seed, threads):
    """The core's N_L against the O(N^4) reference, or the coincident-pair refusal."""
    box = props.SIZE if periodic else None
    rng = np.random.default_rng(seed)
    dw = rng.uniform(0.5, 2.0, len(data))
    rw = None if randoms is None else rng.uniform(0.5, 2.0, len(randoms))
    pts = data if randoms is None else np.vstack([data, randoms])
    alpha = 0.0 if randoms is None else dw.sum() / rw.sum()
    w = dw if randoms is None else np.concatenate([dw, -alpha * rw])
    _, d = ref.separation(pts[:, None, :], pts[None, :, :], box)
    np.fill_diagonal(d, np.inf)
    coincident = edges[0] == 0.0 and bool((d == 0).any())
    args = {"bins": edges, "lmax": lmax, "boxsize": box, "num_threads": threads}
    if coincident:
        with pytest.raises(errors.InputError, match="coincident"):
            ag.count_quad_multipoles(data, randoms, data_weights=dw, random_weights=rw, **args)
        return
    m = ag.count_quad_multipoles(data, randoms, data_weights=dw, random_weights=rw, **args)
    want, row_max, _ = expected(m, pts, w, box)
    assert_close(m.field, want, row_max)
    if randoms is None:
        return
    # Three regions at random: each delete-one count against the reference
    # on the points left, or the refusal when a region holds every random.
    dl, rl = rng.integers(0, 3, len(data)), rng.integers(0, 3, len(randoms))
    dl[-1] = 2  # three regions, whatever the draws
    kw = {"data_weights": dw, "random_weights": rw, "regions": (dl, rl), **args}
    if len(np.unique(rl)) == 1:
        with pytest.raises(errors.InputError, match="no random weight"):
            ag.count_quad_multipoles(data, randoms, **kw)
        return
    jk = ag.count_quad_multipoles(data, randoms, **kw)
    assert_close(jk.field, m.field, row_max)  # neighbours summed by region first
    # A realisation is the total less what the region takes: its rounding is
    # that of the full count's terms, whatever is left.
    full = row_max
    rfull = expected(m, randoms, rw, box)[1]
    for k in range(3):
        d, r = dl != k, rl != k
        a = dw[d].sum() / rw[r].sum()
        assert jk.region_scales[k] == pytest.approx(-a, rel=1e-14)
        left = np.vstack([data[d], randoms[r]])
        want, row_max, _ = expected(m, left, np.concatenate([dw[d], -a * rw[r]]), box)
        assert_close(jk.jackknife[k, 0], want, np.maximum(row_max, full))
        want, row_max, _ = expected(m, randoms[r], rw[r], box)
        assert_close(jk.jackknife[k, 1], want, np.maximum(row_max, rfull))


@st.composite
def quad_case(draw):
    periodic = draw(st.booleans())
    data = draw(props.points(14))
    randoms = draw(st.one_of(st.none(), props.points(14)))
    edges = draw(props.binning(5, periodic=True))
    if len(edges) < 4:  # three bins at least
        edges = [0.5, 2.0, 3.5, props.SIZE / 2 - 0.01]
    return data, randoms, edges, periodic, draw(st.integers(0, 3)), draw(st.integers(0, 99))


@props.CI
@given(c=quad_case(), threads=st.sampled_from([1, 2]))
def test_quad_multipoles_match_brute_force_on_random_catalogues(c, threads):
    _property_case(*c, threads)


@pytest.mark.fuzz
@props.FUZZ
@given(c=quad_case(), threads=st.sampled_from([1, 2]))
def test_quad_multipoles_fuzz(c, threads):
    _property_case(*c, threads)


def test_a_saved_result_loads_back_with_its_tables(tmp_path):
    data, randoms = catalogue("clustered", 23, 150, 16.0), catalogue("uniform", 24, 200, 16.0)
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, data_weights=np.arange(150.0))
    m.save(tmp_path / "q.parquet")
    back = load_result(tmp_path / "q.parquet")
    assert isinstance(back, ag.QuadMultipoles)
    for name in ("field", "randoms", "ells", "triplets"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    assert (back.lmax, back.parity, back.random_scale, back.data) == (
        m.lmax,
        m.parity,
        m.random_scale,
        m.data,
    )
    np.testing.assert_array_equal(back.zeta(), m.zeta())
    t = m.to_arrow()
    assert t.num_rows == len(m.ells) * len(m.triplets)
    np.testing.assert_array_equal(t.column("odd").to_numpy(), np.repeat(m.odd, len(m.triplets)))
    odd = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, parity="odd")
    odd.save(tmp_path / "odd.parquet")
    assert np.isnan(odd.to_arrow().column("zeta").to_numpy()).all()  # no R_000
    np.testing.assert_array_equal(ag.QuadMultipoles.load(tmp_path / "odd.parquet").field, odd.field)
    m.save_ascii(tmp_path / "q.txt")
    assert np.loadtxt(tmp_path / "q.txt").shape == (t.num_rows, t.num_columns)


@pytest.mark.parametrize("box", [None, 16.0])
def test_each_delete_one_realisation_is_the_count_without_its_region(box):
    data, randoms = catalogue("clustered", 41, 150, 16.0), catalogue("uniform", 42, 300, 16.0)
    rng = np.random.default_rng(43)
    dw, rw = rng.uniform(0.5, 2.0, 150), rng.uniform(0.5, 2.0, 300)
    # slabs in x, so that every point has neighbours in other regions
    dl, rl = (data[:, 0] // 4).astype(int), (randoms[:, 0] // 4).astype(int)
    kw = {"bins": EDGES, "lmax": LMAX, "boxsize": box, "data_weights": dw, "random_weights": rw}
    m = ag.count_quad_multipoles(data, randoms, regions=(dl, rl), num_threads=2, **kw)
    one = ag.count_quad_multipoles(data, randoms, regions=(dl, rl), num_threads=1, **kw)
    np.testing.assert_array_equal(m.jackknife, one.jackknife)  # same bits on any thread count
    assert m.nregions == 4
    zetas = m.realisations("zeta")
    for k in range(4):
        d, r = dl != k, rl != k
        kw_k = {**kw, "data_weights": dw[d], "random_weights": rw[r]}
        alone = ag.count_quad_multipoles(data[d], randoms[r], **kw_k)
        assert m.region_scales[k] == pytest.approx(alone.random_scale, rel=1e-14)
        for got, want in ((m.jackknife[k, 0], alone.field), (m.jackknife[k, 1], alone.randoms)):
            assert_close(got, want, np.abs(want).max(axis=1, keepdims=True))
        z = alone.zeta()
        ok = np.isfinite(z)
        assert np.isfinite(zetas[k]).sum() == ok.sum()
        np.testing.assert_allclose(zetas[k][ok], z[ok], rtol=1e-8, atol=1e-10 * np.abs(z[ok]).max())
    x = zetas.reshape(4, -1)
    dev = x - x.mean(axis=0)
    np.testing.assert_allclose(m.cov(), 3 / 4 * dev.T @ dev)
    np.testing.assert_allclose(m.std(), np.sqrt(np.diag(m.cov())).reshape(m.field.shape))


def test_chi2_odd_takes_the_jackknife_as_pseudo_mocks():
    data, randoms = catalogue("clustered", 44, 300, 16.0), catalogue("uniform", 45, 600, 16.0)
    k = 16
    dl = (data[:, 0] // 4).astype(int) * 4 + (data[:, 1] // 4).astype(int)
    rl = (randoms[:, 0] // 4).astype(int) * 4 + (randoms[:, 1] // 4).astype(int)
    m = ag.count_quad_multipoles(
        data, randoms, bins=[1.0, 2.5, 4.0, 5.5], lmax=1, regions=(dl, rl), boxsize=16.0
    )
    x = m.realisations("odd_vector")
    assert x.shape == (k, len(m.odd_vector()))
    pseudo = x.mean(axis=0) + (k - 1) / np.sqrt(k) * (x - x.mean(axis=0))
    np.testing.assert_allclose(np.cov(pseudo, rowvar=False), m.cov("odd_vector"), rtol=1e-12)
    assert m.chi2_odd(modes=1) == m.chi2_odd(pseudo, modes=1)
    with pytest.raises(errors.InputError, match="regions"):
        m.chi2_odd(modes=len(m.odd_vector()) + 1)


def test_a_saved_result_keeps_its_delete_one_counts(tmp_path):
    data, randoms = catalogue("clustered", 46, 150, 16.0), catalogue("uniform", 47, 300, 16.0)
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, regions=3)
    assert m.nregions == 3
    m.save(tmp_path / "q.parquet")
    back = ag.QuadMultipoles.load(tmp_path / "q.parquet")
    np.testing.assert_array_equal(back.jackknife, m.jackknife)
    np.testing.assert_array_equal(back.region_scales, m.region_scales)
    np.testing.assert_array_equal(back.std(), m.std())


def test_bad_region_requests_are_refused_with_a_message():
    data, randoms = catalogue("uniform", 25, 50, 16.0), catalogue("uniform", 48, 60, 16.0)
    with pytest.raises(errors.InputError, match="need randoms"):
        ag.count_quad_multipoles(data, bins=EDGES, lmax=1, boxsize=16.0, regions=4)
    labels = (np.arange(50) % 2, np.zeros(60, int))
    with pytest.raises(errors.InputError, match="no random weight"):
        ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1, regions=labels)
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1)
    with pytest.raises(errors.InputError, match="without regions"):
        m.std()
    m = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1, regions=2)
    with pytest.raises(errors.InputError, match="correction"):
        m.cov(correction="mohammad21")
    with pytest.raises(errors.InputError, match="jackknife errors only"):
        m.cov(method="bootstrap")
    with pytest.raises(errors.InputError, match="unknown statistic"):
        m.realisations("xi")


def _chiral_clusters(rng, n, size, handed):
    """n tetrahedra: legs of 1.5, 2.5 and 3.5 from one corner along three
    directions 109.5 degrees apart (so that only the corner sees a neighbour
    in each of the bins [1, 2), [2, 3), [3, 4)), rotated at random; all of
    one handedness when ``handed``, mirrored at random otherwise."""
    dirs = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]]) / np.sqrt(3.0)
    legs = dirs * np.array([1.5, 2.5, 3.5])[:, None]
    mirror = np.ones(n) if handed else np.where(rng.random(n) < 0.5, -1.0, 1.0)
    legs = legs[None] * np.stack([mirror, np.ones(n), np.ones(n)], axis=1)[:, None, :]
    rot = Rotation.random(n, random_state=rng).as_matrix()
    corner = rng.uniform(0, size, (n, 3))
    tips = corner[:, None, :] + np.einsum("nij,nkj->nki", rot, legs)
    return np.concatenate([corner, tips.reshape(-1, 3)]) % size


def test_chi2_odd_follows_its_law_on_parity_symmetric_mocks_and_detects_chirality():
    from scipy.stats import kstest

    bins, size = [1.0, 2.0, 3.0, 4.0], 100.0  # tetrahedra far apart
    rng = np.random.default_rng(26)

    def measure(points):
        return ag.count_quad_multipoles(points, bins=bins, lmax=1, boxsize=size)

    mocks = [measure(_chiral_clusters(rng, 60, size, handed=False)) for _ in range(90)]
    assert len(mocks[0].odd_vector()) == 1  # (1, 1, 1) on one triplet
    pvalues = [m.chi2_odd(mocks[30:], modes=1)[2] for m in mocks[:30]]
    assert kstest(pvalues, "uniform").pvalue > 1e-3
    chiral = measure(_chiral_clusters(rng, 60, size, handed=True))
    value, dof, p = chiral.chi2_odd(mocks, modes=1)
    assert dof == 1 and p < 1e-6, (value, p)
    with pytest.raises(errors.InputError, match="entries"):
        chiral.chi2_odd([np.zeros(3)] * 10)
    with pytest.raises(errors.InputError, match="mocks"):
        chiral.chi2_odd(mocks[:3], modes=1)


def test_graph_route_equals_the_catalogue_route_and_plots():
    import matplotlib.pyplot as plt

    data, randoms = catalogue("clustered", 27, 150, 16.0), catalogue("uniform", 28, 200, 16.0)
    g = ag.NeighbourGraph.build(data, randoms, rmax=7.0)
    via_graph = g.count_quad_multipoles(EDGES, lmax=2)
    direct = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2)
    np.testing.assert_allclose(via_graph.field, direct.field, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(via_graph.randoms, direct.randoms, rtol=1e-12, atol=1e-14)
    labels = (np.arange(150) % 3, np.arange(200) % 3)
    g = ag.NeighbourGraph.build(data, randoms, rmax=7.0, regions=labels)
    via_graph = g.count_quad_multipoles(EDGES, lmax=2)
    direct = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=2, regions=labels)
    scale = np.abs(direct.jackknife).max()
    np.testing.assert_allclose(
        via_graph.jackknife, direct.jackknife, rtol=1e-12, atol=1e-14 * scale
    )
    with pytest.raises(errors.InputError, match="rebuild the graph"):
        g.count_quad_multipoles([1.0, 3.0, 5.0, 9.0], lmax=1)
    fig, ax = plt.subplots()
    direct.plot(ax=ax)
    assert len(ax.lines) == 3  # (0, 0, 0), (1, 1, 1) and the zero line
    assert ax.lines[1].get_linestyle() == "--"  # parity-odd
    plt.close(fig)


def _odd_projection(qc, coarse_of, ncoarse, centres):
    """The (1, 1, 1) multipole rebuilt from exact parity-odd quad counts: each
    quad's handedness h (of its canonical vertex order) counted from every
    vertex p whose three edges fall in three distinct coarse bins B1 < B2 <
    B3, with the sign of the vertex permutation (p, x1, x2, x3) and the
    unit-vector triple product 6V / (r1 r2 r3) of the shape's bin centres
    (V by the Cayley-Menger determinant), times Im P_111's factor."""
    from itertools import combinations, permutations

    from astrograph.clustering.results.quads import QUAD_EDGES

    triplets = list(combinations(range(ncoarse), 3))
    out = np.zeros(len(triplets))
    edge = {frozenset(e): s for s, e in enumerate(QUAD_EDGES)}
    sign = {p: np.linalg.det(np.eye(4)[list(p)]) for p in permutations(range(4))}
    for shape, w in zip(qc.shapes.astype(int), qc.odd[0], strict=True):
        if w == 0.0:
            continue
        d = centres[shape]
        d2 = np.zeros((4, 4))
        for s, (a, b) in enumerate(QUAD_EDGES):
            d2[a, b] = d2[b, a] = d[s] ** 2
        cm = np.ones((5, 5))
        cm[0, 0], cm[1:, 1:] = 0.0, d2
        volume = np.sqrt(max(np.linalg.det(cm) / 288.0, 0.0))
        for p in range(4):
            others = [q for q in range(4) if q != p]
            coarse = [coarse_of[shape[edge[frozenset((p, q))]]] for q in others]
            if len(set(coarse)) < 3 or min(coarse) < 0:
                continue
            order = [q for _, q in sorted(zip(coarse, others, strict=True))]
            r = [d[edge[frozenset((p, q))]] for q in order]
            t = triplets.index(tuple(sorted(coarse)))
            out[t] += w * sign[(p, *order)] * 6.0 * volume / np.prod(r)
    return -3.0 / np.sqrt(2.0) / FOUR_PI_3_2 * out


def test_exact_parity_odd_quads_give_the_multipoles_handedness():
    """One tetrahedron, and its mirror image: the (1, 1, 1) multipole rebuilt
    from the exact parity-odd quad count (handedness of the canonical vertex
    order, fine bins covering every side) has the sign of the multipole count
    and its size to the bins' resolution; the mirror flips both (the
    convergence: the next test)."""
    dirs = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]]) / np.sqrt(3.0)
    legs = np.array([1.6, 2.6, 3.6])[:, None] * dirs
    rot = Rotation.from_euler("zyx", [0.4, -0.9, 1.3]).as_matrix()
    fine = np.linspace(0.0, 8.0, 17)  # every side of the tetrahedron is below 8
    centres = 0.5 * (fine[1:] + fine[:-1])
    coarse_of = np.where((centres > 1) & (centres < 4), np.floor(centres - 1).astype(int), -1)
    signs = []
    for mirror in (1.0, -1.0):
        pts = 10.0 + (legs * [mirror, 1.0, 1.0]) @ rot.T
        data = np.vstack([[10.0, 10.0, 10.0], pts])
        m = ag.count_quad_multipoles(data, bins=[1.0, 2.0, 3.0, 4.0], lmax=1, boxsize=20.0)
        exact = m.field[m.index(1, 1, 1)][0]
        qc = ag.count_quads(data, bins=fine, boxsize=20.0, parity=True)
        got = _odd_projection(qc, coarse_of, 3, centres)[0]
        assert exact != 0.0 and np.sign(got) == np.sign(exact)
        assert abs(got - exact) < 0.25 * abs(exact), (got, exact)
        signs.append(np.sign(exact))
    assert signs[0] == -signs[1]


def _tetrahedra(rng, n, spacing):
    """n right-handed tetrahedra of random shape, far apart on a lattice: a
    corner and three legs, one in each of [1, 2), [2, 3), [3, 4) (every side
    below 8), of random directions whose unit triple product exceeds 0.3
    (not flat: the volume from six sides is ill-conditioned when flat)."""
    side = int(np.ceil(n ** (1 / 3)))
    corners = spacing * (np.indices((side,) * 3).reshape(3, -1).T[:n] + 0.5)
    legs = rng.uniform([1.05, 2.05, 3.05], [1.95, 2.95, 3.95], (n, 3))
    dirs = np.empty((n, 3, 3))
    for t in range(n):
        while True:
            u = rng.normal(size=(3, 3))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            if np.linalg.det(u) > 0.3:
                dirs[t] = u
                break
    tips = corners[:, None, :] + legs[:, :, None] * dirs
    return np.concatenate([corners[:, None, :], tips], axis=1), spacing * side


def _centre_projection(quads, edges):
    """The (1, 1, 1) multipole of the tetrahedra with each side moved to the
    centre of its bin in ``edges``: from every vertex whose three edges fall
    in [1, 2), [2, 3), [3, 4), the sign of its true triple product times
    6V / (r1 r2 r3) of the centred sides (V by the Cayley-Menger determinant),
    times Im P_111's factor."""
    centres = 0.5 * (edges[1:] + edges[:-1])
    out = 0.0
    for q in quads:
        d = np.linalg.norm(q[:, None] - q[None], axis=2)
        c = centres[np.clip(np.searchsorted(edges, d, side="right") - 1, 0, len(centres) - 1)]
        cm = np.ones((5, 5))
        cm[0, 0], cm[1:, 1:] = 0.0, c**2
        np.fill_diagonal(cm[1:, 1:], 0.0)
        volume = np.sqrt(max(np.linalg.det(cm) / 288.0, 0.0))
        for p in range(4):
            others = sorted((q_ for q_ in range(4) if q_ != p), key=lambda k: d[p, k])
            if [int(np.floor(d[p, k])) for k in others] != [1, 2, 3]:
                continue
            u = [(q[k] - q[p]) / d[p, k] for k in others]
            hand = np.sign(np.dot(u[0], np.cross(u[1], u[2])))
            out += hand * 6.0 * volume / np.prod([c[p, k] for k in others])
    return -3.0 / np.sqrt(2.0) / FOUR_PI_3_2 * out


def test_projected_exact_parity_odd_quads_converge_to_the_multipoles():
    """Consistency with the exact quads, in two links. (1) At each quad
    resolution the shape table allows (8 and 16 bins over [0, 8)), the (1, 1,
    1) multipole projected from the exact parity-odd quad counts (shapes and
    handedness) is, to rounding, that of the true tetrahedra with every side
    moved to its bin centre: each quad sits in its shape with its hand. (2)
    That centred projection converges to the multipole count as the bins get
    finer (error O(bin width), checked down to 1/512)."""
    quads, box = _tetrahedra(np.random.default_rng(31), 24, 20.0)
    data = quads.reshape(-1, 3)
    m = ag.count_quad_multipoles(data, bins=[1.0, 2.0, 3.0, 4.0], lmax=1, boxsize=box)
    exact = m.field[m.index(1, 1, 1)][0]
    assert abs(exact) > 0
    for n in (8, 16):
        fine = np.linspace(0.0, 8.0, n + 1)
        qc = ag.count_quads(data, bins=fine, boxsize=box, parity=True)
        centres = 0.5 * (fine[1:] + fine[:-1])
        coarse_of = np.where((centres > 1) & (centres < 4), np.floor(centres - 1).astype(int), -1)
        got = _odd_projection(qc, coarse_of, 3, centres)[0]
        assert got == pytest.approx(_centre_projection(quads, fine), rel=1e-10, abs=1e-12)
    errors_ = []
    for n in (8, 64, 512, 4096, 32768):
        errors_.append(abs(_centre_projection(quads, np.linspace(0.0, 8.0, n + 1)) - exact))
    errors_ = np.array(errors_) / abs(exact)
    # 20% at 8 bins, 3e-5 at 32768: O(bin width) with a large constant, as
    # the volume from six sides amplifies their errors (the shape table's
    # 16 bins could not show it).
    assert errors_[-1] < 1e-4 and errors_[1:].max() < errors_[0] / 10, errors_


def test_relabelling_the_three_directions_permutes_the_triples_as_the_basis_says():
    """P_(l_s1 l_s2 l_s3)(u_s1, u_s2, u_s3) = sign(s)^(l1+l2+l3) P_(l1 l2 l3)(u1, u2, u3):
    cyclic relabellings keep the basis, swaps multiply it by (-1)^J; so the
    counts' rows for b1 < b2 < b3 determine every ordering of the bins."""
    from itertools import permutations

    rng = np.random.default_rng(30)
    u = [v / np.linalg.norm(v, axis=1)[:, None] for v in rng.normal(size=(3, 6, 3))]
    for ell in _triples(3):
        base = ref.isotropic_basis(ell, *u, rows=True)
        for perm in permutations(range(3)):
            sign = round(np.linalg.det(np.eye(3)[list(perm)]))
            moved = ref.isotropic_basis(
                tuple(ell[p] for p in perm), *(u[p] for p in perm), rows=True
            )
            np.testing.assert_allclose(moved, sign ** sum(ell) * base, atol=1e-14)
