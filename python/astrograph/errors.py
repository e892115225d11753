"""Exceptions raised by astrograph.

Every error the Rust core reports is mapped once to one of these classes.
They also derive from the matching built-in (``ValueError``, ``MemoryError``,
...), so existing ``except ValueError`` code keeps working.

Examples
--------
Catch every astrograph error, or one kind, or the built-in it derives from:

>>> import astrograph as ag
>>> from astrograph.errors import AstrographError, BinningError
>>> try:
...     ag.Bins.linear(10.0, 1.0, 5)
... except BinningError as exc:
...     print(exc)
rmin (10.0) must be smaller than rmax (1.0)
>>> issubclass(BinningError, ValueError) and issubclass(BinningError, AstrographError)
True
"""

from __future__ import annotations


class AstrographError(Exception):
    """Base class of all astrograph errors."""


class InputError(AstrographError, ValueError):
    """Bad catalogue input: shapes, NaN/inf positions, weights, empty catalogues."""


class BinningError(InputError):
    """Bin edges or separation limits that cannot be used (rmin >= rmax, unsorted edges...)."""


class BoxError(InputError):
    """A periodic box that does not fit the points or the search radius (rmax >= box/2)."""


class MemoryBudgetError(AstrographError, MemoryError):
    """The graph or a count table would exceed the memory budget."""


class GraphFormatError(AstrographError, ValueError):
    """A graph file that is corrupt, truncated, foreign or of an unsupported version."""


class CatalogFormatError(InputError):
    """A catalogue file that cannot be read or lacks the needed columns."""


class MPIError(AstrographError, RuntimeError):
    """A failure on one MPI rank, reported on every rank."""


class AstrographWarning(UserWarning):
    """Input that runs but probably gives the wrong science: catalogues that
    look like (RA, Dec, z) stacked as Cartesian positions, data and randoms
    with different extents, far fewer randoms than galaxies (see "Sanity
    checks" in the conventions). Silence it with
    ``warnings.simplefilter("ignore", AstrographWarning)``; make it an error
    with ``"error"``."""


__all__ = [
    "AstrographError",
    "InputError",
    "BinningError",
    "BoxError",
    "MemoryBudgetError",
    "GraphFormatError",
    "CatalogFormatError",
    "MPIError",
    "AstrographWarning",
]


# --------------------------------------------------------------------------- machine learning
class NotFittedError(AstrographError, ValueError, AttributeError):
    """A model used before ``fit`` (or ``load``); same built-in bases as scikit-learn's."""


class DatasetError(InputError):
    """A data set file or folder that cannot be read, or holds unexpected columns or labels."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data set file or folder that does not exist (also a ``FileNotFoundError``)."""


class CheckpointError(AstrographError, ValueError):
    """A model checkpoint that is missing, corrupt or does not match the model."""


class TrainingError(AstrographError, FloatingPointError):
    """Training diverged: the loss became NaN or infinite."""


class DownloadError(AstrographError, RuntimeError):
    """A download failed after all retries."""


class ChecksumError(DownloadError):
    """A downloaded or cached file's sha256 does not match the expected value."""


class OfflineError(DownloadError):
    """Offline mode is on and the file is not in the cache."""


__all__ += [
    "NotFittedError",
    "DatasetError",
    "DatasetNotFoundError",
    "CheckpointError",
    "TrainingError",
    "DownloadError",
    "ChecksumError",
    "OfflineError",
]


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A model checkpoint file that does not exist (also a ``FileNotFoundError``)."""


__all__ += ["CheckpointNotFoundError"]
