"""The arguments of the ``astrograph`` command line: every subcommand with a
description, every option with its help, unit and default, and examples.

Argument errors end like every other error: one line, ``astrograph: error:
SUBCOMMAND: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .commands import cmd_3pcf, cmd_4pcf, cmd_demo, cmd_graph_build, cmd_graph_info
from .options import (
    CATALOGUE_HELP,
    MPC,
    SKY_HELP,
    UNITS,
    add_bin_args,
    add_boxsize,
    add_catalogue_args,
    add_common,
    add_file_args,
    add_randoms_args,
    add_randoms_once,
    add_regions_arg,
    add_two_point_args,
    out_help,
    positive_int,
)
from .two_point import check_two_point, cmd_2pcf, cmd_wp, cmd_wtheta

DEMO_OUT = "astrograph-demo"

#: Each subcommand: (one-line help, description).
ABOUT = {
    "demo": (
        "clustered mock -> graph -> 2PCF and 3PCF, no downloads",
        "Runs the whole chain on a mock, with no input files and no downloads: a\n"
        "Thomas-process mock (clusters of known xi(r)) and uniform randoms in a\n"
        "(250 Mpc/h)^3 box -> neighbour graph (pairs < 20 Mpc/h) -> xi(s, mu) and the\n"
        "equilateral 3PCF; writes a figure, the tables and a summary into --out.",
    ),
    "graph": ("build or inspect a neighbour graph", "Build or inspect a neighbour graph."),
    "build": (
        "build a graph and save it as Arrow IPC",
        "Finds every pair of points closer than --rmax (data and randoms) and saves\n"
        "them as a neighbour graph, one Arrow IPC file (docs/graph-format.md); 2pcf,\n"
        "wp and 3pcf --graph count from it without searching again.",
    ),
    "info": ("summarise a saved graph", "Prints the size, edges and degrees of a saved graph."),
    "2pcf": (
        "pair counts and xi(s), xi(s, mu)",
        "Counts the pairs DD, DR, RR (D1D2, D1R2, R1D2, R1R2 with --data2) in bins of\n"
        "separation s and mu, the cosine to the line of sight, and estimates xi(s, mu),\n"
        "xi(s) and the multipoles (Landy-Szalay).",
    ),
    "wp": (
        "projected counts DD(rp, pi), xi(rp, pi) and wp(rp)",
        "Counts the pairs in bins of rp (across the line of sight) and pi (along it)\n"
        "and estimates xi(rp, pi) and the projected correlation function wp(rp).",
    ),
    "3pcf": (
        "triangle counts, zeta and Q",
        "Counts the triangles DDD, DDR, DRR, RRR whose three sides fall in the bins and\n"
        "estimates the 3PCF zeta and the reduced Q; with --multipoles the Legendre\n"
        "multipoles zeta_l(r1, r2) instead (large scales, O(N m)).",
    ),
    "4pcf": (
        "quad counts by shape",
        "Counts the quads DDDD ... RRRR by the shape of their six sides and estimates\n"
        "the connected 4PCF; with --parity also the parity-odd part. With --multipoles\n"
        "the 4PCF multipoles in the isotropic basis instead, both parities (large\n"
        "scales, O(N m)).",
    ),
    "wtheta": (
        "angular pair counts and w(theta), RA/Dec in degrees",
        "Counts the pairs in bins of the angle theta between them (RA, Dec in degrees;\n"
        "no redshift needed) and estimates w(theta).",
    ),
}

#: Each subcommand's examples (the epilog of its --help).
EXAMPLES = {
    "demo": ["astrograph demo", "astrograph demo --out /tmp/demo --parents 5000"],
    "build": [
        "astrograph graph build --data gal.fits --randoms ran.fits --rmax 20 --out g.arrow",
        "astrograph graph build --data box.parquet --boxsize 1000 --rmax 30",
    ],
    "info": ["astrograph graph info g.arrow"],
    "graph": [
        "astrograph graph build --data gal.fits --randoms ran.fits --rmax 20 --out g.arrow",
        "astrograph graph info g.arrow",
    ],
    "2pcf": [
        "astrograph 2pcf --data gal.fits --randoms ran.fits --rmax 50 --nbins 15 --nmu 10",
        "astrograph 2pcf --data gal.fits --randoms ran.fits --zmin 0.02 --zmax 0.12 "
        "--cosmology flat:100,0.3 --regions 25",
        "astrograph 2pcf --data gal.fits --randoms ran.fits --weight-column WEIGHT_FKP "
        "--weight-column WEIGHT_COMP",
        "astrograph 2pcf --data lrg.fits --randoms lrg_ran.fits --data2 elg.fits "
        "--randoms2 elg_ran.fits",
        "astrograph 2pcf --data box.parquet --boxsize 1000 --los z --nmu 20",
        "astrograph 2pcf --graph g.arrow --rmax 20",
    ],
    "wp": [
        "astrograph wp --data gal.fits --randoms ran.fits --pimax 40 --regions 25",
        "astrograph wp --data gal.fits --randoms ran.fits --bitwise-columns BITWEIGHTS "
        "--twopoint-weights auw.txt",
    ],
    "3pcf": [
        "astrograph 3pcf --data gal.fits --randoms ran.fits --rmax 20 --nbins 6 --regions 25",
        "astrograph 3pcf --graph g.arrow",
        "astrograph 3pcf --data gal.fits --randoms ran.fits --multipoles --rmax 150 --lmax 10",
    ],
    "4pcf": [
        "astrograph 4pcf --data gal.fits --randoms ran.fits --rmax 10 --nbins 3 --parity",
        "astrograph 4pcf --data gal.fits --randoms ran.fits --multipoles --rmin 20 --rmax 160 "
        "--lmax 4",
    ],
    "wtheta": [
        "astrograph wtheta --data gal.fits --randoms ran.fits --thetamin 0.01 --thetamax 5",
        "astrograph wtheta --data gal.fits --randoms ran.fits --thetamin 0.1 --thetamax 2 "
        "--zmin 0.1 --zmax 0.3 --regions 20",
    ],
}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written; option help wrapped."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2, like every other error,
    naming the program once and the subcommand (``astrograph: error: 2pcf: ...``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f"{sub}: " if sub else ""
        self.exit(2, f"astrograph: error: {where}{message} (see --help)\n")


def _version() -> str:
    try:
        return version("astrograph")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def _subparser(sub: Any, name: str) -> argparse.ArgumentParser:
    helptext, description = ABOUT[name]
    examples = "\n".join(_example(e) for e in EXAMPLES.get(name, []))
    desc = description if name in ("demo", "graph", "info") else f"{description}\n\n{UNITS}"
    p = sub.add_parser(
        name,
        help=helptext,
        description=desc,
        epilog=f"examples:\n{examples}" if examples else None,
        formatter_class=_Formatter,
    )
    if name != "graph":
        add_common(p)
    return p


def _example(line: str) -> str:
    """A command line of the examples, wrapped at 80 columns with ``\\``
    between options, never inside one."""
    words = line.split(" ")
    groups: list[str] = []
    for w in words:
        if groups and not w.startswith("--"):
            groups[-1] += f" {w}"
        else:
            groups.append(w)
    lines = [f"  {groups[0]}"]
    for g in groups[1:]:
        if len(lines[-1]) + len(g) + 3 > 80:
            lines.append(f"      {g}")
        else:
            lines[-1] += f" {g}"
    return " \\\n".join(lines)


def _add_count_command(sub: Any, name: str, func: Any, defaults: tuple) -> None:
    """2pcf, wp, 3pcf, 4pcf."""
    c = _subparser(sub, name)
    if name == "4pcf":
        add_catalogue_args(c)
    else:
        grp = c.add_mutually_exclusive_group(required=True)
        grp.add_argument("--data", metavar="F", help=f"{CATALOGUE_HELP} (this or --graph)")
        grp.add_argument(
            "--graph",
            metavar="G",
            help="a graph file from 'graph build' instead of catalogues (its rmax must cover "
            "--rmax; the catalogues, box and line of sight are those it was built with)",
        )
        if name in ("2pcf", "wp"):
            add_randoms_args(c)
        else:
            add_randoms_once(c)
        add_boxsize(c)
        add_file_args(c)
        add_regions_arg(c)
    add_bin_args(c, *defaults)
    if name == "2pcf":
        c.add_argument(
            "--nmu", type=positive_int, default=1, metavar="N",
            help="mu bins over [0, 1] (over [-1, 1] with --signed-mu) (default 1)",
        )  # fmt: skip
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
            "or the x, y or z axis (plane-parallel) (default midpoint, or z with --boxsize)",
        )
        add_two_point_args(c, sky=False)
    if name == "3pcf":
        c.add_argument(
            "--multipoles",
            action="store_true",
            help="Legendre multipoles zeta_l(r1, r2) in O(N m) instead of exact triangles "
            "(large scales: bins are the two sides r1, r2)",
        )
        c.add_argument(
            "--lmax", type=int, default=None, metavar="L",
            help="highest multipole with --multipoles, at most 20 (default 10)",
        )  # fmt: skip
    if name == "4pcf":
        c.add_argument(
            "--parity", action="store_true", help="also the parity-odd counts and zeta_odd"
        )
        c.add_argument(
            "--multipoles",
            action="store_true",
            help="4PCF multipoles zeta_l1l2l3(r1, r2, r3) in the isotropic basis in O(N m), "
            "parity-even and parity-odd, instead of exact quads (large scales: bins are the "
            "three sides r1 < r2 < r3 from one point)",
        )
        c.add_argument(
            "--lmax", type=int, default=None, metavar="L",
            help="highest l of l1, l2, l3 with --multipoles, at most 10 (default 4)",
        )  # fmt: skip
        c.add_argument(
            "--disconnected",
            action="store_true",
            help="with --multipoles: also the disconnected (Gaussian) part from the same "
            "pass, and the connected zeta (randoms needed)",
        )
    if name == "wp":
        c.add_argument(
            "--pimax", type=float, default=40.0, metavar="PI",
            help=f"largest |pi|, {MPC} (default 40)",
        )  # fmt: skip
        c.add_argument(
            "--npi", type=positive_int, metavar="N",
            help=f"number of linear pi bins (default: bins 1 {MPC} wide)",
        )  # fmt: skip
        c.add_argument(
            "--signed-pi",
            action="store_true",
            help="bin the signed pi over [-pimax, pimax) instead of |pi| over [0, pimax)",
        )
    c.add_argument(
        "--out", default=name, metavar="PREFIX", help=out_help(name, name in ("2pcf", "wp"))
    )
    c.set_defaults(func=func, check=check_two_point if name in ("2pcf", "wp") else None)


def _add_wtheta(sub: Any) -> None:
    w = _subparser(sub, "wtheta")
    w.add_argument("--data", required=True, metavar="F", help=SKY_HELP)
    add_randoms_args(w)
    w.add_argument(
        "--columns",
        metavar="RA,DEC[,Z]",
        help="the RA and Dec columns (degrees), comma-separated, e.g. RA,DEC, and the "
        "redshift column for --zmin/--zmax (default: the columns named ra, dec and z or "
        "redshift, any case)",
    )
    add_file_args(w, sky_only=True)
    add_two_point_args(w, sky=True)
    w.add_argument(
        "--thetamin", type=float, required=True, metavar="DEG",
        help="smallest angle, degrees (> 0)",
    )  # fmt: skip
    w.add_argument(
        "--thetamax", type=float, required=True, metavar="DEG",
        help="largest angle, degrees (at most 180)",
    )  # fmt: skip
    w.add_argument(
        "--nbins", type=positive_int, default=10, metavar="N",
        help="number of theta bins (default 10)",
    )  # fmt: skip
    w.add_argument(
        "--scale", choices=("log", "linear"), default="log", help="bin spacing (default log)"
    )
    add_regions_arg(w, sky=True)
    w.add_argument("--out", default="wtheta", metavar="PREFIX", help=out_help("wtheta", True))
    w.set_defaults(func=cmd_wtheta, check=check_two_point)


def build_parser() -> argparse.ArgumentParser:
    """The ``astrograph`` argument parser."""
    p = _Parser(
        prog="astrograph",
        description="Exact clustering statistics (2-, 3-, 4-point) through a neighbour-graph\n"
        f"database.\n\n{UNITS}",
        epilog="Run 'astrograph COMMAND --help' for a command's options and examples.",
        formatter_class=_Formatter,
    )
    add_common(p, top=True)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = _subparser(sub, "demo")
    d.add_argument(
        "--out",
        default=DEMO_OUT,
        metavar="DIR",
        help="output folder, created if needed: demo.png, xi.parquet, xi.txt, zeta.parquet, "
        f"zeta.txt, summary.json (default {DEMO_OUT}, in the current directory)",
    )
    d.add_argument(
        "--parents", type=positive_int, default=2500, metavar="N",
        help="cluster parents in the mock, 8 points each on average (default 2500)",
    )  # fmt: skip
    d.add_argument(
        "--seed", type=int, default=42, metavar="S",
        help="random seed of the mock and its randoms (default 42)",
    )  # fmt: skip
    d.set_defaults(func=cmd_demo)

    g = _subparser(sub, "graph").add_subparsers(
        dest="graph_command", required=True, metavar="COMMAND"
    )
    gb = _subparser(g, "build")
    add_catalogue_args(gb, graph=True)
    gb.add_argument(
        "--rmax", type=float, required=True, metavar="R",
        help=f"largest separation stored, {MPC}",
    )  # fmt: skip
    gb.add_argument(
        "--rmin", type=float, default=0.0, metavar="R",
        help=f"smallest separation stored, {MPC} (default 0)",
    )  # fmt: skip
    gb.add_argument(
        "--no-mu", action="store_true", help="do not store mu (8 instead of 10 bytes per edge)"
    )
    gb.add_argument(
        "--max-memory",
        default=None,
        metavar="BYTES",
        help="refuse to build above this many bytes, e.g. 2e9 or 2GB (default: half the free RAM)",
    )
    gb.add_argument(
        "--out",
        default="graph.arrow",
        metavar="FILE",
        help="the graph file written, Arrow IPC (default graph.arrow; under MPI one file per "
        "rank, graph.rankK.arrow)",
    )
    gb.set_defaults(func=cmd_graph_build)
    gi = _subparser(g, "info")
    gi.add_argument("path", metavar="FILE", help="a graph file written by 'graph build'")
    gi.set_defaults(func=cmd_graph_info)

    for name, func, defaults in (
        ("2pcf", cmd_2pcf, (1.0, 20.0, 10, "log")),
        ("wp", cmd_wp, (0.5, 30.0, 10, "log")),
        ("3pcf", cmd_3pcf, (1.0, 20.0, 6, "linear")),
        ("4pcf", cmd_4pcf, (1.0, 10.0, 3, "linear")),
    ):
        _add_count_command(sub, name, func, defaults)
    _add_wtheta(sub)
    return p


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments; an unknown option is refused by the subcommand it was given to."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _chosen(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The (sub)parser of the command given."""
    names = [args.command, getattr(args, "graph_command", None)]
    p: Any = parser
    for name in names:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not name or not subs:
            break
        p = subs[0].choices[name]
    return p
