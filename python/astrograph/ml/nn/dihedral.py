"""Convolutions equivariant under the 8 rotations and mirror images of the pixel grid.

A galaxy has no preferred orientation on the sky, so a spiral rotated by 90 degrees
or seen in a mirror is still a spiral. Augmentation teaches a plain network this
from examples; a group convolution over the dihedral group D4 (the "p4m" layers of
Cohen & Welling 2016) has it by construction: every filter is applied in its 8
orientations, and the feature maps carry one channel block per orientation that
the 8 symmetries of the input only permute. Pooling over space and orientation at
the end makes the output invariant, exactly.

* :data:`D4` - the 8 group elements as signed 2x2 permutation matrices;
* :class:`LiftingConv` - image -> features on the group (one block per element);
* :class:`GroupConv` - features on the group -> features on the group;
* :class:`GroupBatchNorm` - batch norm with one set of statistics per channel,
  shared by its 8 orientation blocks (so it commutes with the symmetries);
* :class:`DihedralNet` - :class:`~astrograph.ml.nn.cnn.MorphologyNet` with these
  layers, invariant to the 8 symmetries of a square image.

Channel layout: ``(..., 8 * c)`` with the element index outermost, so a feature map
reshapes to ``(..., 8, c)`` and batch norm shares its statistics over the 8 blocks.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ...errors import InputError
from .cnn import MorphologyNet, max_pool_2x2

__all__ = [
    "D4",
    "DihedralConv",
    "LiftingConv",
    "GroupConv",
    "GroupBatchNorm",
    "DihedralNet",
    "transform_image",
]


def _elements() -> np.ndarray:
    # rotations by k * 90 degrees, then the same composed with a mirror of the columns
    rot = np.array([[0, 1], [-1, 0]])
    mirror = np.array([[1, 0], [0, -1]])
    out = []
    for m in (np.eye(2, dtype=int), mirror):
        for k in range(4):
            out.append(np.linalg.matrix_power(rot, k) @ m)
    return np.array(out, dtype=int)


D4 = _elements()
"""The dihedral group of the square, (8, 2, 2) integer matrices acting on (row, column)."""


def _index(a: np.ndarray) -> int:
    return next(i for i, g in enumerate(D4) if np.array_equal(g, a))


# _PERM[g, h] = index of g^-1 h; _SPATIAL[g] = flat 3x3 index of A_g^-1 y for each y
_PERM = np.array([[_index(D4[g].T @ D4[h]) for h in range(8)] for g in range(8)])
_OFFSETS = np.array(list(itertools.product((-1, 0, 1), repeat=2)))
_SPATIAL = np.array([[int((D4[g].T @ y + 1) @ (3, 1)) for y in _OFFSETS] for g in range(8)])


def transform_image(x: jax.Array, g: int) -> jax.Array:
    """The image batch (n, h, h, c) acted on by element ``g``: x'(p) = x(A_g^-1 p)."""
    h = x.shape[1]
    centre = (h - 1) / 2.0
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(h), indexing="ij"), -1) - centre
    src = np.rint(grid @ D4[g] + centre).astype(int)  # A_g^-1 p = A_g^T p (row vectors)
    return x[:, src[..., 0], src[..., 1]]


def _bank(psi: jax.Array, group_input: bool) -> jax.Array:
    """The 8 transformed copies of ``psi`` (9, g_in, c_in, c_out) as one HWIO kernel."""
    copies = []
    for g in range(8):
        k = psi[_SPATIAL[g]]
        if group_input:
            k = k[:, _PERM[g]]
        copies.append(k)
    k = jnp.stack(copies, axis=2)  # (9, g_in, 8, c_in, c_out)
    nine, g_in, _, c_in, c_out = k.shape
    k = jnp.transpose(k, (0, 1, 3, 2, 4))  # (9, g_in, c_in, 8, c_out)
    return k.reshape(3, 3, g_in * c_in, 8 * c_out)


