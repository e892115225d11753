"""Catalogues shared by tests/test_mpi.py (single process) and tests/mpi_worker.py (MPI).

Arrays are made on every rank from fixed seeds, but only rank 0 passes
them (other ranks pass ``None``, exercising the scatter); file cases pass
the same paths on every rank (each rank reads a slice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from astrograph import Bins
from astrograph.clustering.mocks import thomas_process, uniform_randoms

BOX = 100.0

#: name -> kinds of counts and the bins used
CASES: dict[str, dict[str, Any]] = {
    # clusters (sigma 2) everywhere, so they straddle every domain boundary
    "clustered": {"kinds": ("pairs", "triangles", "quads", "multipoles")},
    "periodic_weighted": {"kinds": ("pairs", "triangles", "quads", "multipoles")},
    "periodic_noran": {"kinds": ("pairs", "triangles", "multipoles")},
    "files": {"kinds": ("pairs", "triangles", "multipoles")},
    # Arrow IPC data (sliced, memory-mapped) and CSV randoms (read on rank 0, scattered)
    "files2": {"kinds": ("pairs",)},
    # 4 data points in one corner, 5 randoms in the other: with 3-4 ranks some
    # ranks own nothing, and one rank holds only randoms
    "tiny": {"kinds": ("pairs", "triangles", "quads", "multipoles")},
    # jackknife regions: labels given on rank 0, and sub-cubes of a box
    "regions": {"kinds": ("pairs", "triangles", "quads", "multipoles")},
    "regions_box": {"kinds": ("pairs", "triangles", "multipoles")},
}


def _arrays(name: str) -> dict[str, Any]:
    if name in ("clustered", "files", "files2"):
        d = thomas_process(100, 8.0, 2.0, BOX, seed=3, periodic=False)
        r = uniform_randoms(2 * len(d), BOX, seed=4)
        dw = np.random.default_rng(5).uniform(0.5, 1.5, len(d)) if name != "clustered" else None
        return {
            "data": d,
            "randoms": r,
            "data_weights": dw,
            "random_weights": None,
            "boxsize": None,
        }
    if name == "periodic_weighted":
        d = thomas_process(80, 8.0, 2.0, BOX, seed=6)
        r = uniform_randoms(2 * len(d), BOX, seed=7)
        rng = np.random.default_rng(8)
        return {
            "data": d,
            "randoms": r,
            "data_weights": rng.uniform(0.5, 1.5, len(d)),
            "random_weights": rng.uniform(0.5, 1.5, len(r)),
            "boxsize": BOX,
        }
    if name == "periodic_noran":
        d = thomas_process(120, 8.0, 2.0, BOX, seed=9)
        return {
            "data": d,
            "randoms": None,
            "data_weights": None,
            "random_weights": None,
            "boxsize": BOX,
        }
    if name in ("regions", "regions_box"):
        d = thomas_process(100, 8.0, 2.0, BOX, seed=11)
        r = uniform_randoms(2 * len(d), BOX, seed=12)
        rng = np.random.default_rng(13)
        box = name == "regions_box"
        return {
            "data": d,
            "randoms": None if box else r,
            "data_weights": rng.uniform(0.5, 1.5, len(d)),
            "random_weights": None,
            "boxsize": BOX if box else None,
            "regions": 8 if box else (rng.integers(0, 6, len(d)), rng.integers(0, 6, len(r))),
        }
    if name == "tiny":
        tet = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
        d = 5.0 + tet
        r = np.vstack([50.0 + tet, [[50.5, 50.5, 50.5]]])
        return {
            "data": d,
            "randoms": r,
            "data_weights": None,
            "random_weights": None,
            "boxsize": None,
        }
    raise KeyError(name)


def bins_for(name: str, kind: str) -> Bins:
    if name == "tiny":
        return Bins.linear(0.5, 3.0, 2, nmu=2 if kind == "pairs" else 1)
    return Bins.linear(2.0, 8.0, 3, nmu=2 if kind == "pairs" else 1)


def write_files(tmp: Path) -> None:
    """The 'files' case on disk: Parquet data (small row groups, weight column), FITS randoms."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from astropy.table import Table

    a = _arrays("files")
    d, r = a["data"], a["randoms"]
    pq.write_table(
        pa.table({"x": d[:, 0], "y": d[:, 1], "z": d[:, 2], "w": a["data_weights"]}),
        tmp / "data.parquet",
        row_group_size=97,
    )
    # a text column the catalogue does not use: read alike serially and under MPI
    Table({"name": ["r"] * len(r), "x": r[:, 0], "y": r[:, 1], "z": r[:, 2]}).write(
        tmp / "randoms.fits", overwrite=True
    )
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather

    t = pa.table({"x": d[:, 0], "y": d[:, 1], "z": d[:, 2], "weight": a["data_weights"]})
    feather.write_feather(t, tmp / "data.arrow", chunksize=101)
    pcsv.write_csv(pa.table({"x": r[:, 0], "y": r[:, 1], "z": r[:, 2]}), tmp / "randoms.csv")


