"""A multilayer neural network written from scratch, for teaching.

Every layer computes ``h = f(W x + b)`` with explicit matrix products (samples are
the *columns* of ``X``, as on the lecture slides).  The cost, backpropagation and
plain gradient descent are written by hand; :meth:`SigmoidMLP.jax_gradients` gives
the same gradients with ``jax.grad`` so the hand-written version can be checked.

Also here: the activation functions of the lecture (step, linear, piecewise
linear, sigmoid, tanh, ReLU, softmax), their derivatives, and a plot of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InputError
from ..validation import as_float_array, check_fitted

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "step",
    "linear",
    "piecewise_linear",
    "sigmoid",
    "tanh",
    "relu",
    "softmax",
    "plot_activations",
    "SigmoidMLP",
]


# --------------------------------------------------------------------------- activations
def step(z):
    """Heaviside step: 1 for z > 0, else 0 (the perceptron; zero gradient almost everywhere)."""
    return jnp.where(z > 0, 1.0, 0.0)


def linear(z):
    """Identity: a network of linear layers is itself linear."""
    return z


def piecewise_linear(z):
    """0 below -1/2, 1 above +1/2, linear in between."""
    return jnp.clip(z + 0.5, 0.0, 1.0)


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z))."""
    return 1.0 / (1.0 + jnp.exp(-z))


def tanh(z):
    """Hyperbolic tangent, a rescaled sigmoid with range (-1, 1)."""
    return jnp.tanh(z)


def relu(z):
    """Rectified linear unit max(0, z)."""
    return jnp.maximum(z, 0.0)


def softmax(z, axis: int = 0):
    """exp(z_k) / sum_j exp(z_j) along ``axis`` (the class axis; rows for column samples)."""
    e = jnp.exp(z - jnp.max(z, axis=axis, keepdims=True))
    return e / jnp.sum(e, axis=axis, keepdims=True)


ACTIVATIONS: dict[str, Callable] = {
    "step": step,
    "linear": linear,
    "piecewise_linear": piecewise_linear,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "softmax": softmax,
}

# f'(z) written out by hand, used by the hand-written backpropagation
DERIVATIVES: dict[str, Callable] = {
    "linear": lambda z: jnp.ones_like(z),
    "sigmoid": lambda z: sigmoid(z) * (1.0 - sigmoid(z)),
    "tanh": lambda z: 1.0 - jnp.tanh(z) ** 2,
    "relu": lambda z: jnp.where(z > 0, 1.0, 0.0),
}


