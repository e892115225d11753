"""Photometric redshifts with a dense neural network (Flax NNX + optax).

:class:`DensePhotoZRegressor` is a scikit-learn regressor (``fit / predict / score``,
``get_params`` / ``set_params``, works in pipelines and ``cross_val_score``).  Like
:class:`astrograph.ml.photoz.PhotoZRegressor` it takes ``X`` = (N, 5) ugriz
magnitudes, or (N, 10) with the five magnitude errors as extra columns, and builds
its input features with :func:`astrograph.ml.features.colour_features` (by default
the magnitudes and the four adjacent colours).  It standardises inputs and target,
trains with mini-batches and an MSE, MAE or Huber loss, stops early on a
validation split and keeps the best weights.  With ``n_components > 0`` the output
is a Gaussian mixture density network: each galaxy gets a redshift PDF
(:meth:`DensePhotoZRegressor.predict_pdf`).

Quality metrics are those of :func:`astrograph.ml.metrics.photoz_metrics`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.base import BaseEstimator, RegressorMixin

from ...errors import InputError
from ..features import estimator_features, feature_names, uses_errors
from ..metrics import photoz_metrics
from ..validation import as_float_array, check_fitted, check_redshifts, check_z_grid
from .training import History, load_pytree, minibatches, save_pytree, train_loop

__all__ = ["DensePhotoZRegressor", "DenseNet"]

_ACT = {"relu": nnx.relu, "tanh": nnx.tanh, "gelu": nnx.gelu, "silu": nnx.silu}


class DenseNet(nnx.Module):
    """Fully connected network: hidden layers with a non-linearity, linear output."""

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        n_out: int,
        activation: str = "gelu",
        *,
        rngs: nnx.Rngs,
    ):
        sizes = [n_in, *hidden]
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        )
        self.out = nnx.Linear(sizes[-1], n_out, rngs=rngs)
        self.activation = activation

    def __call__(self, x: jax.Array) -> jax.Array:
        f = _ACT[self.activation]
        for layer in self.layers:
            x = f(layer(x))
        return self.out(x)


def _mdn_split(out: jax.Array, k: int):
    """Network outputs -> mixture log-weights, means and standard deviations."""
    logw = jax.nn.log_softmax(out[:, :k], axis=-1)
    mu = out[:, k : 2 * k]
    # floor ~ 0.001 in redshift: narrower components only overfit the noise
    sigma = jax.nn.softplus(out[:, 2 * k :]) + 0.02
    return logw, mu, sigma


class DensePhotoZRegressor(RegressorMixin, BaseEstimator):
    """Dense neural-network photo-z regressor.

    Parameters
    ----------
    hidden : tuple of int
        Widths of the hidden layers.
    activation : {"gelu", "relu", "tanh", "silu"}
    loss : {"mse", "mae", "huber"}
        Point-estimate loss on the standardised redshift (ignored for the MDN, which
        minimises the negative log-likelihood).
    huber_delta : float
        Huber transition, in units of the standardised redshift.
    n_components : int
        0: point estimates.  > 0: a mixture density network with that many Gaussians.
    learning_rate : float
        Peak AdamW learning rate (cosine decay over ``max_epochs``).
    weight_decay : float
    batch_size : int
    max_epochs : int
    validation_fraction : float
        Held out for early stopping; the weights of the best validation epoch are kept.
    patience : int
        Epochs without validation improvement before stopping.
    random_state : int
    verbose : int
        Print a progress line every ``verbose`` epochs.
    colours : {"adjacent", "all"}
        Colours among the input features: u-g, g-r, r-i, i-z, or all ten distinct ones.
    use_errors : bool or "auto"
        Use the magnitude errors as features; then ``X`` must have 10 columns
        (ugriz, then their errors). ``False``: error columns are ignored; ``"auto"``:
        use them when ``X`` has them.
    n_ensemble : int
        Networks trained with different seeds (initial weights, validation split,
        batches): point estimates are their mean, mixtures their equal-weight
        union. Averaging 5 mixture networks gained 4-5 % in sigma_NMAD over one
        on a held-out tuning set (benchmarks/ml.md).

    Attributes
    ----------
    history_ : History
        Learning curves (``loss``, ``val_loss``, ``metric`` = MAE in redshift) of
        the first network; ``histories_`` holds those of every network.
    models_ : list
        The trained networks.
    n_features_in_ : int
        Columns of ``X`` seen in ``fit`` (5, or 10 with errors).
    feature_names_ : list of str
        The network's input features built from ``X``.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (128, 128, 128),
        activation: str = "gelu",
        loss: str = "huber",
        huber_delta: float = 0.5,
        n_components: int = 0,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 300,
        validation_fraction: float = 0.15,
        patience: int = 40,
        random_state: int = 0,
        verbose: int = 0,
        colours: str = "adjacent",
        use_errors: bool = False,
        n_ensemble: int = 1,
    ):
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.huber_delta = huber_delta
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.colours = colours
        self.use_errors = use_errors
        self.n_ensemble = n_ensemble

    # ------------------------------------------------------------------ helpers
    def _seed(self, member: int) -> int:
        return self.random_state + 1000 * member

    def _build(self, member: int = 0) -> DenseNet:
        n_out = 1 if self.n_components == 0 else 3 * self.n_components
        return DenseNet(
            len(self.x_mean_),
            tuple(self.hidden),
            n_out,
            self.activation,
            rngs=nnx.Rngs(self._seed(member)),
        )

    def _loss_fn(self, out: jax.Array, y: jax.Array) -> jax.Array:
        if self.n_components:
            logw, mu, sigma = _mdn_split(out, self.n_components)
            logp = logw - 0.5 * ((y[:, None] - mu) / sigma) ** 2 - jnp.log(sigma)
            return -jnp.mean(jax.nn.logsumexp(logp, axis=-1)) + 0.5 * jnp.log(2 * jnp.pi)
        r = out[:, 0] - y
        if self.loss == "mse":
            return jnp.mean(r**2)
        if self.loss == "mae":
            return jnp.mean(jnp.abs(r))
        return jnp.mean(optax.huber_loss(r, delta=self.huber_delta))

    def _point(self, out: jax.Array) -> jax.Array:
        """Standardised point estimate: the output, or the mixture mean."""
        if not self.n_components:
            return out[:, 0]
        logw, mu, _ = _mdn_split(out, self.n_components)
        return jnp.sum(jnp.exp(logw) * mu, axis=-1)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> DensePhotoZRegressor:
        """Train on ``X`` (n, 5) ugriz magnitudes [+ (n, 5) errors] and spectroscopic
        redshifts ``y`` (n,)."""
        if self.loss not in ("mse", "mae", "huber"):
            raise InputError(f"loss must be 'mse', 'mae' or 'huber', got {self.loss!r}")
        if self.activation not in _ACT:
            raise InputError(f"activation must be one of {sorted(_ACT)}, got {self.activation!r}")
        n = self.n_ensemble
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise InputError(f"n_ensemble must be an integer >= 1, got {n!r}")
        X, n_features = estimator_features(X, self.use_errors, self.colours)
        y = check_redshifts(np.ravel(as_float_array(y, "y")), len(X), "y")
        self.n_features_in_ = n_features
        self.feature_names_ = feature_names(
            errors=uses_errors(self.use_errors, n_features), colours=self.colours
        )
        self.x_mean_, self.x_std_ = X.mean(0), X.std(0) + 1e-12
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() + 1e-12)
        Xs = ((X - self.x_mean_) / self.x_std_).astype(np.float32)
        ys = ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        fits = [self._fit_one(Xs, ys, member) for member in range(self.n_ensemble)]
        self.models_ = [m for m, _ in fits]
        self.histories_ = [h for _, h in fits]
        self.history_ = self.histories_[0]
        return self

    def _fit_one(self, Xs: np.ndarray, ys: np.ndarray, member: int) -> tuple[DenseNet, History]:
        """One network trained on the standardised features and redshifts."""
        rng = np.random.default_rng(self._seed(member))
        perm = rng.permutation(len(Xs))
        n_val = int(round(self.validation_fraction * len(Xs)))
        val, tr = perm[:n_val], perm[n_val:]
        if len(tr) < self.batch_size:
            raise InputError(f"only {len(tr)} training samples, fewer than batch_size")

        model = self._build(member)
        graphdef, params = nnx.split(model, nnx.Param)
        steps = (len(tr) // self.batch_size) * self.max_epochs
        schedule = optax.cosine_decay_schedule(self.learning_rate, steps, alpha=0.01)
        tx = optax.adamw(schedule, weight_decay=self.weight_decay)
        y_std = self.y_std_

        def loss_and_mae(params, xb, yb):
            out = nnx.merge(graphdef, params)(xb)
            mae = jnp.mean(jnp.abs(self._point(out) - yb)) * y_std
            return self._loss_fn(out, yb), mae

        @jax.jit
        def step(state, batch):
            params, opt_state = state
            (loss, mae), grads = jax.value_and_grad(loss_and_mae, has_aux=True)(params, *batch)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss, mae

        def batches(epoch):
            for idx in minibatches(len(tr), self.batch_size, rng):
                yield Xs[tr[idx]], ys[tr[idx]]

        evaluate = None
        if n_val:
            xv, yv = jnp.asarray(Xs[val]), jnp.asarray(ys[val])
            eval_jit = jax.jit(loss_and_mae)

            def evaluate(state):
                loss, mae = eval_jit(state[0], xv, yv)
                return float(loss), float(mae)

        best, history = train_loop(
            (params, tx.init(params)),
            step,
            batches,
            self.max_epochs,
            evaluate=evaluate,
            patience=self.patience if n_val else None,
            metric_name="mae",
            verbose=self.verbose,
            select=lambda s: s[0],
            keep="best" if n_val else "last",
        )
        nnx.update(model, best)
        return model, history

    # ------------------------------------------------------------------ predict
    def _raw(self, X: Any) -> list[jax.Array]:
        """The raw outputs of every network."""
        check_fitted(self, "models_")
        X = estimator_features(X, self.use_errors, self.colours, self.n_features_in_)[0]
        xs = jnp.asarray(((X - self.x_mean_) / self.x_std_).astype(np.float32))
        return [m(xs) for m in self.models_]

    def predict(self, X: Any) -> np.ndarray:
        """Point redshifts (the mixture mean for a mixture density network), averaged
        over the networks."""
        points = [np.asarray(self._point(out), dtype=np.float64) for out in self._raw(X)]
        return np.mean(points, axis=0) * self.y_std_ + self.y_mean_

    def predict_mixture(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mixture weights, means and standard deviations in redshift, each (n, K x
        n_ensemble): the networks' mixtures with equal weight."""
        if not self.n_components:
            raise InputError("predict_mixture needs n_components > 0 (a mixture density network)")
        parts = [_mdn_split(out, self.n_components) for out in self._raw(X)]
        w = np.concatenate([np.exp(np.asarray(p[0], np.float64)) for p in parts], axis=1)
        mu = np.concatenate([np.asarray(p[1], np.float64) for p in parts], axis=1)
        sigma = np.concatenate([np.asarray(p[2], np.float64) for p in parts], axis=1)
        return w / len(parts), mu * self.y_std_ + self.y_mean_, sigma * self.y_std_

    def predict_pdf(self, X: Any, z_grid: Any) -> np.ndarray:
        """Redshift PDF of each galaxy on ``z_grid``, shape (n, len(z_grid)), unit integral
        over the real line (not renormalised to the grid)."""
        w, mu, sigma = self.predict_mixture(X)
        z = check_z_grid(z_grid)[None, :, None]
        g = np.exp(-0.5 * ((z - mu[:, None]) / sigma[:, None]) ** 2) / (
            np.sqrt(2 * np.pi) * sigma[:, None]
        )
        return np.sum(w[:, None] * g, axis=-1)

    def photoz_metrics(self, X: Any, z_spec: Any) -> dict[str, float]:
        """:func:`astrograph.ml.metrics.photoz_metrics` of the predictions."""
        return photoz_metrics(self.predict(X), z_spec)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Save hyper-parameters, scalers and weights to one ``.npz`` (restored exactly)."""
        check_fitted(self, "models_")
        params = self.get_params()
        params["hidden"] = list(params["hidden"])
        meta = {
            "params": params,
            "n_features_in": self.n_features_in_,
            "x_mean": self.x_mean_.tolist(),
            "x_std": self.x_std_.tolist(),
            "y_mean": self.y_mean_,
            "y_std": self.y_std_,
        }
        return save_pytree(path, [nnx.state(m) for m in self.models_], meta)

    @classmethod
    def load(cls, path: str | Path) -> DensePhotoZRegressor:
        """Restore a regressor written by :meth:`save`."""
        _, meta = load_pytree(path)
        params = dict(meta["params"])
        params["hidden"] = tuple(params["hidden"])
        single = "n_ensemble" not in params  # written before ensembles: one state
        params.setdefault("n_ensemble", 1)
        est = cls(**params)
        est.n_features_in_ = meta["n_features_in"]
        est.feature_names_ = feature_names(
            errors=uses_errors(est.use_errors, est.n_features_in_), colours=est.colours
        )
        est.x_mean_ = np.asarray(meta["x_mean"])
        est.x_std_ = np.asarray(meta["x_std"])
        est.y_mean_, est.y_std_ = meta["y_mean"], meta["y_std"]
        models = [est._build(m) for m in range(est.n_ensemble)]
        like = nnx.state(models[0]) if single else [nnx.state(m) for m in models]
        states, _ = load_pytree(path, like=like)
        states = [states] if single else states
        for model, state in zip(models, states, strict=True):
            nnx.update(model, state)
        est.models_ = models
        est.history_ = History()
        est.histories_ = [est.history_]
        return est
