"""Tables of bad inputs for the public ML estimators (issue 10, finding 15).

Each row asserts the exception class (an ``AstrographError`` subclass, and the
matching built-in) and that the message names the problem.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import pytest

pytest.importorskip("sklearn")

from astrograph.errors import (  # noqa: E402
    AstrographError,
    CheckpointError,
    CheckpointNotFoundError,
    InputError,
)
from astrograph.ml.photoz import PhotoZRegressor  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def _photometry(n=300, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.02, 0.3, n)
    g = 17.0 + 5 * z + rng.normal(0, 0.05, n)
    mags = np.column_stack(
        [g + 1.5 + 3 * z, g, g - 0.5 - 2 * z, g - 0.8 - 2.5 * z, g - 1.0 - 3 * z]
    )
    return mags, z


@pytest.fixture(scope="module")
def photoz_model():
    mags, z = _photometry()
    return PhotoZRegressor("random_forest", n_estimators=20).fit(mags, z)


# ---------------------------------------------------------------- PhotoZRegressor.fit
MAGS, Z = _photometry(60)


@pytest.mark.parametrize(
    ("kwargs", "X", "y", "msg"),
    [
        ({}, MAGS, np.full(60, 0.1), r"all 60 training redshifts in z are equal \(z = 0.1\)"),
        ({"model": "tree"}, MAGS, np.zeros(60), "training redshifts in z are equal"),
        ({}, MAGS, Z[:59], "X has 60 samples but z has 59"),
        ({}, MAGS, np.where(np.arange(60) == 4, np.nan, Z), r"NaN or inf \(rows \[4\]\)"),
        ({}, MAGS, ["a"] * 60, "z must be numeric"),
        ({"model": "svm"}, MAGS, Z, "unknown model 'svm'"),
        ({"pdf": "kde"}, MAGS, Z, "pdf must be one of"),
        ({"model": "stacked", "pdf": "ensemble"}, MAGS, Z, "per-tree predictions"),
        ({"n_estimators": 0}, MAGS, Z, "n_estimators must be an integer >= 1"),
        ({}, MAGS[:, :4], Z, r"expected \(N, 5\) ugriz"),
        ({"use_errors": True}, MAGS, Z, "pass errors as 5 more columns"),
    ],
)
def test_photoz_fit_bad_inputs(kwargs, X, y, msg):
    with pytest.raises(InputError, match=msg):
        PhotoZRegressor(**kwargs).fit(X, y)


# ---------------------------------------------------------------- PhotoZRegressor PDFs
@pytest.mark.parametrize(
    ("grid", "kwargs", "msg"),
    [
        (np.linspace(1.0, 2.0, 50), {}, r"z_grid \[1, 2\] misses the training redshift range"),
        (np.linspace(-1.0, -0.1, 50), {}, "misses the training redshift range"),
        (np.linspace(0.3, 0.0, 50), {}, "strictly increasing"),
        ([0.1, 0.2], {}, "at least 3 points"),
        ([[0.1, 0.2, 0.3]], {}, "1-d array"),
        ([0.1, np.nan, 0.3], {}, "NaN or inf"),
        (np.linspace(0.28, 0.3, 5), {"normalize": True}, "no probability on z_grid"),
    ],
)
def test_photoz_pdf_grid_bad_inputs(photoz_model, grid, kwargs, msg):
    mags, _ = _photometry(5, seed=1)
    mags[:, :] = mags[0]  # one low-z-ish galaxy repeated
    if kwargs.get("normalize"):
        # a galaxy at the bottom of the range has no probability near the top
        lo = _photometry(400, seed=3)
        mags = lo[0][np.argsort(lo[1])[:3]]
    with pytest.raises(InputError, match=msg):
        photoz_model.predict_pdf(mags, grid, **kwargs)


def test_photoz_pdf_is_honest_about_a_partial_grid(photoz_model):
    """A grid that cuts the PDF returns the probability it holds, not a made-up 1."""
    mags, z = _photometry(200, seed=4)
    full_grid, full = photoz_model.predict_pdf(mags)
    assert np.allclose(np.trapezoid(full, full_grid, axis=1), 1.0, atol=0.01)
    half = np.linspace(0.0, 0.15, 100)
    grid, pdf = photoz_model.predict_pdf(mags, half)
    mass = np.trapezoid(pdf, grid, axis=1)
    assert np.all(mass <= 1.0 + 1e-6)
    assert mass[z > 0.25].max() < 0.05 and mass[z < 0.08].min() > 0.9
    _, renorm = photoz_model.predict_pdf(mags[mass > 0.5], half, normalize=True)
    assert np.allclose(np.trapezoid(renorm, grid, axis=1), 1.0)


@pytest.mark.parametrize(
    ("quantiles", "msg"),
    [((0.0, 0.5), "strictly between 0 and 1"), ((0.5, 1.2), "strictly between"), ((), "1-d")],
)
def test_photoz_quantiles_bad_inputs(photoz_model, quantiles, msg):
    with pytest.raises(InputError, match=msg):
        photoz_model.predict_quantiles(MAGS, quantiles)


def test_photoz_pdf_mode_switch_after_fit(photoz_model):
    """Tree PDF modes switch after fit; the boosted-quantile mode needs a refit."""
    from sklearn.base import clone

    model = clone(photoz_model).fit(*_photometry())
    widths = {}
    for mode in ("ensemble", "quantile_forest"):
        widths[mode] = np.median(model.set_params(pdf=mode).predict_std(MAGS))
    assert all(w > 0 for w in widths.values())
    assert widths["ensemble"] != widths["quantile_forest"]  # two different PDF estimates
    with pytest.raises(InputError, match="refit it with pdf='quantile'"):
        model.set_params(pdf="quantile").predict_pdf(MAGS)


def test_dense_photoz_refuses_constant_redshift():
    pytest.importorskip("jax")
    from astrograph.ml.nn.photoz import DensePhotoZRegressor

    with pytest.raises(InputError, match="training redshifts in y are equal"):
        DensePhotoZRegressor(max_epochs=1).fit(MAGS, np.full(60, 0.2))


# ---------------------------------------------------------------- GalaxyCNN
@pytest.fixture(scope="module")
def cnn_data():
    pytest.importorskip("flax")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 16, 16, 1)).astype(np.float32)
    y = np.arange(40) % 2
    return X, y


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"validation_fraction": -0.1}, r"validation_fraction must be a number in \[0, 1\)"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"validation_fraction": "0.2"}, "validation_fraction"),
        ({"input_size": 0}, "input_size must be a positive integer or None"),
        ({"input_size": -8}, "input_size must be a positive integer"),
        ({"input_size": 12.5}, "input_size must be a positive integer"),
        ({"input_size": 20}, "input_size 20 > image size 16"),
        ({"input_size": 4}, r"too small .* 4 stages: the minimum size is 8x8 px"),
        ({"input_size": 8, "symmetry": None}, r"4 stages: the minimum size is 16x16 px"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"n_ensemble": 0}, "n_ensemble must be an integer >= 1"),
        ({"channels": ()}, "channels must be None or a non-empty tuple"),
        ({"channels": (8, -4)}, "channels must be None or a non-empty tuple of positive integers"),
        ({"symmetry": "p4"}, "symmetry must be 'dihedral' or None"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ({"label_smoothing": -0.1}, "label_smoothing"),
        ({"learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"weight_decay": -1e-4}, "weight_decay must be a finite number >= 0"),
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"patience": 5}, "patience needs validation_fraction > 0"),
        ({"augment": "strong"}, "augment must be 'default', a dict or None"),
        ({"mixup": -0.2}, r"mixup must be a number >= 0 \(0 disables it\)"),
        ({"mixup": "yes"}, "mixup must be a number"),
        ({"ema": 1.0}, r"ema must be None or a decay in \(0, 1\)"),
        ({"ema": 0}, "ema must be None or a decay"),
    ],
)
def test_cnn_bad_parameters(cnn_data, kwargs, msg):
    from astrograph.ml.morphology import GalaxyCNN

    X, y = cnn_data
    with pytest.raises(InputError, match=msg):
        GalaxyCNN(**{"epochs": 1, "batch_size": 8, **kwargs}).fit(X, y)


def _fractions(n, k=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, k)).astype(np.float32)


@pytest.mark.parametrize(
    ("labels", "msg"),
    [
        (_fractions(40) * 1.5, r"vote fractions must lie in \[0, 1\]; \d+ entries do not"),
        (_fractions(40) - 0.5, r"first: row 0, column \d = -"),
        (
            np.where(np.arange(120).reshape(40, 3) == 5, np.nan, _fractions(40)),
            "row 1 contains NaN",
        ),
        (np.zeros(40), "at least two classes"),
        (np.arange(39) % 2, "40 images but 39 labels"),
        (np.zeros((40, 2, 2)), "labels must be 1-D class labels or a 2-D float array"),
    ],
)
def test_cnn_bad_labels(cnn_data, labels, msg):
    from astrograph.ml.morphology import GalaxyCNN

    X, _ = cnn_data
    with pytest.raises(InputError, match=msg):
        GalaxyCNN(epochs=1, batch_size=8).fit(X, labels)


def test_cnn_too_small_images(cnn_data):
    from astrograph.ml.morphology import GalaxyCNN

    X, y = cnn_data
    # the dihedral network does not pool after its last stage
    with pytest.raises(InputError, match=r"images of 4x4 px .* minimum size is 8x8 px"):
        GalaxyCNN(epochs=1, batch_size=8).fit(X[:, :4, :4], y)
    with pytest.raises(InputError, match=r"images of 8x8 px .* minimum size is 16x16 px"):
        GalaxyCNN(symmetry=None, epochs=1, batch_size=8).fit(X[:, :8, :8], y)
    with pytest.raises(InputError, match=r"minimum size is 4x4 px"):
        GalaxyCNN(channels=(4, 8), symmetry=None, epochs=1, batch_size=8).fit(X[:, :2, :2], y)
    with pytest.raises(InputError, match=r"minimum size is 2x2 px"):
        GalaxyCNN(channels=(4, 8), epochs=1, batch_size=8).fit(X[:, :1, :1], y)


def test_cnn_layers_bad_shapes():
    pytest.importorskip("flax")
    import jax.numpy as jnp

    from astrograph.ml.nn.cnn import max_pool_2x2
    from astrograph.ml.nn.dihedral import GroupBatchNorm

    for shape in [(4, 4, 3), (2, 1, 4, 3), (2, 4, 1, 3)]:
        with pytest.raises(InputError, match=r"max_pool_2x2 needs \(n, h, w, c\) with h, w >= 2"):
            max_pool_2x2(jnp.zeros(shape))
    norm = GroupBatchNorm(3)
    for shape in [(2, 4, 4, 3), (2, 4, 4, 25), (24,)]:
        for running in (False, True):
            with pytest.raises(
                InputError, match=r"GroupBatchNorm\(3\) needs features \(\.\.\., 24\)"
            ):
                norm(jnp.zeros(shape), use_running_average=running)


def test_cnn_load_missing_file(tmp_path):
    pytest.importorskip("flax")
    from astrograph.ml.morphology import GalaxyCNN

    for path in (tmp_path / "nope.npz", tmp_path):
        with pytest.raises(FileNotFoundError, match="checkpoint file") as info:
            GalaxyCNN.load(path)
        assert isinstance(info.value, CheckpointNotFoundError)
        assert isinstance(info.value, CheckpointError) and isinstance(info.value, AstrographError)
