"""Turning user input into the arrays the core expects, with clear errors:
positions, weights, periodic box, line of sight, threads and the memory budget.

This is the bottom of the clustering layers: it knows nothing of catalogues,
graphs or results. Anything with ``positions`` and ``weights`` attributes (a
:class:`~astrograph.clustering.catalog.Catalog`) is read through them.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import BoxError, InputError

#: Default memory budget: this fraction of the memory available now.
DEFAULT_MEMORY_FRACTION = 0.5


def _unwrap(arr: Any) -> Any:
    """A catalogue object's positions; anything else as it is."""
    pos = getattr(arr, "positions", None)
    return arr if pos is None or isinstance(arr, np.ndarray) else pos


def _real(arr: Any, what: str) -> np.ndarray:
    """``arr`` as float64, refusing complex numbers (their imaginary part
    would otherwise be dropped silently) and non-numbers."""
    raw = np.asarray(arr)
    if np.iscomplexobj(raw):
        raise InputError(f"{what} are complex numbers; pass real coordinates and weights")
    if raw.dtype.kind not in "biuf":
        raise InputError(f"{what} must be numbers, got an array of {raw.dtype}")
    return raw.astype(np.float64, copy=False)


def positions(arr: Any, what: str) -> np.ndarray:
    """(N, 3) coordinates -> C-contiguous (3, N) float64, refusing bad values."""
    try:
        a = _real(_unwrap(arr), f"{what} positions")
    except InputError:
        raise
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} positions cannot be read as numbers: {exc}") from None
    if a.ndim != 2 or a.shape[1] != 3:
        raise InputError(f"{what} positions must have shape (N, 3), got {a.shape}")
    if a.shape[0] == 0:
        raise InputError(f"the {what} catalogue is empty")
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise InputError(
            f"{what} positions contain NaN or inf in {idx.size} rows (first: row {idx[0]})"
        )
    return np.ascontiguousarray(a.T)


def weights(w: Any, n: int, what: str) -> np.ndarray | None:
    """Optional per-point weights: 1-D, length n, finite, >= 0."""
    if w is None:
        return None
    try:
        a = np.ascontiguousarray(_real(w, f"{what} weights"))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{what} weights cannot be read as numbers: {exc}") from None
    if a.ndim != 1 or a.size != n:
        raise InputError(
            f"{what} weights must have shape ({n},) to match the positions, got {a.shape}"
        )
    if not np.isfinite(a).all():
        raise InputError(
            f"{what} weights contain NaN or inf (first: {np.flatnonzero(~np.isfinite(a))[0]})"
        )
    if (a < 0).any():
        raise InputError(
            f"{what} weights must be >= 0 (first negative: {np.flatnonzero(a < 0)[0]})"
        )
    return a


def catalogue_weights(cat: Any, w: Any) -> Any:
    """Weights given explicitly win over those carried by a catalogue object."""
    if w is None and not isinstance(cat, np.ndarray):
        return getattr(cat, "weights", None)
    return w


def boxsize_and_los(boxsize: float | None, los: str | None) -> tuple[float | None, str]:
    """Resolves the default line of sight: midpoint for surveys, z for boxes."""
    if boxsize is not None:
        boxsize = float(boxsize)
        if not (np.isfinite(boxsize) and boxsize > 0):
            raise BoxError(f"boxsize must be a positive finite size, got {boxsize}")
    if los is None:
        los = "z" if boxsize is not None else "midpoint"
    if los not in ("midpoint", "z"):
        raise InputError(f"los must be 'midpoint' or 'z', got {los!r}")
    return boxsize, los


#: More threads than this many per core is refused: each call would start
#: that many OS threads for no gain.
MAX_THREADS_PER_CORE = 8


def num_threads(n: int | None) -> int | None:
    """None (all cores) or a positive thread count, at most 8 per core."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"num_threads must be a positive integer or None, got {n!r}")
    cores = os.cpu_count() or 1
    if n > MAX_THREADS_PER_CORE * cores:
        raise InputError(
            f"num_threads={n} is more than {MAX_THREADS_PER_CORE} per core on this machine "
            f"({cores} cores); use at most {MAX_THREADS_PER_CORE * cores}, or None for all cores"
        )
    return int(n)


def catalogues(data, randoms, data_weights, random_weights, boxsize, los):
    """Validates data, optional randoms, their weights, box and line of sight.

    Returns (d, dw, r, rw, boxsize, los) with positions as (3, N) arrays.
    """
    if randoms is None and random_weights is not None:
        raise InputError("random_weights were given without randoms")
    boxsize, los = boxsize_and_los(boxsize, los)
    d = positions(data, "data")
    dw = weights(catalogue_weights(data, data_weights), d.shape[1], "data")
    r = rw = None
    if randoms is not None:
        r = positions(randoms, "random")
        rw = weights(catalogue_weights(randoms, random_weights), r.shape[1], "random")
    return d, dw, r, rw, boxsize, los


def available_memory() -> int:
    """Bytes of memory available to this process now (physical RAM as fallback)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


_UNITS = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})


def budget(max_memory: int | float | str | None) -> int | None:
    """Bytes allowed: "auto" (or None) is half the memory available now,
    "unlimited" (or inf) no limit, a number (or a string such as "2GB" or
    "512 MiB") that many bytes."""
    if max_memory is None or max_memory == "auto":
        return int(DEFAULT_MEMORY_FRACTION * available_memory())
    if max_memory == "unlimited":
        return None
    value = max_memory
    if isinstance(max_memory, str):
        text = max_memory.strip().lower().replace(" ", "")
        number = text.rstrip("kmgtib")
        unit = text[len(number) :]
        try:
            value = float(number) * _UNITS[unit]
        except (KeyError, ValueError):
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(
            f'max_memory must be a number of bytes, a size such as "2GB", "auto" or "unlimited"; '
            f"got {max_memory!r}"
        )
    if value == float("inf"):
        return None
    if not value > 0 or not np.isfinite(value):
        raise InputError(f"max_memory must be a positive number of bytes, got {max_memory!r}")
    return int(value)
