"""The convolutional network behind :class:`astrograph.ml.morphology.GalaxyCNN`.

* :class:`MorphologyNet` - the architecture (Flax NNX);
* :class:`Task` - what the outputs mean: classes (softmax, cross-entropy) or vote
  fractions (sigmoid, mean squared error);
* :func:`train_network` - one network trained with AdamW, warm-up + cosine decay,
  augmentation (and optionally mixup) inside the jitted step, optionally a moving
  average of the weights, early stopping and Ctrl-C handling
  (:func:`astrograph.ml.nn.training.train_loop`);
* :func:`forward_batches` - inference in batches, optionally averaged over the
  8 dihedral views (test-time augmentation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from ...errors import InputError
from .augment import augment_images, centre_crop, dihedral_views
from .training import History, minibatches, train_loop

__all__ = [
    "MorphologyNet",
    "Task",
    "TrainSettings",
    "forward_batches",
    "max_pool_2x2",
    "train_network",
]


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """2x2 max-pooling with stride 2 of (n, h, w, c), dropping an odd last row/column.

    The same numbers as ``nnx.max_pool(x, (2, 2), strides=(2, 2))``, written as a
    reshape and a max: XLA's CPU gradient of ``reduce_window`` (select-and-scatter)
    took 8 times longer: over a quarter of each training step of the dihedral network.
    Raises :class:`~astrograph.errors.InputError` unless ``x`` is 4-D with sides >= 2.
    """
    if x.ndim != 4 or min(x.shape[1:3]) < 2:
        raise InputError(f"max_pool_2x2 needs (n, h, w, c) with h, w >= 2, got shape {x.shape}")
    n, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class MorphologyNet(nnx.Module):
    """Convolutional network: [conv3x3 - batch norm - ReLU] x k - max-pool per stage,
    global average + max pooling, dropout, a dense ReLU layer, and a linear output.

    ``channels=None`` takes the class's :attr:`default_channels`. Subclasses change
    the convolutions (``_conv``), the normalisation (``_norm``) and the pooled
    features (``_features``); the dense head is shared.
    """

    default_channels: tuple[int, ...] = (16, 32, 64, 128)

    def __init__(
        self,
        in_channels: int,
        n_outputs: int,
        channels: tuple[int, ...] | None = None,
        convs_per_stage: int = 1,
        dense: int = 64,
        dropout: float = 0.3,
        *,
        rngs: nnx.Rngs,
    ):
        self.dropout = float(dropout)
        convs: list[nnx.Module] = []
        norms: list[nnx.Module] = []
        c_in = in_channels
        for c_out in self.default_channels if channels is None else channels:
            for _ in range(convs_per_stage):
                convs.append(self._conv(len(convs), c_in, c_out, rngs))
                norms.append(self._norm(c_out, rngs))
                c_in = c_out
        self.convs = nnx.List(convs)
        self.norms = nnx.List(norms)
        self.per_stage = convs_per_stage
        self.hidden = nnx.Linear(2 * c_in, dense, rngs=rngs)
        self.out = nnx.Linear(dense, n_outputs, rngs=rngs)

    def _conv(self, index: int, c_in: int, c_out: int, rngs: nnx.Rngs) -> nnx.Module:
        return nnx.Conv(c_in, c_out, (3, 3), use_bias=False, rngs=rngs)

    def _norm(self, c_out: int, rngs: nnx.Rngs) -> nnx.Module:
        return nnx.BatchNorm(c_out, momentum=0.9, rngs=rngs)

    def _features(self, x: jax.Array, train: bool) -> jax.Array:
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = nnx.relu(norm(conv(x), use_running_average=not train))
            if (i + 1) % self.per_stage == 0:
                x = max_pool_2x2(x)
        return jnp.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=-1)

    def _drop(self, x, key, train):
        if not train or self.dropout <= 0 or key is None:
            return x
        keep = jax.random.bernoulli(key, 1.0 - self.dropout, x.shape)
        return jnp.where(keep, x / (1.0 - self.dropout), 0.0)

    def __call__(self, x: jax.Array, train: bool = False, key: jax.Array | None = None):
        x = self._features(x, train)
        k1, k2 = jax.random.split(key) if key is not None else (None, None)
        x = self._drop(x, k1, train)
        x = nnx.relu(self.hidden(x))
        x = self._drop(x, k2, train)
        return self.out(x)


@dataclass(frozen=True)
class Task:
    """Meaning of the network outputs: class logits, or vote fractions (``regression``)."""

    regression: bool
    n_outputs: int
    label_smoothing: float = 0.0

    def loss(self, out: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Batch loss and metric: MSE and RMSE of the fractions, or the (label-smoothed)
        cross-entropy and the accuracy."""
        if self.regression:
            pred = jax.nn.sigmoid(out)
            loss = jnp.mean((pred - y) ** 2)
            return loss, jnp.sqrt(jnp.mean((pred - y) ** 2))
        onehot = jax.nn.one_hot(y, self.n_outputs)
        if self.label_smoothing:
            onehot = optax.smooth_labels(onehot, self.label_smoothing)
        loss = optax.softmax_cross_entropy(out, onehot).mean()
        return loss, jnp.mean(jnp.argmax(out, -1) == y)

    def outputs(self, out: jax.Array) -> jax.Array:
        """Vote fractions (sigmoid) or class probabilities (softmax)."""
        return jax.nn.sigmoid(out) if self.regression else jax.nn.softmax(out, -1)


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings of :func:`train_network` (see ``GalaxyCNN`` for their meaning)."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    warmup_epochs: int
    augment: dict | None  # keyword arguments of augment_images, or None
    input_size: int
    tta: bool
    patience: int | None
    verbose: int
    ema: float | None = None  # decay per step of the weight average used for prediction
    mixup: float = 0.0  # Beta(alpha, alpha) parameter of mixup; 0 disables it


