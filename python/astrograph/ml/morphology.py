"""Galaxy morphology from images with a convolutional neural network (JAX + Flax NNX + optax).

:class:`GalaxyCNN` is a scikit-learn-style estimator: ``fit(images, labels)``,
``predict``, ``predict_proba``, ``score``, ``save`` / ``load``.  It handles

* binary and multi-class labels (e.g. spirals vs non-spirals, Galaxy10): softmax
  output trained with (optionally label-smoothed) cross-entropy;
* multi-output regression of vote fractions (the 37 Galaxy Zoo decision-tree
  answers): sigmoid outputs trained with the mean squared error, scored with the
  RMSE of the Kaggle Galaxy Zoo challenge (:func:`galaxy_zoo_rmse`).

Images are ``(n, h, w, channels)`` arrays (channels last).  Data augmentation runs
inside the jitted training step (:func:`augment_images`): flips, 90-degree and
arbitrary rotations, zoom, shift and a random crop to ``input_size``.  Galaxy
morphology does not depend on orientation, so predictions can average the 8
rotations/reflections of the square (``tta=True``), and several networks can be
averaged (``n_ensemble``).
"""

from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.base import BaseEstimator

from astrograph.nn.training import History, load_pytree, minibatches, save_pytree, train_loop

__all__ = [
    "GalaxyCNN",
    "MorphologyNet",
    "augment_images",
    "dihedral_views",
    "galaxy_zoo_rmse",
    "check_images",
]


# --------------------------------------------------------------------------- validation
def check_images(images: Any, name: str = "images") -> np.ndarray:
    """Validate an image batch and return it as float32 ``(n, h, w, c)``.

    Raises ``ValueError`` naming the first bad image index (NaN / inf values) or
    describing the wrong shape.
    """
    arr = np.asarray(images)
    if arr.dtype == object:
        raise ValueError(f"{name} must be a numeric array, got dtype=object (ragged image sizes?)")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(
            f"{name} must have shape (n, height, width, channels) or (n, height, width), "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if arr.shape[1] != arr.shape[2]:
        raise ValueError(f"{name} must be square, got {arr.shape[1]}x{arr.shape[2]} pixels")
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr).reshape(len(arr), -1).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise ValueError(
            f"{name}: image {idx[0]} contains NaN or inf values ({len(idx)} bad images in total)"
        )
    return arr


