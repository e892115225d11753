"""Image data sets: a folder of JPEG/PNG files per class, and the Galaxy10 HDF5 files.

Images come back as ``float32`` arrays of shape ``(n, size, size, 3)`` scaled to
``[0, 1]`` (channels last, the layout Flax convolutions expect).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DatasetError, DatasetNotFoundError, InputError

__all__ = [
    "load_image_folder",
    "load_galaxy10_h5",
    "read_image",
    "galaxy_crop_side",
    "GALAXY_CROP_HALF_LIGHT_RADII",
    "GALAXY_CROP_MIN_FRACTION",
    "IMAGE_EXTENSIONS",
    "GALAXY10_SDSS_CLASSES",
    "GALAXY10_DECALS_CLASSES",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

# Class names in label order, from the Galaxy10 documentation (Leung & Bovy).
GALAXY10_SDSS_CLASSES = (
    "Disk, Face-on, No Spiral",
    "Smooth, Completely round",
    "Smooth, in-between round",
    "Smooth, Cigar shaped",
    "Disk, Edge-on, Rounded Bulge",
    "Disk, Edge-on, Boxy Bulge",
    "Disk, Edge-on, No Bulge",
    "Disk, Face-on, Tight Spiral",
    "Disk, Face-on, Medium Spiral",
    "Disk, Face-on, Loose Spiral",
)
GALAXY10_DECALS_CLASSES = (
    "Disturbed",
    "Merging",
    "Round Smooth",
    "In-between Round Smooth",
    "Cigar Shaped Smooth",
    "Barred Spiral",
    "Unbarred Tight Spiral",
    "Unbarred Loose Spiral",
    "Edge-on without Bulge",
    "Edge-on with Bulge",
)


#: The "galaxy" crop frames this many half-light radii of the central source:
#: on the Galaxy Zoo 2 cut-outs (scaled to each galaxy's Petrosian radius) the
#: median galaxy then gets the 200-px crop that trained best at a fixed size.
GALAXY_CROP_HALF_LIGHT_RADII = 5.7
#: ... but never less than this fraction of the short side.
GALAXY_CROP_MIN_FRACTION = 0.35


def galaxy_crop_side(image: np.ndarray) -> int:
    """Side in pixels of a centre crop that frames the central galaxy.

    The sky level and noise come from the image's border (median and MAD of a
    frame 1/32 of the side wide); the galaxy is the connected set of pixels
    more than 3 noise levels above the sky that reaches the central pixels.
    The side is :data:`GALAXY_CROP_HALF_LIGHT_RADII` times its half-light
    radius about the centre, clipped to [:data:`GALAXY_CROP_MIN_FRACTION`, 1]
    times the short side (the whole short side when nothing is detected).

    Parameters
    ----------
    image : ndarray, shape (h, w) or (h, w, channels)
        Pixel values (any scale); channels are averaged.
    """
    from scipy import ndimage  # lazy: only the galaxy crop needs scipy here

    g = np.asarray(image, dtype=np.float64)
    if g.ndim == 3:
        g = g.mean(axis=-1)
    if g.ndim != 2 or min(g.shape) < 4:
        raise InputError(f"galaxy_crop_side needs a 2-D image of at least 4x4, got {g.shape}")
    if not np.isfinite(g).all():
        raise InputError("galaxy_crop_side: the image has NaN or infinite pixels")
    h, w = g.shape
    short = min(h, w)
    b = max(1, short // 32)  # the border frame's width and the centre's half-side
    frame = np.concatenate([g[:b].ravel(), g[-b:].ravel(), g[:, :b].ravel(), g[:, -b:].ravel()])
    sky = np.median(frame)
    # One grey level of an 8-bit image at least: JPEG skies can be perfectly flat.
    noise = max(1.4826 * np.median(np.abs(frame - sky)), (g.max() - g.min()) / 255.0)
    lab, _ = ndimage.label(g > sky + 3.0 * noise)
    centre = lab[h // 2 - b : h // 2 + b + 1, w // 2 - b : w // 2 + b + 1]
    ids = np.unique(centre[centre > 0])
    if len(ids) == 0:
        return short
    yy, xx = np.nonzero(np.isin(lab, ids))
    flux = g[yy, xx] - sky
    r = np.hypot(yy - (h - 1) / 2.0, xx - (w - 1) / 2.0)
    order = np.argsort(r)
    cum = np.cumsum(flux[order])
    r50 = r[order][np.searchsorted(cum, 0.5 * cum[-1])]
    side = round(GALAXY_CROP_HALF_LIGHT_RADII * r50)
    return int(np.clip(side, max(1, round(GALAXY_CROP_MIN_FRACTION * short)), short))


def _crop_box(
    width: int, height: int, crop: int | float | str | None, pixels: Any = None
) -> tuple[int, int, int, int]:
    """Centre box of side ``crop`` pixels (int), ``crop`` x the short side
    (float), framing the galaxy in ``pixels`` ("galaxy") or the short side (None)."""
    short = min(width, height)
    if isinstance(crop, str):
        if crop != "galaxy":
            raise InputError(
                f"crop must be 'galaxy', a number of pixels, a fraction or None, got {crop!r}"
            )
        side = galaxy_crop_side(np.asarray(pixels))
    elif crop is None:
        side = short
    elif isinstance(crop, float):
        if not 0.0 < crop <= 1.0:
            raise InputError(f"crop as a fraction must be in (0, 1], got {crop}")
        side = max(1, round(crop * short))
    else:
        if crop < 1:
            raise InputError(f"crop in pixels must be >= 1, got {crop}")
        side = min(int(crop), short)
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def read_image(
    path: str | Path, size: int | None = 64, crop: int | float | str | None = "galaxy"
) -> np.ndarray:
    """Read one JPEG/PNG file: centre crop, resize to ``size`` x ``size``, scale to [0, 1].

    Parameters
    ----------
    path : str or Path
        Image file.
    size : int or None
        Output side in pixels; ``None`` keeps the cropped size.
    crop : "galaxy", int, float or None
        Side of the centre crop: "galaxy" (default) frames the central galaxy
        (:func:`galaxy_crop_side`), an int is in pixels, a float a fraction of
        the short side; ``None`` crops to the central square.

    Returns
    -------
    ndarray of float32, shape (size, size, 3)

    Raises
    ------
    astrograph.errors.DatasetError
        A ``ValueError``, if the file cannot be decoded (the message names the file).
    """
    from PIL import Image, UnidentifiedImageError  # lazy: only the image readers need Pillow

    path = Path(path)
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            pixels = np.asarray(img) if isinstance(crop, str) else None
            img = img.crop(_crop_box(img.width, img.height, crop, pixels))
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.LANCZOS)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DatasetError(f"cannot read image file {path}: {exc}") from exc
    return arr


def _folder_files(root: Path, class_names: Sequence[str]) -> list[tuple[Path, int]]:
    files = []
    for label, name in enumerate(class_names):
        for f in sorted((root / name).iterdir()):
            if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS:
                files.append((f, label))
    return files


def load_image_folder(
    path: str | Path,
    size: int | None = 64,
    crop: int | float | str | None = "galaxy",
    classes: Sequence[str] | None = None,
    cache: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a folder holding one sub-folder of JPEG/PNG images per class.

    Parameters
    ----------
    path : str or Path
        Root folder; every sub-folder is a class (sorted by name unless ``classes``).
    size : int or None
        Output side in pixels (images are square after the centre crop).
    crop : "galaxy", int, float or None
        Centre crop before resizing. "galaxy" (default) frames each image's
        central galaxy, about 6 half-light radii (:func:`galaxy_crop_side`), so the
        resolution goes where the galaxy is: on the Galaxy Zoo 424 x 424 cut-outs
        the galaxy fills the central ~200 px (the median crop is 200 px). An int
        crops that many pixels, a float that fraction of the short side, None the
        whole short side.
    classes : sequence of str, optional
        Sub-folders to use, in label order.
    cache : str or Path, optional
        A ``.npz`` file: decoded arrays are stored there and reused while the
        file list and settings are unchanged (decoding JPEGs dominates load time).

    Returns
    -------
    images : ndarray of float32, shape (n, size, size, 3), values in [0, 1]
    labels : ndarray of int64, shape (n,)
    class_names : list of str
    """
    root = Path(path)
    if not root.is_dir():
        raise DatasetNotFoundError(f"image folder not found: {root}")
    if classes is None:
        class_names = sorted(p.name for p in root.iterdir() if p.is_dir())
    else:
        class_names = list(classes)
        for name in class_names:
            if not (root / name).is_dir():
                raise DatasetNotFoundError(f"class folder not found: {root / name}")
    if not class_names:
        raise DatasetError(f"no class sub-folders in {root}")
    files = _folder_files(root, class_names)
    if not files:
        raise DatasetError(f"no {'/'.join(IMAGE_EXTENSIONS)} images under {root}")

    key = hashlib.sha256(
        repr((size, crop, class_names, [(f.name, f.stat().st_size, y) for f, y in files])).encode()
    ).hexdigest()
    if cache is not None and Path(cache).is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["key"]) == key:
                return z["images"], z["labels"], class_names

    images = np.stack([read_image(f, size=size, crop=crop) for f, _ in files])
    labels = np.array([y for _, y in files], dtype=np.int64)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(cache) + ".tmp.npz")
        np.savez(tmp, images=images, labels=labels, key=np.array(key))
        tmp.replace(cache)
    return images, labels, class_names


