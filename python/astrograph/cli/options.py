"""The options the ``astrograph`` commands share, each with its help, unit
and default: the catalogue files (columns, weights, redshift cut, cosmology),
randoms, box, bins, jackknife regions, the second tracer and PIP weights, and
the value types that refuse bad values in one line."""

from __future__ import annotations

import argparse
from typing import Any

from .files import COSMOLOGY_NAMES, parse_cosmology

#: The unit of lengths: sky catalogues are converted to comoving Mpc/h, and
#: Cartesian positions are taken to be in it.
MPC = "Mpc/h"
CATALOGUE_HELP = (
    "galaxy catalogue: FITS, Parquet, Arrow, CSV or 'x y z [w]' text; Cartesian x, y, z "
    "in Mpc/h or sky ra, dec (degrees) and redshift z"
)
SKY_HELP = (
    "galaxy catalogue with RA and Dec columns in degrees (FITS, Parquet, Arrow, CSV, "
    "or 'ra dec [w]' text); no redshift needed"
)
UNITS = (
    "Lengths are in Mpc/h: sky catalogues (ra, dec in degrees, redshift z) are\n"
    "converted to comoving Mpc/h with --cosmology; Cartesian positions are used\n"
    "as they are."
)


class Once(argparse.Action):
    """--randoms where random splits do not apply: refused when given twice
    (argparse would silently keep the last one)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(
                f"{option} is given twice; several --randoms (random splits) are for 2pcf, "
                "wp and wtheta"
            )
        setattr(namespace, self.dest, values)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def redshift(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a redshift >= 0, got {text!r}")
    return value


def add_common(p: argparse.ArgumentParser, top: bool = False) -> None:
    """--threads and --quiet: before the subcommand or after it."""
    keep: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}  # after it: if given
    p.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="threads per process (default: all cores)",
        **({"default": None} if top else keep),
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars and no result summary (default: shown)",
        **keep,
    )


def add_file_args(p: argparse.ArgumentParser, sky_only: bool = False) -> None:
    """How catalogue files are read: columns, weights, redshift cut, cosmology."""
    if not sky_only:
        p.add_argument(
            "--coords",
            choices=("cartesian", "sky"),
            help="read positions as x, y, z (Mpc/h) or as ra, dec (degrees) and redshift "
            "(default: whichever the file has; needed when it has both)",
        )
        p.add_argument(
            "--columns",
            metavar="A,B,C",
            help="the three position columns, comma-separated, e.g. X,Y,Z or RA,DEC,Z_SPEC "
            "(default: found by name, any case)",
        )
    p.add_argument(
        "--weight-column",
        action="append",
        metavar="NAME",
        help="the weight column; several are multiplied: repeat the option or give "
        "NAME,NAME (e.g. WEIGHT_FKP,WEIGHT_COMP); 'none' for no weights (default: the one "
        "column named w, weight, weights or wt, if any)",
    )
    need_z = " (a column named z or redshift, or the third of --columns)" if sky_only else ""
    for opt, rule in (("--zmin", "z >= ZMIN"), ("--zmax", "z < ZMAX")):
        p.add_argument(
            opt,
            type=redshift,
            metavar=opt[2:].upper(),
            help=f"keep only the rows with {rule} of every sky catalogue file, data and "
            f"randoms alike{need_z}, before any conversion (default: no cut)",
        )
    if not sky_only:
        p.add_argument(
            "--cosmology",
            type=parse_cosmology,
            metavar="NAME",
            help="converts the redshifts of sky catalogues to comoving distances in Mpc/h: "
            f"one of astropy's named cosmologies ({', '.join(COSMOLOGY_NAMES)}), or "
            "flat:H0,Om0 for a flat Lambda-CDM, e.g. flat:100,0.3; written to the results' "
            "metadata (default Planck18)",
        )


def add_regions_arg(p: argparse.ArgumentParser, sky: bool = False, graph: bool = False) -> None:
    where = "" if sky else ", or K = n^3 sub-cubes of a periodic box"
    does = (
        "each node's region is stored in the graph, for the errors of the counts from it"
        if graph
        else "writes the realisations and the covariance too"
    )
    p.add_argument(
        "--regions",
        type=positive_int,
        metavar="K",
        help=f"K regions for jackknife errors: sky patches (k-means){where}; {does} "
        "(default: none, no errors)",
    )
    if graph:
        return
    p.add_argument(
        "--correction",
        choices=("none", "mohammad21"),
        default="none",
        help="jackknife with --regions: mohammad21 weights the tuples crossing a region's "
        "border as Mohammad & Percival (2022), against the plain jackknife's overestimate "
        "at separations near the region size (default none)",
    )


def add_catalogue_args(p: argparse.ArgumentParser, graph: bool = False) -> None:
    """--data, --randoms (once), --boxsize, the file and region options."""
    p.add_argument("--data", required=True, metavar="F", help=CATALOGUE_HELP)
    add_randoms_once(p)
    add_boxsize(p)
    add_file_args(p)
    add_regions_arg(p, graph=graph)


def add_randoms_once(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--randoms",
        action=Once,
        metavar="F",
        help="random catalogue, same formats (default: none; with --boxsize the random "
        "counts are then analytic)",
    )


def add_boxsize(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--boxsize",
        type=float,
        metavar="L",
        help=f"periodic box side, {MPC}: separations by the minimum image (default: no box, "
        "a survey with the observer at the origin)",
    )


def add_bin_args(
    p: argparse.ArgumentParser, rmin: float, rmax: float, nbins: int, scale: str
) -> None:
    p.add_argument(
        "--rmin", type=float, default=rmin, metavar="R",
        help=f"smallest separation, {MPC} (default {rmin:g})",
    )  # fmt: skip
    p.add_argument(
        "--rmax", type=float, default=rmax, metavar="R",
        help=f"largest separation, {MPC} (default {rmax:g})",
    )  # fmt: skip
    p.add_argument(
        "--nbins", type=positive_int, default=nbins, metavar="N",
        help=f"number of separation bins (default {nbins})",
    )  # fmt: skip
    p.add_argument(
        "--scale", choices=("log", "linear"), default=scale,
        help=f"bin spacing (default {scale})",
    )  # fmt: skip


def add_randoms_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--randoms",
        action="append",
        metavar="F",
        help="random catalogue, same formats; give it several times for random splits "
        "(random-random pairs counted within each split, data-random over all) (default: "
        "none; with --boxsize the random counts are then analytic)",
    )
    p.add_argument(
        "--random-splits",
        type=split_count,
        metavar="N|groups",
        help="read the --randoms file (and --randoms2) as random splits, one split at a "
        "time, so that randoms larger than memory stream through: N consecutive row ranges, "
        "or 'groups' for a Parquet file's row groups (default: each file held whole)",
    )


def split_count(text: str) -> int | str:
    """--random-splits: a positive integer or 'groups'."""
    return "groups" if text == "groups" else positive_int(text)


def add_two_point_args(p: argparse.ArgumentParser, sky: bool) -> None:
    """The second tracer, PIP and angular weights (2pcf, wp, wtheta)."""
    files = "(RA, Dec in degrees)" if sky else "(same formats)"
    opts: list[tuple[str, dict[str, Any]]] = [
        ("--data2", dict(metavar="F", help=f"second tracer's galaxies {files}: "
         "cross-correlation counts D1D2, D1R2, R1D2, R1R2 (Landy-Szalay; Davis-Peebles with "
         "one tracer's randoms only) (default: none, an auto-correlation)")),
        ("--randoms2", dict(action="append", metavar="F", help="second tracer's randoms "
         "(repeat for splits, as many times as --randoms) (default: none)")),
        ("--weight-column2", dict(action="append", metavar="NAME", help="weight column(s) "
         "of the --data2 and --randoms2 files, as --weight-column ('none' for no weights; "
         "default: as --weight-column)")),
        ("--bitwise-columns", dict(metavar="NAME[,NAME...]", help="integer columns of the "
         "--data file holding bitwise weights (one bit per fibre-assignment realisation): "
         "PIP weights for data-data pairs, IIP weights for data-random pairs (pycorr's "
         "inverse_bitwise) (default: none)")),
        ("--bitwise-columns2", dict(metavar="NAME[,NAME...]", help="the bitwise weight "
         "columns of the --data2 file (PIP weights of a cross-correlation need both "
         "tracers') (default: none)")),
        ("--nrealizations", dict(type=positive_int, metavar="N", help="PIP: the number of "
         "fibre-assignment realisations, pycorr's weight_attrs (default: the number of "
         "bits + 1)")),
        ("--noffset", dict(type=non_negative_int, metavar="N", help="PIP: pair weights are "
         "nrealizations / (noffset + popcount of the common bits) (default 1)")),
        ("--default-value", dict(type=float, metavar="W", help="PIP: the weight of a pair "
         "whose denominator is 0 (default 0)")),
        ("--twopoint-weights", dict(metavar="FILE", help="angular upweights: a text file of "
         "two columns, theta in degrees and weight, interpolated linearly in cos(theta) (1 "
         "outside the table), applied to data-data and data-random pairs (default: none)")),
    ]  # fmt: skip
    for name, kw in opts:
        p.add_argument(name, **kw)


def out_help(name: str, two_point: bool) -> str:
    what = (
        "every count, the normalisations and the region tables; TwoPointCounts.load reads it"
        if two_point
        else "every count and the estimate"
    )
    return (
        f"output prefix: writes PREFIX.parquet ({what}) and PREFIX.txt (a text table); with "
        f"--regions also PREFIX_jackknife.parquet and PREFIX_cov.txt (default {name})"
    )
