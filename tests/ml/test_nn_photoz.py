"""Dense-network photo-z on the real SDSS Main Galaxy Sample."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from astrograph.errors import NotFittedError
from astrograph.ml.datasets import load_sdss_mgs_photoz
from astrograph.ml.nn.photoz import DensePhotoZRegressor


@pytest.fixture(scope="module")
def mgs(shared_data):
    d = shared_data / "sdss_mgs_photoz"
    tr, te = load_sdss_mgs_photoz(d, "train"), load_sdss_mgs_photoz(d, "test")
    return tr.mags, tr.z_spec, te.mags, te.z_spec  # X = ugriz magnitudes


@pytest.fixture(scope="module")
def fitted(mgs):
    Xtr, ztr, _, _ = mgs
    return DensePhotoZRegressor(max_epochs=60, patience=15, random_state=0).fit(Xtr, ztr)


def test_quality_bar(fitted, mgs):
    _, _, Xte, zte = mgs
    m = fitted.photoz_metrics(Xte, zte)
    assert m["sigma_nmad"] <= 0.0147
    assert abs(m["bias"]) < 0.003
    assert m["eta_015"] < 0.005
    assert fitted.score(Xte, zte) > 0.85  # R^2, scikit-learn convention
    h = fitted.history_
    assert len(h.epoch) == len(h.val_loss) and h.val_loss[h.best_epoch - 1] == min(h.val_loss)


def test_reproducible_and_save_load(fitted, mgs, tmp_path):
    Xtr, ztr, Xte, _ = mgs
    again = clone(fitted).fit(Xtr, ztr)
    np.testing.assert_array_equal(again.predict(Xte[:200]), fitted.predict(Xte[:200]))
    path = fitted.save(tmp_path / "pz.npz")
    loaded = DensePhotoZRegressor.load(path)
    np.testing.assert_array_equal(loaded.predict(Xte), fitted.predict(Xte))


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_losses_train(loss, mgs):
    Xtr, ztr, Xte, zte = mgs
    m = DensePhotoZRegressor(hidden=(32, 32), loss=loss, max_epochs=8, random_state=1)
    m.fit(Xtr[:2000], ztr[:2000])
    assert m.history_.loss[-1] < m.history_.loss[0]
    assert m.photoz_metrics(Xte, zte)["sigma_nmad"] < 0.03


def test_mixture_density_pdf(mgs):
    Xtr, ztr, Xte, zte = mgs
    m = DensePhotoZRegressor(hidden=(64, 64), n_components=3, max_epochs=25, random_state=0)
    m.fit(Xtr, ztr)
    grid = np.linspace(0, 0.4, 801)
    pdf = m.predict_pdf(Xte[:500], grid)
    assert pdf.shape == (500, 801) and (pdf >= 0).all()
    # unit integral, apart from a few odd galaxies with probability outside 0 < z < 0.4
    integral = np.trapezoid(pdf, grid, axis=1)
    assert np.mean(np.abs(integral - 1) < 0.02) > 0.97 and integral.max() < 1.001
    w, mu, sigma = m.predict_mixture(Xte[:500])
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    # PDFs are calibrated-ish: the spectroscopic z falls inside the central 68% often
    cdf = np.cumsum(pdf, axis=1) / pdf.sum(axis=1, keepdims=True)
    pit = np.array([np.interp(z, grid, c) for z, c in zip(zte[:500], cdf, strict=True)])
    assert 0.5 < np.mean((pit > 0.16) & (pit < 0.84)) < 0.85
    assert m.photoz_metrics(Xte, zte)["sigma_nmad"] < 0.02


def test_ensemble_of_mixture_networks(mgs, tmp_path):
    """n_ensemble networks: the point estimate is the mean of the members'
    (each a network trained with its own seed), the mixture their union with
    equal weights; saved and loaded exactly."""
    Xtr, ztr, Xte, zte = mgs
    kw = dict(hidden=(32, 32), n_components=2, max_epochs=8, random_state=3)
    ens = DensePhotoZRegressor(**kw, n_ensemble=3).fit(Xtr[:1500], ztr[:1500])
    assert len(ens.models_) == len(ens.histories_) == 3
    members = [
        DensePhotoZRegressor(**{**kw, "random_state": 3 + 1000 * m}).fit(Xtr[:1500], ztr[:1500])
        for m in range(3)
    ]
    np.testing.assert_allclose(
        ens.predict(Xte[:200]), np.mean([m.predict(Xte[:200]) for m in members], 0), rtol=1e-5
    )
    w, mu, sigma = ens.predict_mixture(Xte[:200])
    assert w.shape == mu.shape == sigma.shape == (200, 6)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(w[:, 2:4], members[1].predict_mixture(Xte[:200])[0] / 3, rtol=1e-5)
    loaded = DensePhotoZRegressor.load(ens.save(tmp_path / "ens.npz"))
    np.testing.assert_array_equal(loaded.predict(Xte[:200]), ens.predict(Xte[:200]))
    with pytest.raises(ValueError, match="n_ensemble must be an integer >= 1"):
        DensePhotoZRegressor(n_ensemble=0).fit(Xtr[:300], ztr[:300])


def test_bad_input(mgs):
    Xtr, ztr, _, _ = mgs
    X = Xtr[:300].copy()
    X[17, 2] = np.nan
    with pytest.raises(ValueError, match="row 17"):
        DensePhotoZRegressor(max_epochs=1).fit(X, ztr[:300])
    with pytest.raises(ValueError, match="300 samples but y has 299"):
        DensePhotoZRegressor(max_epochs=1).fit(Xtr[:300], ztr[:299])
    with pytest.raises(ValueError, match="loss"):
        DensePhotoZRegressor(loss="l3").fit(Xtr[:300], ztr[:300])
    m = DensePhotoZRegressor(max_epochs=1).fit(Xtr[:300], ztr[:300])
    with pytest.raises(ValueError, match="features"):
        m.predict(Xtr[:5, :4])


def test_pipeline_and_cross_val_score(shared_data):
    tr = load_sdss_mgs_photoz(shared_data / "sdss_mgs_photoz", "train")
    X = np.hstack([tr.mags, tr.mag_errors])[:1500]  # ugriz + their errors
    z = tr.z_spec[:1500]
    reg = DensePhotoZRegressor(hidden=(16, 16), max_epochs=5, use_errors=True, random_state=0)
    assert not [a for a in dir(reg) if a.endswith("_") and not a.startswith("_")]  # unfitted
    with pytest.raises(NotFittedError):
        reg.predict(X)
    scores = cross_val_score(make_pipeline(FunctionTransformer(), reg), X, z, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert not hasattr(reg, "model_")  # cross-validation fitted clones only
    fitted = reg.fit(X, z)
    assert fitted.n_features_in_ == 10 and len(fitted.feature_names_) == 14
    assert fitted.predict(X[:7]).shape == (7,)
