"""Galaxy morphology from images with a convolutional neural network (JAX + Flax NNX + optax).

:class:`GalaxyCNN` is a scikit-learn-style estimator: ``fit(images, labels)``,
``predict``, ``predict_proba``, ``score``, ``save`` / ``load``.  It handles

* binary and multi-class labels (e.g. spirals vs non-spirals, Galaxy10): softmax
  output trained with (optionally label-smoothed) cross-entropy;
* multi-output regression of vote fractions (the 37 Galaxy Zoo decision-tree
  answers): sigmoid outputs trained with the mean squared error, scored with the
  RMSE of the Kaggle Galaxy Zoo challenge
  (:func:`astrograph.ml.metrics.galaxy_zoo_rmse`).

Images are ``(n, h, w, channels)`` arrays (channels last).  Data augmentation runs
inside the jitted training step (:func:`astrograph.ml.nn.augment.augment_images`):
flips, 90-degree and arbitrary rotations, zoom, shift and a random crop to
``input_size``.  Galaxy morphology does not depend on orientation, so predictions
can average the 8 rotations/reflections of the square (``tta=True``), and several
networks can be averaged (``n_ensemble``).  The network and its training step live
in :mod:`astrograph.ml.nn.cnn`; the checks of the hyper-parameters and labels in
``astrograph.ml._morphology_checks``.

:data:`GZ2_PRESETS` holds the tested settings for the Galaxy Zoo 2 spirals set.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from flax import nnx
from sklearn.base import BaseEstimator

from ..errors import InputError
from ._morphology_checks import augment_kwargs, check_params, encode_targets
from .metrics import galaxy_zoo_rmse
from .nn.cnn import MorphologyNet, Task, TrainSettings, forward_batches, train_network
from .nn.dihedral import DihedralNet
from .nn.training import History, load_pytree, save_pytree
from .validation import check_fitted, check_images

__all__ = ["GalaxyCNN", "GZ2_PRESETS"]


# --------------------------------------------------------------------------- estimator
class GalaxyCNN(BaseEstimator):
    """Scikit-learn-style CNN for galaxy images (classification or vote-fraction regression).

    Parameters
    ----------
    input_size : int, optional
        Side of the images fed to the network; training takes a random crop of this
        size after augmentation, prediction the central crop.  Default: 7/8 of the
        image size (56 px of 64), or the image size where that would be below
        :attr:`min_input_size`.
    symmetry : {"dihedral", None}
        ``"dihedral"`` (default): group convolutions over the 8 rotations and mirror
        images of the pixel grid (:class:`astrograph.ml.nn.dihedral.DihedralNet`), so
        the prediction is the same for all 8 orientations of a galaxy by
        construction; ``None``: a plain CNN
        (:class:`astrograph.ml.nn.cnn.MorphologyNet`).
    channels : tuple of int, optional
        Convolution channels of each stage (each stage but the last halves the
        resolution; the plain CNN also pools after the last); with
        ``symmetry="dihedral"`` channels per orientation, so the feature maps hold
        8 times as many. Default: (4, 8, 16, 32) dihedral, (16, 32, 64, 128) plain.
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
    mixup : float
        Mixup (Zhang et al. 2018): each training batch is replaced by mixtures
        ``lam * x + (1 - lam) * x'`` of its images in random pairs, with the same
        mixture of their targets; ``lam ~ Beta(mixup, mixup)``. 0 disables it.
    ema : float, optional
        Predict with the exponential moving average of the weights over the
        training steps, with this decay per step (e.g. 0.998: a memory of about
        500 steps); None predicts with the final weights.
    augment : "default", dict or None
        On-the-fly augmentation: keyword arguments of
        :func:`astrograph.ml.nn.augment.augment_images`, or
        ``"default"`` (random mirror, any rotation, zoom 0.9-1.1, shift up to 3 px);
        ``None`` disables it.
    tta : bool
        Average predictions over the 8 rotations/reflections (dihedral group); a
        ``symmetry="dihedral"`` network gives all 8 the same output, so there it
        is skipped.
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
        symmetry: str | None = "dihedral",
        channels: tuple[int, ...] | None = None,
        convs_per_stage: int = 1,
        dense: int = 64,
        dropout: float = 0.3,
        epochs: int = 60,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        warmup_epochs: int = 2,
        label_smoothing: float = 0.1,
        mixup: float = 0.0,
        ema: float | None = None,
        augment: dict | str | None = "default",
        tta: bool = True,
        n_ensemble: int = 1,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        random_state: int = 0,
        verbose: int = 0,
    ):
        self.input_size = input_size
        self.symmetry = symmetry
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
        self.mixup = mixup
        self.ema = ema
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

    @property
    def _net(self) -> type[MorphologyNet]:
        return DihedralNet if self.symmetry == "dihedral" else MorphologyNet

    @property
    def _channels(self) -> tuple[int, ...]:
        return self._net.default_channels if self.channels is None else tuple(self.channels)

    def _build(self, seed: int) -> MorphologyNet:
        return self._net(
            self.n_channels_,
            self.n_outputs_,
            channels=self._channels,
            convs_per_stage=self.convs_per_stage,
            dense=self.dense,
            dropout=self.dropout,
            rngs=nnx.Rngs(seed),
        )

    def _encode_targets(self, images: np.ndarray, labels: Any) -> np.ndarray:
        t = encode_targets(images, labels)
        self.task_, self.classes_, self.n_outputs_ = t.task, t.classes, t.n_outputs
        return t.y

    def _task(self) -> Task:
        return Task(self._is_regression, self.n_outputs_, self.label_smoothing)

    # ------------------------------------------------------------------ fit
    def _default_input_size(self) -> int:
        # A random crop of 7/8 of the side: translations the network must learn
        # to ignore, which helped more than any other augmentation on GZ2.
        side = self.image_size_ - self.image_size_ // 8
        return side if side >= self.min_input_size else self.image_size_

    @property
    def min_input_size(self) -> int:
        """Smallest ``input_size`` the network takes: each pooling halves the side."""
        stages = len(self._channels)
        return 2 ** (stages - 1 if self.symmetry == "dihedral" else stages)

    @property
    def _tta(self) -> bool:
        # A dihedral network whose poolings all see even sides gives the 8 views the
        # same output (to rounding), so averaging them would only cost 8 times more.
        invariant = self.symmetry == "dihedral" and self.input_size_ % self.min_input_size == 0
        return self.tta and not invariant

    def fit(self, images: Any, labels: Any) -> GalaxyCNN:
        """Train on ``images`` (n, h, w, c) with class ``labels`` (n,) or vote fractions (n, k).

        Training can be stopped with Ctrl-C: the best weights so far are kept.

        Raises :class:`~astrograph.errors.InputError` for bad hyper-parameters, images
        (NaN / inf, not square, smaller than :attr:`min_input_size`) or labels (vote
        fractions outside [0, 1], NaN, a single class, a length mismatch).
        """
        check_params(self)
        x = check_images(images)
        y = self._encode_targets(x, labels)
        self.image_size_ = x.shape[1]
        self.n_channels_ = x.shape[3]
        self.input_size_ = int(self.input_size or self._default_input_size())
        if self.input_size_ > self.image_size_:
            raise InputError(f"input_size {self.input_size_} > image size {self.image_size_}")
        if self.input_size_ < self.min_input_size:
            raise InputError(
                f"images of {self.input_size_}x{self.input_size_} px (after the input_size "
                f"crop) are too small for a network of {len(self._channels)} stages: "
                f"the minimum size is {self.min_input_size}x{self.min_input_size} px "
                "(use larger images, or fewer stages in channels)"
            )
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
            raise InputError(
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
        settings = TrainSettings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            warmup_epochs=self.warmup_epochs,
            augment=augment_kwargs(self.augment),
            input_size=self.input_size_,
            tta=self._tta,
            patience=self.patience,
            verbose=self.verbose,
            ema=self.ema,
            mixup=self.mixup,
        )
        hist = train_network(
            model, x, y, train_idx, val_idx, seed, self.mean_, self.std_, self._task(), settings
        )
        return model, hist

    # ------------------------------------------------------------------ predict
    def _predict_outputs(self, images):
        check_fitted(self, "models_")
        x = check_images(images)
        if x.shape[1:] != (self.image_size_, self.image_size_, self.n_channels_):
            raise InputError(
                f"images have shape {x.shape[1:]}, the network was trained on "
                f"{(self.image_size_, self.image_size_, self.n_channels_)}"
            )
        outs = []
        for model in self.models_:
            graphdef, params, rest = nnx.split(model, nnx.Param, ...)
            outs.append(
                forward_batches(
                    graphdef, params, rest, x, self.mean_, self.std_, self.input_size_, self._tta,
                    self._task(),
                )
            )  # fmt: skip
        return np.mean(outs, axis=0)

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), averaged over TTA views and ensemble."""
        check_fitted(self, "models_")
        if self._is_regression:
            raise InputError("predict_proba is for classification; use predict for vote fractions")
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
            raise InputError(f"labels do not match images: {len(pred)} images, {len(y)} labels")
        if self._is_regression:
            return -galaxy_zoo_rmse(y, pred)
        return float(np.mean(pred == y))

    # ------------------------------------------------------------------ persistence
    _FITTED = ("task_", "n_outputs_", "image_size_", "n_channels_", "input_size_")

    def save(self, path: str | Path) -> Path:
        """Save hyper-parameters, preprocessing and weights to one ``.npz`` file."""
        check_fitted(self, "models_")
        params = self.get_params()
        if params["channels"] is not None:
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
        # files written before the dihedral networks hold plain ones
        params.setdefault("symmetry", None)
        if params["channels"] is not None:
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


def _gz2_preset(image: int, crop: Any, **model: Any) -> dict:
    return dict(image=image, crop=crop, model=model)


#: Settings for the Galaxy Zoo 2 spirals set: image side after a centre crop of
#: ``crop`` px (or "galaxy"), and the GalaxyCNN arguments. "full" is the
#: defaults of ``load_image_folder`` and ``GalaxyCNN`` (benchmarks/cnn_cv.py
#: cross-validates them), "ci" the smaller configuration the tests train.
GZ2_PRESETS: dict[str, dict] = {
    "full": _gz2_preset(image=64, crop="galaxy"),
    "ci": _gz2_preset(
        image=48,
        crop=200,
        input_size=40,
        epochs=20,
        learning_rate=4e-3,
        label_smoothing=0.1,
        augment={"shift": 2.0, "zoom": (0.9, 1.1)},
    ),
}
