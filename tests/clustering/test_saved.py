"""Saved results: every result's ``save`` and ``load`` (and ``load_result``)
give back equal counts, estimators and error bars; bad files are refused in
one clear InputError; text outputs and tables name their columns as the docs
do; plots draw jackknife error bars."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import astrograph as ag
from astrograph.clustering.mocks import thomas_process, uniform_randoms
from astrograph.clustering.results import (
    AngularCounts,
    PairCounts,
    ProjectedCounts,
    QuadCounts,
    TriangleCounts,
    TriangleMultipoles,
    TwoPointCounts,
    load_result,
)
from astrograph.errors import AstrographWarning, InputError

BOX = 20.0
EDGES = [1.0, 2.0, 3.0, 4.0]

#: (name, geometry, regions, weighted): "survey" (randoms, no box), "box"
#: (periodic, with randoms) and "analytic" (periodic, no randoms).
CASES = [
    ("survey-weighted-regions", "survey", 8, True),
    ("survey-weighted", "survey", None, True),
    ("box-weighted-regions", "box", 8, True),
    ("box-regions", "box", 8, False),
    ("box-weighted", "box", None, True),
    ("analytic-weighted", "analytic", None, True),
]
KINDS = ["pairs", "projected", "angular", "triangles", "quads", "multipoles"]


@pytest.fixture(scope="module")
def catalogues() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstrographWarning)
        d = thomas_process(60, 4.0, 1.0, BOX, seed=11)
    r = uniform_randoms(3 * len(d), BOX, seed=12)
    rng = np.random.default_rng(13)
    return {"d": d, "r": r, "dw": rng.uniform(0.5, 2, len(d)), "rw": rng.uniform(0.5, 2, len(r))}


def _count(kind: str, geometry: str, regions: int | None, weighted: bool, c: dict) -> Any:
    randoms = None if geometry == "analytic" else c["r"]
    box = None if geometry == "survey" else BOX
    w: dict[str, Any] = {"regions": regions}
    if weighted:
        w["data_weights"] = c["dw"]
        if randoms is not None:
            w["random_weights"] = c["rw"]
    bins = ag.Bins(EDGES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstrographWarning)
        if kind == "pairs":
            return ag.count_pairs(c["d"], randoms, bins=ag.Bins(EDGES, 3), boxsize=box, **w)
        if kind == "projected":
            return ag.count_pairs_rppi(
                c["d"], randoms, rp_bins=bins, pimax=4.0, npi=2, boxsize=box, **w
            )
        if kind == "angular":
            sky = lambda p: np.column_stack([p[:, 0] * 3, p[:, 1] * 3 - 30])  # noqa: E731
            return ag.count_angular(sky(c["d"]), sky(randoms), bins=[1.0, 3.0, 6.0, 10.0], **w)
        if kind == "triangles":
            return ag.count_triangles(c["d"], randoms, bins=bins, boxsize=box, **w)
        if kind == "quads":
            return ag.count_quads(c["d"], randoms, bins=EDGES[:3], boxsize=box, parity=True, **w)
        return ag.count_triangle_multipoles(c["d"], randoms, bins=bins, lmax=3, boxsize=box, **w)


def _try(fn: Callable[[], Any]) -> Any:
    """The value, or the InputError's message (so both sides fail alike)."""
    try:
        out = fn()
    except InputError as exc:
        return f"InputError: {exc}"
    if isinstance(out, np.ma.MaskedArray):
        return out.astype(np.float64).filled(np.nan)
    return out


def _outputs(res: Any) -> dict[str, Any]:
    """Every estimator and statistic of a result."""
    out: dict[str, Any] = {}
    if isinstance(res, TwoPointCounts):
        for e in ("landy-szalay", "natural", "davis-peebles", "hamilton", None):
            out[f"xi {e}"] = _try(lambda e=e: res.xi(e))
        out["norms"] = _try(lambda: np.array(list(res.norms().values())))
        for name in ("xi_s", "multipoles", "wp", "xi_rppi", "wtheta"):
            if hasattr(res, name):
                out[name] = _try(getattr(res, name))
    elif isinstance(res, TriangleCounts):
        for name in ("zeta", "q", "equilateral", "rrr_analytic"):
            out[name] = _try(getattr(res, name))
        out["valid"] = _try(lambda: res.valid)
        out["isosceles"] = _try(lambda: res.isosceles(1))
        out["r1r2"] = _try(lambda: np.stack(res.zeta_r1r2(0, 1)))
        out["norm"] = np.array([res.norm(k) for k in ("ddd", "ddr", "drr", "rrr")])
        out["xi pairs"] = _try(res.pairs.xi_s)
    elif isinstance(res, QuadCounts):
        for name in ("eta", "connected", "disconnected", "zeta_odd", "tetrahedra"):
            out[name] = _try(getattr(res, name))
        out["norm"] = np.array([res.norm(t) for t in range(5)])
    else:
        for norm in ("legendre", "encore"):
            out[f"zeta {norm}"] = _try(lambda n=norm: res.zeta(n))
            out[f"counts {norm}"] = _try(lambda n=norm: res.counts(n))
        out["zeta raw"] = _try(lambda: res.zeta(edge_correction=False))
        out["f"] = _try(res.f)
        out["r0"] = _try(lambda: res.r0)
    return out


