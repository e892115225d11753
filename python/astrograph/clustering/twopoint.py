"""Two-point counts of one or two tracers in this process: (s, mu), (rp, pi)
and theta, with every weight kind, random splits and regions.

:func:`prepare` turns the user's catalogues into what the core reads (and
the weight sums the normalisations come from); each count function then
makes one core call with the GIL released and builds its result with the
result's one constructor (:func:`build_result`). The public entry points
(:mod:`astrograph.clustering.api`) add ``comm=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _lib
from .._progress import parts_bar, progress_bar
from ..errors import BinningError, BoxError, InputError
from . import inputs, sanity
from .bins import Bins, as_bins
from .regions import MAX_REGIONS, box_labels, sky_centres, sky_labels
from .regions import labels as check_labels
from .results import AngularCounts, PairCounts, ProjectedCounts, Resampling
from .splits import RandomSplits
from .weights import PipSpec, WeightSums, angular_tables, iip_weights, pip_spec, popcount

#: Lines of sight: survey (observer at the origin) and plane-parallel axes.
SURVEY_LOS = ("midpoint", "firstpoint", "endpoint")
AXIS_LOS = ("x", "y", "z")


def is_splits(x: Any) -> bool:
    """Whether ``x`` is a list of catalogues (random splits) rather than one."""
    if not isinstance(x, (list, tuple)) or len(x) == 0:
        return False
    return all(
        hasattr(c, "positions") or (isinstance(c, np.ndarray) and c.ndim == 2)
        or isinstance(c, (str,)) for c in x
    )  # fmt: skip


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    return list(x) if is_splits(x) else [x]


def _weights_list(w: Any, n: int, what: str) -> list[Any]:
    if n == 0:
        return []
    if n == 1:
        if isinstance(w, (list, tuple)) and len(w) == 1 and not np.isscalar(w[0]):
            return [w[0]]
        return [w]
    if w is None:
        return [None] * n
    if not isinstance(w, (list, tuple)) or len(w) != n:
        raise InputError(f"{what} come in {n} splits: pass a list of {n} weight arrays (or None)")
    return list(w)


def sky_directions(arr: Any, what: str) -> np.ndarray:
    """Unit vectors (3, N) of (RA, Dec) in degrees ((N, 2) array) or of the
    directions of a catalogue's positions (an object with ``positions``)."""
    pos = getattr(arr, "positions", None)
    if pos is not None and not isinstance(arr, np.ndarray):
        p = inputs.positions(pos, what)
        r = np.sqrt((p * p).sum(axis=0))
        if (r == 0).any():
            raise InputError(f"{what} has points at the origin: they have no direction on the sky")
        return np.ascontiguousarray(p / r)
    a = np.asarray(arr)
    if a.dtype.kind not in "iuf" or a.ndim != 2 or a.shape[1] != 2:
        raise InputError(
            f"{what} positions for angular counts are (RA, Dec) in degrees as an (N, 2) array "
            f"(or a Catalog, whose directions are used); got shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise InputError(f"the {what} catalogue is empty")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise InputError(
            f"{what} RA/Dec contain NaN or inf (first: row {np.flatnonzero(~np.isfinite(a).all(1))[0]})"
        )
    bad = np.flatnonzero(np.abs(a[:, 1]) > 90.0)
    if bad.size:
        raise InputError(
            f"{what} Dec must lie in [-90, 90] degrees; {bad.size} values do not "
            f"(first: row {bad[0]}, {a[bad[0], 1]:.6g})"
        )
    ra, dec = np.radians(a[:, 0]), np.radians(a[:, 1])
    c = np.cos(dec)
    return np.ascontiguousarray(np.stack([c * np.cos(ra), c * np.sin(ra), np.sin(dec)]))


