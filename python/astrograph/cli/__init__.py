"""The ``astrograph`` command line.

Every error a user can cause ends with one line, ``astrograph: error: ...``,
and exit status 2 (argument errors included); only a genuine internal bug
prints a traceback. Ctrl-C ends with status 130.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..clustering.mpi.collective import abort, stage
from ..errors import AstrographError
from .commands import (
    check_two_point,
    cmd_2pcf,
    cmd_3pcf,
    cmd_4pcf,
    cmd_demo,
    cmd_graph_build,
    cmd_graph_info,
    cmd_wp,
    cmd_wtheta,
    mpi_comm,
)

CATALOGUE_HELP = "galaxy catalogue (FITS, Parquet, Arrow, CSV or 'x y z [w]' text)"
SKY_HELP = (
    "galaxy catalogue with RA and Dec columns in degrees (FITS, Parquet, Arrow, CSV, "
    "or 'ra dec [w]' text); no redshift needed"
)
LENGTH = "in the positions' length unit, e.g. Mpc/h"


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"astrograph: error: {self.prog}: {message}\n")


def _version() -> str:
    try:
        return version("astrograph")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


class _Once(argparse.Action):
    """--randoms where random splits do not apply: refused when given twice
    (argparse would silently keep the last one)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(
                f"{option} is given twice; several --randoms (random splits) are for 2pcf, "
                "wp and wtheta"
            )
        setattr(namespace, self.dest, values)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--coords",
        choices=("cartesian", "sky"),
        help="read positions as x, y, z or as ra, dec, z (needed when a file has both)",
    )
    p.add_argument("--columns", help="the three position columns, comma-separated, e.g. X,Y,Z")
    p.add_argument("--weight-column", help="the weight column ('none' for no weights)")


def _add_catalogue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help=CATALOGUE_HELP)
    p.add_argument(
        "--randoms",
        action=_Once,
        help="random catalogue (same formats); optional in a periodic box",
    )
    p.add_argument(
        "--boxsize",
        type=float,
        help=f"periodic box size, {LENGTH} (minimum-image separations)",
    )
    _add_file_args(p)
    _add_regions_arg(p)


def _add_regions_arg(p: argparse.ArgumentParser, sky: bool = False) -> None:
    where = "" if sky else ", or K = n^3 sub-cubes of a periodic box"
    p.add_argument(
        "--regions",
        type=_positive_int,
        help=f"K regions for jackknife errors: sky patches (k-means){where}; writes the "
        "realisations and the covariance too",
    )
    p.add_argument(
        "--correction",
        choices=("none", "mohammad21"),
        default="none",
        help="jackknife with --regions: mohammad21 removes the tuples crossing a region's "
        "border with Mohammad & Percival's (2022) weight instead of 1, against the plain "
        "jackknife's overestimate at separations near the region size (default none)",
    )


def _add_bin_args(
    p: argparse.ArgumentParser, rmin: float, rmax: float, nbins: int, scale: str
) -> None:
    p.add_argument(
        "--rmin", type=float, default=rmin, help=f"smallest separation, {LENGTH} (default {rmin})"
    )
    p.add_argument(
        "--rmax", type=float, default=rmax, help=f"largest separation, {LENGTH} (default {rmax})"
    )
    p.add_argument(
        "--nbins",
        type=_positive_int,
        default=nbins,
        help=f"number of separation bins (default {nbins})",
    )
    p.add_argument(
        "--scale", choices=("log", "linear"), default=scale, help=f"bin spacing (default {scale})"
    )


def _add_randoms_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--randoms",
        action="append",
        metavar="F",
        help="random catalogue (same formats); give it several times for random splits "
        "(random-random pairs counted within each split, data-random over all)",
    )