#: The statistics whose error bars are compared, by class.
STATS: dict[type, list[str]] = {
    PairCounts: ["xi_s", "multipoles"],
    ProjectedCounts: ["wp"],
    AngularCounts: ["wtheta"],
    TriangleCounts: ["zeta", "q", "equilateral"],
    QuadCounts: ["eta", "zeta_odd"],
    TriangleMultipoles: ["zeta"],
}


def _errors(res: Any) -> dict[str, Any]:
    """std and cov of the statistics over the regions, every method."""
    if isinstance(res, TriangleMultipoles):
        return {
            f"{f} {c}": _try(lambda f=f, c=c: getattr(res, f)("zeta", correction=c))
            for f in ("std", "cov")
            for c in (None, "mohammad21")
        }
    out = {}
    for stat in STATS[type(res)]:
        for f in ("std", "cov"):
            fn = getattr(res, f)
            out[f"{f} {stat}"] = _try(lambda fn=fn, s=stat: fn(s))
            out[f"{f} {stat} mohammad21"] = _try(
                lambda fn=fn, s=stat: fn(s, correction="mohammad21")
            )
            out[f"{f} {stat} bootstrap"] = _try(
                lambda fn=fn, s=stat: fn(s, method="bootstrap", nboot=20, seed=3)
            )
    return out


def _raw(res: Any) -> dict[str, Any]:
    """The arrays a result holds."""
    if isinstance(res, TwoPointCounts):
        out = dict(res.counts)
        out |= {f"sums {k}": s.total for k, s in res.sums.items()}
    elif isinstance(res, TriangleCounts):
        out = {k: getattr(res, k) for k in ("ddd", "ddr", "drr", "rrr")}
        out["pairs"] = np.stack([res.pairs.dd, res.pairs.dr, res.pairs.rr])
    elif isinstance(res, QuadCounts):
        out = {"shapes": res.shapes, "counts": res.counts, "odd": res.odd, "chiral": res.chiral}
        out["pairs"] = np.stack([res.pairs.dd, res.pairs.dr, res.pairs.rr])
    else:
        out = {k: getattr(res, k) for k in ("field", "randoms", "typed", "jackknife", "within")}
        out["random_scale"] = res.random_scale
        if res.region_sums is not None:
            out["dsum"], out["rsum"] = res.region_sums[0], res.region_sums[1]
    rs = getattr(res, "resampling", None)
    if rs is not None:
        for k in ("touch", "low", "within", "data_sums", "random_sums"):
            out[f"resampling {k}"] = getattr(rs, k)
    return out


def _assert_same(a: dict[str, Any], b: dict[str, Any], rtol: float = 1e-12) -> None:
    assert a.keys() == b.keys()
    for k, x in a.items():
        y = b[k]
        if x is None or isinstance(x, str):
            assert y == x, k
        elif isinstance(x, tuple):
            for xi, yi in zip(x, y, strict=True):
                _assert_same({k: xi}, {k: yi}, rtol)
        else:
            np.testing.assert_allclose(
                np.asarray(y, dtype=float), np.asarray(x, dtype=float), rtol=rtol, atol=0,
                err_msg=k,
            )  # fmt: skip


# angular counts have no analytic randoms, so that pairing is left out rather than skipped
ROUND_TRIPS = [
    pytest.param(kind, *case, id=f"{kind}-{case[0]}")
    for kind in KINDS
    for case in CASES
    if not (kind == "angular" and case[1] == "analytic")
]