def make_case(name: str, tmp: Path, rank: int = 0) -> dict[str, Any]:
    """Keyword arguments (without bins) for the counting functions on this rank."""
    if name == "files2":
        return {
            "data": str(tmp / "data.arrow"),
            "randoms": str(tmp / "randoms.csv"),
            "boxsize": None,
        }
    if name == "files":
        kw: dict[str, Any] = {
            "data": str(tmp / "data.parquet"),
            "randoms": str(tmp / "randoms.fits"),
        }
    else:
        kw = _arrays(name)
        if rank != 0:
            kw.update(data=None, randoms=None, data_weights=None, random_weights=None)
            if isinstance(kw.get("regions"), tuple):
                kw["regions"] = (None, None)
    kw.setdefault("boxsize", None)
    return kw


def count(kind: str, **kw: Any) -> Any:
    """The public count of ``kind`` (multipoles with lmax 4)."""
    import astrograph

    if kind == "multipoles":
        return astrograph.count_triangle_multipoles(**kw, lmax=4)
    fn = {
        "pairs": astrograph.count_pairs,
        "triangles": astrograph.count_triangles,
        "quads": astrograph.count_quads,
    }[kind]
    return fn(**kw)


def flatten(prefix: str, result: object) -> dict[str, np.ndarray]:
    """The count arrays and norms of a PairCounts, TriangleCounts, QuadCounts
    or TriangleMultipoles."""
    out: dict[str, np.ndarray] = {}
    if prefix.endswith(".multipoles"):
        for name in ("field", "randoms", "typed", "jackknife", "within"):
            if getattr(result, name) is not None:
                out[f"{prefix}.{name}"] = np.asarray(getattr(result, name))
        out[f"{prefix}.scale"] = np.array([result.random_scale])  # type: ignore[attr-defined]
        return out
    for name in ("ddd", "ddr", "drr", "rrr", "shapes", "counts"):
        value = vars(result).get(name)
        if isinstance(value, dict):  # two-point results hold their counts by name
            out.update({f"{prefix}.{k}": np.asarray(v) for k, v in value.items()})
        elif value is not None:
            out[f"{prefix}.{name}"] = np.asarray(value)
    for which in ("data", "randoms"):
        n = getattr(result, which)
        if n is not None:
            out[f"{prefix}.{which}"] = np.array([n.n, n.s1, n.s2, n.s3, n.s4])
    rs = vars(result).get("resampling")
    if rs is not None:
        for name in ("touch", "low", "within", "data_sums"):
            out[f"{prefix}.{name}"] = np.asarray(getattr(rs, name))
    pairs = vars(result).get("pairs")
    if pairs is not None:
        out.update(flatten(f"{prefix}.pairs", pairs))
    return out


def single_process_case(name: str) -> dict[str, Any]:
    return _arrays(name)