def _add_two_point_args(p: argparse.ArgumentParser, sky: bool) -> None:
    """The second tracer, PIP and angular weights (2pcf, wp, wtheta)."""
    files = "(RA, Dec in degrees)" if sky else "(same formats)"
    p.add_argument(
        "--data2",
        metavar="F",
        help=f"second tracer's galaxies {files}: cross-correlation counts D1D2, D1R2, R1D2, "
        "R1R2 (Landy-Szalay; Davis-Peebles with one tracer's randoms only)",
    )
    p.add_argument(
        "--randoms2",
        action="append",
        metavar="F",
        help="second tracer's randoms (repeat for splits, as many times as --randoms)",
    )
    p.add_argument(
        "--weight-column2",
        metavar="NAME",
        help="weight column of the --data2 and --randoms2 files ('none' for no weights; "
        "default as --weight-column)",
    )
    p.add_argument(
        "--bitwise-columns",
        metavar="NAME[,NAME...]",
        help="integer columns of the --data file holding bitwise weights (one bit per "
        "fibre-assignment realisation): PIP weights for data-data pairs, IIP weights for "
        "data-random pairs (pycorr's inverse_bitwise)",
    )
    p.add_argument(
        "--bitwise-columns2",
        metavar="NAME[,NAME...]",
        help="the bitwise weight columns of the --data2 file (PIP weights of a "
        "cross-correlation need both tracers')",
    )
    p.add_argument(
        "--nrealizations",
        type=_positive_int,
        help="PIP: the number of fibre-assignment realisations (pycorr's weight_attrs; "
        "default: the number of bits + 1)",
    )
    p.add_argument(
        "--noffset",
        type=_non_negative_int,
        help="PIP: pair weights are nrealizations / (noffset + popcount of the common bits) "
        "(default 1)",
    )
    p.add_argument(
        "--default-value",
        type=float,
        help="PIP: the weight of a pair whose denominator is 0 (default 0)",
    )
    p.add_argument(
        "--twopoint-weights",
        metavar="FILE",
        help="angular upweights: a text file of two columns, theta in degrees and weight, "
        "interpolated linearly in cos(theta) (1 outside the table), applied to data-data "
        "and data-random pairs",
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="astrograph",
        description="Exact clustering statistics (2-, 3-, 4-point) through a neighbour-graph database.",
    )
    p.add_argument(
        "--threads", type=_positive_int, default=None, help="threads per process (default: all)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="clustered mock -> graph -> 2PCF and 3PCF, no downloads")
    d.add_argument(
        "--out", default="astrograph-demo", help="output folder (default astrograph-demo)"
    )
    d.add_argument(
        "--parents",
        type=_positive_int,
        default=2500,
        help="cluster parents in the mock (default 2500)",
    )
    d.add_argument("--seed", type=int, default=42)
    d.set_defaults(func=cmd_demo)

    g = sub.add_parser("graph", help="build or inspect a neighbour graph").add_subparsers(
        dest="graph_command", required=True
    )
    gb = g.add_parser("build", help="build a graph and save it as Arrow IPC")
    _add_catalogue_args(gb)
    gb.add_argument("--rmax", type=float, required=True)
    gb.add_argument("--rmin", type=float, default=0.0)
    gb.add_argument(
        "--no-mu", action="store_true", help="do not store mu (8 instead of 10 bytes per edge)"
    )
    gb.add_argument(
        "--max-memory",
        default=None,
        help="refuse above this many bytes, e.g. 2e9 or 2GB (default: half the free RAM)",
    )
    gb.add_argument("--out", default="graph.arrow")
    gb.set_defaults(func=cmd_graph_build)
    gi = g.add_parser("info", help="summarise a saved graph")
    gi.add_argument("path")
    gi.set_defaults(func=cmd_graph_info)

    for name, helptext, func, defaults in (
        ("2pcf", "pair counts and xi(s), xi(s, mu)", cmd_2pcf, (1.0, 20.0, 10, "log")),
        (
            "wp",
            "projected counts DD(rp, pi), xi(rp, pi) and wp(rp)",
            cmd_wp,
            (0.5, 30.0, 10, "log"),
        ),
        ("3pcf", "triangle counts, zeta and Q", cmd_3pcf, (1.0, 20.0, 6, "linear")),
        ("4pcf", "quad counts by shape", cmd_4pcf, (1.0, 10.0, 3, "linear")),
    ):
        c = sub.add_parser(name, help=helptext)
        if name == "4pcf":
            _add_catalogue_args(c)
        else:
            grp = c.add_mutually_exclusive_group(required=True)
            grp.add_argument("--data", help=CATALOGUE_HELP)
            grp.add_argument("--graph", help="a saved graph instead of catalogues")
            if name in ("2pcf", "wp"):
                _add_randoms_args(c)
            else:
                c.add_argument(
                    "--randoms", action=_Once, help="random catalogue; optional in a periodic box"
                )
            c.add_argument("--boxsize", type=float, help=f"periodic box size, {LENGTH}")
            _add_file_args(c)
            _add_regions_arg(c)
        _add_bin_args(c, *defaults)
        if name == "2pcf":
            c.add_argument("--nmu", type=_positive_int, default=1, help="mu bins (default 1)")
            c.add_argument(
                "--signed-mu",
                action="store_true",
                help="bin the signed mu over [-1, 1] instead of |mu| over [0, 1] (keeps the "
                "orientation of a pair: odd multipoles, --los firstpoint/endpoint, two tracers)",
            )
        if name in ("2pcf", "wp"):
            c.add_argument(
                "--los",
                choices=("midpoint", "firstpoint", "endpoint", "x", "y", "z"),
                default=None,
                help="line of sight of mu and pi: the pair's midpoint, first point or end "
                "point (surveys, observer at the origin; first = tracer 1's with --data2), "
                "or the x, y or z axis (plane-parallel); default midpoint, or z with --boxsize",
            )
            _add_two_point_args(c, sky=False)
        if name == "3pcf":
            c.add_argument(
                "--multipoles",
                action="store_true",
                help="Legendre multipoles zeta_l(r1, r2) in O(N m) instead of exact triangles "
                "(large scales: bins are the two sides r1, r2)",
            )
            c.add_argument(
                "--lmax",
                type=int,
                default=None,
                help="highest multipole with --multipoles (default 10, at most 20)",
            )
        if name == "4pcf":
            c.add_argument(
                "--parity", action="store_true", help="also the parity-odd counts and zeta_odd"
            )
        if name == "wp":
            c.add_argument(
                "--pimax",
                type=float,
                default=40.0,
                help=f"largest |pi|, {LENGTH} (default 40)",
            )
            c.add_argument("--npi", type=_positive_int, help="linear pi bins (default: unit width)")
            c.add_argument(
                "--signed-pi",
                action="store_true",
                help="bin the signed pi over [-pimax, pimax) instead of |pi| over [0, pimax)",
            )
        c.add_argument(
            "--out",
            default=name,
            help=f"output prefix: PREFIX.parquet, PREFIX.txt (default {name})",
        )
        c.set_defaults(func=func, check=check_two_point if name in ("2pcf", "wp") else None)

    w = sub.add_parser("wtheta", help="angular pair counts and w(theta), RA/Dec in degrees")
    w.add_argument("--data", required=True, metavar="F", help=SKY_HELP)
    _add_randoms_args(w)
    w.add_argument(
        "--columns",
        help="the RA and Dec columns (degrees), comma-separated, e.g. RA,DEC "
        "(default: the columns named ra and dec, any case)",
    )
    w.add_argument("--weight-column", help="the weight column ('none' for no weights)")
    _add_two_point_args(w, sky=True)
    w.add_argument(
        "--thetamin", type=float, required=True, metavar="DEG", help="smallest angle, degrees (> 0)"
    )
    w.add_argument(
        "--thetamax",
        type=float,
        required=True,
        metavar="DEG",
        help="largest angle, degrees (at most 180)",
    )
    w.add_argument(
        "--nbins", type=_positive_int, default=10, help="number of theta bins (default 10)"
    )
    w.add_argument(
        "--scale", choices=("log", "linear"), default="log", help="bin spacing (default log)"
    )
    _add_regions_arg(w, sky=True)
    w.add_argument(
        "--out",
        default="wtheta",
        help="output prefix: PREFIX.parquet, PREFIX.txt (default wtheta)",
    )
    w.set_defaults(func=cmd_wtheta, check=check_two_point)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    comm: Any = None
    try:
        comm = mpi_comm()
        check = getattr(args, "check", None)
        if check is not None and comm is None:  # option combinations, before any file is read
            check(args)
        elif check is not None:
            stage(comm, check, args)  # every rank agrees: one message on rank 0
        args.func(args, comm)
    except KeyboardInterrupt:
        print("astrograph: interrupted", file=sys.stderr)
        return 130
    except (AstrographError, OSError) as exc:  # bad input, unreadable or unwritable files
        if comm is not None:
            abort(comm, exc)  # prints once (rank 0); Abort()s on errors of one rank only
            return 2
        print(f"astrograph: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if comm is None:
            raise
        abort(comm, exc)  # an unexpected error on one rank: end the whole job
        return 2
    return 0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return text or type(exc).__name__
