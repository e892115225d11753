"""What the commands share: bins from the options, the refusal of catalogue
options with a saved graph, the jackknife files, and the provenance of the
positions (the cosmology and redshift cut of sky catalogues) that the outputs
record and the summaries print."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..clustering.bins import Bins
from ..errors import InputError
from .files import DEFAULT_COSMOLOGY, cut_text, used_sky, zrange


def bins_of(args: argparse.Namespace, nmu: int = 1, signed: bool = False) -> Any:
    """The separation bins of --rmin, --rmax, --nbins, --scale (and mu bins)."""
    make = Bins.log if args.scale == "log" else Bins.linear
    return make(args.rmin, args.rmax, args.nbins, nmu, mu_min=-1.0 if signed else 0.0)


#: Options of the two-point commands that a saved graph cannot be combined with.
GRAPH_EXCLUDES = (
    "randoms", "boxsize", "los", "regions", "data2", "randoms2", "weight_column2",
    "bitwise_columns", "bitwise_columns2", "nrealizations", "noffset", "default_value",
    "twopoint_weights", "coords", "columns", "weight_column", "zmin", "zmax", "cosmology",
)  # fmt: skip


def graph_only(args: argparse.Namespace) -> None:
    """--graph holds the catalogues, box and line of sight it was built with."""
    given = [
        f"--{n.replace('_', '-')}" for n in GRAPH_EXCLUDES if getattr(args, n, None) is not None
    ]
    if given:
        raise InputError(
            f"--graph cannot be combined with {', '.join(given)}: the graph file holds the "
            "catalogues (positions and weights), box and line of sight it was built with"
        )


def catalogue_paths(args: argparse.Namespace) -> list[str]:
    """Every catalogue file given (data, randoms, both tracers')."""
    out: list[str] = []
    for name in ("data", "randoms", "data2", "randoms2"):
        v = getattr(args, name, None)
        out += v if isinstance(v, list) else [v] if v else []
    return out


def provenance(args: argparse.Namespace) -> dict[str, Any]:
    """How the catalogues became positions, for the outputs: the cosmology
    that converted sky catalogues to Mpc/h, and the redshift cut."""
    meta: dict[str, Any] = {}
    if getattr(args, "graph", None) or not hasattr(args, "cosmology"):
        return meta  # a saved graph, or w(theta): no distances
    if used_sky(catalogue_paths(args), args):
        meta["cosmology"] = DEFAULT_COSMOLOGY if args.cosmology is None else args.cosmology.name
    cut = zrange(args)
    if cut is not None:
        meta["zmin"], meta["zmax"] = cut
    return meta


def say_provenance(meta: dict[str, Any], args: argparse.Namespace) -> None:
    """Prints the cosmology and redshift cut of :func:`provenance` (or that
    --cosmology had no sky catalogue to convert)."""
    if "cosmology" in meta:
        cut = f"; rows with {cut_text((meta['zmin'], meta['zmax']))}" if "zmin" in meta else ""
        print(f"cosmology: {meta['cosmology']} (sky catalogues to comoving Mpc/h){cut}")
    elif getattr(args, "cosmology", None) is not None:
        print(f"cosmology: {args.cosmology.name} not used (the catalogues are Cartesian)")


def record(res: Any, meta: dict[str, Any], path: Path | None = None) -> None:
    """Records ``meta`` in a result: in its ``meta`` dict, which its ``save``
    writes (call before saving), or for a result without one in the schema
    metadata of its saved Parquet file ``path``, key "astrograph.meta" (after)."""
    if not meta:
        return
    if isinstance(getattr(res, "meta", None), dict):
        res.meta.update(meta)
    elif path is not None:
        t = pq.read_table(path)
        t = t.replace_schema_metadata(
            {**(t.schema.metadata or {}), b"astrograph.meta": json.dumps(meta).encode()}
        )
        pq.write_table(t, path)


def jackknife_outputs(result: Any, statistic: str, out: Path, args: argparse.Namespace) -> Any:
    """With regions: the jackknife realisations of ``statistic`` (Parquet, one
    column per realisation) and its covariance (text); returns the errors."""
    if getattr(result, "resampling", None) is None and not getattr(result, "nregions", 0):
        return None
    kw = {"correction": None if args.correction == "none" else args.correction}
    real = result.realisations(statistic, **kw)
    flat = real.reshape(len(real), -1)
    pq.write_table(
        pa.table({f"jk{k}": flat[k] for k in range(len(flat))}),
        out.with_name(f"{out.name}_jackknife.parquet"),
    )
    np.savetxt(
        out.with_name(f"{out.name}_cov.txt"),
        result.cov(statistic, **kw),
        header=f"jackknife covariance of {statistic} over {len(real)} regions (flattened), "
        f"correction {args.correction}",
    )
    print(f"written {out.name}_jackknife.parquet and {out.name}_cov.txt ({len(real)} regions)")
    return result.std(statistic, **kw)
