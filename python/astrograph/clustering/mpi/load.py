"""Loading a catalogue onto MPI ranks: each rank holds a contiguous row slice.

Files that can be read by row range (Parquet, Arrow IPC/Feather, FITS) are
read by every rank, one slice each, so no rank holds the whole catalogue;
the columns are chosen once, on rank 0, by the same rule as
:func:`~astrograph.clustering.catalog.read_catalog`, and every rank reads
them through the same reader. CSV and plain ASCII files, and in-memory arrays
(taken from rank 0; other ranks may pass ``None``), are read on rank 0 and
scattered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError
from .. import inputs
from ..catalog import CatalogFile, catalog_from_columns
from ..io import reader
from ..regions import KMEANS_SAMPLE, box_labels, sky_centres, sky_labels
from ..regions import labels as check_labels
from .collective import agree, mpi, stage


@dataclass
class Points:
    """Points held by this rank: positions (n, 3), weights (n,), keys
    (id << 1 | is_random), jackknife regions (n,) and any further per-point
    columns (``extra``: arrays of n rows, float64, int64 or uint64) that
    travel with them."""

    pos: np.ndarray
    w: np.ndarray
    key: np.ndarray
    region: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.key)

    def take(self, idx: np.ndarray) -> Points:
        return Points(
            self.pos[idx],
            self.w[idx],
            self.key[idx],
            self.region[idx],
            {k: v[idx] for k, v in self.extra.items()},
        )

    @staticmethod
    def concat(parts: list[Points]) -> Points:
        names = set(parts[0].extra) if parts else set()
        if any(set(p.extra) != names for p in parts):
            raise ValueError("points with different extra columns cannot be joined")
        return Points(
            np.concatenate([p.pos for p in parts]).reshape(-1, 3),
            np.concatenate([p.w for p in parts]),
            np.concatenate([p.key for p in parts]).astype(np.int64),
            np.concatenate([p.region for p in parts]).astype(np.int64),
            {k: np.concatenate([p.extra[k] for p in parts]) for k in sorted(names)},
        )


@dataclass
class Meta:
    """What every rank knows about the global input."""

    n_data: int
    n_random: int
    has_randoms: bool
    data_weighted: bool
    random_weighted: bool
    boxsize: float | None
    los: str
    nregions: int = 0


def split(n: int, size: int) -> np.ndarray:
    """Row boundaries of ``size`` near-equal contiguous slices of n rows."""
    return (np.arange(size + 1, dtype=np.int64) * n) // size


def file_rows(path: Path, fmt: str) -> int:
    """Rows of a catalogue file (every rank asks; a rank that cannot read it fails)."""
    return reader(path, fmt).row_count()


def _read_slice(
    path: Path, fmt: str, choice: Any, start: int, stop: int, what: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions and weights of rows [start, stop) of a file, errors naming file rows."""
    cols = reader(path, fmt).read(choice.names, rows=(start, stop))
    for name, v in cols.items():
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise InputError(
                f"{what} catalogue {path}: column {name!r} holds NaN or inf "
                f"(first in row {start + bad[0]} of the file)"
            )
    if stop == start:
        return np.zeros((0, 3)), (np.zeros(0) if choice.weight else None)
    cat = catalog_from_columns(cols, choice)
    return cat.positions, cat.weights


