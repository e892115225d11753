"""Randoms streamed from a file split by split (RandomSplits): the counts are
the same bits as those of the same splits held in memory (which
test_twopoint.py checks against brute force), on every binning, weighted,
with regions, for one tracer and two; only one split is held at a time; the
single progress bar shows pairs/s; bad input is named."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from test_progress import Clock

import astrograph as ag
from astrograph._progress import parts_bar
from astrograph.errors import AstrographError, InputError

import twopoint_reference as R

#: A survey-like cube away from the observer (sky patches need directions).
OFFSET = np.array([60.0, 40.0, 30.0])
SIZE = 30.0
EDGES = [0.0, 2.0, 4.0, 7.0, 10.0]


def catalogue(n: int, seed: int, clustered: bool = False, box: bool = False) -> np.ndarray:
    if clustered:
        p = ag.thomas_process(max(n // 6, 1), 6.0, 1.5, SIZE, seed=seed)[:n]
    else:
        p = ag.uniform_randoms(n, SIZE, seed=seed)
    p[: len(p) // 6] = np.floor(p[: len(p) // 6])  # separations on the bin edges
    return p if box else p + OFFSET


def write(path, splits, weights=None, fmt="parquet"):
    """The splits one after the other in one file (a row group each)."""
    pos = np.vstack(splits)
    cols = {"x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]}
    if weights is not None:
        cols["w"] = np.concatenate(weights)
    table = pa.table(cols)
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=len(splits[0]))
    else:
        feather.write_feather(table, path)
    return path


def same(a, b):
    assert a.names == b.names
    for n in a.names:
        np.testing.assert_array_equal(a.counts[n], b.counts[n], err_msg=n)
    assert a.norms() == b.norms()
    if a.resampling is not None:
        for t in ("touch", "low", "within"):
            np.testing.assert_array_equal(getattr(a.resampling, t), getattr(b.resampling, t))
        np.testing.assert_array_equal(a.resampling.random_sums, b.resampling.random_sums)


@pytest.mark.parametrize("regions", [None, 6])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_streamed_counts_are_the_bits_of_splits_in_memory(tmp_path, regions, weighted, threads):
    d = catalogue(400, 1, clustered=True)
    splits = [catalogue(n, 10 + k) for k, n in enumerate((600, 600, 600, 600))]
    dw = np.random.default_rng(3).uniform(0.3, 2.0, len(d)) if weighted else None
    rw = [np.random.default_rng(4 + k).uniform(0.3, 2.0, len(s)) for k, s in enumerate(splits)]
    rw = rw if weighted else None
    f = write(tmp_path / "r.parquet", splits, rw)
    src = ag.RandomSplits(f, weight="w" if weighted else False)
    assert len(src) == 4 and src.row_count() == 2400
    bins = ag.Bins(EDGES, 4)
    kw = dict(bins=bins, data_weights=dw, regions=regions, num_threads=threads)
    held = ag.count_pairs(d, splits, random_weights=rw, **kw)
    streamed = ag.count_pairs(d, src, **kw)
    same(held, streamed)
    assert streamed.nsplits == 4
    streamed.save(tmp_path / "streamed.parquet")  # saves and loads back whole
    back = ag.TwoPointCounts.load(tmp_path / "streamed.parquet")
    same(back, streamed)
    assert back.nsplits == 4
    np.testing.assert_array_equal(back.xi(), streamed.xi())
    # and the splits' counts are the brute-force ones
    want = R.counts(R.smu(EDGES, 4), d, splits, dw=dw, rw=rw, los="midpoint")
    for n, t in want.items():
        np.testing.assert_allclose(streamed.counts[n], t, rtol=1e-12, atol=0)


def test_streamed_counts_in_a_box_every_binning_and_two_tracers(tmp_path):
    d1, d2 = catalogue(300, 5, True, box=True), catalogue(250, 6, box=True)
    r1 = [catalogue(500, 20 + k, box=True) for k in range(3)]
    r2 = [catalogue(500, 30 + k, box=True) for k in range(3)]
    s1 = ag.RandomSplits(write(tmp_path / "r1.parquet", r1))
    s2 = ag.RandomSplits(write(tmp_path / "r2.parquet", r2))
    box = dict(boxsize=SIZE, regions=8)
    same(ag.count_pairs(d1, r1, bins=ag.Bins(EDGES, 3), **box),
         ag.count_pairs(d1, s1, bins=ag.Bins(EDGES, 3), **box))  # fmt: skip
    same(ag.count_pairs(d1, r1, data2=d2, randoms2=r2, bins=EDGES, **box),
         ag.count_pairs(d1, s1, data2=d2, randoms2=s2, bins=EDGES, **box))  # fmt: skip
    rppi = dict(rp_bins=EDGES, pimax=6.0, npi=3, signed=True, **box)
    same(ag.count_pairs_rppi(d1, r1, **rppi), ag.count_pairs_rppi(d1, s1, **rppi))


def test_streamed_angular_counts_and_other_formats(tmp_path):
    d = catalogue(300, 7, True)
    splits = [catalogue(400, 40 + k) for k in range(3)]
    theta = np.geomspace(0.5, 8.0, 5)
    held = ag.count_angular(ag.Catalog(d), [ag.Catalog(s) for s in splits], bins=theta, regions=4)
    src = ag.RandomSplits(write(tmp_path / "r.feather", splits, fmt="arrow"), splits=3)
    same(held, ag.count_angular(ag.Catalog(d), src, bins=theta, regions=4))
    # splits= cuts the rows evenly, whatever the row groups
    pos = np.vstack(splits)
    even = [pos[:400], pos[400:800], pos[800:]]
    pq.write_table(pa.table({"x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2]}),
                   tmp_path / "g.parquet", row_group_size=250)  # fmt: skip
    src = ag.RandomSplits(tmp_path / "g.parquet", splits=3)
    assert [len(c) for c in src] == [400, 400, 400]
    same(ag.count_pairs(d, even, bins=EDGES), ag.count_pairs(d, src, bins=EDGES))


def test_one_split_is_held_at_a_time(tmp_path):
    """Each split's catalogue is released before the next is read."""
    d = catalogue(200, 8)
    splits = [catalogue(300, 50 + k) for k in range(4)]
    alive = []

    class Watched(ag.RandomSplits):
        def read(self, k):
            gc.collect()
            alive.append(sum(r() is not None for r in refs))
            cat = super().read(k)
            refs.append(weakref.ref(cat))
            return cat

    refs: list = []
    ag.count_pairs(d, Watched(write(tmp_path / "r.parquet", splits)), bins=EDGES)
    assert alive == [0, 0, 0, 0]