@dataclass
class Prepared:
    """Catalogues by role ("D1", "R1.0", ..., "D2", "R2.0", ...) as the core
    reads them, with their weight sums."""

    pos: dict[str, np.ndarray]
    w: dict[str, np.ndarray | None]
    x: dict[str, np.ndarray | None] = field(default_factory=dict)
    bits: dict[str, np.ndarray] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    nregions: int = 0
    sums: dict[str, WeightSums] = field(default_factory=dict)
    pip: PipSpec | None = None
    boxsize: float | None = None
    los: str = "midpoint"
    #: Sky patch centres of ``regions=K`` (None: box sub-cubes or given labels).
    centres: np.ndarray | None = None

    @property
    def cross(self) -> bool:
        return "D2" in self.pos

    def roles(self, prefix: str) -> list[str]:
        return sorted((r for r in self.pos if r.startswith(prefix + ".")), key=lambda r: int(r[3:]))

    def npoints(self) -> int:
        return sum(p.shape[1] for p in self.pos.values())

    def core_catalogue(self, role: str, keys: Any = None, buffer: Any = None) -> tuple:
        lab = self.labels.get(role)
        return (
            self.pos[role],
            self.w[role],
            self.x.get(role),
            self.bits.get(role),
            None if lab is None else lab.astype(np.uint32, copy=False),
            keys,
            buffer,
        )

    def core_args(self) -> dict[str, Any]:
        """The catalogue arguments of ``_lib.count_two_point``."""
        return {
            "data1": self.core_catalogue("D1"),
            "randoms1": [self.core_catalogue(r) for r in self.roles("R1")],
            "data2": self.core_catalogue("D2") if self.cross else None,
            "randoms2": [self.core_catalogue(r) for r in self.roles("R2")],
        }


def resolve_los(los: str | None, boxsize: float | None, angular: bool = False) -> str:
    """The line of sight: midpoint for surveys, z in a box; checked."""
    if angular:
        if los is not None:
            raise InputError("angular counts have no line of sight: do not pass los")
        return "midpoint"
    if los is None:
        return "z" if boxsize is not None else "midpoint"
    if not isinstance(los, str) or los.lower() not in SURVEY_LOS + AXIS_LOS:
        raise InputError(f"los must be one of {SURVEY_LOS + AXIS_LOS}, got {los!r}")
    los = los.lower()
    if boxsize is not None and los not in AXIS_LOS:
        raise BoxError(
            f"los={los!r} needs an observer at the origin; in a periodic box use 'x', 'y' or 'z'"
        )
    return los


def prepare(
    data: Any,
    randoms: Any,
    data2: Any,
    randoms2: Any,
    *,
    data_weights: Any = None,
    random_weights: Any = None,
    data2_weights: Any = None,
    random2_weights: Any = None,
    data_bitwise_weights: Any = None,
    data2_bitwise_weights: Any = None,
    weight_attrs: Mapping[str, Any] | None = None,
    boxsize: float | None = None,
    los: str | None = None,
    regions: Any = None,
    angular: bool = False,
    random_rows: Mapping[str, int] | None = None,
) -> Prepared:
    """Validates every catalogue and its weights and labels the regions.
    ``random_rows``: the randoms' rows by tracer ("1", "2") when only their
    first split is given here (streamed), for the sanity checks."""
    if boxsize is not None:
        boxsize = float(boxsize)
        if not (np.isfinite(boxsize) and boxsize > 0):
            raise BoxError(f"boxsize must be a positive finite size, got {boxsize}")
        if angular:
            raise InputError("angular counts are on the sky: boxsize does not apply")
    los = resolve_los(los, boxsize, angular)
    tracers = [("1", data, randoms, data_weights, random_weights)]
    if data2 is not None:
        tracers.append(("2", data2, randoms2, data2_weights, random2_weights))
    elif randoms2 is not None or random2_weights is not None or data2_weights is not None:
        raise InputError("randoms2 and data2 weights need data2 (the second tracer)")
    p = Prepared({}, {}, boxsize=boxsize, los=los)
    for t, d, r, dw, rw in tracers:
        sfx = "" if t == "1" else "2"
        put_catalogue(p, "D" + t, d, dw, "data" + sfx, angular)
        splits = _as_list(r)
        if not splits and rw is not None:
            raise InputError(f"random{sfx}_weights were given without randoms{sfx}")
        ws = _weights_list(rw, len(splits), f"random{sfx} weights")
        for k, (rk, wk) in enumerate(zip(splits, ws, strict=True)):
            what = f"random{sfx}" + (f" split {k}" if len(splits) > 1 else "")
            put_catalogue(p, f"R{t}.{k}", rk, wk, what, angular)
    sizes = {r: v.shape[1] for r, v in p.pos.items()}
    p.pip = pip_spec({"D1": data_bitwise_weights, "D2": data2_bitwise_weights}, sizes, weight_attrs)
    if p.pip is not None:
        if p.cross and set(p.pip.words) != {"D1", "D2"}:
            raise InputError(
                "PIP weights of a cross-correlation need bitwise weights for both tracers' data"
            )
        attrs = p.pip.norm.__dict__
        for role, words in p.pip.words.items():
            p.bits[role] = words
            w = p.w[role]
            p.x[role] = iip_weights(words, attrs) * (1.0 if w is None else w)
    p.labels, p.nregions = region_labels(regions, p)
    for role in p.pos:
        add_sums(p, role)
    sanity.check_catalogues(p.pos, boxsize, angular, random_rows)
    return p