def galaxy_zoo_rmse(y_true: Any, y_pred: Any) -> float:
    """RMSE over all galaxies and answers, the metric of the Kaggle Galaxy Zoo challenge."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: {y_true.shape} vs {y_pred.shape}")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


# --------------------------------------------------------------------------- augmentation
def _bilinear(image: jax.Array, rows: jax.Array, cols: jax.Array) -> jax.Array:
    """Sample ``image`` (h, w, c) at float pixel coordinates; outside -> edge pixels."""
    h, w = image.shape[:2]
    rows = jnp.clip(rows, 0.0, h - 1.0)
    cols = jnp.clip(cols, 0.0, w - 1.0)
    r0 = jnp.clip(jnp.floor(rows), 0, h - 2).astype(jnp.int32)
    c0 = jnp.clip(jnp.floor(cols), 0, w - 2).astype(jnp.int32)
    fr = (rows - r0)[..., None]
    fc = (cols - c0)[..., None]
    flat = image.reshape(h * w, -1)

    def at(r, c):
        return flat[r * w + c]

    top = at(r0, c0) * (1 - fc) + at(r0, c0 + 1) * fc
    bottom = at(r0 + 1, c0) * (1 - fc) + at(r0 + 1, c0 + 1) * fc
    return top * (1 - fr) + bottom * fr


def _affine_one(image, angle, scale, shift, flip, out_size):
    """Rotate by ``angle``, zoom by ``scale``, shift (pixels), mirror, then centre-crop."""
    h = image.shape[0]
    centre_in = (h - 1) / 2.0
    centre_out = (out_size - 1) / 2.0
    grid = jnp.arange(out_size, dtype=jnp.float32) - centre_out
    y, x = jnp.meshgrid(grid, grid, indexing="ij")
    x = jnp.where(flip, -x, x)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    # inverse map: output pixel -> input position
    src_y = (cos * y - sin * x) / scale + centre_in + shift[0]
    src_x = (sin * y + cos * x) / scale + centre_in + shift[1]
    return _bilinear(image, src_y, src_x)


def augment_images(
    key: jax.Array,
    images: jax.Array,
    out_size: int | None = None,
    flip: bool = True,
    rotate: str | None = "any",
    zoom: tuple[float, float] = (1.0, 1.0),
    shift: float = 0.0,
    brightness: float = 0.0,
) -> jax.Array:
    """Random augmentation of a batch, in JAX (jit- and vmap-friendly).

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    images : jax.Array, shape (n, h, h, c)
    out_size : int, optional
        Side of the output: the central ``out_size`` pixels of the transformed image
        (a random crop once combined with ``shift``).  Default: unchanged size.
    flip : bool
        Random mirror image.
    rotate : {"any", "90", None}
        Arbitrary angle, multiples of 90 degrees, or no rotation.
    zoom : (float, float)
        Range of the magnification factor (log-uniform).
    shift : float
        Maximum shift in input pixels, in each direction.
    brightness : float
        Maximum relative change of the overall brightness (multiplicative).

    Returns
    -------
    jax.Array, shape (n, out_size, out_size, c)
    """
    n, h = images.shape[0], images.shape[1]
    out_size = h if out_size is None else int(out_size)
    k_ang, k_zoom, k_shift, k_flip, k_b = jax.random.split(key, 5)
    if rotate == "any":
        angle = jax.random.uniform(k_ang, (n,), maxval=2 * math.pi)
    elif rotate == "90":
        angle = jax.random.randint(k_ang, (n,), 0, 4).astype(jnp.float32) * (math.pi / 2)
    elif rotate is None:
        angle = jnp.zeros((n,))
    else:
        raise ValueError(f"rotate must be 'any', '90' or None, got {rotate!r}")
    lo, hi = math.log(zoom[0]), math.log(zoom[1])
    scale = jnp.exp(jax.random.uniform(k_zoom, (n,), minval=lo, maxval=hi))
    shifts = jax.random.uniform(k_shift, (n, 2), minval=-shift, maxval=shift)
    flips = jax.random.bernoulli(k_flip, 0.5, (n,)) if flip else jnp.zeros((n,), bool)
    out = jax.vmap(_affine_one, in_axes=(0, 0, 0, 0, 0, None))(
        images, angle, scale, shifts, flips, out_size
    )
    if brightness:
        gain = 1.0 + jax.random.uniform(k_b, (n, 1, 1, 1), minval=-brightness, maxval=brightness)
        out = out * gain
    return out


def dihedral_views(images: jax.Array) -> jax.Array:
    """The 8 rotations/reflections of a square image batch: shape (8, n, h, w, c)."""
    views = []
    for flipped in (images, images[:, :, ::-1]):
        for k in range(4):
            views.append(jnp.rot90(flipped, k, axes=(1, 2)))
    return jnp.stack(views)


def _centre_crop(images: jax.Array, size: int) -> jax.Array:
    h = images.shape[1]
    if size == h:
        return images
    start = (h - size) // 2
    return images[:, start : start + size, start : start + size]


# --------------------------------------------------------------------------- network
class MorphologyNet(nnx.Module):
    """Convolutional network: [conv3x3 - batch norm - ReLU] x k - max-pool per stage,
    global average + max pooling, dropout, a dense ReLU layer, and a linear output."""

    def __init__(
        self,
        in_channels: int,
        n_outputs: int,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        convs_per_stage: int = 1,
        dense: int = 64,
        dropout: float = 0.3,
        *,
        rngs: nnx.Rngs,
    ):
        self.dropout = float(dropout)
        convs, norms = [], []
        c_in = in_channels
        for c_out in channels:
            for _ in range(convs_per_stage):
                convs.append(nnx.Conv(c_in, c_out, (3, 3), use_bias=False, rngs=rngs))
                norms.append(nnx.BatchNorm(c_out, momentum=0.9, rngs=rngs))
                c_in = c_out
        self.convs = nnx.List(convs)
        self.norms = nnx.List(norms)
        self.per_stage = convs_per_stage
        self.hidden = nnx.Linear(2 * c_in, dense, rngs=rngs)
        self.out = nnx.Linear(dense, n_outputs, rngs=rngs)

    def _drop(self, x, key, train):
        if not train or self.dropout <= 0 or key is None:
            return x
        keep = jax.random.bernoulli(key, 1.0 - self.dropout, x.shape)
        return jnp.where(keep, x / (1.0 - self.dropout), 0.0)

    def __call__(self, x: jax.Array, train: bool = False, key: jax.Array | None = None):
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = nnx.relu(norm(conv(x), use_running_average=not train))
            if (i + 1) % self.per_stage == 0:
                x = nnx.max_pool(x, (2, 2), strides=(2, 2))
        x = jnp.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=-1)
        k1, k2 = jax.random.split(key) if key is not None else (None, None)
        x = self._drop(x, k1, train)
        x = nnx.relu(self.hidden(x))
        x = self._drop(x, k2, train)
        return self.out(x)


@partial(jax.jit, static_argnames=("graphdef", "size", "tta"))
def _forward(graphdef, params, rest, xb, mean, std, size, tta):
    """Network outputs in inference mode; with ``tta`` for the 8 dihedral views, (8, n, k).

    Module-level and keyed on the (hashable) graph definition, so repeated predictions
    and per-epoch validation reuse one compiled function.
    """
    m = nnx.merge(graphdef, params, rest)
    xb = _centre_crop((xb - mean) / std, size)
    if not tta:
        return m(xb)
    return jax.vmap(lambda v: m(v))(dihedral_views(xb))


# --------------------------------------------------------------------------- estimator
class GalaxyCNN(BaseEstimator):
    """Scikit-learn-style CNN for galaxy images (classification or vote-fraction regression).

    Parameters
    ----------
    input_size : int, optional
        Side of the images fed to the network; training takes a random crop of this
        size after augmentation, prediction the central crop.  Default: image size.
    channels : tuple of int
        Convolution channels of each stage (each stage halves the resolution).
    convs_per_stage : int
        3x3 convolutions per stage.
    dense : int
        Width of the dense hidden layer.
    dropout : float
        Dropout rate before and after the dense layer.
    epochs : int
        Maximum training epochs.
    batch_size : int
    learning_rate : float
        Peak learning rate of the warm-up + cosine-decay schedule.
    weight_decay : float
        AdamW decoupled weight decay (0 gives Adam).
    warmup_epochs : int
    label_smoothing : float
        Cross-entropy label smoothing (robustness to noisy volunteer labels).
    augment : "default", dict or None
        On-the-fly augmentation: keyword arguments of :func:`augment_images`, or
        ``"default"`` (random mirror, any rotation, zoom 0.9-1.1, shift up to 2 px);
        ``None`` disables it.
    tta : bool
        Average predictions over the 8 rotations/reflections (dihedral group).
    n_ensemble : int
        Number of independently seeded networks whose predictions are averaged.
    validation_fraction : float
        Held-out fraction of the training set for early stopping and best-weight
        selection (0: train on everything, keep the final weights).
    patience : int, optional
        Early-stopping patience in epochs (needs ``validation_fraction > 0``).
    random_state : int
    verbose : int
        Print progress every ``verbose`` epochs.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (classification).
    n_outputs_ : int
    history_ : list of History
        Learning curves of each ensemble member.
    fit_seconds_, compile_seconds_ : float
        Wall-clock training time and the XLA compile time of the training step.
    """

    def __init__(
        self,
        input_size: int | None = None,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        convs_per_stage: int = 1,
        dense: int = 64,
        dropout: float = 0.3,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        warmup_epochs: int = 2,
        label_smoothing: float = 0.1,
        augment: dict | str | None = "default",
        tta: bool = True,
        n_ensemble: int = 1,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        random_state: int = 0,
        verbose: int = 0,
    ):
        self.input_size = input_size
        self.channels = channels
        self.convs_per_stage = convs_per_stage
        self.dense = dense
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_epochs = warmup_epochs
        self.label_smoothing = label_smoothing
        self.augment = augment
        self.tta = tta
        self.n_ensemble = n_ensemble
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers
    @property
    def _is_regression(self) -> bool:
        return self.task_ == "regression"

    def _augment_kwargs(self) -> dict | None:
        if self.augment is None:
            return None
        kwargs = {"flip": True, "rotate": "any", "zoom": (1.0, 1.0), "shift": 0.0}
        if isinstance(self.augment, str):
            if self.augment != "default":
                raise ValueError(f"augment must be 'default', a dict or None, got {self.augment!r}")
            kwargs.update(zoom=(0.9, 1.1), shift=2.0)
        else:
            kwargs.update(self.augment)
        kwargs["zoom"] = tuple(kwargs["zoom"])  # hashable, also after a JSON round trip
        return kwargs

    def _build(self, seed: int) -> MorphologyNet:
        return MorphologyNet(
            self.n_channels_,
            self.n_outputs_,
            channels=tuple(self.channels),
            convs_per_stage=self.convs_per_stage,
            dense=self.dense,
            dropout=self.dropout,
            rngs=nnx.Rngs(seed),
        )

    def _encode_targets(self, images: np.ndarray, labels: Any) -> np.ndarray:
        y = np.asarray(labels)
        if len(y) != len(images):
            raise ValueError(
                f"labels do not match images: {len(images)} images but {len(y)} labels"
            )
        if y.ndim == 2 and np.issubdtype(y.dtype, np.floating):
            bad = ~np.isfinite(y).all(axis=1)
            if bad.any():
                raise ValueError(f"labels: row {np.flatnonzero(bad)[0]} contains NaN or inf")
            self.task_ = "regression"
            self.classes_ = None
            self.n_outputs_ = y.shape[1]
            return y.astype(np.float32)
        if y.ndim != 1:
            raise ValueError(
                "labels must be 1-D class labels or a 2-D float array of vote fractions, "
                f"got shape {y.shape}"
            )
        if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
            raise ValueError(f"labels: entry {np.flatnonzero(~np.isfinite(y))[0]} is NaN or inf")
        self.task_ = "classification"
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("need at least two classes in the labels")
        self.n_outputs_ = len(self.classes_)
        return encoded.astype(np.int32)

    def _loss(self, out, y):
        if self._is_regression:
            pred = jax.nn.sigmoid(out)
            loss = jnp.mean((pred - y) ** 2)
            return loss, jnp.sqrt(jnp.mean((pred - y) ** 2))
        onehot = jax.nn.one_hot(y, self.n_outputs_)
        if self.label_smoothing:
            onehot = optax.smooth_labels(onehot, self.label_smoothing)
        loss = optax.softmax_cross_entropy(out, onehot).mean()
        return loss, jnp.mean(jnp.argmax(out, -1) == y)

    def _outputs(self, out):
        return jax.nn.sigmoid(out) if self._is_regression else jax.nn.softmax(out, -1)

    # ------------------------------------------------------------------ fit
    def fit(self, images: Any, labels: Any) -> GalaxyCNN:
        """Train on ``images`` (n, h, w, c) with class ``labels`` (n,) or vote fractions (n, k).

        Training can be stopped with Ctrl-C: the best weights so far are kept.
        """
        x = check_images(images)
        y = self._encode_targets(x, labels)
        self.image_size_ = x.shape[1]
        self.n_channels_ = x.shape[3]
        self.input_size_ = int(self.input_size or self.image_size_)
        if self.input_size_ > self.image_size_:
            raise ValueError(f"input_size {self.input_size_} > image size {self.image_size_}")
        # per-channel standardisation from the training images
        self.mean_ = x.mean(axis=(0, 1, 2)).astype(np.float32)
        self.std_ = (x.std(axis=(0, 1, 2)) + 1e-6).astype(np.float32)

        rng = np.random.default_rng(self.random_state)
        n_val = int(round(self.validation_fraction * len(x)))
        if n_val > 0:
            perm = rng.permutation(len(x))
            val_idx, train_idx = perm[:n_val], perm[n_val:]
        else:
            val_idx, train_idx = np.array([], int), np.arange(len(x))
        if len(train_idx) < self.batch_size:
            raise ValueError(
                f"only {len(train_idx)} training images, fewer than batch_size={self.batch_size}"
            )
        self.models_ = []
        self.history_: list[History] = []
        t0 = time.perf_counter()
        for member in range(self.n_ensemble):
            model, hist = self._fit_one(x, y, train_idx, val_idx, self.random_state + 1000 * member)
            self.models_.append(model)
            self.history_.append(hist)
        self.fit_seconds_ = time.perf_counter() - t0
        self.compile_seconds_ = float(sum(h.compile_seconds for h in self.history_))
        # steady-state throughput: epochs after the first (which includes compilation)
        per_epoch = (len(train_idx) // self.batch_size) * self.batch_size
        done = sum(len(h.epoch) - 1 for h in self.history_)
        spent = sum(h.seconds[-1] - h.seconds[0] for h in self.history_ if len(h.epoch) > 1)
        self.images_per_second_ = per_epoch * done / spent if spent > 0 else float("nan")
        return self

    def _fit_one(self, x, y, train_idx, val_idx, seed):
        model = self._build(seed)
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        steps_per_epoch = len(train_idx) // self.batch_size
        total = max(1, steps_per_epoch * self.epochs)
        warmup = min(steps_per_epoch * self.warmup_epochs, total // 2)
        schedule = optax.warmup_cosine_decay_schedule(
            0.0, self.learning_rate, warmup, total, end_value=self.learning_rate * 1e-2
        )
        tx = optax.chain(
            optax.clip_by_global_norm(1.0),
            optax.adamw(schedule, weight_decay=self.weight_decay),
        )
        opt_state = tx.init(params)
        mean, std = jnp.asarray(self.mean_), jnp.asarray(self.std_)
        aug = self._augment_kwargs()
        size = self.input_size_

        @jax.jit
        def step(state, batch):
            params, rest, opt_state, key = state
            xb, yb = batch
            key, k_aug, k_drop = jax.random.split(key, 3)
            xb = (xb - mean) / std
            if aug is not None:
                xb = augment_images(k_aug, xb, out_size=size, **aug)
            else:
                xb = _centre_crop(xb, size)
            # nnx.value_and_grad lets batch norm update its statistics inside the trace
            m = nnx.merge(graphdef, params, rest)
            (loss, metric), grads = nnx.value_and_grad(
                lambda m: self._loss(m(xb, train=True, key=k_drop), yb), has_aux=True
            )(m)
            _, params, rest = nnx.split(m, nnx.Param, ...)
            updates, opt_state = tx.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            return (params, rest, opt_state, key), loss, metric

        rng = np.random.default_rng(seed)

        def batches(epoch):
            for idx in minibatches(len(train_idx), self.batch_size, rng):
                sel = train_idx[idx]
                yield x[sel], y[sel]

        evaluate = None
        if len(val_idx):
            xv, yv = x[val_idx], y[val_idx]

            def evaluate(state):
                params, rest = state[0], state[1]
                out = self._forward_batches(graphdef, params, rest, xv, raw=True)
                loss, metric = self._loss(jnp.asarray(out), jnp.asarray(yv))
                return float(loss), float(metric)

        state = (params, rest, opt_state, jax.random.key(seed))
        best, hist = train_loop(
            state,
            step,
            batches,
            self.epochs,
            evaluate=evaluate,
            patience=self.patience if len(val_idx) else None,
            metric_name="rmse" if self._is_regression else "acc",
            verbose=self.verbose,
            select=lambda s: (s[0], s[1]),
            keep="best" if len(val_idx) else "last",
        )
        nnx.update(model, best[0], best[1])
        return model, hist

    # ------------------------------------------------------------------ predict
    def _forward_batches(self, graphdef, params, rest, x, raw=False, batch=256):
        """Network outputs for ``x``; with ``raw`` the (TTA-averaged) logits."""
        mean, std = jnp.asarray(self.mean_), jnp.asarray(self.std_)
        res = []
        for s in range(0, len(x), batch):
            xb = jnp.asarray(x[s : s + batch])
            out = _forward(graphdef, params, rest, xb, mean, std, self.input_size_, self.tta)
            if self.tta:
                # average probabilities over the 8 views; return log for raw logits
                probs = self._outputs(out).mean(axis=0)
                out = (
                    jnp.log(probs + 1e-12)
                    if not self._is_regression
                    else jnp.log(probs / (1 - probs + 1e-12) + 1e-12)
                )
            res.append(np.asarray(out if raw else self._outputs(out)))
        return np.concatenate(res)

    def _check_fitted(self):
        if not hasattr(self, "models_"):
            raise ValueError("this GalaxyCNN is not fitted yet: call fit() or load() first")

    def _predict_outputs(self, images):
        self._check_fitted()
        x = check_images(images)
        if x.shape[1:] != (self.image_size_, self.image_size_, self.n_channels_):
            raise ValueError(
                f"images have shape {x.shape[1:]}, the network was trained on "
                f"{(self.image_size_, self.image_size_, self.n_channels_)}"
            )
        outs = []
        for model in self.models_:
            graphdef, params, rest = nnx.split(model, nnx.Param, ...)
            outs.append(self._forward_batches(graphdef, params, rest, x))
        return np.mean(outs, axis=0)

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), averaged over TTA views and ensemble."""
        self._check_fitted()
        if self._is_regression:
            raise ValueError("predict_proba is for classification; use predict for vote fractions")
        return self._predict_outputs(images)

    def predict(self, images: Any) -> np.ndarray:
        """Class labels (classification) or vote fractions in [0, 1] (regression)."""
        out = self._predict_outputs(images)
        if self._is_regression:
            return out
        return self.classes_[np.argmax(out, axis=1)]

    def score(self, images: Any, labels: Any) -> float:
        """Accuracy (classification) or minus the Kaggle RMSE (regression; higher is better)."""
        pred = self.predict(images)
        y = np.asarray(labels)
        if len(y) != len(pred):
            raise ValueError(f"labels do not match images: {len(pred)} images, {len(y)} labels")
        if self._is_regression:
            return -galaxy_zoo_rmse(y, pred)
        return float(np.mean(pred == y))

    # ------------------------------------------------------------------ persistence
    _FITTED = ("task_", "n_outputs_", "image_size_", "n_channels_", "input_size_")

    def save(self, path: str | Path) -> Path:
        """Save hyper-parameters, preprocessing and weights to one ``.npz`` file."""
        self._check_fitted()
        params = self.get_params()
        params["channels"] = list(params["channels"])
        meta = {
            "params": params,
            "fitted": {k: getattr(self, k) for k in self._FITTED},
            "mean": self.mean_.tolist(),
            "std": self.std_.tolist(),
            "classes": None if self.classes_ is None else self.classes_.tolist(),
            "classes_dtype": None if self.classes_ is None else self.classes_.dtype.str,
        }
        states = [nnx.state(m) for m in self.models_]
        return save_pytree(path, states, meta)

    @classmethod
    def load(cls, path: str | Path) -> GalaxyCNN:
        """Restore a model written by :meth:`save` (weights restored bit for bit)."""
        _, meta = load_pytree(path)
        params = dict(meta["params"])
        params["channels"] = tuple(params["channels"])
        if isinstance(params.get("augment"), dict) and "zoom" in params["augment"]:
            params["augment"]["zoom"] = tuple(params["augment"]["zoom"])
        est = cls(**params)
        for k, v in meta["fitted"].items():
            setattr(est, k, v)
        est.mean_ = np.asarray(meta["mean"], np.float32)
        est.std_ = np.asarray(meta["std"], np.float32)
        est.classes_ = (
            None
            if meta["classes"] is None
            else np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
        )
        models = [est._build(i) for i in range(est.n_ensemble)]
        states, _ = load_pytree(path, like=[nnx.state(m) for m in models])
        for m, s in zip(models, states, strict=True):
            nnx.update(m, s)
        est.models_ = models
        return est


#: Settings for the Galaxy Zoo 2 spirals set: image side after a centre crop of
#: ``crop`` px, and the GalaxyCNN arguments. "full" is the benchmark
#: (benchmarks/cnn_benchmark.py), "ci" the smaller configuration the tests train.
GZ2_PRESETS: dict[str, dict] = {
    "full": dict(
        image=64,
        crop=200,
        model=dict(
            input_size=56,
            channels=(16, 32, 64, 128),
            epochs=60,
            learning_rate=3e-3,
            label_smoothing=0.1,
            augment={"shift": 3.0, "zoom": (0.9, 1.1)},
            tta=True,
        ),
    ),
    "ci": dict(
        image=48,
        crop=200,
        model=dict(
            input_size=44,
            channels=(16, 32, 64, 128),
            epochs=20,
            learning_rate=4e-3,
            label_smoothing=0.1,
            augment={"shift": 2.0, "zoom": (0.9, 1.1)},
            tta=True,
        ),
    ),
}
