"""PDF scores against distributions whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from astrograph.errors import InputError  # noqa: E402
from astrograph.ml.pdf_metrics import (  # noqa: E402
    crps,
    crps_gaussian,
    interval_coverage,
    nz_reconstruction,
    pdf_cdf,
    pdf_scores,
    pit,
    pit_histogram,
    pit_uniformity,
)

GRID = np.linspace(-0.3, 1.0, 1301)


def _gaussians(mu, sigma, grid=GRID):
    mu, sigma = np.asarray(mu)[:, None], np.asarray(sigma)[:, None]
    return np.exp(-0.5 * ((grid - mu) / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)


@pytest.fixture(scope="module")
def calibrated():
    """Gaussian PDFs, and true redshifts drawn from exactly those PDFs."""
    rng = np.random.default_rng(0)
    n = 5000
    mu = rng.uniform(0.1, 0.6, n)
    sigma = rng.uniform(0.01, 0.05, n)
    z = rng.normal(mu, sigma)
    return mu, sigma, z, _gaussians(mu, sigma)


def test_calibrated_pdfs_give_uniform_pit(calibrated):
    mu, sigma, z, pdf = calibrated
    u = pit(GRID, pdf, z)
    # the PIT of a calibrated Gaussian is Phi((z - mu) / sigma), exactly uniform
    from scipy.stats import norm

    np.testing.assert_allclose(u, norm.cdf((z - mu) / sigma), atol=1e-3)
    uni = pit_uniformity(u)
    assert uni["ks"] < 0.025 and uni["ks_pvalue"] > 0.01 and uni["cvm_pvalue"] > 0.01
    edges, density = pit_histogram(u, bins=10)
    assert edges.size == 11 and np.all(np.abs(density - 1) < 0.12)
    cov = interval_coverage(GRID, pdf, z)
    assert cov[0.68] == pytest.approx(0.68, abs=0.02) and cov[0.95] == pytest.approx(0.95, abs=0.01)


def test_miscalibrated_pdfs_are_caught(calibrated):
    mu, sigma, z, _ = calibrated
    narrow = _gaussians(mu, 0.5 * sigma)  # over-confident: U-shaped PIT, low coverage
    wide = _gaussians(mu, 2.0 * sigma)  # under-confident: humped PIT, high coverage
    u_narrow, u_wide = pit(GRID, narrow, z), pit(GRID, wide, z)
    assert pit_uniformity(u_narrow)["ks_pvalue"] < 1e-6
    assert pit_uniformity(u_wide)["ks_pvalue"] < 1e-6
    _, d_narrow = pit_histogram(u_narrow, 10)
    _, d_wide = pit_histogram(u_wide, 10)
    assert d_narrow[0] > 1.5 and d_narrow[-1] > 1.5 and d_narrow[5] < 0.8
    assert d_wide[0] < 0.5 and d_wide[5] > 1.3
    assert interval_coverage(GRID, narrow, z)[0.68] < 0.45
    assert interval_coverage(GRID, wide, z)[0.68] > 0.9


def test_crps_matches_gaussian_closed_form(calibrated):
    mu, sigma, z, pdf = calibrated
    np.testing.assert_allclose(crps(GRID, pdf, z), crps_gaussian(mu, sigma, z), atol=2e-5)
    # expected CRPS of a calibrated N(mu, sigma) is sigma / sqrt(pi)
    assert np.mean(crps_gaussian(mu, sigma, z) / sigma) == pytest.approx(
        1 / np.sqrt(np.pi), rel=0.03
    )


def test_crps_special_cases():
    grid = np.linspace(0.0, 1.0, 101)
    # uniform PDF on [0, 1] at z: integral of F^2 below z and (1 - F)^2 above = (z^3 + (1-z)^3) / 3
    flat = np.ones((3, grid.size))
    z = np.array([0.0, 0.3, 1.0])
    np.testing.assert_allclose(crps(grid, flat, z), (z**3 + (1 - z) ** 3) / 3, atol=1e-12)
    # off the grid: the distance to the grid is added (F = 0 or 1 there)
    np.testing.assert_allclose(crps(grid, flat[:1], [1.5]), [1 / 3 + 0.5], atol=1e-12)
    np.testing.assert_allclose(crps(grid, flat[:1], [-0.25]), [1 / 3 + 0.25], atol=1e-12)


def test_nz_reconstruction_of_a_known_mixture(calibrated):
    mu, sigma, z, pdf = calibrated
    nz = nz_reconstruction(GRID, pdf, z, bins=np.linspace(0.0, 0.7, 29))
    assert nz["edges"].size == 29 and nz["nz_pdf"].shape == nz["nz_true"].shape == (28,)
    assert abs(nz["mean_shift"]) < 0.002 and nz["ks"] < 0.02 and nz["l1"] < 0.1
    # PDFs shifted by +0.05 move the stacked N(z) by 0.05
    shifted = nz_reconstruction(GRID, _gaussians(mu + 0.05, sigma), z, bins=30)
    assert shifted["mean_shift"] == pytest.approx(0.05, abs=0.003) and shifted["ks"] > 0.1


def test_pdf_scores_keys_and_normalisation(calibrated):
    mu, sigma, z, pdf = calibrated
    s1 = pdf_scores(GRID, pdf[:500], z[:500])
    s2 = pdf_scores(GRID, 7.0 * pdf[:500], z[:500])  # unnormalised rows are normalised first
    assert s1 == pytest.approx(s2)
    assert set(s1) == {"pit_ks", "pit_ks_pvalue", "pit_cvm", "pit_cvm_pvalue", "pit_outliers",
                       "crps", "coverage_68", "coverage_95", "nz_mean_shift", "nz_ks", "nz_l1"}  # fmt: skip
    cdf = pdf_cdf(GRID, pdf[:3])
    assert np.all(np.diff(cdf, axis=1) >= 0) and np.allclose(cdf[:, -1], 1.0)


GOOD = (GRID[:5], np.ones((2, 5)), np.array([0.1, 0.2]))


@pytest.mark.parametrize(
    ("func", "args", "msg"),
    [
        (pit, (GRID[:5][::-1], GOOD[1], GOOD[2]), "strictly increasing"),
        (pit, (GRID[:2], np.ones((2, 2)), GOOD[2]), "at least 3 points"),
        (pit, (GOOD[0], np.ones((2, 4)), GOOD[2]), r"pdf has shape \(2, 4\); expected \(N, 5\)"),
        (pit, (GOOD[0], -np.ones((2, 5)), GOOD[2]), "negative"),
        (pit, (GOOD[0], np.full((2, 5), np.nan), GOOD[2]), "NaN"),
        (pit, (GOOD[0], np.zeros((2, 5)), GOOD[2]), "no probability on z_grid"),
        (pit, (GOOD[0], GOOD[1], [0.1]), r"z_true has shape \(1,\)"),
        (pit, (GOOD[0], GOOD[1], [0.1, np.inf]), "z_true entry 1"),
        (crps, (GOOD[0], np.ones((0, 5)), []), "empty"),
        (pit_histogram, ([0.5, 1.5],), r"in \[0, 1\]"),
        (pit_histogram, ([0.5], 0), "bins must be a positive integer"),
        (pit_uniformity, ([],), "non-empty"),
        (crps_gaussian, ([0.1], [0.0], [0.1]), "sigma must be finite and > 0"),
        (interval_coverage, (*GOOD, (0.68, 1.2)), "levels"),
        (nz_reconstruction, (*GOOD, 0), "bins must be >= 1"),
        (pdf_scores, (GOOD[0], "abc", GOOD[2]), "pdf must be numeric"),
    ],
)
def test_bad_inputs(func, args, msg):
    with pytest.raises(InputError, match=msg):
        func(*args)