def put_catalogue(p: Prepared, role: str, cat: Any, w: Any, what: str, angular: bool) -> None:
    """Catalogue ``role``'s positions (directions for angular counts) and
    weights (``w``, else the catalogue's own), checked."""
    p.pos[role] = (sky_directions if angular else inputs.positions)(cat, what)
    p.w[role] = inputs.weights(inputs.catalogue_weights(cat, w), p.pos[role].shape[1], what)


def add_sums(p: Prepared, role: str) -> None:
    """The weight sums of catalogue ``role``, whole and by region."""
    bits = p.bits.get(role)
    p.sums[role] = WeightSums.of(
        p.w[role],
        p.pos[role].shape[1],
        x=p.x.get(role),
        counts=None if bits is None else popcount(bits),
        nbits=p.pip.norm.nbits if p.pip else 0,
        labels=p.labels.get(role),
        nregions=p.nregions,
    )


def region_labels(spec: Any, p: Prepared) -> tuple[dict[str, np.ndarray], int]:
    """Region labels of every catalogue and their number: K sub-cubes of a
    box, or K sky patches from k-means on the data directions (both tracers'
    data for a cross-correlation) with every point taking the nearest patch;
    or labels given per catalogue (a tuple in the order data, randoms,
    data2, randoms2 — random entries a list for splits — or a mapping by role)."""
    if spec is None:
        return {}, 0
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        k = int(spec)
        if not 2 <= k <= MAX_REGIONS:
            raise InputError(f"regions must be between 2 and {MAX_REGIONS}, got {k}")
        if p.boxsize is not None:
            return {r: _u32(box_labels(v.T, p.boxsize, k)) for r, v in p.pos.items()}, k
        data = np.concatenate([p.pos[r] for r in ("D1", "D2") if r in p.pos], axis=1)
        p.centres = sky_centres(data.T, k)
        return {r: sky_labels(v.T, p.centres, np.uint32) for r, v in p.pos.items()}, k
    if isinstance(spec, Mapping):
        given = dict(spec)
    elif isinstance(spec, (tuple, list)):
        order = ["D1", "R1", "D2", "R2"]
        if len(spec) > 4 or len(spec) < 2:
            raise InputError(
                "regions must be a number of regions or labels per catalogue: "
                "(data, randoms[, data2, randoms2])"
            )
        given = {}
        for name, lab in zip(order, spec, strict=False):
            if name.startswith("R") and lab is not None:
                splits = p.roles(name)
                labs = list(lab) if len(splits) > 1 else [lab]
                if len(labs) != len(splits):
                    raise InputError(
                        f"{name} has {len(splits)} splits: give a list of {len(splits)} label arrays"
                    )
                given.update({s: v for s, v in zip(splits, labs, strict=True)})
            elif lab is not None:
                given[name] = lab
    else:
        raise InputError("regions must be a number of regions or labels per catalogue")
    out = {}
    for role, pos in p.pos.items():
        if role not in given:
            raise InputError(f"region labels are missing for the {role} catalogue")
        out[role] = _u32(check_labels(given[role], pos.shape[1], role))
    extra = set(given) - set(p.pos)
    if extra:
        raise InputError(
            f"region labels given for catalogues that are not counted: {sorted(extra)}"
        )
    k = max(int(v.max()) for v in out.values()) + 1
    if k < 2:
        raise InputError("jackknife errors need at least 2 regions")
    return out, k


