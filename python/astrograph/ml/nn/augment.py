"""Random augmentation of galaxy-image batches in JAX (jit- and vmap-friendly).

* :func:`augment_images` - random mirror, 90-degree or arbitrary rotation, zoom,
  shift, brightness and a crop to a smaller side, with bilinear resampling;
* :func:`dihedral_views` - the 8 rotations/reflections of a square image, for
  test-time augmentation;
* :func:`centre_crop` - the central square of a batch.

Images are ``(n, h, w, channels)`` arrays (channels last).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ...errors import InputError

__all__ = ["augment_images", "dihedral_views", "centre_crop"]


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
        raise InputError(f"rotate must be 'any', '90' or None, got {rotate!r}")
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


def centre_crop(images: jax.Array, size: int) -> jax.Array:
    """The central ``size`` x ``size`` pixels of a batch (n, h, h, c)."""
    h = images.shape[1]
    if size == h:
        return images
    start = (h - size) // 2
    return images[:, start : start + size, start : start + size]
