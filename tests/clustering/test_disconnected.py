"""The disconnected (Gaussian) part of the 4PCF multipoles, estimated from
the same pass as the counts (``count_quad_multipoles(disconnected=True)``):
its sums against a brute-force evaluation with scipy's harmonics, its
projection on the isotropic basis against the closed form, and, on a
Gaussian Cox process (whose connected 4-point function is zero), the whole
estimator against the measured 4PCF, in a periodic box and through a
slab window; a strongly clustered Thomas process is not Gaussian and shows a
connected part."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import astrograph as ag
from astrograph import _lib, errors
from astrograph.clustering.results import disconnected as disc

import reference as ref

LMAX = 2
EDGES = [1.0, 2.5, 4.0, 5.5]


def _lm(ell: int, m: int) -> int:
    return ell * ell + ell + m


def _harmonics(u: np.ndarray) -> np.ndarray:
    """Y_lm(u) for every (l, m), l <= LMAX, without Condon-Shortley's (-1)^m
    (the core's convention), shape (n, (LMAX + 1)^2)."""
    out = np.zeros((len(u), (LMAX + 1) ** 2), complex)
    for ell in range(LMAX + 1):
        y = ref.spherical_harmonics(ell, u)
        for m in range(-ell, ell + 1):
            out[:, _lm(ell, m)] = (-1) ** m * y[:, ell + m]
    return out


def test_the_sums_match_brute_force():
    rng = np.random.default_rng(1)
    data, randoms = rng.uniform(0, 12, (40, 3)), rng.uniform(0, 12, (60, 3))
    dw, rw = rng.uniform(0.5, 2.0, 40), rng.uniform(0.5, 2.0, 60)
    raw = _lib.count_quad_multipoles(
        np.ascontiguousarray(data.T), dw, np.ascontiguousarray(randoms.T), rw,
        EDGES, LMAX, "both", 12.0, disconnected=True,
    )  # fmt: skip
    nb, alpha = len(EDGES) - 1, raw[2]
    nn, rr, rnn, rrr = disc.split_sums(raw[7], LMAX, nb)
    pts = np.vstack([data, randoms])
    w = np.concatenate([dw, alpha * rw])  # the field's weights
    want = [np.zeros_like(nn), np.zeros_like(rr), np.zeros_like(rnn), np.zeros_like(rrr)]
    for i in range(len(pts)):
        s, d = ref.separation(pts[i], pts, 12.0)
        d[i] = -1.0
        b = ref.bin_of(d, np.asarray(EDGES))
        y = [None] * nb
        for x in range(nb):
            m = np.flatnonzero(b == x)
            y[x] = (m, _harmonics(s[m] / d[m, None]))
        for x, (m, h) in enumerate(y):
            want[0][x] += w[i] * (w[m, None] * h).sum(axis=0)
        if i < 40:
            continue
        for x, (m, h) in enumerate(y):
            r = m[m >= 40]
            want[1][x] += rw[i - 40] * (w[r, None] / alpha * h[m >= 40]).sum(axis=0)
        p = 0
        for x2 in range(nb):
            for x3 in range(x2 + 1, nb):
                for t, keep in ((2, None), (3, 40)):
                    (m2, h2), (m3, h3) = y[x2], y[x3]
                    k2 = m2 >= 40 if keep else np.ones(len(m2), bool)
                    k3 = m3 >= 40 if keep else np.ones(len(m3), bool)
                    ww = w / alpha if keep else w
                    a2 = (ww[m2[k2], None] * h2[k2]).sum(axis=0)
                    a3 = (ww[m3[k3], None] * h3[k3]).sum(axis=0)
                    want[t][p] += rw[i - 40] * np.outer(a2, a3)
                p += 1
    for got, exp in zip((nn, rr, rnn, rrr), want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=0, atol=1e-10 * np.abs(exp).max())


def test_the_projection_of_isotropic_2pcfs_is_the_closed_form():
    """For xi_lm = sqrt(4 pi) xi delta_l0 and xi2 = sum_l g_l P_l(r2^.r3^),
    the (0, l, l) coefficient is (-1)^l (4 pi)^(3/2) xi g_l / sqrt(2l + 1)
    (and likewise for the other pairings); the others vanish."""
    nb, nx = 4, (LMAX + 1) ** 2
    rng = np.random.default_rng(2)
    xi_b = rng.normal(size=nb)
    g = rng.normal(size=(nb, nb, LMAX + 1))
    xi = np.zeros((nb, nx), complex)
    xi[:, 0] = np.sqrt(4 * np.pi) * xi_b
    pairs = [(a, b) for a in range(nb) for b in range(a + 1, nb)]
    xi2 = np.zeros((len(pairs), nx, nx), complex)
    for p, (a, b) in enumerate(pairs):
        for ell in range(LMAX + 1):
            for m in range(-ell, ell + 1):
                # P_l(u.v) = 4 pi / (2l + 1) sum_m (-1)^m Y_lm(u) Y_l-m(v), the
                # same with the core's phase-free Y_lm (the two phases cancel)
                c = (-1) ** m * 4 * np.pi / (2 * ell + 1)
                xi2[p, _lm(ell, m), _lm(ell, -m)] = c * g[a, b, ell]
    ells = np.array([e for e in ref_triples() if sum(e) % 2 == 0])
    trip = np.array(
        [(a, b, c) for a in range(nb) for b in range(a + 1, nb) for c in range(b + 1, nb)]
    )
    z = disc.combine(xi, xi2, ells, trip, nb)
    four = (4 * np.pi) ** 1.5
    for row, (l1, l2, l3) in enumerate(ells):
        for col, (b1, b2, b3) in enumerate(trip):
            want = 0.0
            for lone, ell, first, (p2, p3) in (
                (l1, l2 if l2 == l3 else -1, b1, (b2, b3)),
                (l2, l1 if l1 == l3 else -1, b2, (b1, b3)),
                (l3, l1 if l1 == l2 else -1, b3, (b1, b2)),
            ):
                if lone == 0 and ell >= 0:
                    want += (-1) ** ell * four * xi_b[first] * g[p2, p3, ell] / np.sqrt(2 * ell + 1)
            assert z[row, col] == pytest.approx(want, abs=1e-12), ((l1, l2, l3), (b1, b2, b3))


def ref_triples():
    return [
        (a, b, c)
        for a in range(LMAX + 1)
        for b in range(LMAX + 1)
        for c in range(abs(a - b), min(a + b, LMAX) + 1)
    ]


def _cox(seed: int, size: float = 160.0, ng: int = 48, n: int = 30_000) -> np.ndarray:
    """Poisson points of intensity n (1 + delta) / size^3, delta a Gaussian
    field (sigma 0.4, smoothed on 5 Mpc/h), clipped at -1 (0.6 % of cells)."""
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(ng, d=size / ng) * 2 * np.pi
    kz = np.fft.rfftfreq(ng, d=size / ng) * 2 * np.pi
    kk = np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + kz[None, None, :] ** 2)
    smooth = np.fft.rfftn(rng.normal(size=(ng,) * 3)) * np.exp(-0.5 * (kk * 5.0) ** 2)
    delta = np.fft.irfftn(smooth, s=(ng,) * 3, axes=(0, 1, 2))
    delta *= 0.4 / delta.std()
    counts = rng.poisson(np.clip(1.0 + delta, 0.0, None) * n / ng**3)
    cell = np.repeat(np.arange(ng**3), counts.ravel())
    corner = np.column_stack(np.unravel_index(cell, (ng,) * 3)) * (size / ng)
    return corner + rng.uniform(0.0, size / ng, (len(cell), 3))


