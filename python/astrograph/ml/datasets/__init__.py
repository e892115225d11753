"""Readers for the real survey samples and downloaders for the full public sets.

Names are resolved lazily from the submodules that hold them.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    # tables and downloads (sklearn half)
    "load_sdss_mgs_photoz": "astrograph.datasets.sdss",
    "load_sdss_dr14_classes": "astrograph.datasets.sdss",
    "load_galaxy_zoo_features": "astrograph.datasets.sdss",
    "skyserver_sql": "astrograph.datasets.download",
    "fetch_file": "astrograph.datasets.download",
    "fetch_galaxy10": "astrograph.datasets.download",
    "fetch_boss_dr12": "astrograph.datasets.download",
    "cache_dir": "astrograph.datasets.download",
    # images (neural-network half)
    "load_image_folder": "astrograph.datasets.images",
    "load_galaxy10_h5": "astrograph.datasets.images",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach("astrograph.datasets", _LAZY, globals())