@pytest.mark.parametrize(("kind", "case", "geometry", "regions", "weighted"), ROUND_TRIPS)
def test_save_load_round_trip(tmp_path, catalogues, kind, case, geometry, regions, weighted):
    res = _count(kind, geometry, regions, weighted, catalogues)
    path = tmp_path / f"{kind}.parquet"
    res.save(path)
    back = type(res).load(path)
    assert type(back) is type(res)
    assert back.bins == res.bins and back.boxsize == res.boxsize
    # the counts, sums and tables are the same arrays, bit for bit
    raw, got = _raw(res), _raw(back)
    assert raw.keys() == got.keys()
    for k, v in raw.items():
        if v is None:
            assert got[k] is None, k
        else:
            np.testing.assert_array_equal(got[k], v, err_msg=k)
            assert np.asarray(got[k]).dtype == np.asarray(v).dtype, k
    _assert_same(_outputs(res), _outputs(back))
    if regions is not None:
        errs = _errors(res)
        assert any(not isinstance(v, str) for v in errs.values())
        _assert_same(errs, _errors(back))
    else:
        with pytest.raises(InputError, match="regions"):
            res.cov(lambda r: np.zeros(1))
    # load_result picks the class stored in the file; the file names the package version
    again = load_result(path)
    assert type(again) is type(res)
    _assert_same(_outputs(res), _outputs(again))
    meta = pq.read_schema(path).metadata
    header = json.loads(
        next(v for k, v in meta.items() if k.startswith(b"astrograph.") and b"pairs" not in k)
    )
    assert header["astrograph"] == ag.__version__ and header["class"] == type(res).__name__


def test_load_refuses_bad_files(tmp_path, catalogues):
    tc = _count("triangles", "survey", 8, True, catalogues)
    qc = _count("quads", "box", None, True, catalogues)
    tc.save(tmp_path / "t.parquet")
    qc.save(tmp_path / "q.parquet")
    # not a file, not Parquet, not a result
    with pytest.raises(InputError, match="cannot read a saved astrograph result"):
        load_result(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("DDD 1 2 3\n")
    with pytest.raises(InputError, match="cannot read a saved astrograph result"):
        TriangleCounts.load(tmp_path / "text.parquet")
    pq.write_table(pa.table({"DDD": [1.0, 2.0]}), tmp_path / "plain.parquet")
    with pytest.raises(InputError, match="is not a saved astrograph result"):
        load_result(tmp_path / "plain.parquet")
    # the summary table (save_parquet) is not the whole result
    tc.save_parquet(tmp_path / "summary.parquet")
    with pytest.raises(InputError, match=r"summary table of a TriangleCounts.*save\(path\)"):
        load_result(tmp_path / "summary.parquet")
    # another class than asked for
    with pytest.raises(InputError, match="holds a QuadCounts, not a TriangleCounts"):
        TriangleCounts.load(tmp_path / "q.parquet")
    with pytest.raises(InputError, match="holds a TriangleCounts, not a TwoPointCounts"):
        TwoPointCounts.load(tmp_path / "t.parquet")
    # a newer format version
    table = pq.read_table(tmp_path / "t.parquet")
    meta = dict(table.schema.metadata)
    header = json.loads(meta[b"astrograph.triangles"])
    header["format_version"] = 99
    meta[b"astrograph.triangles"] = json.dumps(header).encode()
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "newer.parquet")
    with pytest.raises(InputError, match=r"format version 99.*upgrade astrograph"):
        load_result(tmp_path / "newer.parquet")
    # a damaged file: a column or the embedded pair counts missing
    pq.write_table(table.drop_columns(["DDR"]), tmp_path / "damaged.parquet")
    with pytest.raises(InputError, match="no column 'DDR'"):
        load_result(tmp_path / "damaged.parquet")
    del meta[b"astrograph.pairs"]
    header["format_version"] = 1
    meta[b"astrograph.triangles"] = json.dumps(header).encode()
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "nopairs.parquet")
    with pytest.raises(InputError, match="no astrograph.pairs"):
        load_result(tmp_path / "nopairs.parquet")
    del header["edges"]
    meta[b"astrograph.triangles"] = json.dumps(header).encode()
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "noedges.parquet")
    with pytest.raises(InputError, match="damaged or incomplete saved TriangleCounts"):
        load_result(tmp_path / "noedges.parquet")
    # two-point files too
    pc = _count("pairs", "survey", None, True, catalogues)
    pc.save(tmp_path / "p.parquet")
    t = pq.read_table(tmp_path / "p.parquet")
    m = dict(t.schema.metadata)
    h = json.loads(m[b"astrograph.twopoint"])
    h["format_version"] = 2
    m[b"astrograph.twopoint"] = json.dumps(h).encode()
    pq.write_table(t.replace_schema_metadata(m), tmp_path / "p2.parquet")
    with pytest.raises(InputError, match="upgrade astrograph"):
        PairCounts.load(tmp_path / "p2.parquet")


def _text(path) -> tuple[list[str], list[str], np.ndarray]:
    """(header lines, column names, values) of a text output."""
    lines = [ln[2:].rstrip("\n") for ln in open(path) if ln.startswith("# ")]
    return lines[:-1], lines[-1].split(), np.loadtxt(path, ndmin=2)