def labels_of(p: Prepared, pos: np.ndarray) -> np.ndarray:
    """Region labels of a further catalogue (a random split read later) by
    the rule ``regions=K`` set for the others: sub-cube or nearest patch."""
    if p.boxsize is not None:
        return _u32(box_labels(pos.T, p.boxsize, p.nregions))
    assert p.centres is not None
    return sky_labels(pos.T, p.centres, np.uint32)


def _u32(labels: np.ndarray) -> np.ndarray:
    """Region labels (below MAX_REGIONS) as the core reads them, held once."""
    return labels.astype(np.uint32)


def core_options(p: Prepared, twopoint_weights: Any) -> dict[str, Any]:
    names = ["D1D2", "D1R2", "R1D2", "R1R2"] if p.cross else ["DD", "DR", "RR"]
    tables = angular_tables(twopoint_weights, names)
    if tables and p.boxsize is not None:
        raise InputError("angular upweights need an observer at the origin, not a periodic box")
    if tables:
        for role, pos in p.pos.items():
            at = np.flatnonzero(~(pos != 0).any(axis=0))
            if at.size:
                raise InputError(
                    f"angular upweights need every point away from the observer at the origin; "
                    f"the {role} catalogue has {at.size} at it (first: row {at[0]})"
                )
    return {
        "nregions": p.nregions,
        "pip": None if p.pip is None else p.pip.core(),
        "angular": [([], []) if t is None else t for t in tables],
    }


def _keep(rs: Resampling | None, idx: list[int]) -> Resampling | None:
    if rs is None:
        return None
    return Resampling(
        rs.touch[:, idx],
        rs.low[:, idx],
        rs.within[:, idx],
        rs.data_sums,
        rs.random_sums,
        rs.weighted,
    )


def build_result(
    cls: type,
    bins: Bins,
    raw: tuple,
    sums: dict[str, WeightSums],
    *,
    boxsize: float | None,
    los: str,
    pip: Any = None,
    weighted: tuple[bool, bool] = (True, True),
    **extra: Any,
) -> Any:
    """The one constructor of every two-point result from the core's tables
    (names, flat tables, flat resampling tables) and the catalogues' weight
    sums (keyed "D1", "R1.0", ..., "D2", "R2.0", ...). Counts of catalogues
    that were not given are dropped, not kept as zeros."""
    names, tables, regions = raw
    names = list(names)
    shape = (bins.nbins, bins.nmu)
    counts = {
        n: np.asarray(t, dtype=np.float64).reshape(shape)
        for n, t in zip(names, tables, strict=True)
    }
    rs = None
    if sums["D1"].regions is not None:
        d = sums["D1"].regions[:, :5]
        splits = [k for k in sums if k.startswith("R1.")]
        r = None
        for k in splits:
            rk = sums[k].regions
            if rk is None:
                raise InputError(f"the {k} catalogue has no region sums")
            r = rk[:, :5] if r is None else r + rk[:, :5]
        rs = Resampling.from_raw(regions, (len(names), *shape), d, r, weighted)
    need = {
        "DR": ("R1.0",), "RR": ("R1.0",), "D1R2": ("R2.0",), "R1D2": ("R1.0",),
        "R1R2": ("R1.0", "R2.0"),
    }  # fmt: skip
    keep = [n for n in names if all(r in sums for r in need.get(n, ()))]
    if len(keep) < len(names):
        rs = _keep(rs, [names.index(n) for n in keep])
        counts = {n: counts[n] for n in keep}
    return cls(bins, counts, sums, boxsize, rs, pip, los, {}, **extra)


