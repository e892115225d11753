"""The graph's file: one Arrow IPC record batch with a checksum in its metadata.

The checksum (CRC-32) covers every byte that affects a result: the column
buffers, the schema and every metadata entry (rmax, los, counts...). Saves
are atomic (a temporary file beside the target, renamed over it, removed on
any failure). Loads refuse files that are not astrograph graphs, are
truncated, carry no checksum or a wrong one (``verify=False`` skips the
check, for files written by other tools).

Loading reads the file into memory by default: a graph then does not change
if its file is overwritten or truncated later. ``mmap=True`` maps the file
instead (no copy, pages read on demand); the file must then stay unchanged
while the graph is in use — truncating a mapped file makes the operating
system end the process with SIGBUS, which no library can catch.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import GraphFormatError

CHECKSUM_KEY = b"astrograph.checksum"
#: Column names and types of a graph file (mu is optional).
COLUMNS = {
    "x": pa.float64(),
    "y": pa.float64(),
    "z": pa.float64(),
    "weight": pa.float64(),
    "is_random": pa.uint8(),
    "index": pa.uint64(),
    "buffer": pa.uint8(),
    "region": pa.uint32(),
    "degree": pa.uint32(),
    "tracer": pa.uint8(),
    "neighbours": pa.large_list(pa.field("item", pa.uint32(), nullable=False)),
    "separation": pa.large_list(pa.field("item", pa.float32(), nullable=False)),
    "mu": pa.large_list(pa.field("item", pa.float16(), nullable=False)),
}
#: The key of files saved before the checksum covered the metadata.
_OLD_KEY = b"astrograph.crc32"


def checksum(batch: Any) -> str:
    """``crc32:<n>`` of the schema, every metadata entry but the checksum and
    every column's values (and list offsets), without copies."""
    meta = {k: v for k, v in (batch.schema.metadata or {}).items() if k != CHECKSUM_KEY}
    crc = zlib.crc32(str(batch.schema.remove_metadata()).encode())
    for k, v in sorted(meta.items()):
        crc = zlib.crc32(len(k).to_bytes(8, "little") + k + len(v).to_bytes(8, "little") + v, crc)
    for col in batch.columns:
        parts = [col.offsets, col.values] if hasattr(col, "offsets") else [col]
        for arr in parts:
            crc = zlib.crc32(
                memoryview(np.ascontiguousarray(arr.to_numpy(zero_copy_only=True))).cast("B"), crc
            )
    return f"crc32:{crc}"


def save(batch: Any, path: str | Path) -> None:
    """Writes ``batch`` with its checksum, atomically."""
    meta = dict(batch.schema.metadata or {})
    meta.pop(_OLD_KEY, None)
    meta[CHECKSUM_KEY] = checksum(batch.replace_schema_metadata(meta)).encode()
    batch = batch.replace_schema_metadata(meta)
    tmp = Path(f"{path}.tmp-{os.getpid()}")
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
            writer.write_batch(batch)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: str | Path, *, mmap: bool, verify: bool) -> Any:
    """The record batch of a graph file, checked against its checksum."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"graph file not found: {p}")
    with open(p, "rb") as f:
        if f.read(6) != b"ARROW1":
            raise GraphFormatError(f"{p}: not a readable Arrow IPC graph file (bad magic bytes)")
    try:
        source = pa.memory_map(str(p)) if mmap else pa.OSFile(str(p))
        reader = pa.ipc.open_file(source)
        if reader.num_record_batches != 1:
            raise GraphFormatError(
                f"{p}: expected one record batch, found {reader.num_record_batches}"
            )
        batch = reader.get_batch(0)
        # Buffers and offsets checked before anything reads them (the
        # checksum included): a corrupt offset must not be followed.
        batch.validate(full=True)
        if verify:  # first: a corrupt file is reported as corrupt
            _verify(batch, p)
        batch = _canonical(batch, p)
        batch.validate(full=True)
    except GraphFormatError:
        raise
    except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as exc:
        raise GraphFormatError(f"{p}: not a readable Arrow IPC graph file ({exc})") from None
    return batch


def _verify(batch: Any, p: Path) -> None:
    meta = batch.schema.metadata or {}
    stored = meta.get(CHECKSUM_KEY)
    if stored is None:
        why = (
            "was saved by an older astrograph (its checksum does not cover the metadata)"
            if _OLD_KEY in meta
            else "carries no astrograph checksum"
        )
        raise GraphFormatError(
            f"{p}: the file {why}; re-save it with NeighbourGraph.save, or load it with "
            "verify=False if you trust it"
        )
    if checksum(batch).encode() != stored:
        raise GraphFormatError(f"{p}: checksum mismatch, the file is corrupt or was edited")


def _canonical(batch: Any, p: Path) -> Any:
    """The batch re-labelled with the canonical schema (same buffers, no copy),
    after checking its columns by name and type, without nulls, and its
    metadata as UTF-8 text: anything else is refused here, before the core
    reads a byte of it."""
    try:
        fields = {f.name: f for f in batch.schema}
    except UnicodeDecodeError:
        raise GraphFormatError(
            f"{p}: not an astrograph neighbour graph (bad column names)"
        ) from None
    # mu and tracer (graphs of two tracers) are optional
    want = [n for n in COLUMNS if n not in ("mu", "tracer") or n in fields]
    if list(fields) != want:
        raise GraphFormatError(
            f"{p}: not an astrograph neighbour graph: columns {list(fields)}, expected {want}"
        )
    for name in want:
        f = fields[name]
        if f.type != COLUMNS[name]:
            raise GraphFormatError(f"{p}: column {name!r} has type {f.type}, not {COLUMNS[name]}")
        if batch.column(name).null_count:
            raise GraphFormatError(f"{p}: column {name!r} has null values")
    try:
        meta = {k.decode(): v.decode() for k, v in (batch.schema.metadata or {}).items()}
    except UnicodeDecodeError:
        raise GraphFormatError(f"{p}: the graph metadata is not UTF-8 text") from None
    schema = pa.schema([pa.field(n, COLUMNS[n], nullable=False) for n in want], metadata=meta)
    return pa.RecordBatch.from_arrays([batch.column(n) for n in want], schema=schema)
