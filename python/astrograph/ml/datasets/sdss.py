"""Readers for the small real SDSS / Galaxy Zoo tables.

Each reader takes ``path`` = the data file, the folder holding it, or the root
``data`` folder that holds the sample's sub-folder. With ``path=None`` the root
is taken from the ``ASTROGRAPH_DATA`` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ...errors import DatasetError, DatasetNotFoundError, InputError
from ..features import BANDS

__all__ = [
    "load_sdss_mgs_photoz",
    "load_sdss_dr14_classes",
    "load_galaxy_zoo_features",
    "MGS_COLUMNS",
]

#: True column order of SDSS_MGS.train/test. The ``#`` header line in the files
#: omits ``eu`` and so shifts every error label by one; we never trust it.
MGS_COLUMNS = (
    "zs", "u", "g", "r", "i", "z", "u-g", "g-r", "r-i", "i-z",
    "eu", "eg", "er", "ei", "ez", "eu-g", "eg-r", "er-i", "ei-z",
)  # fmt: skip

DR14_COLUMNS = (
    "objid", "ra", "dec", "u", "g", "r", "i", "z", "run", "rerun", "camcol", "field",
    "specobjid", "class", "redshift", "plate", "mjd", "fiberid",
)  # fmt: skip

DR14_CLASSES = ("GALAXY", "QSO", "STAR")
GZ_CLASSES = ("elliptical", "merger", "spiral")


def _resolve(path: str | os.PathLike | None, subdir: str, filename: str) -> Path:
    """Find ``filename`` given a file, its folder, or the data root."""
    if path is None:
        root = os.environ.get("ASTROGRAPH_DATA")
        if not root:
            raise InputError(
                f"no path given and ASTROGRAPH_DATA is not set; pass the path of {filename} "
                "or of the shared data folder"
            )
        path = root
    p = Path(path).expanduser()
    for cand in (p, p / filename, p / subdir / filename):
        if cand.is_file():
            return cand
    raise DatasetNotFoundError(f"{filename} not found at {p} (nor in {p / subdir})")


def load_sdss_mgs_photoz(path: str | os.PathLike | None = None, split: str = "train") -> Bunch:
    """Read the SDSS Main Galaxy Sample photo-z table (``SDSS_MGS.train`` / ``.test``).

    Parameters
    ----------
    path : path-like, optional
        The file itself, the ``sdss_mgs_photoz`` folder, or the data root.
        When ``path`` is a file, ``split`` is ignored.
    split : {"train", "test"}
        Which file to read when ``path`` is a folder.

    Returns
    -------
    sklearn.utils.Bunch
        ``mags`` (N, 5) ugriz model magnitudes, ``mag_errors`` (N, 5) their 1-sigma
        errors, ``z_spec`` (N,) spectroscopic redshifts and ``frame`` (all 19
        columns with their correct names, see :data:`MGS_COLUMNS`).
    """
    if split not in ("train", "test"):
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    file = _resolve(path, "sdss_mgs_photoz", f"SDSS_MGS.{split}")
    frame = pd.read_csv(file, sep=r"\s+", comment="#", header=None)
    if frame.shape[1] != len(MGS_COLUMNS):
        raise DatasetError(
            f"{file} has {frame.shape[1]} columns; expected {len(MGS_COLUMNS)} ({' '.join(MGS_COLUMNS)})"
        )
    frame.columns = list(MGS_COLUMNS)
    return Bunch(
        mags=frame[list(BANDS)].to_numpy(float),
        mag_errors=frame[["e" + b for b in BANDS]].to_numpy(float),
        z_spec=frame["zs"].to_numpy(float),
        frame=frame,
        bands=BANDS,
        path=file,
    )


def load_sdss_dr14_classes(path: str | os.PathLike | None = None) -> Bunch:
    """Read the SDSS DR14 star / galaxy / QSO table (``skyserver_dr14_10k.csv``).

    Returns
    -------
    sklearn.utils.Bunch
        ``mags`` (N, 5) ugriz, ``labels`` (N,) strings in {GALAXY, QSO, STAR},
        ``redshift`` (N,), ``frame`` (all columns) and ``classes``.
    """
    file = _resolve(path, "sdss_dr14_classes", "skyserver_dr14_10k.csv")
    frame = pd.read_csv(file)
    missing = [c for c in (*BANDS, "class") if c not in frame.columns]
    if missing:
        raise DatasetError(f"{file} lacks columns {missing}; has {list(frame.columns)}")
    labels = frame["class"].to_numpy(str)
    unknown = sorted(map(str, set(labels) - set(DR14_CLASSES)))
    if unknown:
        raise DatasetError(f"{file} has unknown class labels {unknown}")
    return Bunch(
        mags=frame[list(BANDS)].to_numpy(float),
        labels=labels,
        redshift=frame["redshift"].to_numpy(float),
        frame=frame,
        classes=DR14_CLASSES,
        bands=BANDS,
        path=file,
    )


def load_galaxy_zoo_features(path: str | os.PathLike | None = None) -> Bunch:
    """Read the Galaxy Zoo morphology feature table (``galaxy_catalogue.npy``).

    Returns
    -------
    sklearn.utils.Bunch
        ``features`` (780, 16) float array, ``feature_names`` (16 names),
        ``labels`` (780,) strings in {elliptical, merger, spiral} and ``frame``.
    """
    file = _resolve(path, "galaxy_zoo_features", "galaxy_catalogue.npy")
    arr = np.load(file, allow_pickle=False)
    if arr.dtype.names is None or "class" not in arr.dtype.names:
        raise DatasetError(f"{file} is not a structured array with a 'class' field")
    names = [n for n in arr.dtype.names if n != "class"]
    features = np.column_stack([arr[n].astype(float) for n in names])
    labels = arr["class"].astype(str)
    unknown = sorted(map(str, set(labels) - set(GZ_CLASSES)))
    if unknown:
        raise DatasetError(f"{file} has unknown class labels {unknown}")
    frame = pd.DataFrame(features, columns=names)
    frame["class"] = labels
    return Bunch(
        features=features,
        feature_names=names,
        labels=labels,
        frame=frame,
        classes=GZ_CLASSES,
        path=file,
    )