def result_of(cls: type, bins: Bins, raw: tuple, p: Prepared, **extra: Any) -> Any:
    """:func:`build_result` of a prepared count."""
    splits = p.roles("R1")
    weighted = (p.w["D1"] is not None, bool(splits) and p.w[splits[0]] is not None)
    pip = None if p.pip is None else p.pip.norm
    return build_result(
        cls, bins, raw, p.sums, boxsize=p.boxsize, los=p.los, pip=pip, weighted=weighted, **extra
    )


def _passes(p: Prepared) -> list[str]:
    """Progress step names, one per core pass."""
    k = max(len(p.roles("R1")), len(p.roles("R2")), 1)
    names = ["pair counts"]
    for s in range(1, k):
        names += [f"pair counts, random split {s + 1}/{k}"] * 2
    return names


def _core(
    p: Prepared,
    binning: tuple,
    twopoint_weights: Any,
    max_memory: Any,
    num_threads: Any,
    progress: Any,
    carry: np.ndarray | None = None,
) -> tuple:
    """One call of the core on the catalogues of ``p`` (continuing the
    totals ``carry`` of earlier random splits)."""
    return _lib.count_two_point(
        **p.core_args(),
        binning_args=binning,
        boxsize=p.boxsize,
        los=p.los,
        **core_options(p, twopoint_weights),
        max_memory=inputs.budget(max_memory),
        num_threads=inputs.num_threads(num_threads),
        progress=progress,
        carry=carry,
    )


def _count(
    p: Prepared,
    binning: tuple,
    twopoint_weights: Any,
    max_memory: Any,
    num_threads: Any,
    progress: bool,
) -> tuple:
    with progress_bar(_passes(p), progress) as cb:
        raw = _core(p, binning, twopoint_weights, max_memory, num_threads, cb)
    sanity.check_counts(raw[0], raw[1], p.sums)
    return raw


def _streamed(
    args: Mapping[str, Any],
    geometry: Mapping[str, Any],
    binning: tuple,
    progress: bool,
) -> tuple[tuple, Prepared]:
    """The count of ``args`` whose randoms are :class:`RandomSplits`: one
    core call per split, each continuing the totals of the splits before
    it, with only the data and the current split in memory."""
    given = {t: args[k] for t, k in (("1", "randoms"), ("2", "randoms2")) if args[k] is not None}
    if not all(isinstance(s, RandomSplits) for s in given.values()):
        raise InputError(
            "randoms streamed from a file (RandomSplits) for one tracer need the other "
            "tracer's randoms streamed too"
        )
    nsplits = {len(s) for s in given.values()}
    if len(nsplits) > 1:
        raise InputError(
            f"both tracers' randoms must come in the same number of splits, got {sorted(nsplits)}"
        )
    for key in ("random_weights", "random2_weights"):
        if args[key] is not None:
            raise InputError(
                f"{key} cannot be given with randoms streamed from a file: name their weight "
                "column(s) with RandomSplits(..., weight=)"
            )
    regions = args["regions"]
    if regions is not None and (
        isinstance(regions, bool) or not isinstance(regions, (int, np.integer))
    ):
        raise InputError(
            "with randoms streamed from a file, give regions as a number K: each split is "
            "labelled as it is read (sub-cubes of the box, or the data's sky patches)"
        )
    rows = {t: s.row_count() for t, s in given.items()}
    first = {**args, **{k: s.read(0) for k, s in (("randoms", args["randoms"]),
                                                   ("randoms2", args["randoms2"])) if s is not None}}  # fmt: skip
    p = prepare_args(first, **geometry, random_rows=rows)
    del first  # the core reads p's copies: the catalogues read are not kept
    angular = bool(geometry.get("angular"))
    weights = (args["twopoint_weights"], args["max_memory"], args["num_threads"])
    with parts_bar(progress, sum(rows.values())) as bar:
        raw = None
        for k in range(nsplits.pop()):
            if k:
                for t, src in given.items():
                    for table in (p.pos, p.w, p.labels):
                        table.pop(f"R{t}.{k - 1}", None)  # dropped before the next is read
                    role, what = f"R{t}.{k}", f"random{'' if t == '1' else '2'} split {k}"
                    put_catalogue(p, role, src.read(k), None, what, angular)
                    if p.nregions:
                        p.labels[role] = labels_of(p, p.pos[role])
                    add_sums(p, role)
            carry = None if raw is None else np.concatenate([*raw[1], raw[2]])
            items = sum(src.rows(k) for src in given.values())
            cb = None if bar is None else bar.part(items, 1 if k == 0 else 2)
            raw = _core(p, binning, *weights, cb, carry)
            if bar is not None:
                bar.produced(sum(float(np.sum(t)) for t in raw[1]))
    assert raw is not None
    sanity.check_counts(raw[0], raw[1], p.sums)
    return raw, p


