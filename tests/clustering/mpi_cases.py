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
    "clustered": {
        "kinds": ("pairs", "triangles", "quads", "multipoles", "quad_multipoles", "disconnected")
    },
    "periodic_weighted": {
        "kinds": ("pairs", "triangles", "quads", "multipoles", "quad_multipoles")
    },
    "periodic_noran": {"kinds": ("pairs", "triangles", "multipoles", "quad_multipoles")},
    "files": {"kinds": ("pairs", "triangles", "multipoles", "quad_multipoles")},
    # Arrow IPC data (sliced, memory-mapped) and CSV randoms (read on rank 0, scattered)
    "files2": {"kinds": ("pairs",)},
    # 4 data points in one corner, 5 randoms in the other: with 3-4 ranks some
    # ranks own nothing, and one rank holds only randoms
    "tiny": {
        "kinds": ("pairs", "triangles", "quads", "multipoles", "quad_multipoles", "disconnected")
    },
    # jackknife regions: labels given on rank 0, and sub-cubes of a box
    "regions": {"kinds": ("pairs", "triangles", "quads", "multipoles", "quad_multipoles")},
    "regions_box": {"kinds": ("pairs", "triangles", "multipoles")},
    # two tracers with randoms on a survey-like shell (one side of a cross
    # pass may hold only owned points while the other holds buffer copies),
    # first-point line of sight, signed mu, sky patches
    "cross_survey": {"kinds": ("pairs", "angular")},
    # the same with regions, a signed mu and the first-point line of sight
    "cross_survey_smu": {"kinds": ("pairs",)},
    # random splits, PIP and angular upweights, (rp, pi) with signed pi
    "pip_splits": {"kinds": ("rppi",)},
}

#: Cases whose counts are weighted sums (compared to 1e-12, not exactly).
WEIGHTED = ("periodic_weighted", "files", "files2", "regions", "regions_box", "pip_splits")


def _shells(sizes: tuple[int, ...], seed: int, thick: float = 0.0) -> list[np.ndarray]:
    """Catalogues on a patch of a sphere of radius 1000 Mpc/h around the
    observer (RA 150-190 deg, sin Dec in 0-0.5), ``thick`` Mpc/h thick,
    drawn one after the other from one generator."""
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        ra = np.radians(rng.uniform(150.0, 190.0, n))
        dec = np.arcsin(rng.uniform(0.0, 0.5, n))
        r = 1000.0 + (rng.uniform(-0.5, 0.5, n) * thick if thick else 0.0)
        out.append(
            np.column_stack(
                [r * np.cos(dec) * np.cos(ra), r * np.cos(dec) * np.sin(ra), r * np.sin(dec)]
            )
        )
    return out


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
    if name in ("cross_survey", "cross_survey_smu"):
        # on 2 ranks, one side of a cross pass holds only owned points while
        # the other holds buffer copies (the case that once counted twice)
        g1, g2, ran, ran2 = _shells((1500, 1000, 6000, 5000), 0)
        return {
            "data": g1,
            "randoms": ran,
            "data2": g2,
            "randoms2": ran2,
            "data_weights": None,
            "random_weights": None,
            "boxsize": None,
            "regions": 6 if name == "cross_survey_smu" else None,
        }
    if name == "pip_splits":
        rng = np.random.default_rng(31)
        d, d2, ra, rb, r2a, r2b = _shells((700, 500, 1500, 1500, 1200, 1200), 32, 60.0)
        return {
            "data": d,
            "randoms": [ra, rb],
            "data2": d2,
            "randoms2": [r2a, r2b],
            "data_weights": rng.uniform(0.5, 1.5, len(d)),
            "random_weights": None,
            "data_bitwise_weights": rng.integers(0, 2**63, (len(d), 2), dtype=np.uint64),
            "data2_bitwise_weights": rng.integers(0, 2**63, (len(d2), 2), dtype=np.uint64),
            "weight_attrs": {"noffset": 1, "nalways": 0},
            "twopoint_weights": (np.array([0.0, 0.5, 1.0, 2.0]), np.array([2.0, 1.5, 1.2, 1.0])),
            "boxsize": None,
            "regions": 5,
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
    if kind == "angular":
        return Bins(np.geomspace(0.05, 2.0, 6))
    if kind == "rppi":
        return Bins(np.geomspace(0.5, 15.0, 5))
    if name == "cross_survey":
        return Bins.linear(0.0, 40.0, 8)
    if name == "cross_survey_smu":
        return Bins.linear(0.0, 40.0, 8, nmu=4, mu_min=-1)
    if kind in ("quad_multipoles", "disconnected"):  # three bins at least
        return Bins.linear(0.5, 3.0, 3) if name == "tiny" else Bins.linear(2.0, 8.0, 4)
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
            # only rank 0's arrays and settings count: the others pass None
            for key, value in list(kw.items()):
                if key == "boxsize":
                    continue
                if isinstance(value, tuple) and key == "regions":
                    kw[key] = (None, None)
                elif not isinstance(value, (int, float)) or isinstance(value, bool):
                    kw[key] = None
    kw.setdefault("boxsize", None)
    return kw


def _radec(pos: Any) -> Any:
    if pos is None:
        return None
    if isinstance(pos, list):
        return [_radec(p) for p in pos]
    r = np.linalg.norm(pos, axis=1)
    ra = np.degrees(np.arctan2(pos[:, 1], pos[:, 0])) % 360.0
    return np.column_stack([ra, np.degrees(np.arcsin(pos[:, 2] / r))])


def count(kind: str, **kw: Any) -> Any:
    """The public count of ``kind`` (multipoles with lmax 4, 4-point
    multipoles with lmax 2)."""
    import astrograph

    if kind == "multipoles":
        return astrograph.count_triangle_multipoles(**kw, lmax=4)
    if kind == "quad_multipoles":
        return astrograph.count_quad_multipoles(**kw, lmax=2)
    if kind == "disconnected":  # the 4PCF multipoles with their disconnected part
        return astrograph.count_quad_multipoles(**kw, lmax=2, disconnected=True)
    if kind == "rppi":
        b = kw.pop("bins")
        return astrograph.count_pairs_rppi(
            **kw, rp_bins=b, pimax=12.0, npi=6, signed=True, los="firstpoint"
        )
    if kind == "angular":
        for key in ("data", "randoms", "data2", "randoms2"):
            if key in kw:
                kw[key] = _radec(kw[key])
        kw.pop("boxsize", None)
        return astrograph.count_angular(**kw)
    if "data2" in kw and kind == "pairs":
        return astrograph.count_pairs(**kw, los="firstpoint")
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
    if prefix.endswith(("multipoles", "disconnected")):  # 3- and 4-point
        names = ("field", "randoms", "typed", "jackknife", "within", "region_scales")
        for name in (*names, "disconnected"):
            if getattr(result, name, None) is not None:
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
