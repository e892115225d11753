"""Outputs every result shares: an Arrow table, pandas and Parquet, and the
saved files that read back as results (:meth:`ResultTable.save`,
:meth:`ResultTable.load`, :func:`load_result`).

A saved result is one Parquet file: a table of one row per bin (or
configuration, or shape) holding every count and the region tables
(fixed-size-list columns of one value per region, named ``"touch:DDD"``,
...), and in its schema metadata, under the key of its format
(``"astrograph.twopoint"``, ``"astrograph.triangles"``, ...), a JSON header:
the class, the format version, the package version, the bins, the weight
sums and everything else the class needs. A result that depends on pair
counts (triangles, quads) keeps them as a whole saved pair-count file under
the key ``"astrograph.pairs"`` (base64).
"""

from __future__ import annotations

import base64
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import InputError
from .norms import Norms

#: Metadata key of a result's embedded pair counts (a saved file, base64).
PAIRS_KEY = "astrograph.pairs"

#: Unit of the separations in headers: the positions' (plots say h^-1 Mpc).
UNITS = "Mpc/h (the positions' length unit)"

_T = TypeVar("_T", bound="ResultTable")

#: Result classes by name (every subclass of :class:`ResultTable`), for loading.
_CLASSES: dict[str, type[ResultTable]] = {}


def package_version() -> str:
    """The installed astrograph's version (``"0+unknown"`` in a bare source tree)."""
    try:
        return version("astrograph")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


class ResultTable:
    """Base of the result classes: subclasses give :meth:`to_arrow`, and
    :meth:`save` with the class's file format (``SAVE_FORMAT``, version
    ``SAVE_VERSION``)."""

    #: Metadata key of the JSON header of this class's saved files.
    SAVE_FORMAT: ClassVar[str] = ""
    #: Version of that format this package writes (and the newest it reads).
    SAVE_VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    def to_arrow(self) -> Any:
        """The result as a ``pyarrow.Table`` (one row per bin or shape)."""
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """The :meth:`to_arrow` table as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def save_parquet(self, path: str | Path) -> None:
        """Writes the :meth:`to_arrow` table (with its metadata) to Parquet
        (:meth:`save` writes a file that :meth:`load` reads back)."""
        pq.write_table(self.to_arrow(), path)

    def save(self, path: str | Path) -> None:
        """Writes everything needed to recompute every estimator and error
        bar to one Parquet file; :meth:`load` (or :func:`load_result`) reads
        it back."""
        raise NotImplementedError

    @classmethod
    def load(cls: type[_T], path: str | Path) -> _T:
        """Reads a result written by :meth:`save`: a result of this class (or
        of a subclass, the one that was saved).

        Raises :class:`~astrograph.errors.InputError` for a file that is not
        a saved result, holds another class, or was written in a newer file
        format than this package reads.
        """
        table, header, kind = _read(path)
        if not issubclass(kind, cls):
            raise InputError(
                f"{path} holds a {header['class']}, not a {cls.__name__}: read it with "
                f"{header['class']}.load or load_result"
            )
        return _build(kind, table, header, path)

    def _identity(self, complete: bool) -> dict[str, Any]:
        """The first keys of every saved header: file format and version,
        class, package version, and whether the file holds everything to
        recompute the result (``save``) or only its rows (``to_arrow``)."""
        return {
            "format": self.SAVE_FORMAT,
            "format_version": self.SAVE_VERSION,
            "class": type(self).__name__,
            "astrograph": package_version(),
            "complete": complete,
        }

    @classmethod
    def _from_saved(cls, table: Any, header: dict[str, Any], path: Any) -> Any:
        """The result from the table and header of a saved file."""
        raise NotImplementedError


def load_result(path: str | Path) -> Any:
    """Reads any result written by its ``save`` method, whatever its class
    (pair, projected, angular, triangle, quad counts or triangle
    multipoles): the class is the one stored in the file.

    Raises :class:`~astrograph.errors.InputError` for a file that is not a
    saved astrograph result or was written in a newer file format.
    """
    return ResultTable.load(path)


def _build(kind: type[ResultTable], table: Any, header: dict[str, Any], path: Any) -> Any:
    try:
        return kind._from_saved(table, header, path)
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(
            f"{path}: a damaged or incomplete saved {header.get('class')} ({exc!r})"
        ) from None


def _formats() -> dict[str, list[type[ResultTable]]]:
    out: dict[str, list[type[ResultTable]]] = {}
    for kind in _CLASSES.values():
        if kind.SAVE_FORMAT:
            out.setdefault(kind.SAVE_FORMAT, []).append(kind)
    return out


def _read(source: Any) -> tuple[Any, dict[str, Any], type[ResultTable]]:
    """(table, header, class) of a saved result, checked."""
    where = source if isinstance(source, (str, Path)) else "the embedded result"
    try:
        table = pq.read_table(source)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read a saved astrograph result from {where}: {exc}") from None
    meta = table.schema.metadata or {}
    formats = _formats()
    found = [f for f in formats if f.encode() in meta]
    if not found:
        raise InputError(
            f"{where} is not a saved astrograph result: its Parquet metadata has none of the "
            f"keys {', '.join(sorted(formats))} (write results with their save method)"
        )
    fmt = found[0]
    try:
        header = json.loads(meta[fmt.encode()])
    except ValueError as exc:
        raise InputError(f"{where}: unreadable {fmt} header ({exc})") from None
    if not isinstance(header, dict):
        raise InputError(f"{where}: the {fmt} header is not a JSON object")
    newest = max(k.SAVE_VERSION for k in formats[fmt])
    got = header.get("format_version", 0)
    if not isinstance(got, int) or got > newest:
        raise InputError(
            f"{where} was written in {fmt} format version {got} by astrograph "
            f"{header.get('astrograph', '?')}; this astrograph ({package_version()}) reads "
            f"versions up to {newest}: upgrade astrograph to read it"
        )
    kind = _CLASSES.get(header.get("class", ""))
    if kind is None or kind.SAVE_FORMAT != fmt:
        raise InputError(
            f"{where}: unknown result class {header.get('class')!r} in its {fmt} header"
        )
    if header.get("complete") is False:
        raise InputError(
            f"{where} holds the summary table of a {header['class']} (to_arrow or "
            "save_parquet), not the whole result: write it with save(path) to read it back"
        )
    return table, header, kind


# -- helpers of the subclasses' save and load ------------------------------------------------
def write(
    table: Any, header: dict[str, Any], path: Any, extra: dict[str, bytes] | None = None
) -> None:
    """Writes ``table`` with ``header`` (JSON, under its ``"format"`` key) and
    ``extra`` metadata to Parquet."""
    meta: dict[str, Any] = {header["format"]: json.dumps(header, allow_nan=True)}
    meta.update(extra or {})
    pq.write_table(table.replace_schema_metadata(meta), path)


def embed(result: ResultTable) -> bytes:
    """A result's saved file (its :meth:`~ResultTable.save`), base64, for the
    metadata of another result's file."""
    sink = pa.BufferOutputStream()
    result.save(sink)
    return base64.b64encode(sink.getvalue().to_pybytes())