def _counted(
    cls: type,
    b: Bins,
    binning: tuple,
    args: Mapping[str, Any],
    geometry: Mapping[str, Any],
    **extra: Any,
) -> Any:
    """A two-point count of a public function's arguments: in one core call,
    or split by split when the randoms are streamed from a file."""
    progress = args["progress"]
    if isinstance(args["randoms"], RandomSplits) or isinstance(args["randoms2"], RandomSplits):
        raw, p = _streamed(args, geometry, binning, progress)
    else:
        p = prepare_args(args, **geometry)
        tw, mm, nt = args["twopoint_weights"], args["max_memory"], args["num_threads"]
        raw = _count(p, binning, tw, mm, nt, progress)
    return result_of(cls, b, raw, p, **extra)


def smu_binning(bins: Bins | Any) -> tuple:
    b = as_bins(bins)
    return ("smu", b.edges.tolist(), 0.0, b.nmu, b.signed)


def rppi_binning(b: Bins, pimax: float) -> tuple:
    """The kernel's binning for ``rppi_bins(...)``."""
    return ("rppi", b.edges.tolist(), float(pimax), b.nmu, b.signed)


def theta_binning(b: Bins) -> tuple:
    """The kernel's binning for ``theta_bins(...)``."""
    return ("theta", b.edges.tolist(), 0.0, 1, False)


CATALOGUES = ("data", "randoms", "data2", "randoms2")
WEIGHTS = (
    "data_weights", "random_weights", "data2_weights", "random2_weights",
    "data_bitwise_weights", "data2_bitwise_weights", "weight_attrs", "regions",
)  # fmt: skip


def prepare_args(args: Mapping[str, Any], **geometry: Any) -> Prepared:
    """``prepare`` on the catalogue and weight arguments a public count
    function received (its ``locals()``), so the three share one call."""
    data, randoms, data2, randoms2 = (args[k] for k in CATALOGUES)
    return prepare(data, randoms, data2, randoms2, **{k: args[k] for k in WEIGHTS}, **geometry)


def rppi_bins(rp_bins: Bins | Any, pimax: float, npi: int | None, signed: bool = False) -> Bins:
    """The rp edges with npi pi bins (as ``nmu``; ``mu_min = -1`` for a
    signed pi); npi defaults to unit-width pi bins (Corrfunc's convention)."""
    rp = as_bins(rp_bins)
    if not (np.isfinite(pimax) and pimax > 0):
        raise InputError(f"pimax must be a positive finite length, got {pimax!r}")
    if npi is None:
        npi = int(np.ceil(pimax)) * (2 if signed else 1)
    return Bins(rp.edges, npi, mu_min=-1.0 if signed else 0.0)


def theta_bins(bins: Bins | Any) -> Bins:
    """Angular bins (degrees): edges in [0, 180]."""
    b = as_bins(bins)
    if b.nmu != 1:
        raise BinningError("angular bins have no mu split (nmu must be 1)")
    if b.rmax > 180.0:
        raise BinningError(
            f"angular bin edges are degrees in [0, 180], got a last edge of {b.rmax}"
        )
    return b


