"""The graph's file: one Arrow IPC record batch with a checksum in its metadata.

Saves are atomic (a temporary file beside the target, renamed over it,
removed on any failure); loads refuse files that are not astrograph graphs,
are truncated, or whose checksum does not match.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import GraphFormatError

CHECKSUM_KEY = b"astrograph.crc32"


def checksum(batch: Any) -> int:
    """CRC-32 of every column's values (and list offsets), without copies."""
    crc = 0
    for col in batch.columns:
        parts = [col.offsets, col.values] if hasattr(col, "offsets") else [col]
        for arr in parts:
            crc = zlib.crc32(
                memoryview(np.ascontiguousarray(arr.to_numpy(zero_copy_only=True))).cast("B"), crc
            )
    return crc


def save(batch: Any, path: str | Path) -> None:
    """Writes ``batch`` with its checksum, atomically."""
    meta = dict(batch.schema.metadata or {})
    meta[CHECKSUM_KEY] = str(checksum(batch)).encode()
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
        meta = batch.schema.metadata or {}
        if verify and CHECKSUM_KEY in meta:
            if str(checksum(batch)).encode() != meta[CHECKSUM_KEY]:
                raise GraphFormatError(f"{p}: checksum mismatch, the file is corrupt")
    except GraphFormatError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise GraphFormatError(f"{p}: not a readable Arrow IPC graph file ({exc})") from None
    return batch