def test_no_few_randoms_warning_when_the_splits_together_are_enough(tmp_path, recwarn):
    d = catalogue(100, 9)
    splits = [catalogue(400, 60 + k) for k in range(3)]  # 4x each, 12x together
    ag.count_pairs(d, ag.RandomSplits(write(tmp_path / "r.parquet", splits)), bins=EDGES)
    assert not [w for w in recwarn if "randoms" in str(w.message)]


def test_one_bar_over_the_splits_with_pairs_per_second(capsys):
    clock = Clock()
    with parts_bar(True, 3000, clock=clock) as bar:
        cb = bar.part(1000, 1)
        cb(1, 1, 2)
        assert capsys.readouterr().err == ""  # not yet shown
        clock.t += 2.0
        bar.produced(4e8)
        cb = bar.part(2000, 2)
        cb(2, 1, 2)  # second of two passes half done: 1000 + 1500
        err = capsys.readouterr().err
    assert "2e+08 pairs/s" in err
    assert "2.50k/3.00k" in err and "randoms" in err
    with parts_bar(False, 10) as none:
        assert none is None


def test_bad_streamed_input_is_named(tmp_path):
    d = catalogue(100, 11)
    splits = [catalogue(200, 70 + k) for k in range(2)]
    f = write(tmp_path / "r.parquet", splits)
    src = ag.RandomSplits(f)
    with pytest.raises(InputError, match="weight column"):
        ag.count_pairs(d, src, bins=EDGES, random_weights=[np.ones(200)] * 2)
    with pytest.raises(InputError, match="give regions as a number"):
        ag.count_pairs(d, src, bins=EDGES, regions=(np.zeros(100, int), None))
    with pytest.raises(InputError, match="streamed too"):
        ag.count_pairs(d, src, data2=d, randoms2=splits, bins=EDGES)
    three = ag.RandomSplits(f, splits=3)
    with pytest.raises(InputError, match="same number of splits"):
        ag.count_pairs(d, src, data2=d, randoms2=three, bins=EDGES)
    with pytest.raises(InputError, match="positive number of splits"):
        ag.RandomSplits(f, splits=0)
    with pytest.raises(InputError, match="leave some empty"):
        ag.RandomSplits(f, splits=401)
    csv = tmp_path / "r.csv"
    csv.write_text("x,y,z\n1,2,3\n")
    with pytest.raises(InputError, match="parsed whole"):
        ag.RandomSplits(csv, splits=1)
    feather.write_feather(pa.table({"x": [1.0], "y": [2.0], "z": [3.0]}), tmp_path / "a.arrow")
    with pytest.raises(InputError, match="give splits="):
        ag.RandomSplits(tmp_path / "a.arrow")
    with pytest.raises(FileNotFoundError):
        ag.RandomSplits(tmp_path / "none.parquet")
    bad = splits[1].copy()
    bad[3] = np.nan
    g = write(tmp_path / "nan.parquet", [splits[0], bad])
    with pytest.raises(InputError, match=r"split 1, rows 200-399\).*NaN"):
        ag.count_pairs(d, ag.RandomSplits(g), bins=EDGES)
    with pytest.raises(IndexError):
        src.read(2)


def test_streamed_randoms_are_refused_under_mpi(tmp_path):
    MPI = pytest.importorskip("mpi4py.MPI")
    src = ag.RandomSplits(write(tmp_path / "r.parquet", [catalogue(100, 80)]))
    with pytest.raises(AstrographError, match="one process"):
        ag.count_pairs(catalogue(50, 81), src, bins=EDGES, comm=MPI.COMM_SELF)
