"""Image readers: a folder of JPEG/PNG per class, and Galaxy10 HDF5 files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from PIL import Image

from astrograph.errors import InputError
from astrograph.ml.datasets import load_galaxy10_h5, load_image_folder
from astrograph.ml.datasets.images import (
    GALAXY10_DECALS_CLASSES,
    GALAXY10_SDSS_CLASSES,
    GALAXY_CROP_HALF_LIGHT_RADII,
    galaxy_crop_side,
    read_image,
)


def _exponential_disc(side: int, r50: float, sky: float = 10.0, noise: float = 2.0, seed=0):
    """An 8-bit exponential disc of half-light radius ``r50`` px at the centre,
    on a noisy sky (the half-light radius of exp(-r/h) is 1.678 h)."""
    yy, xx = np.indices((side, side))
    r = np.hypot(yy - (side - 1) / 2, xx - (side - 1) / 2)
    img = sky + 230 * np.exp(-r / (r50 / 1.678))
    img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("radius", [25.0, 35.0, 45.0])
def test_galaxy_crop_is_5_7_half_light_radii(radius):
    """A flat disc of radius R (every pixel detected) has its half-light
    radius at R / sqrt(2): the crop side is 5.7 of those."""
    yy, xx = np.indices((240, 240))
    disc = np.where(np.hypot(yy - 119.5, xx - 119.5) < radius, 180, 10)
    disc = disc + np.random.default_rng(1).normal(0, 2, disc.shape)
    side = galaxy_crop_side(np.clip(disc, 0, 255).astype(np.uint8))
    assert side == pytest.approx(GALAXY_CROP_HALF_LIGHT_RADII * radius / np.sqrt(2), rel=0.03)


def test_galaxy_crop_follows_the_galaxy_size():
    """Exponential discs: the crop grows with the galaxy; channels are averaged."""
    sides = [galaxy_crop_side(_exponential_disc(240, r50)) for r50 in (18.0, 24.0, 30.0, 36.0)]
    assert all(a < b for a, b in zip(sides, sides[1:], strict=False)), sides
    rgb = np.repeat(_exponential_disc(240, 24.0)[..., None], 3, axis=-1)
    assert galaxy_crop_side(rgb) == sides[1]


def test_galaxy_crop_limits_and_bad_input():
    blank = np.full((100, 100), 30, np.uint8)
    assert galaxy_crop_side(blank) == 100  # nothing detected: the whole image
    assert galaxy_crop_side(_exponential_disc(200, 2.0)) == 70  # at least 0.35 of the side
    assert galaxy_crop_side(_exponential_disc(200, 80.0)) == 200  # at most all of it
    with pytest.raises(InputError, match="2-D image"):
        galaxy_crop_side(np.zeros((3, 3)))
    with pytest.raises(InputError, match="NaN or infinite"):
        galaxy_crop_side(np.where(np.eye(20) > 0, np.nan, 1.0))


def test_read_image_crops_to_the_galaxy(tmp_path):
    path = tmp_path / "g.png"
    _write(path, np.repeat(_exponential_disc(240, 20.0)[..., None], 3, axis=-1))
    side = galaxy_crop_side(np.asarray(Image.open(path).convert("RGB")))
    assert read_image(path, size=None).shape == (side, side, 3)  # the default crop
    assert read_image(path, size=None, crop=None).shape == (240, 240, 3)
    with pytest.raises(InputError, match="crop must be 'galaxy'"):
        read_image(path, crop="centre")


def _write(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


@pytest.fixture
def folder(tmp_path):
    # 40x30 images: a bright 10x10 square at the centre in class "b", dark in "a"
    for cls, value in (("a", 0), ("b", 200)):
        for i in range(3):
            arr = np.full((30, 40, 3), 20, np.uint8)
            arr[10:20, 15:25] = value
            _write(tmp_path / cls / f"{i}.png", arr)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    return tmp_path


def test_load_image_folder(folder):
    X, y, names = load_image_folder(folder, size=8, crop=10)
    assert names == ["a", "b"]
    assert X.shape == (6, 8, 8, 3) and X.dtype == np.float32
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])
    # the 10-px centre crop is the square only
    np.testing.assert_allclose(X[y == 1], 200 / 255, atol=1e-3)
    np.testing.assert_allclose(X[y == 0], 0.0, atol=1e-3)
    # crop=None: the central square of the short side, keeps the border
    X2, _, _ = load_image_folder(folder, size=None, crop=None)
    assert X2.shape == (6, 30, 30, 3)
    assert X2[0, 0, 0, 0] == pytest.approx(20 / 255)


def test_load_image_folder_cache(folder, tmp_path):
    cache = tmp_path / "cache" / "imgs.npz"
    X1, y1, _ = load_image_folder(folder, size=8, cache=cache)
    assert cache.is_file()
    X2, y2, _ = load_image_folder(folder, size=8, cache=cache)
    np.testing.assert_array_equal(X1, X2)
    X3, _, _ = load_image_folder(folder, size=4, cache=cache)  # settings changed: re-read
    assert X3.shape[1] == 4


def test_unreadable_image_named(folder):
    bad = folder / "b" / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        load_image_folder(folder, size=8)


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_image_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="class folder"):
        load_image_folder(tmp_path, classes=["x"])


def test_gz2_spirals_real(shared_data, tmp_path):
    X, y, names = load_image_folder(
        shared_data / "gz2_spirals", size=32, crop=200, cache=tmp_path / "gz2.npz"
    )
    assert names == ["non_spirals", "spirals"]
    assert X.shape == (1400, 32, 32, 3)
    assert np.bincount(y).tolist() == [700, 700]
    assert 0.0 <= X.min() and X.max() <= 1.0
    # the galaxy is at the centre: the centre is brighter than the corners
    assert X[:, 12:20, 12:20].mean() > 3 * X[:, :4, :4].mean()


def _galaxy10_file(path, n, side):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8))
        f.create_dataset("ans", data=rng.integers(0, 10, n).astype(np.uint8))
        f.create_dataset("ra", data=rng.uniform(0, 360, n))
        f.create_dataset("dec", data=rng.uniform(-10, 60, n))
        f.create_dataset("redshift", data=rng.uniform(0, 0.2, n))


def test_galaxy10_h5(tmp_path):
    path = tmp_path / "Galaxy10_DECals.h5"
    _galaxy10_file(path, 12, 256)
    X, y, names = load_galaxy10_h5(path)
    assert X.shape == (12, 256, 256, 3) and X.dtype == np.float32
    assert names == list(GALAXY10_DECALS_CLASSES)
    with h5py.File(path) as f:
        np.testing.assert_array_equal(y, f["ans"][:])
        np.testing.assert_allclose(X[3], f["images"][3] / 255.0, rtol=1e-6)
    X2, y2, _ = load_galaxy10_h5(path, size=64, crop=128, max_images=5)
    assert X2.shape == (5, 64, 64, 3)
    np.testing.assert_array_equal(y2, y[:5])

    sdss = tmp_path / "Galaxy10.h5"
    _galaxy10_file(sdss, 4, 69)
    assert load_galaxy10_h5(sdss)[2] == list(GALAXY10_SDSS_CLASSES)


def test_galaxy10_bad_files(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=np.zeros((3, 8, 8, 3), np.uint8))
        f.create_dataset("ans", data=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        load_galaxy10_h5(path)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="junk.h5"):
        load_galaxy10_h5(junk)