def plot_activations(names: Sequence[str] | None = None, z: Any = None, axes: Any = None):
    """Plot activation functions (and their derivatives where defined).

    Parameters
    ----------
    names : sequence of str, optional
        Keys of :data:`ACTIVATIONS` (default: all).
    z : array, optional
        Abscissa (default: -4 ... 4).
    axes : array of matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt  # lazy: only this plot needs pyplot, not the network

    names = list(names or ACTIVATIONS)
    z = np.linspace(-4, 4, 401) if z is None else np.asarray(z, float)
    if axes is None:
        ncol = min(4, len(names))
        nrow = -(-len(names) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
    else:
        fig = np.ravel(axes)[0].figure
    flat = np.ravel(axes)
    for ax, name in zip(flat, names, strict=False):
        if name == "softmax":
            # softmax of the vector (z, 0, -1): each component as z varies
            zz = np.stack([z, np.zeros_like(z), -np.ones_like(z)])
            s = np.asarray(softmax(jnp.asarray(zz), axis=0))
            for k, lab in enumerate(["$z_1=z$", "$z_2=0$", "$z_3=-1$"]):
                ax.plot(z, s[k], label=lab)
            ax.legend(fontsize=7)
        else:
            ax.plot(z, np.asarray(ACTIVATIONS[name](jnp.asarray(z))), label="f(z)")
            if name in DERIVATIVES:
                ax.plot(z, np.asarray(DERIVATIVES[name](jnp.asarray(z))), "--", label="f'(z)")
                ax.legend(fontsize=7)
        ax.set_title(name)
        ax.set_xlabel("z")
        ax.axhline(0, color="0.8", lw=0.5)
        ax.axvline(0, color="0.8", lw=0.5)
    for ax in flat[len(names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the network
Params = list[tuple[jax.Array, jax.Array]]


class SigmoidMLP:
    """Multilayer perceptron with explicit matrices, hand-written backprop and gradient descent.

    Parameters
    ----------
    layer_sizes : sequence of int
        Neurons per layer including input and output, e.g. ``(2, 8, 1)``.
    activation : {"sigmoid", "tanh", "relu", "linear"}
        Hidden-layer activation; the output layer is always a sigmoid.
    cost : {"quadratic", "cross_entropy"}
        Quadratic cost ``C = 1/(2n) sum ||a - y||^2`` or the binary cross-entropy.
    learning_rate : float
        Gradient-descent step size.
    n_epochs : int
        Passes over the training set.
    batch_size : int, optional
        Mini-batch size (``None``: full-batch gradient descent).
    random_state : int
        Seed of the weight initialisation (normal, std 1/sqrt(fan_in)) and shuffling.

    Attributes
    ----------
    params_ : list of (W, b)
        ``W`` has shape (n_out, n_in) and ``b`` shape (n_out,).
    cost_history_ : list of float
        Training cost after each epoch.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (2, 8, 1),
        activation: str = "sigmoid",
        cost: str = "quadratic",
        learning_rate: float = 1.0,
        n_epochs: int = 1000,
        batch_size: int | None = None,
        random_state: int = 0,
    ):
        if len(layer_sizes) < 2:
            raise InputError("layer_sizes needs at least an input and an output size")
        if activation not in DERIVATIVES:
            raise InputError(f"activation must be one of {sorted(DERIVATIVES)}, got {activation!r}")
        if cost not in ("quadratic", "cross_entropy"):
            raise InputError(f"cost must be 'quadratic' or 'cross_entropy', got {cost!r}")
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.cost = cost
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.random_state = random_state

    # -- building blocks ---------------------------------------------------------------
    def init_params(self, seed: int | None = None) -> Params:
        """Random weights ``W ~ N(0, 1/n_in)`` and zero biases."""
        rng = np.random.default_rng(self.random_state if seed is None else seed)
        params = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True):
            w = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in))
            params.append((jnp.asarray(w, jnp.float32), jnp.zeros(n_out, jnp.float32)))
        return params

    def forward(self, params: Params, X: jax.Array) -> tuple[list, list]:
        """Forward pass on column samples ``X`` (n_features, n_samples).

        Returns the pre-activations ``z_l = W_l a_{l-1} + b_l`` and activations
        ``a_l = f(z_l)`` of every layer (``a_0 = X``).
        """
        f = ACTIVATIONS[self.activation]
        a, zs, activations = X, [], [X]
        for layer, (W, b) in enumerate(params):
            z = W @ a + b[:, None]
            a = sigmoid(z) if layer == len(params) - 1 else f(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def cost_value(self, params: Params, X: jax.Array, Y: jax.Array) -> jax.Array:
        """Mean cost over the samples (columns) of ``X`` with targets ``Y`` (n_out, n_samples)."""
        a = self.forward(params, X)[1][-1]
        n = X.shape[1]
        if self.cost == "quadratic":
            return 0.5 * jnp.sum((a - Y) ** 2) / n
        eps = 1e-12
        return -jnp.sum(Y * jnp.log(a + eps) + (1 - Y) * jnp.log(1 - a + eps)) / n

    def backprop(self, params: Params, X: jax.Array, Y: jax.Array) -> Params:
        """Gradients of :meth:`cost_value` by hand-written backpropagation.

        Output error: ``delta_L = (a_L - y) * sigma'(z_L)`` for the quadratic cost and
        ``delta_L = a_L - y`` for cross-entropy (the sigma' cancels).  Backwards:
        ``delta_l = (W_{l+1}^T delta_{l+1}) * f'(z_l)``.  Gradients:
        ``dC/dW_l = delta_l a_{l-1}^T / n`` and ``dC/db_l = sum_samples delta_l / n``.
        """
        zs, acts = self.forward(params, X)
        n = X.shape[1]
        fprime = DERIVATIVES[self.activation]
        delta = acts[-1] - Y
        if self.cost == "quadratic":
            delta = delta * DERIVATIVES["sigmoid"](zs[-1])
        grads: Params = [None] * len(params)  # type: ignore[list-item]
        for layer in range(len(params) - 1, -1, -1):
            grads[layer] = (delta @ acts[layer].T / n, jnp.sum(delta, axis=1) / n)
            if layer > 0:
                W = params[layer][0]
                delta = (W.T @ delta) * fprime(zs[layer - 1])
        return grads

    def jax_gradients(self, params: Params, X: jax.Array, Y: jax.Array) -> Params:
        """The same gradients by automatic differentiation (``jax.grad``)."""
        return jax.grad(self.cost_value)(params, X, Y)

    # -- data handling -----------------------------------------------------------------
    def _columns(self, X: Any, y: Any | None = None):
        X = as_float_array(X, "X", np.float32)
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise InputError(f"X must have shape (n_samples, {self.layer_sizes[0]}), got {X.shape}")
        if not np.isfinite(X).all():
            raise InputError(f"X: row {np.flatnonzero(~np.isfinite(X).all(1))[0]} has NaN/inf")
        if y is None:
            return jnp.asarray(X.T)
        Y = as_float_array(y, "y", np.float32)
        if Y.ndim == 1:
            Y = Y[:, None]
        if len(Y) != len(X):
            raise InputError(f"X has {len(X)} samples but y has {len(Y)}")
        if Y.shape[1] != self.layer_sizes[-1]:
            raise InputError(f"y needs {self.layer_sizes[-1]} columns, got {Y.shape[1]}")
        return jnp.asarray(X.T), jnp.asarray(Y.T)

    # -- scikit-learn style ------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> SigmoidMLP:
        """Plain (mini-batch) gradient descent with the hand-written gradients.

        ``X`` has samples in rows (scikit-learn convention); targets ``y`` in [0, 1],
        shape (n,) for one output or (n, n_outputs).
        """
        Xc, Yc = self._columns(X, y)
        params = self.init_params()
        lr = self.learning_rate

        @jax.jit
        def update(params, Xb, Yb):
            grads = self.backprop(params, Xb, Yb)
            return [
                (W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads, strict=True)
            ]

        cost = jax.jit(self.cost_value)
        rng = np.random.default_rng(self.random_state)
        n = Xc.shape[1]
        bs = n if self.batch_size is None else int(self.batch_size)
        self.cost_history_ = []
        for _ in range(self.n_epochs):
            order = rng.permutation(n) if bs < n else np.arange(n)
            for s in range(0, n, bs):
                idx = order[s : s + bs]
                params = update(params, Xc[:, idx], Yc[:, idx])
            self.cost_history_.append(float(cost(params, Xc, Yc)))
        self.params_ = params
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Output-layer activations, shape (n_samples, n_outputs)."""
        check_fitted(self, "params_")
        return np.asarray(self.forward(self.params_, self._columns(X))[1][-1]).T

    def predict(self, X: Any) -> np.ndarray:
        """0/1 for one output, else the index of the largest output."""
        p = self.predict_proba(X)
        return (p[:, 0] > 0.5).astype(int) if p.shape[1] == 1 else p.argmax(axis=1)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = y.argmax(axis=1)
        return float(np.mean(self.predict(X) == y.reshape(-1).astype(int)))
