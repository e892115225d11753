"""Readers for the real survey samples and downloaders for the full public sets.

Names are resolved lazily from the submodules that hold them.
"""

from __future__ import annotations

from ..._lazy import attach

_MODULES = {
    # tables (scikit-learn half)
    "astrograph.ml.datasets.sdss": (
        "load_galaxy_zoo_features",
        "load_sdss_dr14_classes",
        "load_sdss_mgs_photoz",
    ),
    # downloads
    "astrograph.ml.datasets.download": (
        "cache_dir",
        "fetch_boss_dr12",
        "fetch_file",
        "fetch_galaxy10",
        "skyserver_sql",
    ),
    # images (neural-network half)
    "astrograph.ml.datasets.images": ("load_galaxy10_h5", "load_image_folder"),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach("astrograph.ml.datasets", _LAZY, globals())
