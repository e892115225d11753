"""Random catalogues read from a file one split at a time.

A survey's randoms outnumber its galaxies 20 to 50 times and are counted as
splits (Keihänen et al. 2019): random-random pairs within each split only,
data-random pairs over all of them. :class:`RandomSplits` names the splits
of one file (by default a Parquet file's row groups) without reading them;
the two-point counts then read one split, count its pairs with the data and
within itself against the totals so far, and drop it before reading the
next. A random catalogue larger than memory streams through, and the counts
are the same bits as those of a list of the same splits held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .catalog import Catalog, CatalogFile, catalog_from_columns
from .io import ParquetReader, reader


class RandomSplits:
    """The random splits of one catalogue file, read one at a time.

    Parameters
    ----------
    path : str or Path
        A catalogue file that can be read by row ranges: Parquet, Feather /
        Arrow IPC or FITS (CSV and plain text are parsed whole; read them
        with :func:`read_catalog` and pass a list of catalogues instead).
    splits : int, optional
        Cut the rows into this many consecutive splits of (nearly) equal
        size. Default for Parquet: one split per row group (write the file
        with ``row_group_size`` = the split size); required otherwise.
    format, columns, coords, weight, cosmology, zrange
        How to read the file, as for :func:`read_catalog`; ``weight`` names
        the weight column(s) of the randoms.

    Examples
    --------
    >>> import astrograph as ag  # doctest: +SKIP
    >>> ag.count_pairs(data, ag.RandomSplits("randoms.parquet"), bins=bins)  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path,
        *,
        splits: int | None = None,
        format: str | None = None,
        columns: Any = None,
        coords: str | None = None,
        weight: str | Sequence[str] | bool | None = None,
        cosmology: Any = None,
        zrange: Any = None,
    ) -> None:
        self.file = CatalogFile(path, format=format, columns=columns, coords=coords, weight=weight)
        self.cosmology = cosmology
        self.zrange = zrange
        self._reader = reader(path, format)
        if not self._reader.sliceable:
            raise InputError(
                f"{path}: a {self._reader.format} file is parsed whole, not read by row ranges; "
                "read it with read_catalog and pass a list of catalogues as random splits, or "
                "convert it to Parquet"
            )
        self._choice = self.file.choose(self._reader)  # refuses ambiguous columns now
        self.bounds = self._bounds(splits)

    def _bounds(self, splits: int | None) -> np.ndarray:
        """Row bounds of the splits: split k is rows [bounds[k], bounds[k + 1])."""
        n = self._reader.row_count()
        if n == 0:
            raise InputError(f"{self.file.path}: the random catalogue is empty")
        if splits is None:
            if not isinstance(self._reader, ParquetReader):
                raise InputError(
                    f"{self.file.path}: give splits= (the number of random splits); only a "
                    "Parquet file's row groups make the splits by default"
                )
            return np.unique(self._reader.row_groups())  # empty row groups make no split
        if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or splits < 1:
            raise InputError(f"splits must be a positive number of splits, got {splits!r}")
        if splits > n:
            raise InputError(f"{self.file.path}: {splits} splits of {n} rows leave some empty")
        return np.linspace(0, n, int(splits) + 1).round().astype(np.int64)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __iter__(self) -> Iterator[Catalog]:
        return (self.read(k) for k in range(len(self)))

    def __repr__(self) -> str:
        return f"RandomSplits({str(self.file.path)!r}, {len(self)} splits of {self.rows(0)} rows)"

    def rows(self, k: int) -> int:
        """The number of rows of split ``k`` (before a ``zrange`` cut)."""
        return int(self.bounds[k + 1] - self.bounds[k])

    def row_count(self) -> int:
        """Rows of every split together."""
        return int(self.bounds[-1])

    def read(self, k: int) -> Catalog:
        """Split ``k`` as a catalogue."""
        if not 0 <= k < len(self):
            raise IndexError(f"split {k} of {len(self)}")
        rows = (int(self.bounds[k]), int(self.bounds[k + 1]))
        cols = self._reader.read(self._choice.names, rows)
        where = f"{self.file.path} (split {k}, rows {rows[0]}-{rows[1] - 1})"
        return catalog_from_columns(
            cols, self._choice, self.cosmology, where=where, zrange=self.zrange
        )
