"""The checks behind :class:`~astrograph.ml.morphology.GalaxyCNN`: its
hyper-parameters, its augmentation setting and its labels (class labels or
Galaxy Zoo vote fractions), each refused with a message naming what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

#: Internal: the public names live in :mod:`astrograph.ml.morphology`.
__all__: list[str] = []


def check_params(est: Any) -> None:
    """Refuses hyper-parameters of a GalaxyCNN ``est`` that cannot train (each
    message names the parameter)."""

    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    def is_num(v: Any) -> bool:
        return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)

    ints = {"epochs": 1, "batch_size": 1, "n_ensemble": 1, "convs_per_stage": 1, "dense": 1,
            "warmup_epochs": 0, "verbose": 0}  # fmt: skip
    for name, low in ints.items():
        value = getattr(est, name)
        if not is_int(value) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    if est.input_size is not None and (not is_int(est.input_size) or est.input_size <= 0):
        raise InputError(f"input_size must be a positive integer or None, got {est.input_size!r}")
    if est.patience is not None and (not is_int(est.patience) or est.patience < 1):
        raise InputError(f"patience must be an integer >= 1 or None, got {est.patience!r}")
    if est.symmetry not in ("dihedral", None):
        raise InputError(f"symmetry must be 'dihedral' or None, got {est.symmetry!r}")
    chans = est.channels
    if chans is not None and (not isinstance(chans, (tuple, list)) or not chans
            or not all(is_int(c) and c > 0 for c in chans)):  # fmt: skip
        raise InputError(
            f"channels must be None or a non-empty tuple of positive integers, got {chans!r}"
        )
    fractions = {"validation_fraction": (0.0, 1.0), "dropout": (0.0, 1.0),
                 "label_smoothing": (0.0, 1.0)}  # fmt: skip
    for name, (lo, hi) in fractions.items():
        value = getattr(est, name)
        if not is_num(value) or not lo <= value < hi:
            raise InputError(f"{name} must be a number in [{lo:g}, {hi:g}), got {value!r}")
    for name in ("learning_rate", "weight_decay"):
        value = getattr(est, name)
        if (
            not is_num(value)
            or not np.isfinite(value)
            or value < 0
            or (name == "learning_rate" and value == 0)
        ):
            sign = "> 0" if name == "learning_rate" else ">= 0"
            raise InputError(f"{name} must be a finite number {sign}, got {value!r}")
    if not is_num(est.mixup) or not 0 <= est.mixup < np.inf:
        raise InputError(f"mixup must be a number >= 0 (0 disables it), got {est.mixup!r}")
    if est.ema is not None and (not is_num(est.ema) or not 0 < est.ema < 1):
        raise InputError(f"ema must be None or a decay in (0, 1), got {est.ema!r}")
    if est.patience is not None and est.validation_fraction == 0:
        raise InputError(
            "patience needs validation_fraction > 0 (early stopping on held-out images)"
        )


def augment_kwargs(augment: Any) -> dict | None:
    """The keyword arguments of :func:`~astrograph.ml.nn.augment.augment_images`
    from GalaxyCNN's ``augment`` ("default", a dict, or None: none)."""
    if augment is None:
        return None
    kwargs: dict[str, Any] = {"flip": True, "rotate": "any", "zoom": (1.0, 1.0), "shift": 0.0}
    if isinstance(augment, str):
        if augment != "default":
            raise InputError(f"augment must be 'default', a dict or None, got {augment!r}")
        kwargs.update(zoom=(0.9, 1.1), shift=3.0)
    else:
        kwargs.update(augment)
    kwargs["zoom"] = tuple(kwargs["zoom"])  # hashable, also after a JSON round trip
    return kwargs


@dataclass
class Targets:
    """Labels encoded for training: ``y`` (class indices, int32, or vote
    fractions, float32), the task, the classes (None for regression) and the
    number of network outputs."""

    y: np.ndarray
    task: str
    classes: np.ndarray | None
    n_outputs: int


def encode_targets(images: np.ndarray, labels: Any) -> Targets:
    """Class labels (n,) or vote fractions (n, k) in [0, 1] for ``images``,
    refusing NaN, a single class, fractions outside [0, 1] or a length mismatch."""
    y = np.asarray(labels)
    if len(y) != len(images):
        raise InputError(f"labels do not match images: {len(images)} images but {len(y)} labels")
    if y.ndim == 2 and np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y).all(axis=1)
        if bad.any():
            raise InputError(f"labels: row {np.flatnonzero(bad)[0]} contains NaN or inf")
        # Vote fractions are independent sigmoid outputs (the Galaxy Zoo answers are
        # hierarchical, so rows need not sum to 1), but each must be a fraction.
        outside = np.argwhere((y < 0) | (y > 1))
        if len(outside):
            r, c = outside[0]
            raise InputError(
                f"labels: vote fractions must lie in [0, 1]; {len(outside)} entries do not "
                f"(first: row {r}, column {c} = {y[r, c]:g})"
            )
        return Targets(y.astype(np.float32), "regression", None, y.shape[1])
    if y.ndim != 1:
        raise InputError(
            "labels must be 1-D class labels or a 2-D float array of vote fractions, "
            f"got shape {y.shape}"
        )
    if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
        raise InputError(f"labels: entry {np.flatnonzero(~np.isfinite(y))[0]} is NaN or inf")
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise InputError("need at least two classes in the labels")
    return Targets(encoded.astype(np.int32), "classification", classes, len(classes))
