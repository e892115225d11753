"""Neural networks in JAX / Flax NNX / optax.

Modules, from the bottom up:

* :mod:`astrograph.ml.nn.training` -- the shared training loop (progress, early
  stopping, Ctrl-C) and checkpoints;
* :mod:`astrograph.ml.nn.augment` -- random image augmentation and the dihedral
  views used for test-time augmentation;
* :mod:`astrograph.ml.nn.ann` -- a multilayer network written from scratch (explicit
  matrix operations, hand-written backpropagation, gradient descent) and the
  activation functions of the lecture;
* :mod:`astrograph.ml.nn.cnn` -- :class:`MorphologyNet`, the convolutional network,
  its jitted training step and batched inference;
* :mod:`astrograph.ml.nn.photoz` -- :class:`DensePhotoZRegressor`, a dense network
  for photometric redshifts with an optional mixture-density (PDF) output.

The scikit-learn-style galaxy-image estimator built on :mod:`~astrograph.ml.nn.cnn`
is :class:`astrograph.ml.morphology.GalaxyCNN`.
"""

from __future__ import annotations

from ..._lazy import attach

_MODULES = {
    "astrograph.ml.nn.training": ("History", "load_pytree", "save_pytree", "train_loop"),
    "astrograph.ml.nn.augment": ("augment_images", "dihedral_views"),
    "astrograph.ml.nn.ann": ("ACTIVATIONS", "SigmoidMLP", "plot_activations"),
    "astrograph.ml.nn.cnn": ("MorphologyNet",),
    "astrograph.ml.nn.photoz": ("DensePhotoZRegressor",),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach("astrograph.ml.nn", _LAZY, globals())
