"""Photo-z estimators, metrics, depth study and tree rendering on real SDSS MGS data."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

import matplotlib

matplotlib.use("Agg")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from astrograph.errors import NotFittedError  # noqa: E402
from astrograph.ml.datasets import load_sdss_mgs_photoz  # noqa: E402
from astrograph.ml.features import colour_features, feature_names  # noqa: E402
from astrograph.ml.metrics import METRIC_KEYS, photoz_metrics  # noqa: E402
from astrograph.ml.photoz import MODELS, PhotoZRegressor, depth_study, feature_importances  # noqa: E402

#: The single models fitted on the full training file (the stack has its own tests).
SINGLE = tuple(m for m in MODELS if m != "stacked")
from astrograph.ml.plots import plot_photoz, plot_tree_png  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mgs(shared_data):
    return load_sdss_mgs_photoz(shared_data, "train"), load_sdss_mgs_photoz(shared_data, "test")


@pytest.fixture(scope="module")
def fitted(mgs):
    train, _ = mgs
    models = {}
    for name in SINGLE:
        kw = {"max_depth": 8} if name == "tree" else {}
        models[name] = PhotoZRegressor(name, n_jobs=2, random_state=0, **kw).fit(
            train.mags, train.z_spec
        )
    return models


# ---------------------------------------------------------------- metrics
def test_metrics_by_hand():
    zs = np.array([0.0, 0.1, 0.2, 0.3, 1.0])
    zp = np.array([0.0, 0.1, 0.2, 0.3 + 0.13 * 1.3, 1.0 + 0.4])
    dz = (zp - zs) / (1 + zs)
    m = photoz_metrics(zp, zs)
    assert tuple(m) == METRIC_KEYS
    assert m["bias"] == pytest.approx(dz.mean())
    assert m["rms"] == pytest.approx(np.sqrt(np.mean(dz**2)))
    assert m["sigma_nmad"] == pytest.approx(1.4826 * np.median(np.abs(dz - np.median(dz))))
    assert m["eta_015"] == pytest.approx(1 / 5)  # only dz = 0.2
    assert m["eta_005"] == pytest.approx(2 / 5)  # 0.13 and 0.2
    assert m["eta_3sigma"] == pytest.approx(np.mean(np.abs(dz) > 3 * dz.std()))


@pytest.mark.parametrize(
    ("zp", "zs", "msg"),
    [
        ([0.1, np.nan], [0.1, 0.2], "NaN"),
        ([0.1], [0.1, 0.2], "z_spec has 2"),
        ([], [], "empty"),
        ([[0.1]], [[0.1]], "1-d"),
    ],
)
def test_metrics_bad_input(zp, zs, msg):
    with pytest.raises(ValueError, match=msg):
        photoz_metrics(zp, zs)


# ---------------------------------------------------------------- features / input checks
def test_features_every_distinct_colour():
    mags = np.array([[20.0, 19.0, 18.5, 18.2, 18.0]])
    X = colour_features(mags)
    names = feature_names()
    assert X.shape == (1, 15) and len(names) == 15
    colours = [n for n in names if "-" in n]
    assert len(colours) == len(set(colours)) == 10
    assert all(a != b for a, b in (c.split("-") for c in colours))  # never a band minus itself
    assert X[0, names.index("u-z")] == pytest.approx(2.0)
    assert colour_features(mags, np.full((1, 5), 0.01)).shape == (1, 20)


@pytest.mark.parametrize(
    ("mags", "msg"),
    [
        (np.ones((10, 4)) * 18, r"shape \(10, 4\); expected \(N, 5\) ugriz"),
        (np.empty((0, 5)), "empty"),
        (
            np.where(np.arange(50).reshape(10, 5) % 7 == 0, np.nan, 18.0),
            r"rows of mags contain NaN",
        ),
        (np.full((3, 5), -9999.0), "sentinel"),
    ],
)
def test_bad_magnitudes_raise(mags, msg):
    reg = PhotoZRegressor("tree")
    with pytest.raises(ValueError, match=msg):
        reg.fit(mags, np.full(len(mags), 0.1))


def test_nan_rows_are_named():
    mags = np.full((10, 5), 18.0)
    mags[[1, 5, 9], 2] = np.nan
    with pytest.raises(ValueError, match=r"3 rows of mags contain NaN or inf \(rows 1, 5, 9\)"):
        colour_features(mags)


def test_other_bad_arguments(mgs):
    train, _ = mgs
    with pytest.raises(ValueError, match="unknown model"):
        PhotoZRegressor("svm").fit(train.mags[:50], train.z_spec[:50])
    with pytest.raises(ValueError, match="z has shape"):
        PhotoZRegressor("tree").fit(train.mags[:50], train.z_spec[:49])
    with pytest.raises(ValueError, match="pass errors as"):
        PhotoZRegressor("tree", use_errors=True).fit(train.mags[:50], train.z_spec[:50])


# ---------------------------------------------------------------- quality bar
def test_quality_bar_all_models_reported(mgs, fitted):
    _, test = mgs
    table = {n: photoz_metrics(r.predict(test.mags), test.z_spec) for n, r in fitted.items()}
    for name, m in table.items():
        assert set(m) == set(METRIC_KEYS)
        assert all(np.isfinite(v) for v in m.values())
        print(name, {k: round(v, 5) for k, v in m.items()})
    best = min(table, key=lambda n: table[n]["sigma_nmad"])
    assert best != "tree"  # ensembles beat a single tree
    b = table[best]
    assert b["sigma_nmad"] <= 0.0130
    assert abs(b["bias"]) <= 0.001
    assert b["eta_015"] <= 0.001
    # Reference figures in the data README: forest RMS ~ 0.015, depth-8 tree NMAD ~ 0.015.
    assert table["random_forest"]["rms"] < 0.0165
    assert table["tree"]["sigma_nmad"] < 0.0170


def test_errors_as_features(mgs):
    train, test = mgs
    reg = PhotoZRegressor("extra_trees", n_estimators=50, use_errors=True, n_jobs=2)
    reg.fit(np.hstack([train.mags, train.mag_errors]), train.z_spec)
    assert reg.estimator_.n_features_in_ == 20 and reg.feature_names_[-1] == "ez"
    m = photoz_metrics(reg.predict(np.hstack([test.mags, test.mag_errors])), test.z_spec)
    assert m["sigma_nmad"] < 0.015


# ---------------------------------------------------------------- uncertainties and PDFs
@pytest.mark.parametrize("name", SINGLE)
def test_uncertainty_and_pdf(mgs, fitted, name):
    _, test = mgs
    reg = fitted[name]
    mags, zs = test.mags[:300], test.z_spec[:300]
    zp = reg.predict(mags)
    sig = reg.predict_std(mags)
    assert sig.shape == (300,) and np.all(sig >= 0) and np.median(sig) > 0.003
    # Calibration: the 1-sigma band should hold roughly (not exactly) 68 % of objects.
    coverage = np.mean(np.abs(zp - zs) < sig)
    assert 0.35 < coverage < 0.97, coverage
    grid, pdf = reg.predict_pdf(mags[:50])
    assert pdf.shape == (50, grid.size)
    # unit integral over the real line: ~1 on the default grid (training range + 10 %)
    assert np.allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=0.02)
    # The PDF peak sits near the point estimate.
    assert np.median(np.abs(grid[pdf.argmax(axis=1)] - zp[:50])) < 0.02
    q = reg.predict_quantiles(mags[:50], (0.16, 0.5, 0.84))
    assert np.all(np.diff(q, axis=1) >= 0)


def test_quantile_pdf_mode_for_forest(mgs):
    train, test = mgs
    reg = PhotoZRegressor("random_forest", n_estimators=30, pdf="quantile", n_jobs=2)
    reg.fit(train.mags[:2000], train.z_spec[:2000])
    grid, pdf = reg.predict_pdf(test.mags[:20])
    assert np.allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=0.02)
    assert np.all(reg.predict_std(test.mags[:20]) > 0)


# ---------------------------------------------------------------- sklearn API, seeding
def test_sklearn_api_and_reproducible(mgs):
    train, test = mgs
    reg = PhotoZRegressor("random_forest", n_estimators=20, random_state=3)
    params = reg.get_params()
    assert params["model"] == "random_forest" and params["random_state"] == 3
    a = clone(reg).fit(train.mags[:1000], train.z_spec[:1000]).predict(test.mags[:100])
    b = clone(reg).fit(train.mags[:1000], train.z_spec[:1000]).predict(test.mags[:100])
    np.testing.assert_array_equal(a, b)
    c = (
        reg.set_params(random_state=4)
        .fit(train.mags[:1000], train.z_spec[:1000])
        .predict(test.mags[:100])
    )
    assert not np.array_equal(a, c)
    assert reg.score(test.mags, test.z_spec) < 0  # negative sigma_NMAD


def test_pipeline_and_cross_val_score(mgs):
    train, _ = mgs
    X = np.hstack([train.mags, train.mag_errors])[:1500]  # ugriz + their errors
    z = train.z_spec[:1500]
    reg = PhotoZRegressor("random_forest", n_estimators=20, use_errors=True)
    assert not [a for a in dir(reg) if a.endswith("_") and not a.startswith("_")]  # unfitted
    pipe = Pipeline([("identity", FunctionTransformer()), ("photoz", reg)])
    scores = cross_val_score(pipe, X, z, cv=3)
    assert scores.shape == (3,) and np.all((scores < 0) & (scores > -0.05))  # -sigma_NMAD
    assert not hasattr(reg, "estimator_")  # cross-validation fitted clones only
    fitted = pipe.fit(X, z)[-1]
    assert fitted.n_features_in_ == 10 and len(fitted.feature_names_) == 20
    scores = cross_val_score(PhotoZRegressor("tree", max_depth=6), X[:, :5], z, cv=3)
    assert np.all(np.isfinite(scores))
    with pytest.raises(ValueError, match="X has 5 features; the model was fitted on 10"):
        pipe.predict(X[:, :5])
    with pytest.raises(NotFittedError):
        PhotoZRegressor().predict(X)


# ---------------------------------------------------------------- depth study, importances, trees
def test_depth_study_shows_overfitting(mgs):
    train, test = mgs
    res = depth_study(train.mags, train.z_spec, test.mags, test.z_spec, depths=(2, 4, 8, 12, 20))
    assert np.all(np.diff(res["train_rms"]) < 0)  # training error keeps falling
    best = int(np.argmin(res["test_rms"]))
    assert 0 < best < len(res["depth"]) - 1  # test error has an interior minimum...
    assert res["test_rms"][-1] > 1.1 * res["test_rms"][best]  # ...and rises when over-fitting
    assert res["train_rms"][-1] < 0.2 * res["test_rms"][-1]


def test_feature_importances(mgs, fitted):
    _, test = mgs
    imp = feature_importances(fitted["tree"], test.mags[:1500], test.z_spec[:1500], n_repeats=3)
    assert imp["impurity"].sum() == pytest.approx(1.0)
    assert len(imp["names"]) == len(imp["permutation_mean"]) == 15
    # Redshift lives in the colours: the top feature by either measure is a colour.
    assert "-" in imp["names"][int(np.argmax(imp["impurity"]))]
    assert "-" in imp["names"][int(np.argmax(imp["permutation_mean"]))]


def test_tree_png_depth_3_and_8(mgs, tmp_path):
    train, test = mgs
    for depth in (3, 8):
        reg = PhotoZRegressor("tree", max_depth=depth).fit(train.mags, train.z_spec)
        assert reg.estimator_.get_depth() == depth
        png = tmp_path / f"tree_depth{depth}.png"
        plot_tree_png(reg.estimator_, png, feature_names=reg.feature_names_)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    fig = plot_photoz(reg.predict(test.mags), test.z_spec)
    assert len(fig.axes[0].collections) == 1


# ---------------------------------------------------------------- the stacked default
def _colours_and_r(X):
    m = X[:, :5]
    return np.column_stack([m[:, :-1] - m[:, 1:], m[:, 2]])


@pytest.fixture(scope="module")
def stacked(mgs):
    train, _ = mgs
    X = np.hstack([train.mags, train.mag_errors])[:3000]
    return PhotoZRegressor(n_estimators=100).fit(X, train.z_spec[:3000])


def test_stacked_is_the_default_and_beats_a_plain_forest(mgs, stacked):
    """On a fixed split (3,000 training, 2,000 test galaxies) the default stack beats a
    plain scikit-learn forest (100 trees) on colours + r in sigma_NMAD.

    Measured on three such splits (training rows 0-3000, 1000-4000, 2000-5000 of the
    train file, test rows likewise): gains 7.3 %, 5.6 % and 1.2 %. The fixed split
    here is the first; 3 % leaves headroom for library versions. The >= 5 % claim is
    the benchmark's repeated CV on 8,000 galaxies (8.7 +- 2.8 %, benchmarks/ml.md).
    """
    from sklearn.ensemble import RandomForestRegressor

    train, test = mgs
    assert PhotoZRegressor().model == "stacked" and stacked.use_errors == "auto"
    assert stacked.feature_names_[-1] == "ez"  # the errors were used: X had them
    Xtr = np.hstack([train.mags, train.mag_errors])[:3000]
    Xte = np.hstack([test.mags, test.mag_errors])[:2000]
    forest = RandomForestRegressor(100, random_state=0).fit(
        _colours_and_r(Xtr), train.z_spec[:3000]
    )
    base = photoz_metrics(forest.predict(_colours_and_r(Xte)), test.z_spec[:2000])
    new = photoz_metrics(stacked.predict(Xte), test.z_spec[:2000])
    print("stack", new["sigma_nmad"], "forest", base["sigma_nmad"])
    assert new["sigma_nmad"] <= 0.97 * base["sigma_nmad"]
    assert abs(new["bias"]) < 0.002 and new["eta_015"] <= 0.001
    members = dict(stacked.estimator_.named_estimators_)
    assert set(members) == {"forest", "boost", "mlp"}
    assert members["boost"].loss == "absolute_error"


def test_stacked_pdfs_and_importances(mgs, stacked):
    _, test = mgs
    Xte = np.hstack([test.mags, test.mag_errors])[:300]
    grid, pdf = stacked.predict_pdf(Xte)
    assert np.allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=0.02)
    q = stacked.predict_quantiles(Xte, (0.16, 0.5, 0.84))
    inside = (test.z_spec[:300] > q[:, 0]) & (test.z_spec[:300] < q[:, 2])
    assert 0.55 < inside.mean() < 0.85  # the quantile forest's 68 % interval
    imp = feature_importances(stacked, Xte, test.z_spec[:300], n_repeats=2)
    assert len(imp["names"]) == 20 and imp["impurity"].sum() == pytest.approx(1.0)