def _connected_share(data, randoms, **kw):
    """max |zeta - zeta_disc| over the parity-even (0, l, l)-type rows, over
    the largest |zeta_disc_000|; and the largest disconnected value elsewhere."""
    q = ag.count_quad_multipoles(
        data, randoms, bins=np.linspace(2.0, 18.0, 5), lmax=2, disconnected=True, **kw
    )
    scale = np.abs(q.disconnected[q.index(0, 0, 0)]).max()
    pairing = np.array([sorted(e)[0] == 0 and sorted(e)[1] == sorted(e)[2] for e in q.ells])
    conn = np.abs(q.zeta(connected=True))[pairing].max() / scale
    np.testing.assert_array_equal(q.disconnected[q.odd], 0.0)
    other = np.abs(q.disconnected[~pairing]).max() / scale
    return q, conn, other


def test_a_gaussian_field_has_no_connected_part_and_a_thomas_process_has():
    size = 160.0
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = _cox(4, size)
    randoms = rng.uniform(0, size, (2 * len(data), 3))
    q, conn, other = _connected_share(data, randoms, boxsize=size)
    # measured: 0.07 (the rest is the clipping's non-Gaussianity and noise)
    assert conn < 0.15, conn
    assert other < 0.05, other  # an isotropic field has only the (0, l, l) pairings
    np.testing.assert_allclose(
        q.zeta(connected=True), q.zeta() - q.disconnected, rtol=0, atol=1e-15
    )
    # through a slab window, open space: the edge corrections of both 2PCFs
    slab = lambda p: p[p[:, 2] < 60.0]  # noqa: E731
    _, conn, _ = _connected_share(slab(data), slab(randoms))
    assert conn < 0.3, conn  # measured: 0.17, on 17,000 points
    # clumps of 60: a connected part of 0.87 of the disconnected one
    thomas = ag.thomas_process(500, 60, 3.0, size, seed=1)
    randoms = rng.uniform(0, size, (2 * len(thomas), 3))
    _, conn, _ = _connected_share(thomas, randoms, boxsize=size)
    assert conn > 0.5, conn


def test_bad_requests_are_refused_and_the_term_is_saved(tmp_path):
    rng = np.random.default_rng(5)
    data, randoms = rng.uniform(0, 12, (60, 3)), rng.uniform(0, 12, (90, 3))
    with pytest.raises(errors.InputError, match="pass randoms"):
        ag.count_quad_multipoles(data, bins=EDGES, lmax=1, boxsize=12.0, disconnected=True)
    with pytest.raises(errors.InputError, match="jackknife"):
        ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1, regions=2, disconnected=True)
    with pytest.raises(errors.InputError, match="True or False"):
        ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1, disconnected="yes")
    q = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1)
    with pytest.raises(errors.InputError, match="disconnected=True"):
        q.zeta(connected=True)
    q = ag.count_quad_multipoles(data, randoms, bins=EDGES, lmax=1, disconnected=True)
    q.save(tmp_path / "q.parquet")
    back = ag.QuadMultipoles.load(tmp_path / "q.parquet")
    np.testing.assert_array_equal(back.disconnected, q.disconnected)
    np.testing.assert_array_equal(back.zeta(connected=True), q.zeta(connected=True))
