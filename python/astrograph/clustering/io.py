"""Catalogue file readers: one per format, each with ``column_names()``,
``row_count()`` and ``read(columns, rows)``.

Serial loading (:func:`~astrograph.clustering.catalog.read_catalog`) and MPI
loading (every rank reads its own row slice) go through these same readers,
so a file is accepted or refused the same way in both. Only the columns asked
for are read and converted: a text column elsewhere in the table is harmless,
a text column that is asked for is refused with its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..errors import CatalogFormatError

#: Suffix -> format name; anything else is read as plain ``x y z [w]`` text.
SUFFIXES = {
    ".fits": "fits",
    ".fit": "fits",
    ".fz": "fits",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "arrow",
    ".arrow": "arrow",
    ".ipc": "arrow",
    ".csv": "csv",
}
FORMATS = ("fits", "parquet", "arrow", "csv", "ascii")
#: Column names of plain ASCII files, by position.
ASCII_COLUMNS = ("x", "y", "z", "w")

Rows = tuple[int, int] | None


class Reader:
    """A table file read by columns and row ranges."""

    format = ""
    #: True when ``read(rows=...)`` reads only those rows (MPI ranks read
    #: slices in parallel); False when the whole file is parsed anyway.
    sliceable = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def column_names(self) -> list[str]:
        return self._guard(self._column_names)

    def row_count(self) -> int:
        return self._guard(self._row_count)

    def read(self, columns: list[str], rows: Rows = None) -> dict[str, np.ndarray]:
        """float64 arrays of ``columns`` for rows [start, stop) (all rows: None)."""
        names = self.column_names()
        absent = [c for c in columns if c not in names]
        if absent:
            raise CatalogFormatError(f"{self.path}: no column {absent[0]!r}; columns: {names}")
        return self._guard(self._read, list(columns), rows)

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (CatalogFormatError, FileNotFoundError):
            raise
        except Exception as exc:  # the parsers raise many types; name the file once
            raise CatalogFormatError(f"{self.path}: cannot read as {self.format}: {exc}") from exc

    def _column_names(self) -> list[str]:
        raise NotImplementedError

    def _row_count(self) -> int:
        raise NotImplementedError

    def _read(self, columns: list[str], rows: Rows) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _float(self, name: str, values: Any) -> np.ndarray:
        a = np.asarray(values)
        if a.ndim != 1 or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise CatalogFormatError(
                f"{self.path}: column {name!r} is not a numeric scalar column (type {a.dtype}"
                f"{'' if a.ndim == 1 else f', shape {a.shape[1:]} per row'})"
            )
        return a.astype(np.float64)


class FitsReader(Reader):
    format = "fits"

    def _hdu(self, hdul: Any) -> Any:
        for hdu in hdul:
            if getattr(hdu, "columns", None) is not None and hdu.header.get("NAXIS") == 2:
                return hdu
        raise CatalogFormatError(f"{self.path}: no table extension found")

    def _open(self) -> Any:
        from astropy.io import fits  # lazy: astropy takes a second to import

        return fits.open(self.path, memmap=True)

    def _column_names(self) -> list[str]:
        with self._open() as hdul:
            return list(self._hdu(hdul).columns.names)

    def _row_count(self) -> int:
        with self._open() as hdul:
            return int(self._hdu(hdul).header["NAXIS2"])

    def _read(self, columns: list[str], rows: Rows) -> dict[str, np.ndarray]:
        with self._open() as hdul:
            data = self._hdu(hdul).data
            sl = slice(None) if rows is None else slice(*rows)
            return {c: self._float(c, data[c][sl]) for c in columns}


class _ArrowTableReader(Reader):
    """Formats pyarrow reads as tables (numeric Arrow types become float64)."""

    def _table(self) -> Any:
        raise NotImplementedError

    def _schema(self) -> Any:
        return self._table().schema

    def _column_names(self) -> list[str]:
        return list(self._schema().names)

    def _row_count(self) -> int:
        return self._table().num_rows

    def _convert(self, table: Any, columns: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for c in columns:
            t = table.schema.field(c).type
            if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
                raise CatalogFormatError(
                    f"{self.path}: column {c!r} is not a numeric scalar column (type {t})"
                )
            out[c] = table.column(c).to_numpy().astype(np.float64)
        return out

    def _read(self, columns: list[str], rows: Rows) -> dict[str, np.ndarray]:
        table = self._table().select(columns)
        if rows is not None:
            table = table.slice(rows[0], rows[1] - rows[0])
        return self._convert(table, columns)


class ParquetReader(_ArrowTableReader):
    format = "parquet"

    def _file(self) -> Any:
        return pq.ParquetFile(self.path)

    def _schema(self) -> Any:
        return self._file().schema_arrow

    def _row_count(self) -> int:
        return self._file().metadata.num_rows

    def row_groups(self) -> np.ndarray:
        """Row bounds of the row groups: group i is rows [b[i], b[i + 1])."""
        return self._guard(lambda: _group_bounds(self._file().metadata))

    def _read(self, columns: list[str], rows: Rows) -> dict[str, np.ndarray]:
        pf = self._file()
        if rows is None:
            return self._convert(pf.read(columns=columns), columns)
        # only the row groups that overlap [start, stop)
        start, stop = rows
        bounds = _group_bounds(pf.metadata)
        groups = [i for i in range(len(bounds) - 1) if bounds[i] < stop and bounds[i + 1] > start]
        if not groups:
            return self._convert(pf.schema_arrow.empty_table().select(columns), columns)
        table = pf.read_row_groups(groups, columns=columns)
        table = table.slice(start - int(bounds[groups[0]]), stop - start)
        return self._convert(table, columns)


def _group_bounds(md: Any) -> np.ndarray:
    """Row bounds of a Parquet file's row groups (from its metadata)."""
    return np.cumsum([0] + [md.row_group(i).num_rows for i in range(md.num_row_groups)])


