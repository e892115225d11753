"""The from-scratch network: hand-written backprop against jax.grad, gradient descent, plots."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import matplotlib

matplotlib.use("Agg")

import jax.numpy as jnp
import numpy as np
import pytest

from astrograph.ml.nn.ann import ACTIVATIONS, SigmoidMLP, plot_activations, sigmoid, softmax


def _circle(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    y = (np.hypot(X[:, 0], X[:, 1]) < 1.2).astype(float)
    return X, y


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_backprop_matches_jax_grad(cost, activation):
    X, y = _circle()
    Y = np.stack([y, 1 - y], axis=1)  # two outputs exercise the matrix shapes
    net = SigmoidMLP((2, 7, 5, 2), activation=activation, cost=cost, random_state=3)
    params = net.init_params()
    Xc, Yc = net._columns(X, Y)
    hand = net.backprop(params, Xc, Yc)
    auto = net.jax_gradients(params, Xc, Yc)
    diff = max(
        float(jnp.max(jnp.abs(a - b)))
        for h, g in zip(hand, auto, strict=True)
        for a, b in zip(h, g, strict=True)
    )
    assert diff < 1e-6
    # and the gradients are not trivially zero
    assert max(float(jnp.max(jnp.abs(g))) for layer in auto for g in layer) > 1e-3


def test_gradient_descent_learns_a_circle():
    X, y = _circle(400)
    net = SigmoidMLP((2, 10, 1), cost="cross_entropy", learning_rate=2.0, n_epochs=1500)
    net.fit(X, y)
    hist = net.cost_history_
    assert hist[-1] < 0.5 * hist[0]
    assert np.all(np.diff(hist[:50]) < 1e-3)  # full-batch GD with a modest step decreases
    Xt, yt = _circle(400, seed=1)
    assert net.score(Xt, yt) > 0.93
    assert net.predict_proba(Xt).shape == (400, 1)


def test_minibatch_gd_reproducible():
    X, y = _circle(200)
    a = SigmoidMLP((2, 6, 1), n_epochs=30, batch_size=32, random_state=5).fit(X, y)
    b = SigmoidMLP((2, 6, 1), n_epochs=30, batch_size=32, random_state=5).fit(X, y)
    np.testing.assert_array_equal(np.asarray(a.params_[0][0]), np.asarray(b.params_[0][0]))


def test_activations_values():
    z = jnp.array([-2.0, -0.25, 0.0, 0.25, 2.0])
    np.testing.assert_allclose(ACTIVATIONS["step"](z), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(ACTIVATIONS["piecewise_linear"](z), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(ACTIVATIONS["relu"](z), [0, 0, 0, 0.25, 2])
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-np.asarray(z))), rtol=1e-6)
    s = softmax(jnp.array([[1.0, 2.0], [3.0, 0.0]]), axis=0)
    np.testing.assert_allclose(s.sum(axis=0), [1, 1], rtol=1e-6)
    # softmax of (z, 0) is the sigmoid of z
    np.testing.assert_allclose(softmax(jnp.stack([z, 0 * z]))[0], sigmoid(z), rtol=1e-6)


def test_plot_activations():
    fig = plot_activations()
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == list(ACTIVATIONS)
    assert all(ax.lines for ax in fig.axes if ax.get_visible())


def test_bad_input():
    net = SigmoidMLP((2, 3, 1))
    with pytest.raises(ValueError, match="shape"):
        net.fit(np.zeros((5, 3)), np.zeros(5))
    X = np.zeros((5, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="row 3"):
        net.fit(X, np.zeros(5))
    with pytest.raises(ValueError, match="5 samples"):
        net.fit(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="activation"):
        SigmoidMLP((2, 1), activation="softplus")