def load_galaxy10_h5(
    path: str | Path,
    size: int | None = None,
    crop: int | float | None = None,
    max_images: int | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a Galaxy10 HDF5 file (SDSS 69 x 69 or DECaLS 256 x 256 edition).

    The file holds ``images`` (n, h, w, 3) uint8 and ``ans`` (n,) integer labels.

    Parameters
    ----------
    path : str or Path
        ``Galaxy10.h5`` or ``Galaxy10_DECals.h5``.
    size : int or None
        Resize to ``size`` x ``size`` after the optional centre crop.
    crop : int, float or None
        Centre crop, in pixels or as a fraction of the side.
    max_images : int, optional
        Read only the first ``max_images`` galaxies.

    Returns
    -------
    images : ndarray of float32, shape (n, size, size, 3), values in [0, 1]
    labels : ndarray of int64, shape (n,)
    class_names : list of str
        The ten Galaxy10 classes of the edition (chosen by the image size).
    """
    import h5py  # lazy: optional, heavy, and only needed for the Galaxy10 files
    from PIL import Image  # lazy: only the image readers need Pillow

    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"Galaxy10 file not found: {path}")
    try:
        with h5py.File(path, "r") as f:
            for name in ("images", "ans"):
                if name not in f:
                    raise DatasetError(f"{path}: missing dataset {name!r} (not a Galaxy10 file?)")
            sl = slice(None) if max_images is None else slice(0, int(max_images))
            raw = np.asarray(f["images"][sl])
            labels = np.asarray(f["ans"][sl]).astype(np.int64)
    except OSError as exc:
        raise DatasetError(f"cannot read HDF5 file {path}: {exc}") from exc
    if raw.ndim != 4 or raw.shape[-1] != 3:
        raise DatasetError(f"{path}: 'images' must have shape (n, h, w, 3), got {raw.shape}")
    if len(raw) != len(labels):
        raise DatasetError(f"{path}: {len(raw)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = int(np.flatnonzero((labels < 0) | (labels > 9))[0])
        raise DatasetError(f"{path}: label {labels[bad]} at index {bad} outside 0..9")
    class_names = list(GALAXY10_SDSS_CLASSES if raw.shape[1] <= 100 else GALAXY10_DECALS_CLASSES)

    h, w = raw.shape[1:3]
    if crop is None and (size is None or size == h == w):
        return raw.astype(np.float32) / 255.0, labels, class_names
    box = _crop_box(w, h, crop)
    out = []
    for im in raw:
        img = Image.fromarray(np.ascontiguousarray(im, dtype=np.uint8)).crop(box)
        if size is not None:
            img = img.resize((size, size), Image.Resampling.LANCZOS)
        out.append(np.asarray(img, dtype=np.float32) / 255.0)
    return np.stack(out), labels, class_names
