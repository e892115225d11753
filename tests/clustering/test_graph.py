"""The graph database: Arrow views without copies, files, corruption, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest

import astrograph as ag
from astrograph import errors


@pytest.fixture(scope="module")
def graph():
    rng = np.random.default_rng(0)
    d, r = rng.uniform(0, 30, (800, 3)), rng.uniform(0, 30, (900, 3))
    return ag.NeighbourGraph.build(d, r, rmax=4.0, data_weights=rng.uniform(0.5, 1.5, 800))


def test_structure(graph):
    b = graph.to_arrow()
    assert b.num_rows == graph.n_nodes == 1700
    nbr = b.column("neighbours")
    assert len(nbr.values) == graph.n_edges
    offsets = nbr.offsets.to_numpy()
    for i in range(0, graph.n_nodes, 37):
        lst = nbr.values.to_numpy()[offsets[i] : offsets[i + 1]]
        assert np.all(np.diff(lst.astype(np.int64)) > 0) and (lst.size == 0 or lst[0] > i)
    deg = b.column("degree").to_numpy()
    assert deg.sum() == 2 * graph.n_edges
    sep = b.column("separation").values.to_numpy()
    assert sep.max() < 4.0 + 1e-5 and sep.min() >= 0
    mu = b.column("mu").values.to_numpy().astype(float)
    assert mu.min() >= 0 and mu.max() <= 1
    assert b.column("is_random").to_numpy().sum() == 900
    idx = b.column("index").to_numpy()[b.column("is_random").to_numpy() == 0]
    assert sorted(idx) == list(range(800))
    assert graph.bytes_per_edge == 10
    meta = b.schema.metadata
    assert meta[b"astrograph.format"] == b"astrograph-neighbour-graph" and meta[b"rmax"] == b"4"


def test_to_arrow_shares_the_rust_buffers(graph):
    addr = graph._g.buffer_addresses()
    b = graph.to_arrow()
    assert b.column("x").buffers()[1].address == addr["x"]
    nbr = b.column("neighbours")
    assert nbr.values.buffers()[1].address == addr["neighbours"]
    assert nbr.buffers()[1].address == addr["offsets"]
    assert b.column("separation").values.buffers()[1].address == addr["separation"]
    assert b.column("mu").values.buffers()[1].address == addr["mu"]
    e = graph.edges()
    assert e.column("target").chunks[0].buffers()[1].address == addr["neighbours"]


def test_save_load_round_trip_is_memory_mapped(graph, tmp_path):
    path = tmp_path / "g.arrow"
    graph.save(path)
    loaded = ag.NeighbourGraph.load(path, mmap=True)
    assert loaded.n_edges == graph.n_edges and loaded.los == graph.los and loaded.rmax == graph.rmax
    bins = ag.Bins.log(0.3, 4.0, 5, nmu=4)
    a, b = graph.count_pairs(bins), loaded.count_pairs(bins)
    np.testing.assert_array_equal(np.stack([a.dd, a.dr, a.rr]), np.stack([b.dd, b.dr, b.rr]))
    tb = ag.Bins.linear(0.5, 4.0, 3)
    np.testing.assert_array_equal(graph.count_triangles(tb).ddd, loaded.count_triangles(tb).ddd)
    # memory-mapped: the loaded buffers live inside the file mapping, not on the heap
    addr = loaded._g.buffer_addresses()["neighbours"]
    with pa.memory_map(str(path)) as mm:
        size = mm.size()
    maps = open(f"/proc/{os.getpid()}/maps").read().splitlines()
    mapped = [m for m in maps if m.endswith(str(path))]
    spans = [tuple(int(x, 16) for x in m.split()[0].split("-")) for m in mapped]
    assert any(lo <= addr < hi for lo, hi in spans), "graph buffers are not in the file mapping"
    assert size > graph.n_edges * 8


def test_load_copies_by_default_so_a_changed_file_cannot_crash(graph, tmp_path):
    """The issue's segfault (a neighbour id overwritten in place) and SIGBUS
    (truncation) under a loaded graph: by default the graph is read into
    memory, so neither the counts nor the process are affected."""
    path = tmp_path / "g.arrow"
    graph.save(path)
    loaded = ag.NeighbourGraph.load(path)
    addr = loaded._g.buffer_addresses()["neighbours"]
    maps = [m for m in open(f"/proc/{os.getpid()}/maps").read().splitlines() if str(path) in m]
    spans = [tuple(int(x, 16) for x in m.split()[0].split("-")) for m in maps]
    assert not any(lo <= addr < hi for lo, hi in spans), "default load must not map the file"
    tb = ag.Bins.linear(0.5, 4.0, 3)
    want = graph.count_triangles(tb).ddd
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64  # ids far out of range
    path.write_bytes(bytes(data))
    np.testing.assert_array_equal(loaded.count_triangles(tb).ddd, want)
    with open(path, "r+b") as f:
        f.truncate(100)
    np.testing.assert_array_equal(loaded.count_triangles(tb).ddd, want)


def _rewrite_metadata(batch, path, **changes):
    meta = dict(batch.schema.metadata)
    for k, v in changes.items():
        key = k.replace("__", ".").encode()
        if v is None:
            meta.pop(key, None)
        else:
            meta[key] = v
    _write(batch.replace_schema_metadata(meta), path)


def test_checksum_covers_the_metadata(graph, tmp_path):
    """Editing rmax or los, or deleting the checksum, is refused (the issue:
    counts in the widened range came out 0, mu counts changed)."""
    path = tmp_path / "g.arrow"
    graph.save(path)
    saved = pa.ipc.open_file(str(path)).get_batch(0)
    for key, value in (("rmax", b"8"), ("los", b"z"), ("rmin", b"0.5")):
        _rewrite_metadata(saved, tmp_path / "edited.arrow", **{key: value})
        with pytest.raises(errors.GraphFormatError, match="checksum mismatch"):
            ag.NeighbourGraph.load(tmp_path / "edited.arrow")
    _rewrite_metadata(saved, tmp_path / "nosum.arrow", astrograph__checksum=None)
    with pytest.raises(errors.GraphFormatError, match="no astrograph checksum.*verify=False"):
        ag.NeighbourGraph.load(tmp_path / "nosum.arrow")
    loaded = ag.NeighbourGraph.load(tmp_path / "nosum.arrow", verify=False)
    assert loaded.n_edges == graph.n_edges


def test_failed_saves_leave_no_temporary_file(graph, tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    with pytest.raises(OSError):
        graph.save(target)
    with pytest.raises(OSError):
        graph.save(tmp_path / "missing" / "g.arrow")
    leftovers = [p.name for p in tmp_path.rglob("*") if ".tmp-" in p.name]
    assert leftovers == []


def test_query_with_pyarrow_compute(graph, tmp_path):
    import pyarrow.compute as pc

    graph.save(tmp_path / "g.arrow")
    edges = ag.NeighbourGraph.load(tmp_path / "g.arrow").edges()
    close = edges.filter(pc.less(edges["separation"], 1.0))
    direct = ag.count_pairs(
        graph.nodes().select(["x", "y", "z"]).to_pandas().to_numpy(), bins=ag.Bins([0.0, 1.0])
    )
    assert close.num_rows >= direct.dd.sum()  # data-only pairs are a subset of all pairs < 1


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda b: b[: len(b) // 2], "not a readable Arrow IPC"),
        (lambda b: b"\x00" * 64 + b[64:], "not a readable Arrow IPC"),
        (lambda b: b"PAR1" + os.urandom(200), "not a readable Arrow IPC"),
        (
            lambda b: b[:2000] + bytes([b[2000] ^ 0xFF]) + b[2001:],
            "checksum mismatch|not a readable",
        ),
    ],
)
def test_corrupt_files_are_refused(graph, tmp_path, damage, match):
    path = tmp_path / "g.arrow"
    graph.save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(errors.GraphFormatError, match=match):
        ag.NeighbourGraph.load(path)


def _write(batch, path):
    with pa.OSFile(str(path), "wb") as f, pa.ipc.new_file(f, batch.schema) as w:
        w.write_batch(batch)


def test_foreign_and_tampered_graphs_are_refused(graph, tmp_path):
    _write(pa.record_batch({"a": [1, 2]}), tmp_path / "foreign.arrow")
    with pytest.raises(errors.GraphFormatError, match="not an astrograph neighbour graph"):
        ag.NeighbourGraph.load(tmp_path / "foreign.arrow", verify=False)
    with pytest.raises(errors.GraphFormatError, match="no astrograph checksum"):
        ag.NeighbourGraph.load(tmp_path / "foreign.arrow")
    b = graph.to_arrow()
    # neighbour ids out of order
    nbr = b.column("neighbours")
    vals = nbr.values.to_numpy().copy()
    vals[0], vals[1] = vals[1], vals[0]
    bad = pa.LargeListArray.from_arrays(nbr.offsets, pa.array(vals))
    cols = [bad if n == "neighbours" else b.column(n) for n in b.schema.names]
    _write(pa.RecordBatch.from_arrays(cols, schema=b.schema), tmp_path / "tampered.arrow")
    with pytest.raises(errors.GraphFormatError, match="not ascending"):
        ag.NeighbourGraph.load(tmp_path / "tampered.arrow", verify=False)
    # metadata that disagrees with the nodes
    meta = dict(b.schema.metadata)
    meta[b"n_random"] = b"5"
    _write(b.replace_schema_metadata(meta), tmp_path / "meta.arrow")
    with pytest.raises(errors.GraphFormatError, match="metadata says"):
        ag.NeighbourGraph.load(tmp_path / "meta.arrow", verify=False)
    meta[b"astrograph.version"] = b"99"
    _write(b.replace_schema_metadata(meta), tmp_path / "version.arrow")
    with pytest.raises(errors.GraphFormatError, match="version 99"):
        ag.NeighbourGraph.load(tmp_path / "version.arrow", verify=False)


def test_ctrl_c_interrupts_a_long_count(tmp_path):
    script = (
        "import numpy as np, astrograph as ag, sys\n"
        "p = np.random.default_rng(0).uniform(0, 100, (300000, 3))\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    ag.count_triangles(p, bins=ag.Bins.linear(1, 6, 4), num_threads=1)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True); sys.exit(3)\n"
        "print('finished', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 3 and "interrupted" in out, out
    assert time.monotonic() - t0 < 10


def test_inconsistent_degree_column_is_refused(graph, tmp_path):
    b = graph.to_arrow()
    deg = b.column("degree").to_numpy().copy()
    deg[3] += 1
    cols = [pa.array(deg) if n == "degree" else b.column(n) for n in b.schema.names]
    _write(pa.RecordBatch.from_arrays(cols, schema=b.schema), tmp_path / "deg.arrow")
    with pytest.raises(errors.GraphFormatError, match="node 3 has degree"):
        ag.NeighbourGraph.load(tmp_path / "deg.arrow", verify=False)