def _check_text(res: Any, path, names: list[str]) -> list[str]:
    res.save_ascii(path)
    head, cols, values = _text(path)
    t = res.to_arrow()
    assert cols == t.column_names == names
    for k, name in enumerate(cols):
        want = np.asarray(t.column(name).to_numpy(), dtype=float)
        np.testing.assert_allclose(values[:, k], want, rtol=1e-11, atol=0, equal_nan=True)
    text = "\n".join(head)
    assert f"astrograph {ag.__version__} {type(res).__name__}" in text
    assert "Mpc/h" in text and "estimator" in text and "norms" in text
    return head


def test_text_and_table_columns(tmp_path, catalogues):
    edges6 = [f"{s}_{e}" for s in ("r1", "r2", "r3") for e in ("lo", "hi")]
    tc = _count("triangles", "survey", None, True, catalogues)
    head = _check_text(tc, tmp_path / "t.txt", [*edges6, "DDD", "DDR", "DRR", "RRR", "zeta", "q"])
    assert "szapudi-szalay" in head[2] and "1 2 3 4 in Mpc/h" in head[1]
    norms = dict(zip(head[4].split()[1::2], map(float, head[4].split()[2::2]), strict=True))
    assert norms == {k: tc.norm(k.lower()) for k in ("DDD", "DDR", "DRR", "RRR")}
    tb = _count("triangles", "analytic", None, True, catalogues)
    head = _check_text(tb, tmp_path / "tb.txt", [*edges6, "DDD", "RRR_analytic", "zeta", "q"])
    assert "natural" in head[2] and "boxsize 20.0" in head
    qc = _count("quads", "survey", None, True, catalogues)
    counts = ["DDDD", "DDDR", "DDRR", "DRRR", "RRRR"]
    bins = ["b01", "b02", "b03", "b12", "b13", "b23"]
    _check_text(
        qc, tmp_path / "q.txt",
        [*bins, *counts, *(f"{c}_odd" for c in counts), "chiral", "eta", "disconnected",
         "zeta_odd"],
    )  # fmt: skip
    tm = _count("multipoles", "survey", None, True, catalogues)
    head = _check_text(
        tm,
        tmp_path / "m.txt",
        ["ell", "r1_lo", "r1_hi", "r2_lo", "r2_hi", "N_field", "N_randoms", "zeta"],
    )
    assert f"{tm.random_scale:.17g}" in "\n".join(head)
    # the tables' metadata: the same header, marked as a summary
    for res, key in ((tc, "triangles"), (qc, "quads"), (tm, "multipoles")):
        h = json.loads(res.to_arrow().schema.metadata[f"astrograph.{key}".encode()])
        assert h["astrograph"] == ag.__version__ and h["complete"] is False
        assert h["edges"] == res.bins.edges.tolist()


def test_saved_triangles_flag_the_valid_configurations(tmp_path, catalogues):
    tc = _count("triangles", "survey", 8, True, catalogues)
    tc.save(tmp_path / "t.parquet")
    t = pq.read_table(tmp_path / "t.parquet")
    assert t.num_rows == 3 * 4 * 5 // 6  # every b1 <= b2 <= b3 of 3 bins
    valid = t.column("valid").to_numpy()
    summary = tc.to_arrow()
    for name in summary.column_names:
        np.testing.assert_array_equal(
            t.column(name).to_numpy()[valid], summary.column(name).to_numpy()
        )
    assert t.column("touch:DDD").type == pa.list_(pa.float64(), 8)


@pytest.mark.parametrize("kind", ["triangles", "multipoles", "quads"])
def test_plots_draw_jackknife_error_bars(kind, catalogues):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_regions = _count(kind, "box", 8, True, catalogues)
    without = _count(kind, "box", None, True, catalogues)
    plots = {
        "triangles": [{"kind": k} for k in ("r1r2", "equilateral", "isosceles", "q")],
        "multipoles": [{"kind": "slices", "b1": 1}],
        "quads": [{"kind": "tetrahedra"}],
    }[kind]
    for args in plots:
        for res, errors in ((with_regions, True), (without, False)):
            ax = res.plot(**args)
            bars = [c for c in ax.containers if hasattr(c, "has_yerr")]
            assert bars and all(c.has_yerr == errors for c in bars), (args, errors)
            plt.close(ax.figure)


def test_plot_without_usable_regions_warns_and_draws(catalogues):
    """Regions in a periodic box without randoms give no error bars: the plot
    says so and still draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tc = _count("triangles", "analytic", 8, True, catalogues)
    with pytest.warns(AstrographWarning, match="no error bars"):
        ax = tc.plot("equilateral")
    assert ax.containers and not ax.containers[0].has_yerr
    plt.close(ax.figure)