class ArrowReader(_ArrowTableReader):
    """Arrow IPC files (Feather v2) and IPC streams, memory-mapped."""

    format = "arrow"

    def _table(self) -> Any:
        try:
            return pa.ipc.open_file(pa.memory_map(str(self.path))).read_all()
        except pa.ArrowInvalid:
            return pa.ipc.open_stream(pa.memory_map(str(self.path))).read_all()


class CsvReader(_ArrowTableReader):
    format = "csv"
    sliceable = False

    def _table(self) -> Any:
        return pcsv.read_csv(self.path)


class AsciiReader(Reader):
    """Plain text, ``x y z [w]`` per line, ``#`` comments: the layout of the
    classic graph-based correlation codes. Columns are named x, y, z, w."""

    format = "ascii"
    sliceable = False

    def _array(self) -> np.ndarray:
        data = np.loadtxt(self.path, dtype=np.float64, comments="#", ndmin=2)
        if data.shape[1] not in (3, 4):
            raise CatalogFormatError(
                f"{self.path}: plain ASCII catalogues hold 3 (x y z) or 4 (x y z w) columns, "
                f"found {data.shape[1]}"
            )
        return data

    def _column_names(self) -> list[str]:
        return list(ASCII_COLUMNS[: self._array().shape[1]])

    def _row_count(self) -> int:
        return self._array().shape[0]

    def _read(self, columns: list[str], rows: Rows) -> dict[str, np.ndarray]:
        data = self._array()
        names = list(ASCII_COLUMNS[: data.shape[1]])
        sl = slice(None) if rows is None else slice(*rows)
        return {c: data[sl, names.index(c)] for c in columns}


_READERS: dict[str, type[Reader]] = {
    "fits": FitsReader,
    "parquet": ParquetReader,
    "arrow": ArrowReader,
    "csv": CsvReader,
    "ascii": AsciiReader,
}


def reader(path: str | Path, format: str | None = None) -> Reader:
    """The reader for ``path`` (format from the suffix unless given)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"catalogue file not found: {p}")
    if p.is_dir():
        raise CatalogFormatError(f"{p} is a directory, not a catalogue file")
    fmt = format or SUFFIXES.get(p.suffix.lower(), "ascii")
    if fmt not in _READERS:
        raise CatalogFormatError(f"unknown catalogue format {fmt!r}; known: {', '.join(FORMATS)}")
    return _READERS[fmt](p)