COMMON = """
    data, randoms : ndarray or Catalog
        Tracer 1: galaxies and (optional) randoms. ``randoms`` may be a list
        of catalogues (random splits, Keihänen et al. 2019): random-random
        pairs are then counted within each split only, data-random pairs
        over all of them, and the normalisations follow.
    data2, randoms2 : ndarray or Catalog, optional
        Tracer 2 for a cross-correlation: the counts are then D1D2, D1R2,
        R1D2 and R1R2 (every pair of a tracer-1 point and a tracer-2 point,
        oriented from 1 to 2). With one random catalogue only, the
        Davis-Peebles estimator is used.
    data_weights, random_weights, data2_weights, random2_weights : ndarray, optional
        Individual weights (taken from a Catalog when not given); for random
        splits a list, one array per split.
    data_bitwise_weights, data2_bitwise_weights : int array or list of int arrays, optional
        Bitwise weights of the galaxies (one bit per fibre-assignment
        realisation): galaxy pairs are weighted by PIP weights
        nrealizations / (noffset + popcount(b_i & b_j)) and galaxy-random
        pairs by IIP weights, as pycorr's "inverse_bitwise" does.
    weight_attrs : dict, optional
        pycorr's PIP conventions: ``nrealizations`` (default: bits + 1),
        ``noffset`` (1), ``default_value`` (0), ``nalways`` (0) and
        ``normalization`` ("total" or "counter").
    twopoint_weights : (angles in degrees, weights) or dict, optional
        Angular upweights, interpolated linearly in cos(theta) (1 outside
        the table), applied to every count but the random-random one; or a
        mapping by count name ("DD", "DR" or "D1D2", "D1R2", "R1D2").
    regions : int or labels, optional
        Count in one pass the tables for error bars over these regions: a
        number K (equal sub-cubes of a periodic box, K = n^3; otherwise K
        sky patches by k-means on the data directions, every point taking
        the nearest) or labels per catalogue (data, randoms[, data2,
        randoms2]). The result's ``cov``, ``std`` and ``realisations`` give
        jackknife (delete-one, exact) or bootstrap errors of any statistic.
    max_memory : int, str, "auto" or "unlimited"
        Bound on the count tables and sorted catalogues, checked before they
        are allocated; "auto": half the free memory.
    num_threads : int, optional
        Threads to use (None: all cores).
    progress : bool
        Show a progress bar."""

SPATIAL = """
    boxsize : float, optional
        Periodic box size: minimum-image separations (and analytic random
        counts without randoms).
    los : {"midpoint", "firstpoint", "endpoint", "x", "y", "z"}, optional
        Line of sight (pycorr's definitions): for a pair from point 1 at p to
        point 2 at q, p + q, p or q (surveys; for two tracers the first
        point is tracer 1's), or an axis (boxes). Default: midpoint, or z
        with a box. With a first- or end-point line of sight (or a signed
        mu / pi) the two orientations of a pair of one catalogue fall in
        different bins; each then counts with half its weight."""


def count_pairs(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data2: Any = None,
    randoms2: Any = None,
    data_weights: Any = None,
    random_weights: Any = None,
    data2_weights: Any = None,
    random2_weights: Any = None,
    data_bitwise_weights: Any = None,
    data2_bitwise_weights: Any = None,
    weight_attrs: Mapping[str, Any] | None = None,
    twopoint_weights: Any = None,
    boxsize: float | None = None,
    los: str | None = None,
    regions: Any = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
) -> PairCounts:
    b = as_bins(bins)
    return _counted(PairCounts, b, smu_binning(b), locals(), {"boxsize": boxsize, "los": los})


count_pairs.__doc__ = f"""Exact pair counts in (s, mu) bins, of one tracer or two.

    DD, DR, RR (unordered pairs of one catalogue, each once; all pairs
    between two) or, with ``data2``, D1D2, D1R2, R1D2, R1R2, straight from a
    cell grid (no stored graph).

    Parameters
    ----------{COMMON}
    bins : Bins or array_like of edges
        Separation bins, optionally split in mu (``Bins(..., nmu=,
        mu_min=-1)`` for the signed cosine).{SPATIAL}

    Returns
    -------
    PairCounts
        ``xi()``, ``xi_s()``, ``multipoles()`` with Landy-Szalay (default),
        natural, Davis-Peebles or Hamilton estimators, and error bars.

    Examples
    --------
    Two tracers of one clustered field (every other point), in a box with
    analytic randoms:

    >>> import astrograph as ag
    >>> field = ag.thomas_process(800, 4.0, 2.0, 100.0, seed=1)
    >>> pc = ag.count_pairs(field[::2], bins=ag.Bins.log(1, 10, 5), data2=field[1::2], boxsize=100.0)
    >>> pc.names
    ('D1D2',)
    >>> bool(pc.xi_s()[0] > 1)
    True
    """