@partial(jax.jit, static_argnames=("graphdef", "size", "tta"))
def _forward(graphdef, params, rest, xb, mean, std, size, tta):
    """Network outputs in inference mode; with ``tta`` for the 8 dihedral views, (8, n, k).

    Module-level and keyed on the (hashable) graph definition, so repeated predictions
    and per-epoch validation reuse one compiled function.
    """
    m = nnx.merge(graphdef, params, rest)
    xb = centre_crop((xb - mean) / std, size)
    if not tta:
        return m(xb)
    return jax.vmap(lambda v: m(v))(dihedral_views(xb))


def forward_batches(
    graphdef, params, rest, x, mean, std, size: int, tta: bool, task: Task, raw=False, batch=256
) -> np.ndarray:
    """Network outputs for images ``x`` standardised with ``mean`` / ``std`` and
    centre-cropped to ``size``; with ``raw`` the (TTA-averaged) logits."""
    mean, std = jnp.asarray(mean), jnp.asarray(std)
    res = []
    for s in range(0, len(x), batch):
        xb = jnp.asarray(x[s : s + batch])
        out = _forward(graphdef, params, rest, xb, mean, std, size, tta)
        if tta:
            # average probabilities over the 8 views; return log for raw logits
            probs = task.outputs(out).mean(axis=0)
            out = (
                jnp.log(probs + 1e-12)
                if not task.regression
                else jnp.log(probs / (1 - probs + 1e-12) + 1e-12)
            )
        res.append(np.asarray(out if raw else task.outputs(out)))
    return np.concatenate(res)


