"""The two-point commands: ``2pcf``, ``wp`` and ``wtheta`` (one or two
tracers, random splits, PIP and angular weights, jackknife errors)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..clustering.api import count_angular, count_pairs, count_pairs_rppi
from ..clustering.bins import Bins
from ..clustering.graph import NeighbourGraph
from ..clustering.results.resampling import ANALYTIC_RANDOMS
from ..clustering.twopoint import SURVEY_LOS
from ..errors import BinningError, InputError
from .common import bins_of, graph_only, jackknife_outputs, provenance, record, say_provenance
from .files import (
    bitwise,
    catalogue,
    everywhere,
    kept_rows,
    on_root,
    randoms_of,
    rank,
    sky,
    sky_kept_rows,
    twopoint_weights,
    zrange,
)


def check_two_point(args: argparse.Namespace) -> None:
    """Option combinations of ``2pcf``, ``wp`` and ``wtheta``, refused before
    any file is read (under MPI in one collective stage: one message)."""
    zrange(args)
    if args.data2 is None:
        alone = [
            opt
            for opt, v in (
                ("--randoms2", args.randoms2),
                ("--weight-column2", args.weight_column2),
                ("--bitwise-columns2", args.bitwise_columns2),
            )
            if v is not None
        ]
        if alone:
            raise InputError(
                f"{' and '.join(alone)} {'needs' if len(alone) == 1 else 'need'} --data2 "
                "(the second tracer of a cross-correlation)"
            )
    elif (args.bitwise_columns is None) != (args.bitwise_columns2 is None):
        raise InputError(
            "PIP weights of a cross-correlation need both tracers' bitwise weights: "
            "give --bitwise-columns and --bitwise-columns2"
        )
    attrs = [f"--{k.replace('_', '-')}" for k, v in _weight_attrs(args).items() if v is not None]
    if attrs and args.bitwise_columns is None:
        verb = "applies" if len(attrs) == 1 else "apply"
        raise InputError(f"{' and '.join(attrs)} {verb} to PIP weights: give --bitwise-columns")
    if args.randoms and args.randoms2 and len(args.randoms) != len(args.randoms2):
        times = {1: "once", 2: "twice"}
        n1, n2 = (times.get(len(r), f"{len(r)} times") for r in (args.randoms, args.randoms2))
        raise InputError(
            f"--randoms is given {n1} and --randoms2 {n2}: both tracers' randoms come in "
            "the same number of splits"
        )
    boxsize = getattr(args, "boxsize", None)
    if boxsize is not None:
        if args.los in SURVEY_LOS:
            raise InputError(
                f"--los {args.los} needs an observer at the origin; with --boxsize the line "
                "of sight is an axis: --los x, y or z"
            )
        if args.twopoint_weights is not None:
            raise InputError(
                "--twopoint-weights are angular upweights of a survey (observer at the origin); "
                "they do not apply with --boxsize"
            )
        if args.regions and not args.randoms:
            raise InputError(ANALYTIC_RANDOMS)
    if hasattr(args, "thetamin"):
        lo, hi = args.thetamin, args.thetamax
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi <= 180):
            raise BinningError(
                "theta bin edges are degrees in (0, 180]: need 0 < --thetamin < --thetamax "
                f"<= 180, got {lo:g} and {hi:g}"
            )
        allowed = (2,) if zrange(args) is None else (2, 3)
        if args.columns and len(args.columns.split(",")) not in allowed:
            raise InputError(
                "--columns names the 2 sky columns of w(theta), RA and Dec in degrees "
                "(e.g. RA,DEC), and with --zmin/--zmax the redshift column (RA,DEC,Z); "
                f"got {args.columns!r}"
            )
    else:
        bins_of(args, getattr(args, "nmu", 1), getattr(args, "signed_mu", False))


def _weight_attrs(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("nrealizations", "noffset", "default_value")}


def _two_point_inputs(args: argparse.Namespace, comm: Any, angular: bool = False) -> dict:
    """The catalogue, weight and region keywords of count_pairs,
    count_pairs_rppi and count_angular from the options. Under MPI,
    catalogue files are read by every rank in slices (2pcf, wp; on rank 0
    with a redshift cut or a cosmology); RA/Dec tables (wtheta) and bitwise
    columns are read on rank 0, which the library takes arrays from."""
    kw: dict[str, Any] = {
        "twopoint_weights": everywhere(comm, lambda: twopoint_weights(args.twopoint_weights)),
        "weight_attrs": {k: v for k, v in _weight_attrs(args).items() if v is not None} or None,
        "regions": args.regions,
        "num_threads": args.threads,
        "progress": not args.quiet,
        "comm": comm,
    }
    tracers = [(1, "", args.data, args.randoms)]
    if args.data2 is not None:
        tracers.append((2, "2", args.data2, args.randoms2))

    if angular and getattr(args, "random_splits", None) is not None:
        raise InputError("--random-splits applies to 2pcf and wp; wtheta reads RA/Dec tables whole")

    def root() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for t, sfx, data, randoms in tracers:
            if angular:
                out[f"data{sfx}"], out[f"data{sfx}_weights"] = sky(data, args, t)
                splits = [sky(f, args, t) for f in randoms or []]
                if len(splits) == 1:
                    out[f"randoms{sfx}"], out[f"random{sfx}_weights"] = splits[0]
                elif splits:
                    out[f"randoms{sfx}"] = [p for p, _ in splits]
                    ws = [w for _, w in splits]
                    out[f"random{sfx}_weights"] = None if all(w is None for w in ws) else ws
            bits = args.bitwise_columns if t == 1 else args.bitwise_columns2
            if bits is not None:
                keep = sky_kept_rows(data, args) if angular else kept_rows(data, args, t)
                out[f"data{sfx}_bitwise_weights"] = bitwise(data, bits, keep)
        return out

    if not angular:
        for t, sfx, data, randoms in tracers:
            kw[f"data{sfx}"] = catalogue(data, args, comm, t)
            kw[f"randoms{sfx}"] = randoms_of(randoms, args, comm, t)
    got = on_root(comm, root)
    kw.update({"data": None} if got is None else got)  # None: rank 0 holds the arrays
    return kw


def _two_point_outputs(res: Any, args: argparse.Namespace, statistic: str) -> None:
    """Writes a two-point result (``save``: Parquet with the region tables;
    ``save_ascii``: text; with regions the jackknife realisations and
    covariance of ``statistic``) and prints its summary (unless --quiet) and
    ``statistic`` ("xi_s", "wp" or "wtheta") per bin, with its error."""
    out = Path(args.out)
    meta = provenance(args)
    record(res, meta)
    res.save(out.with_suffix(".parquet"))
    res.save_ascii(out.with_suffix(".txt"))
    if not args.quiet:
        print(res.summary())
        say_provenance(meta, args)
    try:
        value = getattr(res, statistic)()
    except InputError:  # no estimator from these counts (e.g. no randoms outside a box)
        value = None
    err = jackknife_outputs(res, statistic, out, args) if value is not None else None
    name = {"xi_s": "xi", "wp": "wp", "wtheta": "w"}[statistic]
    first = res.names[0]
    print(f"{'lo':>10s}  {'hi':>10s}  {first:>12s}  {name:10s} error")
    e = res.bins.edges
    for i in range(res.bins.nbins):
        v = f"{value[i]:.5g}" if value is not None else "-"
        d = f"{err[i]:.3g}" if err is not None else ""
        print(f"{e[i]:10.4g}  {e[i + 1]:10.4g}  {res.counts[first][i].sum():12.6g}  {v:10s} {d}")
    print(f"written {out.with_suffix('.parquet')} and {out.with_suffix('.txt')}")


def cmd_2pcf(args: argparse.Namespace, comm: Any) -> None:
    bins = bins_of(args, args.nmu, args.signed_mu)
    if args.graph:
        graph_only(args)
        pc = NeighbourGraph.load(args.graph).count_pairs(bins, num_threads=args.threads)
    else:
        pc = count_pairs(
            bins=bins, boxsize=args.boxsize, los=args.los, **_two_point_inputs(args, comm)
        )
    if rank(comm) == 0:
        _two_point_outputs(pc, args, "xi_s")


def cmd_wp(args: argparse.Namespace, comm: Any) -> None:
    if args.graph:
        graph_only(args)
        pc = NeighbourGraph.load(args.graph).count_pairs_rppi(
            bins_of(args),
            pimax=args.pimax,
            npi=args.npi,
            signed=args.signed_pi,
            num_threads=args.threads,
        )
    else:
        pc = count_pairs_rppi(
            rp_bins=bins_of(args),
            pimax=args.pimax,
            npi=args.npi,
            signed=args.signed_pi,
            boxsize=args.boxsize,
            los=args.los,
            **_two_point_inputs(args, comm),
        )
    if rank(comm) == 0:
        _two_point_outputs(pc, args, "wp")


def cmd_wtheta(args: argparse.Namespace, comm: Any) -> None:
    make = Bins.log if args.scale == "log" else Bins.linear
    bins = make(args.thetamin, args.thetamax, args.nbins)
    ac = count_angular(bins=bins, **_two_point_inputs(args, comm, angular=True))
    if rank(comm) == 0:
        _two_point_outputs(ac, args, "wtheta")