class DihedralConv(nnx.Module):
    """A 3x3 convolution applied in the 8 orientations of :data:`D4`: the common part
    of :class:`LiftingConv` (image input) and :class:`GroupConv` (group input)."""

    group_input = False

    def __init__(self, c_in: int, c_out: int, *, rngs: nnx.Rngs):
        g_in = 8 if self.group_input else 1
        fan_in = 9 * g_in * c_in
        self.kernel = nnx.Param(
            jax.random.normal(rngs.params(), (9, g_in, c_in, c_out)) * np.sqrt(2.0 / fan_in)
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        k = _bank(self.kernel[...], self.group_input)
        return jax.lax.conv_general_dilated(
            x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )


class LiftingConv(DihedralConv):
    """3x3 convolution of an image (n, h, w, c_in) -> features (n, h, w, 8 * c_out)."""


class GroupConv(DihedralConv):
    """3x3 convolution of features (n, h, w, 8 * c_in) -> (n, h, w, 8 * c_out)."""

    group_input = True


class GroupBatchNorm(nnx.Module):
    """Batch norm of features (n, h, w, 8 * c) with one mean, variance, scale and bias
    per channel, shared by its 8 orientation blocks; running statistics as
    ``nnx.BatchNorm`` keeps them (``momentum``, biased variance, ``epsilon``).

    The statistics are column means of the (n * h * w, 8 * c) matrix folded over the 8
    blocks: the same numbers as ``nnx.BatchNorm`` on the (n, h, w, 8, c) view, whose
    reduction over the 8-block axis made XLA's CPU gradient up to 4 times slower.
    Raises :class:`~astrograph.errors.InputError` unless the last axis holds 8 * c
    features.
    """

    def __init__(self, c: int, momentum: float = 0.9, epsilon: float = 1e-5):
        self.momentum = momentum
        self.epsilon = epsilon
        self.scale = nnx.Param(jnp.ones((c,)))
        self.bias = nnx.Param(jnp.zeros((c,)))
        self.mean = nnx.BatchStat(jnp.zeros((c,)))
        self.var = nnx.BatchStat(jnp.ones((c,)))

    def __call__(self, x: jax.Array, use_running_average: bool) -> jax.Array:
        c = self.scale.shape[0]
        if x.ndim < 2 or x.shape[-1] != 8 * c:
            raise InputError(
                f"GroupBatchNorm({c}) needs features (..., {8 * c}) (8 orientations x {c}), "
                f"got shape {x.shape}"
            )
        if use_running_average:
            mean, var = self.mean[...], self.var[...]
        else:
            cols = x.reshape(-1, x.shape[-1])
            mean = cols.mean(axis=0).reshape(8, -1).mean(axis=0)
            mean_sq = jnp.square(cols).mean(axis=0).reshape(8, -1).mean(axis=0)
            var = jnp.maximum(mean_sq - jnp.square(mean), 0.0)
            keep = self.momentum
            self.mean[...] = jax.lax.stop_gradient(keep * self.mean[...] + (1 - keep) * mean)
            self.var[...] = jax.lax.stop_gradient(keep * self.var[...] + (1 - keep) * var)
        scale = self.scale[...] * jax.lax.rsqrt(var + self.epsilon)
        shift = self.bias[...] - mean * scale
        return x * jnp.tile(scale, 8) + jnp.tile(shift, 8)


class DihedralNet(MorphologyNet):
    """[D4 convolution - batch norm - ReLU] x k - max-pool per stage, invariant pooling over
    space and orientation, dropout, a dense ReLU layer and a linear output
    (:class:`~astrograph.ml.nn.cnn.MorphologyNet` with dihedral layers).

    ``channels`` counts channels per orientation: the feature maps hold 8 times as many.
    The last stage is not max-pooled (global pooling follows); the network is exactly
    invariant (to rounding) when every pooling sees an even side, i.e. for input sides
    divisible by ``2 ** (len(channels) - 1)``.
    """

    default_channels = (4, 8, 16, 32)

    def _conv(self, index: int, c_in: int, c_out: int, rngs: nnx.Rngs) -> nnx.Module:
        return (GroupConv if index else LiftingConv)(c_in, c_out, rngs=rngs)

    def _norm(self, c_out: int, rngs: nnx.Rngs) -> nnx.Module:
        return GroupBatchNorm(c_out)

    def _features(self, x: jax.Array, train: bool) -> jax.Array:
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = nnx.relu(norm(conv(x), use_running_average=not train))
            if (i + 1) % self.per_stage == 0 and i < last:
                x = max_pool_2x2(x)
        n, h, w, c8 = x.shape
        x = x.reshape(n, h * w * 8, c8 // 8)
        return jnp.concatenate([x.mean(axis=1), x.max(axis=1)], axis=-1)
