"""GalaxyCNN: augmentation, classification, vote-fraction regression, checkpoints, Ctrl-C,
bad input, and the CI accuracy bar on real Galaxy Zoo 2 images."""

from __future__ import annotations

import json
import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import astrograph.ml.nn.cnn as cnn
from astrograph.ml.datasets import load_image_folder
from astrograph.ml.metrics import galaxy_zoo_rmse
from astrograph.ml.morphology import GZ2_PRESETS, GalaxyCNN
from astrograph.ml.nn.augment import augment_images, dihedral_views
from astrograph.ml.nn.dihedral import (
    D4,
    DihedralNet,
    GroupBatchNorm,
    GroupConv,
    LiftingConv,
    transform_image,
)
from astrograph.ml.nn.training import train_loop

# the CI configuration (benchmarks/cnn_benchmark.py trains the full one)
CI_IMAGE, CI_CROP = GZ2_PRESETS["ci"]["image"], GZ2_PRESETS["ci"]["crop"]
CI_CONFIG = dict(GZ2_PRESETS["ci"]["model"], random_state=0)


def _blobs(n=120, side=16, seed=0):
    """Three rotation-invariant synthetic classes: small blob, large blob, ring."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    c = (side - 1) / 2
    yy, xx = np.mgrid[:side, :side]
    X = np.empty((n, side, side, 2), np.float32)
    for i, k in enumerate(y):
        cy, cx = c + rng.normal(0, 0.7, 2)
        r = np.hypot(yy - cy, xx - cx)
        img = [np.exp(-(r**2) / 4), np.exp(-(r**2) / 20), np.exp(-((r - 5) ** 2) / 2)][k]
        X[i, ..., 0] = img + rng.normal(0, 0.05, r.shape)
        X[i, ..., 1] = 0.5 * img + rng.normal(0, 0.05, r.shape)
    return X, np.array(["small", "large", "ring"])[y]


SMALL = dict(channels=(8, 16), dense=16, epochs=12, batch_size=16, learning_rate=5e-3)

augment = jax.jit(
    augment_images, static_argnames=("out_size", "flip", "rotate", "zoom", "shift", "brightness")
)


@pytest.fixture(scope="module")
def blob_model():
    X, y = _blobs()
    params = {**SMALL, "epochs": 8}
    return GalaxyCNN(**params, augment={"rotate": "90"}, n_ensemble=2, verbose=4).fit(X, y)


def test_augment_rot90_and_flip_exact():
    x = jax.random.uniform(jax.random.key(0), (6, 9, 9, 2))
    out = augment(jax.random.key(1), x, rotate="90", flip=False)
    for a, b in zip(np.asarray(out), np.asarray(x), strict=True):
        assert any(np.allclose(a, np.rot90(b, k), atol=1e-5) for k in range(4))
    flipped = augment(jax.random.key(2), x, rotate=None, flip=True)
    for a, b in zip(np.asarray(flipped), np.asarray(x), strict=True):
        assert np.allclose(a, b, atol=1e-6) or np.allclose(a, b[:, ::-1], atol=1e-6)


def test_augment_rotation_zoom_crop():
    side = 33
    yy, xx = np.mgrid[:side, :side] - 16.0
    disk = np.exp(-(xx**2 + yy**2) / 20.0)[None, ..., None].astype(np.float32)
    x = jnp.asarray(np.repeat(disk, 4, axis=0))
    rot = np.asarray(augment(jax.random.key(3), x, rotate="any", flip=True))
    np.testing.assert_allclose(rot, np.asarray(x), atol=0.02)  # a round galaxy stays round
    crop = augment(jax.random.key(4), x, out_size=21, rotate=None, shift=3.0)
    assert crop.shape == (4, 21, 21, 1)
    peaks = [np.unravel_index(np.argmax(c[..., 0]), c.shape[:2]) for c in np.asarray(crop)]
    assert all(7 <= p[0] <= 13 and 7 <= p[1] <= 13 for p in peaks)  # shifted by <= 3 px
    zoom = np.asarray(augment(jax.random.key(5), x, rotate=None, zoom=(1.5, 1.5)))
    assert zoom[0, 16, 20, 0] > x[0, 16, 20, 0]  # magnified: the profile widens


def test_dihedral_views():
    x = jax.random.uniform(jax.random.key(0), (2, 5, 5, 1))
    v = np.asarray(dihedral_views(x))
    assert v.shape == (8, 2, 5, 5, 1)
    np.testing.assert_array_equal(v[0], np.asarray(x))
    flat = {v[k, 0].tobytes() for k in range(8)}
    assert len(flat) == 8


def test_d4_is_a_group():
    mats = {m.tobytes() for m in D4}
    assert len(mats) == 8
    for a in D4:
        assert abs(round(np.linalg.det(a))) == 1
        for b in D4:
            assert (a @ b).tobytes() in mats  # closed under composition
    # transform_image acts as the matrices do: a pixel moves to A_g p
    x = np.zeros((1, 6, 6, 1), np.float32)
    x[0, 1, 4, 0] = 1.0
    for g, a in enumerate(D4):
        moved = np.argwhere(np.asarray(transform_image(jnp.asarray(x), g))[0, ..., 0] == 1)
        assert moved.tolist() == [list(np.rint(a @ (np.array([1, 4]) - 2.5) + 2.5).astype(int))]


def test_dihedral_layers_equivariant_and_net_invariant():
    x = jax.random.normal(jax.random.key(0), (2, 16, 16, 3))
    lift, conv = LiftingConv(3, 2, rngs=nnx.Rngs(1)), GroupConv(2, 2, rngs=nnx.Rngs(2))
    out = conv(lift(x))
    inverse = [next(h for h in range(8) if np.array_equal(D4[g].T, D4[h])) for g in range(8)]
    compose = [[next(k for k in range(8) if np.array_equal(D4[a] @ D4[b], D4[k]))
                for b in range(8)] for a in range(8)]  # fmt: skip
    for u in range(8):
        # transforming the input moves every feature map and permutes the orientation
        # blocks: out'(p, g) = out(A_u^-1 p, u^-1 g)
        moved = conv(lift(transform_image(x, u))).reshape(2, 16, 16, 8, 2)
        expected = transform_image(out, u).reshape(2, 16, 16, 8, 2)
        expected = expected[..., [compose[inverse[u]][g] for g in range(8)], :]
        np.testing.assert_allclose(moved, expected, atol=1e-5)
    # a network that pools with even sides is invariant to the 8 transforms
    net = DihedralNet(3, 4, channels=(2, 3, 4), dense=8, rngs=nnx.Rngs(3))
    ref = net(x)
    for g in range(8):
        np.testing.assert_allclose(net(transform_image(x, g)), ref, atol=1e-5)
    # and is not trivially so: other inputs give other outputs
    assert float(jnp.abs(net(x[::-1]) - ref).max()) > 1e-3


@pytest.mark.parametrize("side", [8, 7])
def test_max_pool_2x2_is_flax_max_pool(side):
    # the reshape form gives the same numbers as reduce_window, odd sides included
    x = jax.random.normal(jax.random.key(side), (2, side, side, 5))
    expected = nnx.max_pool(x, (2, 2), strides=(2, 2))
    np.testing.assert_array_equal(cnn.max_pool_2x2(x), expected)
    # and its gradient reaches the maximum of each window (no ties in random data)
    grad = jax.grad(lambda x: cnn.max_pool_2x2(x).sum())(x)
    ref = jax.grad(lambda x: nnx.max_pool(x, (2, 2), strides=(2, 2)).sum())(x)
    np.testing.assert_array_equal(grad, ref)


def test_group_batch_norm_is_batch_norm_over_orientations():
    # GroupBatchNorm on (n, h, w, 8c) = nnx.BatchNorm on the (n, h, w, 8, c) view
    c = 3
    x = 2.0 + 3.0 * jax.random.normal(jax.random.key(0), (4, 5, 5, 8 * c))
    ours, flax_bn = GroupBatchNorm(c), nnx.BatchNorm(c, momentum=0.9, rngs=nnx.Rngs(0))
    for m in (ours, flax_bn):
        m.scale[...] = jnp.arange(1.0, c + 1)
        m.bias[...] = jnp.arange(c) - 1.0

    def theirs(x, train):
        return flax_bn(x.reshape(4, 5, 5, 8, c), use_running_average=not train).reshape(x.shape)

    close = {"rtol": 1e-5, "atol": 1e-5}  # float32 rounding of the variance
    for step in range(3):  # training steps update the running statistics alike
        np.testing.assert_allclose(ours(x + step, False), theirs(x + step, True), **close)
        np.testing.assert_allclose(ours(x + step, True), theirs(x + step, False), **close)
        np.testing.assert_allclose(ours.mean[...], flax_bn.mean[...], rtol=1e-6)
        np.testing.assert_allclose(ours.var[...], flax_bn.var[...], rtol=1e-5)
    # inference uses the running statistics, which differ from this batch's
    assert float(jnp.abs(ours(x, False) - ours(x, True)).max()) > 1e-2


def test_symmetry_choice(tmp_path):
    X, y = _blobs(60)
    dihedral, plain = GalaxyCNN(**SMALL), GalaxyCNN(**SMALL, symmetry=None)
    assert dihedral.min_input_size == 2 and plain.min_input_size == 4
    assert GalaxyCNN().min_input_size == 8 and GalaxyCNN(symmetry=None).min_input_size == 16
    m = GalaxyCNN(**{**SMALL, "epochs": 2}, symmetry=None).fit(X, y)
    assert m.predict_proba(X).shape == (60, 3)
    # a file written before the symmetry parameter existed holds a plain network
    path = m.save(tmp_path / "plain")
    with np.load(path) as z:
        arrays = dict(z)
    header = json.loads(str(arrays["__header__"]))
    del header["meta"]["params"]["symmetry"]
    arrays["__header__"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    old = GalaxyCNN.load(path)
    assert old.symmetry is None
    np.testing.assert_array_equal(old.predict_proba(X), m.predict_proba(X))
    for bad in ({"symmetry": "cyclic"}, {"channels": ()}, {"channels": (8, 0)}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            GalaxyCNN(**bad).fit(X, y)


def test_multiclass_fit_predict(blob_model, capsys):
    Xt, yt = _blobs(60, seed=1)
    m = blob_model
    assert list(m.classes_) == ["large", "ring", "small"]
    assert len(m.models_) == 2 and len(m.history_) == 2
    p = m.predict_proba(Xt)
    assert p.shape == (60, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert m.score(Xt, yt) >= 0.9
    assert set(m.predict(Xt)) <= set(m.classes_)
    assert m.history_[0].loss[-1] < m.history_[0].loss[0]


def test_progress_and_reproducible(capsys):
    X, y = _blobs(60)
    a = GalaxyCNN(**{**SMALL, "epochs": 2}, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch    1/2" in out and "loss" in out and "acc" in out
    b = GalaxyCNN(**{**SMALL, "epochs": 2}).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_weight_average_and_mixup():
    X, y = _blobs(90)
    Xt, yt = _blobs(60, seed=1)
    params = {**SMALL, "epochs": 10, "augment": {"rotate": "90"}}
    plain = GalaxyCNN(**params).fit(X, y)
    # an average that forgets at once is the final weights themselves
    instant = GalaxyCNN(**params, ema=1e-7).fit(X, y)
    np.testing.assert_allclose(instant.predict_proba(Xt), plain.predict_proba(Xt), atol=1e-5)
    averaged = GalaxyCNN(**params, ema=0.9).fit(X, y)
    assert np.abs(averaged.predict_proba(Xt) - plain.predict_proba(Xt)).max() > 1e-4
    assert averaged.score(Xt, yt) >= 0.9
    # mixed targets keep the training loss above that of pure labels, and it still learns
    mixed = GalaxyCNN(**params, mixup=0.4).fit(X, y)
    assert mixed.history_[0].loss[-1] > plain.history_[0].loss[-1] + 0.05
    assert mixed.score(Xt, yt) >= 0.9
    # vote fractions are mixed too
    fractions = np.stack([np.searchsorted(["large", "ring", "small"], y) / 2.0] * 2, 1)
    reg = GalaxyCNN(**{**params, "epochs": 2}, mixup=0.4, ema=0.9).fit(X, fractions)
    assert np.isfinite(reg.predict(Xt)).all()


def test_vote_fraction_regression():
    # 37 vote fractions that depend on the image: the size of the blob
    rng = np.random.default_rng(0)
    X, labels = _blobs(300)
    base = rng.uniform(0.1, 0.9, (3, 37))
    k = np.searchsorted(["large", "ring", "small"], labels)
    Y = np.clip(base[k] + rng.normal(0, 0.03, (300, 37)), 0, 1).astype(np.float32)
    params = {**SMALL, "epochs": 30, "learning_rate": 1e-2}
    m = GalaxyCNN(**params, validation_fraction=0.2, patience=30).fit(X[:240], Y[:240])
    pred = m.predict(X[240:])
    assert pred.shape == (60, 37) and (0 <= pred).all() and (pred <= 1).all()
    rmse = galaxy_zoo_rmse(Y[240:], pred)
    baseline = galaxy_zoo_rmse(Y[240:], np.broadcast_to(Y[:240].mean(0), pred.shape))
    assert rmse < 0.5 * baseline
    assert m.score(X[240:], Y[240:]) == pytest.approx(-rmse)
    with pytest.raises(ValueError, match="predict_proba"):
        m.predict_proba(X[:2])
    assert len(m.history_[0].val_loss) == len(m.history_[0].epoch)


def test_save_load_exact(blob_model, tmp_path):
    X, y = _blobs(60)
    m = blob_model
    path = m.save(tmp_path / "cnn")
    loaded = GalaxyCNN.load(path)
    assert loaded.get_params() == m.get_params()
    for a, b in zip(m.models_, loaded.models_, strict=True):
        la, lb = jax.tree.leaves(nnx.state(a)), jax.tree.leaves(nnx.state(b))
        assert all(np.array_equal(u, v) for u, v in zip(la, lb, strict=True))
    np.testing.assert_array_equal(loaded.predict_proba(X), m.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), m.predict(X))


def test_ctrl_c_keeps_best_weights(monkeypatch):
    # generic loop: interrupt in epoch 4, best state is the one of the lowest loss
    losses = iter([3.0, 1.0, 2.0])

    def step(state, batch):
        try:
            return state + 1, next(losses), 0.0
        except StopIteration:
            raise KeyboardInterrupt from None

    with pytest.warns(UserWarning, match="interrupted"):
        best, hist = train_loop(0, step, lambda e: [np.zeros(1)], 10)
    assert hist.interrupted and best == 2 and hist.best_epoch == 2 and len(hist.epoch) == 3

    # the estimator: Ctrl-C during epoch 3 leaves a usable model with epoch-2 weights
    real = cnn.minibatches
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cnn, "minibatches", interrupting)
    X, y = _blobs(60)
    with pytest.warns(UserWarning, match="interrupted"):
        m = GalaxyCNN(**SMALL, tta=False).fit(X, y)
    assert m.history_[0].interrupted and len(m.history_[0].epoch) == 2
    assert m.predict_proba(X).shape == (60, 3)


def test_bad_input(blob_model):
    X, y = _blobs(40)
    with pytest.raises(ValueError, match="shape"):
        GalaxyCNN().fit(X[0, :, :, 0], y)
    with pytest.raises(ValueError, match="square"):
        GalaxyCNN().fit(X[:, :, :10], y)
    bad = X.copy()
    bad[23, 3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="image 23"):
        GalaxyCNN().fit(bad, y)
    with pytest.raises(ValueError, match="40 images but 39 labels"):
        GalaxyCNN().fit(X, y[:39])
    with pytest.raises(ValueError, match="trained on"):
        blob_model.predict(X[:, :12, :12])
    with pytest.raises(ValueError, match="not fitted"):
        GalaxyCNN().predict(X)


@pytest.fixture(scope="module")
def gz2(shared_data, tmp_path_factory):
    cache = tmp_path_factory.mktemp("gz2") / f"gz2_{CI_IMAGE}_{CI_CROP}.npz"
    return load_image_folder(shared_data / "gz2_spirals", size=CI_IMAGE, crop=CI_CROP, cache=cache)


def test_gz2_spirals_ci_accuracy(gz2):
    X, y, names = gz2
    perm = np.random.default_rng(42).permutation(len(X))
    test, train = perm[:280], perm[280:]  # galaxies never seen in training
    t0 = time.perf_counter()
    m = GalaxyCNN(**CI_CONFIG).fit(X[train], y[train])
    seconds = time.perf_counter() - t0
    acc = m.score(X[test], y[test])
    print(
        f"gz2 CI config: accuracy {acc:.4f}, fit {seconds:.1f}s, "
        f"compile {m.compile_seconds_:.1f}s, {m.images_per_second_:.0f} images/s"
    )
    assert acc >= 0.78
    # probabilities are informative: the confident half is more accurate
    p = m.predict_proba(X[test])[:, 1]
    conf = np.abs(p - 0.5) > np.median(np.abs(p - 0.5))
    assert np.mean((p[conf] > 0.5) == y[test][conf]) > acc