def embedded(table: Any, path: Any, key: str = PAIRS_KEY) -> Any:
    """The result embedded by :func:`embed` under ``key`` of a saved file."""
    raw = (table.schema.metadata or {}).get(key.encode())
    if raw is None:
        raise InputError(f"{path}: the saved result has no {key} (its pair counts)")
    try:
        buf = pa.BufferReader(base64.b64decode(raw, validate=True))
    except ValueError as exc:
        raise InputError(f"{path}: unreadable {key} ({exc})") from None
    inner, header, kind = _read(buf)
    return _build(kind, inner, header, path)


def list_column(values: np.ndarray) -> Any:
    """A fixed-size-list column from (rows, K) values: one list of K per row."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    return pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1])


def list_values(table: Any, name: str, k: int) -> np.ndarray:
    """The (rows, K) values of a :func:`list_column` column."""
    col = table.column(name).combine_chunks()
    return np.asarray(col.flatten(), dtype=np.float64).reshape(-1, k)


def region_columns(tables: dict[str, np.ndarray], names: list[str], rows: Any) -> dict[str, Any]:
    """Columns ``"kind:name"`` of per-region tables: ``tables[kind]`` of shape
    (K, len(names), ...) taken at ``rows`` (an index of the trailing axes),
    one list of K values per row."""
    out = {}
    at = (slice(None), *rows)
    for kind, arr in tables.items():
        for t, name in enumerate(names):
            out[f"{kind}:{name}"] = list_column(arr[:, t][at].T)
    return out


def region_tables(
    table: Any, kind: str, names: list[str], k: int, shape: tuple[int, ...], rows: Any
) -> np.ndarray:
    """The (K, len(names), *shape) table ``kind`` from :func:`region_columns`
    (zero outside ``rows``)."""
    out = np.zeros((k, len(names), *shape))
    at = (slice(None), *rows)
    for t, name in enumerate(names):
        out[:, t][at] = list_values(table, f"{kind}:{name}", k).T
    return out


def column(table: Any, name: str, path: Any) -> np.ndarray:
    """A column of a saved result as a NumPy array; InputError if missing."""
    if name not in table.column_names:
        raise InputError(f"{path}: the saved result has no column {name!r}")
    return np.asarray(table.column(name).to_numpy())


def sums_json(sums: np.ndarray | None) -> list[list[float]] | None:
    """Per-region weight sums (K, 5) as JSON lists (None stays None)."""
    return None if sums is None else np.asarray(sums, dtype=np.float64).tolist()


def sums_array(v: Any) -> np.ndarray | None:
    """The inverse of :func:`sums_json`."""
    return None if v is None else np.asarray(v, dtype=np.float64).reshape(-1, 5)


def norms_json(n: Norms | None) -> list[float] | None:
    """A catalogue's :class:`Norms` as a JSON list [n, S1, S2, S3, S4]."""
    return None if n is None else [n.n, n.s1, n.s2, n.s3, n.s4]


def norms_of(v: Any) -> Norms | None:
    """The inverse of :func:`norms_json`."""
    return None if v is None else Norms(int(v[0]), *map(float, v[1:5]))


def write_ascii(
    path: str | Path, table: Any, names: list[str], lines: list[str], fmt: str = "%.12g"
) -> None:
    """A text table of the columns ``names`` of ``table`` (booleans as 0 and
    1), under a header of ``lines`` and the column names."""
    cols = [np.asarray(table.column(c).to_numpy(), dtype=np.float64) for c in names]
    data = np.column_stack(cols) if cols else np.zeros((0, 0))
    np.savetxt(
        path,
        data.reshape(table.num_rows, len(names)),
        header="\n".join([*lines, " ".join(names)]),
        fmt=fmt,
    )