def _scatter(comm: Any, full: Any, n: int, weighted: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Rank 0's (positions, weights) scattered in contiguous slices."""
    MPI = mpi()
    rank = comm.Get_rank()
    b = split(n, comm.Get_size())
    counts = np.diff(b)
    pos = np.empty((int(counts[rank]), 3))
    send = (
        [np.ascontiguousarray(full[0]), (counts * 3, b[:-1] * 3), MPI.DOUBLE] if rank == 0 else None
    )
    comm.Scatterv(send, [pos, MPI.DOUBLE], root=0)
    w = np.ones(int(counts[rank]))
    if weighted:
        sendw = [full[1], (counts, b[:-1]), MPI.DOUBLE] if rank == 0 else None
        comm.Scatterv(sendw, [w, MPI.DOUBLE], root=0)
    return pos, w, int(b[rank])


def load_one(comm: Any, src: Any, weights: Any, what: str) -> tuple[Points | None, int, bool]:
    """This rank's contiguous slice of one catalogue; (points, n_total, weighted)."""
    rank, size = comm.Get_rank(), comm.Get_size()

    def describe() -> tuple[str, Any]:
        if src is None:
            return "none", None
        if not isinstance(src, (str, os.PathLike, CatalogFile)):
            return "array", None
        spec = src if isinstance(src, CatalogFile) else CatalogFile(src)
        if not Path(spec.path).exists():
            raise FileNotFoundError(f"{what} catalogue file not found: {spec.path}")
        if weights is not None:
            raise InputError(f"with a {what} file the weights come from its weight column")
        r = reader(spec.path, spec.format)
        if not r.sliceable:
            return "text", spec
        return "file", (str(r.path), r.format, spec.choose(r))

    kind, info = comm.bcast(stage(comm, describe if rank == 0 else lambda: None), root=0)
    if kind == "none":
        return None, 0, False
    if kind == "file":
        path, fmt, choice = Path(info[0]), info[1], info[2]

        def read() -> tuple[np.ndarray, np.ndarray | None, int, int]:
            n = file_rows(path, fmt)
            b = split(n, size)
            start, stop = int(b[rank]), int(b[rank + 1])
            return (*_read_slice(path, fmt, choice, start, stop, what), start, n)

        pos, w, start, n = stage(comm, read)
        lengths = comm.allgather(n)
        if len(set(lengths)) != 1:
            agree(comm, InputError(f"{what} file {path} has a different length on different ranks"))
        weighted = choice.weight is not None
    else:

        def prepare() -> tuple[np.ndarray, np.ndarray | None]:
            if kind == "text":
                cat = info.read()
                return cat.positions, cat.weights
            pos = inputs.positions(src, what).T
            return pos, inputs.weights(inputs.catalogue_weights(src, weights), len(pos), what)

        full = stage(comm, prepare if rank == 0 else lambda: None)
        n, weighted = comm.bcast((len(full[0]), full[1] is not None) if rank == 0 else None, root=0)
        pos, w, start = _scatter(comm, full, n, weighted)
        del full
    if w is None:
        w = np.ones(len(pos))
    ids = np.arange(start, start + len(pos), dtype=np.int64)
    key = (ids << 1) | np.int64(what == "random")
    zeros = np.zeros(len(pos), np.int64)
    points = Points(
        np.ascontiguousarray(pos, dtype=np.float64), np.asarray(w, np.float64), key, zeros
    )
    return points, n, weighted


def load(
    comm: Any,
    data: Any,
    randoms: Any,
    data_weights: Any,
    random_weights: Any,
    boxsize: float | None,
    los: str | None,
    regions: Any = None,
) -> tuple[Points, Meta]:
    """Data and randoms spread over the ranks in slices, and what all ranks know of them."""
    boxsize, los = comm.bcast(
        stage(comm, inputs.boxsize_and_los, boxsize, los)
        if comm.Get_rank() == 0
        else stage(comm, lambda: None),
        root=0,
    )
    d, nd, dwt = load_one(comm, data, data_weights, "data")
    if d is None:
        agree(comm, InputError("the data catalogue is missing (pass it on rank 0)"))
    r, nr, rwt = load_one(comm, randoms, random_weights, "random")
    agree(comm, InputError("the data catalogue is empty") if nd == 0 else None)
    agree(comm, InputError("the random catalogue is empty") if r is not None and nr == 0 else None)
    k = stage(comm, _label, comm, regions, d, r, nd, nr, boxsize)
    pts = Points.concat([d] if r is None else [d, r])
    return pts, Meta(nd, nr, r is not None, dwt, rwt, boxsize, los, k)


def _label(
    comm: Any, regions: Any, d: Points, r: Points | None, nd: int, nr: int, boxsize: float | None
) -> int:
    """Sets the region of every loaded point (collectively) and returns their number.

    K regions: sub-cubes of a box, or sky patches from k-means on a sample of
    the data directions gathered on rank 0; label arrays (given on rank 0,
    data then randoms, in input row order) are scattered like the rows.
    """
    if regions is None:
        return 0
    if isinstance(regions, (int, np.integer)) and not isinstance(regions, bool):
        k = int(regions)
        if boxsize is not None:
            for p in (d, r):
                if p is not None:
                    p.region = box_labels(p.pos, boxsize, k)
            return k
        rng = np.random.default_rng(comm.Get_rank())
        take = min(len(d), max(1, KMEANS_SAMPLE // comm.Get_size()))
        sample = d.pos[rng.choice(len(d), take, replace=False)] if len(d) else np.zeros((0, 3))
        parts = comm.gather(sample, root=0)
        centres = sky_centres(np.concatenate(parts), k) if comm.Get_rank() == 0 else None
        centres = comm.bcast(centres, root=0)
        for p in (d, r):
            if p is not None and len(p):
                p.region = sky_labels(p.pos, centres)
        return k
    labelled = comm.bcast(
        (
            check_labels(regions[0], nd, "data"),
            None if r is None else check_labels(regions[1], nr, "random"),
        )
        if comm.Get_rank() == 0
        else None,
        root=0,
    )
    k = 0
    for p, lab in zip((d, r), labelled, strict=True):
        if p is not None:
            rows = (p.key >> 1).astype(np.int64)
            p.region = lab[rows]
            k = max(k, int(lab.max()) + 1)
    return k
