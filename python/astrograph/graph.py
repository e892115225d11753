"""The neighbour-graph database: nodes and all pairs closer than rmax, in Arrow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from ._progress import progress_bar
from .bins import Bins, as_bins
from .errors import GraphFormatError
from .paircounts import Norms, PairCounts, _reshape

#: Default memory budget: this fraction of the memory available now.
DEFAULT_MEMORY_FRACTION = 0.5


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


def _budget(max_memory: int | float | str | None) -> int | None:
    if max_memory is None or max_memory == "auto":
        return int(DEFAULT_MEMORY_FRACTION * available_memory())
    if max_memory == "unlimited" or max_memory == float("inf"):
        return None
    return int(max_memory)


class NeighbourGraph:
    """Data and random points with every pair closer than ``rmax`` as edges.

    Each undirected edge is stored once, at its lower-id end (forward
    adjacency), with neighbour ids ascending; edges carry the separation
    (float32) and the line-of-sight cosine mu (float16). Exact counts do not
    depend on that storage precision: a stored value within its rounding
    error of a bin edge is recomputed in float64 from the positions.

    Build with :meth:`build`; read with :meth:`load`.
    """

    def __init__(self, inner: Any) -> None:
        self._g = inner

    # -- construction -----------------------------------------------------
    @classmethod
    def build(
        cls,
        data: Any,
        randoms: Any = None,
        *,
        rmax: float,
        rmin: float = 0.0,
        data_weights: Any = None,
        random_weights: Any = None,
        box: float | None = None,
        los: str | None = None,
        store_mu: bool = True,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
        comm: Any = None,
        allreduce: bool = False,
    ) -> NeighbourGraph:
        """Builds the graph of all pairs with ``rmin <= d < rmax``.

        Parameters
        ----------
        data, randoms : ndarray (N, 3) or Catalog
        rmax, rmin : float
            Separation range kept as edges.
        data_weights, random_weights : ndarray, optional
        box : float, optional
            Periodic box size (minimum image; rmax < box/2).
        los : {"midpoint", "z"}, optional
        store_mu : bool
            Keep mu on the edges (10 bytes per edge); without it 8 bytes per
            edge and mu is recomputed from positions when asked for.
        max_memory : int, "auto" or "unlimited"
            Refuse to build (:class:`~astrograph.errors.MemoryBudgetError`)
            when the sampled estimate exceeds this many bytes. "auto": half the
            memory available now.
        num_threads : int, optional
        progress : bool
        comm : mpi4py communicator, optional
            Build this rank's share (owned points plus an rmax buffer), a
            :class:`astrograph.parallel.DistributedGraph` whose counts are
            reduced over ``comm`` (to rank 0, or to all ranks with ``allreduce``).
        allreduce : bool
            With ``comm``: counts reduced to every rank instead of rank 0.
        """
        if comm is not None:
            from .parallel import build_graph_mpi

            return build_graph_mpi(
                data,
                randoms,
                rmax=rmax,
                rmin=rmin,
                data_weights=data_weights,
                random_weights=random_weights,
                box=box,
                los=los,
                store_mu=store_mu,
                max_memory=max_memory,
                num_threads=num_threads,
                comm=comm,
                allreduce=allreduce,
            )
        args = _validate.catalogues(data, randoms, data_weights, random_weights, box, los)
        return cls._build_raw(
            *args,
            rmin=rmin,
            rmax=rmax,
            store_mu=store_mu,
            max_memory=max_memory,
            num_threads=num_threads,
            progress=progress,
        )

    @classmethod
    def _build_raw(
        cls,
        d,
        dw,
        r,
        rw,
        box,
        los,
        *,
        rmin,
        rmax,
        store_mu=True,
        max_memory="auto",
        ids=None,
        buffer=None,
        num_threads=None,
        progress=False,
    ) -> NeighbourGraph:
        from . import _lib

        with progress_bar("building graph", progress) as cb:
            g = _lib.Graph.build(
                d,
                dw,
                r,
                rw,
                float(rmin),
                float(rmax),
                box,
                los,
                store_mu=store_mu,
                max_memory=_budget(max_memory),
                ids=ids,
                buffer=buffer,
                num_threads=_validate.num_threads(num_threads),
                progress=cb,
            )
        return cls(g)

    @staticmethod
    def estimate(
        data: Any,
        randoms: Any = None,
        *,
        rmax: float,
        rmin: float = 0.0,
        box: float | None = None,
        store_mu: bool = True,
        num_threads: int | None = None,
    ) -> dict[str, float]:
        """Sampled estimate of edges, mean degree and bytes, without building."""
        from . import _lib

        d, dw, r, rw, box, los = _validate.catalogues(data, randoms, None, None, box, None)
        return _lib.Graph.build(
            d,
            dw,
            r,
            rw,
            float(rmin),
            float(rmax),
            box,
            los,
            store_mu=store_mu,
            num_threads=_validate.num_threads(num_threads),
            estimate_only=True,
        )

    # -- Arrow ---------------------------------------------------------------
    def to_arrow(self) -> Any:
        """The graph as a ``pyarrow.RecordBatch``: one row per node.

        Node columns: x, y, z, weight, is_random, index (row in its input
        catalogue), region (0 owned, 1 MPI buffer), degree. Adjacency
        columns (``large_list``): neighbours (node ids, ascending),
        separation, mu. The arrays share the graph's memory; nothing is
        copied.
        """
        return self._g.to_arrow()

    def nodes(self) -> Any:
        """Node properties as a ``pyarrow.Table`` (no copy)."""
        import pyarrow as pa

        b = self.to_arrow()
        cols = ["x", "y", "z", "weight", "is_random", "index", "region", "degree"]
        return pa.Table.from_batches([b.select(cols)])

    def edges(self) -> Any:
        """One row per edge: source, target, separation, mu (targets and values shared)."""
        import pyarrow as pa

        b = self.to_arrow()
        nbr = b.column("neighbours")
        offsets = nbr.offsets.to_numpy()
        source = np.repeat(np.arange(self.n_nodes, dtype=np.uint32), np.diff(offsets))
        cols = {"source": pa.array(source), "target": nbr.values}
        cols["separation"] = b.column("separation").values
        if "mu" in b.schema.names:
            cols["mu"] = b.column("mu").values
        return pa.table(cols)

    # -- files ---------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Writes the graph as an Arrow IPC file (metadata and a CRC-32 in the schema)."""
        import pyarrow as pa

        batch = self.to_arrow()
        meta = dict(batch.schema.metadata)
        meta[b"astrograph.crc32"] = str(_checksum(batch)).encode()
        batch = batch.replace_schema_metadata(meta)
        tmp = Path(f"{path}.tmp-{os.getpid()}")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, batch.schema) as writer:
            writer.write_batch(batch)
        tmp.replace(path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        mmap: bool = True,
        verify: bool = True,
        num_threads: int | None = None,
    ) -> NeighbourGraph:
        """Reads a saved graph, memory-mapped by default, refusing corrupt files.

        Parameters
        ----------
        path : str or Path
        mmap : bool
            Memory-map the file (no copy) rather than read it.
        verify : bool
            Check the stored CRC-32 of all columns (one pass over the file).

        Raises
        ------
        GraphFormatError
            The file is not an astrograph graph, is truncated or corrupt, or
            its columns do not form a valid forward adjacency.
        """
        import pyarrow as pa

        from . import _lib

        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"graph file not found: {p}")
        with open(p, "rb") as f:
            if f.read(6) != b"ARROW1":
                raise GraphFormatError(
                    f"{p}: not a readable Arrow IPC graph file (bad magic bytes)"
                )
        try:
            source = pa.memory_map(str(p)) if mmap else pa.OSFile(str(p))
            reader = pa.ipc.open_file(source)
            if reader.num_record_batches != 1:
                raise GraphFormatError(
                    f"{p}: expected one record batch, found {reader.num_record_batches}"
                )
            batch = reader.get_batch(0)
            meta = batch.schema.metadata or {}
            if verify and b"astrograph.crc32" in meta:
                if str(_checksum(batch)).encode() != meta[b"astrograph.crc32"]:
                    raise GraphFormatError(f"{p}: checksum mismatch, the file is corrupt")
        except GraphFormatError:
            raise
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise GraphFormatError(f"{p}: not a readable Arrow IPC graph file ({exc})") from None
        try:
            return cls(_lib.Graph.from_arrow(batch, num_threads=_validate.num_threads(num_threads)))
        except GraphFormatError as exc:
            raise GraphFormatError(f"{p}: {exc}") from None

    # -- counting ------------------------------------------------------------
    def _norms(self) -> tuple[Norms, Norms | None]:
        b = self.to_arrow()
        w = b.column("weight").to_numpy()
        owned = b.column("region").to_numpy() == 0
        rnd = b.column("is_random").to_numpy() == 1
        d = w[owned & ~rnd]
        r = w[owned & rnd]
        return Norms.of(d.size, d), (Norms.of(r.size, r) if self.n_random else None)

    def count_pairs(
        self, bins: Bins | Any, *, num_threads: int | None = None, progress: bool = False
    ) -> PairCounts:
        """DD, DR, RR from the stored edges; identical to :func:`astrograph.count_pairs`."""
        b = as_bins(bins)
        with progress_bar("pair counts", progress) as cb:
            raw = self._g.count_pairs(
                b.edges.tolist(), b.nmu, num_threads=_validate.num_threads(num_threads), progress=cb
            )
        dd, dr, rr = _reshape(raw, b)
        dn, rn = self._norms()
        return PairCounts(b, dd, dr, rr, dn, rn, self.box)

    def count_triangles(
        self, bins: Bins | Any, *, num_threads: int | None = None, progress: bool = False
    ) -> Any:
        """DDD, DDR, DRR, RRR by sorted-list intersection; see :class:`TriangleCounts`."""
        from .npoint import _triangles_from_graph

        return _triangles_from_graph(self, as_bins(bins), num_threads, progress)

    def count_quads(
        self,
        bins: Bins | Any,
        *,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> Any:
        """4-point counts by canonical shape; see :class:`QuadCounts`."""
        from .npoint import _quads_from_graph

        return _quads_from_graph(self, as_bins(bins), max_memory, num_threads, progress)

    # -- properties ----------------------------------------------------------
    n_nodes = property(lambda self: self._g.n_nodes, doc="Number of nodes.")
    n_edges = property(lambda self: self._g.n_edges, doc="Number of undirected edges.")
    n_data = property(lambda self: self._g.n_data, doc="Number of data nodes.")
    n_random = property(lambda self: self._g.n_random, doc="Number of random nodes.")
    rmin = property(lambda self: self._g.rmin)
    rmax = property(lambda self: self._g.rmax)
    box = property(lambda self: self._g.boxsize)
    los = property(lambda self: self._g.los)

    @property
    def bytes_per_edge(self) -> int:
        """Storage per edge: neighbour id (4) + separation (4) [+ mu (2)]."""
        return 10 if self._g.has_mu else 8

    @property
    def nbytes(self) -> int:
        return int(self.to_arrow().nbytes)

    def __repr__(self) -> str:
        return (
            f"NeighbourGraph(nodes={self.n_nodes} ({self.n_data} data, {self.n_random} random), "
            f"edges={self.n_edges}, rmin={self.rmin}, rmax={self.rmax}, box={self.box}, los={self.los!r})"
        )


def _checksum(batch: Any) -> int:
    """CRC-32 of every column's values (and list offsets), without copies."""
    import zlib

    crc = 0
    for col in batch.columns:
        parts = [col.offsets, col.values] if hasattr(col, "offsets") else [col]
        for arr in parts:
            crc = zlib.crc32(
                memoryview(np.ascontiguousarray(arr.to_numpy(zero_copy_only=True))).cast("B"), crc
            )
    return crc