def count_pairs_rppi(
    data: Any,
    randoms: Any = None,
    *,
    rp_bins: Bins | Any,
    pimax: float,
    npi: int | None = None,
    signed: bool = False,
    data2: Any = None,
    randoms2: Any = None,
    data_weights: Any = None,
    random_weights: Any = None,
    data2_weights: Any = None,
    random2_weights: Any = None,
    data_bitwise_weights: Any = None,
    data2_bitwise_weights: Any = None,
    weight_attrs: Mapping[str, Any] | None = None,
    twopoint_weights: Any = None,
    boxsize: float | None = None,
    los: str | None = None,
    regions: Any = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
) -> ProjectedCounts:
    b = rppi_bins(rp_bins, pimax, npi, signed)
    geometry = {"boxsize": boxsize, "los": los}
    return _counted(
        ProjectedCounts, b, rppi_binning(b, pimax), locals(), geometry, pimax=float(pimax)
    )


count_pairs_rppi.__doc__ = f"""Exact pair counts in bins of rp and pi, for xi(rp, pi) and wp(rp).

    Along an axis in a periodic box (z by default there): pi = the
    separation along it, rp^2 = the sum of the other two squares; along the
    pair's line of sight l for surveys: pi = s.l/|l|, rp^2 = s^2 - pi^2.
    Every pair with s < sqrt(rp_max^2 + pimax^2) is searched.

    Parameters
    ----------{COMMON}
    rp_bins : Bins or array_like of edges
        The rp bins.
    pimax : float
        Pairs with |pi| >= pimax are not counted.
    npi : int, optional
        Linear pi bins over [0, pimax) (or [-pimax, pimax) when ``signed``);
        default: unit width (Corrfunc's convention).
    signed : bool
        Bin the signed pi over [-pimax, pimax) (pycorr's convention).{SPATIAL}

    Returns
    -------
    ProjectedCounts
        With ``xi_rppi()``, ``wp()`` and, with regions, their covariances.
    """


def count_angular(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data2: Any = None,
    randoms2: Any = None,
    data_weights: Any = None,
    random_weights: Any = None,
    data2_weights: Any = None,
    random2_weights: Any = None,
    data_bitwise_weights: Any = None,
    data2_bitwise_weights: Any = None,
    weight_attrs: Mapping[str, Any] | None = None,
    twopoint_weights: Any = None,
    regions: Any = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
) -> AngularCounts:
    b = theta_bins(bins)
    return _counted(AngularCounts, b, theta_binning(b), locals(), {"angular": True})


count_angular.__doc__ = f"""Exact angular pair counts w(theta), of one tracer or two.

    Positions are (RA, Dec) in degrees as (N, 2) arrays, or catalogues whose
    directions are used. Angles are binned exactly from arcseconds to 180
    degrees: the squared chord of the unit vectors up to 90 degrees, the
    squared anti-chord |u + v|^2 beyond, each against the exact preimage of
    the bin edges.

    Parameters
    ----------{COMMON}
    bins : Bins or array_like of edges
        Angular bins in degrees, edges in [0, 180].

    Returns
    -------
    AngularCounts
        ``wtheta()`` with the estimators of :meth:`TwoPointCounts.xi` and
        error bars.

    Examples
    --------
    >>> import numpy as np, astrograph as ag
    >>> rng = np.random.default_rng(0)
    >>> radec = np.column_stack([rng.uniform(0, 10, 500), rng.uniform(-5, 5, 500)])
    >>> ran = np.column_stack([rng.uniform(0, 10, 2000), rng.uniform(-5, 5, 2000)])
    >>> ac = ag.count_angular(radec, ran, bins=np.geomspace(0.1, 2, 6))
    >>> ac.names
    ('DD', 'DR', 'RR')
    >>> ac.wtheta().shape
    (5,)
    """