def train_network(
    model: MorphologyNet,
    x: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    seed: int,
    mean: np.ndarray,
    std: np.ndarray,
    task: Task,
    settings: TrainSettings,
) -> History:
    """Train ``model`` in place on ``x[train_idx]``; returns the learning curves.

    With validation images (``val_idx``) the weights of the best validation epoch
    are kept, otherwise those of the last epoch. Ctrl-C stops training and keeps them.
    """
    cfg = settings
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    steps_per_epoch = len(train_idx) // cfg.batch_size
    total = max(1, steps_per_epoch * cfg.epochs)
    warmup = min(steps_per_epoch * cfg.warmup_epochs, total // 2)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, cfg.learning_rate, warmup, total, end_value=cfg.learning_rate * 1e-2
    )
    tx = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.adamw(schedule, weight_decay=cfg.weight_decay),
    )
    opt_state = tx.init(params)
    # With ``ema`` the exponential moving average of the weights predicts (Polyak
    # averaging). It is an option, not the default: on Galaxy Zoo 2 the cosine decay
    # already ends at 1 % of the peak rate and the average lost (benchmarks/nn.md).
    averager = optax.ema(cfg.ema, debias=True) if cfg.ema else None
    # (biased average, debiased average): optax.ema returns the debiased one
    avg = (averager.init(params), params) if averager else None
    mean_j, std_j = jnp.asarray(mean), jnp.asarray(std)
    aug = cfg.augment
    size = cfg.input_size
    mixup = float(cfg.mixup)

    def mixed_loss(m, xb, yb, k_drop, k_mix):
        if not mixup:
            return task.loss(m(xb, train=True, key=k_drop), yb)
        # mixup (Zhang et al. 2018): a mixed image has the mixed target
        k_lam, k_perm = jax.random.split(k_mix)
        lam = jax.random.beta(k_lam, mixup, mixup)
        perm = jax.random.permutation(k_perm, xb.shape[0])
        out = m(lam * xb + (1 - lam) * xb[perm], train=True, key=k_drop)
        if task.regression:
            return task.loss(out, lam * yb + (1 - lam) * yb[perm])
        # class labels: the cross-entropy is linear in the target, so the loss is the
        # same mixture of the losses of both labels
        loss_a, metric_a = task.loss(out, yb)
        loss_b, metric_b = task.loss(out, yb[perm])
        return lam * loss_a + (1 - lam) * loss_b, lam * metric_a + (1 - lam) * metric_b

    @jax.jit
    def step(state, batch):
        params, rest, opt_state, avg, key = state
        xb, yb = batch
        key, k_aug, k_drop, k_mix = jax.random.split(key, 4)
        xb = (xb - mean_j) / std_j
        if aug is not None:
            xb = augment_images(k_aug, xb, out_size=size, **aug)
        else:
            xb = centre_crop(xb, size)
        # nnx.value_and_grad lets batch norm update its statistics inside the trace
        m = nnx.merge(graphdef, params, rest)
        (loss, metric), grads = nnx.value_and_grad(
            lambda m: mixed_loss(m, xb, yb, k_drop, k_mix), has_aux=True
        )(m)
        _, params, rest = nnx.split(m, nnx.Param, ...)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if averager is not None:
            debiased, avg_state = averager.update(params, avg[0])
            avg = (avg_state, debiased)
        return (params, rest, opt_state, avg, key), loss, metric

    def predicting(state):
        # the weights that predict: the running average when there is one
        return (state[0] if averager is None else state[3][1]), state[1]

    rng = np.random.default_rng(seed)

    def batches(epoch):
        for idx in minibatches(len(train_idx), cfg.batch_size, rng):
            sel = train_idx[idx]
            yield x[sel], y[sel]

    evaluate = None
    if len(val_idx):
        xv, yv = x[val_idx], y[val_idx]

        def evaluate(state):
            params, rest = predicting(state)
            out = forward_batches(
                graphdef, params, rest, xv, mean, std, size, cfg.tta, task, raw=True
            )
            loss, metric = task.loss(jnp.asarray(out), jnp.asarray(yv))
            return float(loss), float(metric)

    state = (params, rest, opt_state, avg, jax.random.key(seed))
    best, hist = train_loop(
        state,
        step,
        batches,
        cfg.epochs,
        evaluate=evaluate,
        patience=cfg.patience if len(val_idx) else None,
        metric_name="rmse" if task.regression else "acc",
        verbose=cfg.verbose,
        select=predicting,
        keep="best" if len(val_idx) else "last",
    )
    nnx.update(model, best[0], best[1])
    return hist
