"""Neural networks in JAX / Flax NNX / optax.

* :mod:`astrograph.nn.ann` -- a multilayer network written from scratch (explicit
  matrix operations, hand-written backpropagation, gradient descent) and the
  activation functions of the lecture;
* :mod:`astrograph.nn.photoz` -- :class:`DensePhotoZRegressor`, a dense network
  for photometric redshifts with an optional mixture-density (PDF) output;
* :mod:`astrograph.nn.training` -- the shared training loop and checkpoints.

The galaxy-image CNN is :class:`astrograph.morphology.GalaxyCNN`.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "SigmoidMLP": "astrograph.nn.ann",
    "ACTIVATIONS": "astrograph.nn.ann",
    "plot_activations": "astrograph.nn.ann",
    "DensePhotoZRegressor": "astrograph.nn.photoz",
    "train_loop": "astrograph.nn.training",
    "save_pytree": "astrograph.nn.training",
    "load_pytree": "astrograph.nn.training",
    "History": "astrograph.nn.training",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach("astrograph.nn", _LAZY, globals())
