"""Two-point counts over MPI ranks: every catalogue of the count (both
tracers, every random split) is loaded in row slices, the points are spread
over the ranks by one recursive bisection with rmax buffers, and each rank
counts the pairs whose smaller-key point it owns, with the same kernel as
one process. Counts and region tables add up over ranks; the weight sums
behind the normalisations are summed over the loaded slices.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ... import _lib
from ..._progress import progress_bar
from ...errors import InputError
from .. import inputs, sanity, twopoint
from ..regions import KMEANS_SAMPLE, MAX_REGIONS, box_labels, sky_centres, sky_labels
from ..regions import labels as check_labels
from ..results import AUTO, CROSS, AngularCounts, PairCounts, ProjectedCounts
from ..splits import RandomSplits
from ..weights import WeightSums, angular_tables, iip_weights, pip_spec, popcount
from .collective import agree, mpi, reduce_sum, stage
from .decompose import decompose
from .graph import rank_budget
from .load import Meta, Points, load_one, split
from .timing import Stages


def _roles(data: Any, randoms: Any, data2: Any, randoms2: Any, dw, rw, d2w, r2w) -> list:
    """(role, source, weights) of every catalogue, on rank 0."""
    out = [("D1", data, dw)]
    splits = twopoint._as_list(randoms)
    ws = twopoint._weights_list(rw, len(splits), "random weights")
    out += [(f"R1.{k}", s, w) for k, (s, w) in enumerate(zip(splits, ws, strict=True))]
    if data2 is not None:
        out.append(("D2", data2, d2w))
        splits = twopoint._as_list(randoms2)
        ws = twopoint._weights_list(r2w, len(splits), "random2 weights")
        out += [(f"R2.{k}", s, w) for k, (s, w) in enumerate(zip(splits, ws, strict=True))]
    elif randoms2 is not None:
        raise InputError("randoms2 needs data2 (the second tracer)")
    return out


def _what(role: str) -> str:
    kind = "data" if role[0] == "D" else "random"
    tracer = "" if role[1] == "1" else "2"
    split = f" split {role.split('.')[1]}" if "." in role else ""
    return f"{kind}{tracer}{split}"


def _scatter_rows(comm: Any, full: np.ndarray | None, n: int, dtype: Any, row: int) -> np.ndarray:
    """Rank 0's (n, row) array scattered in the row slices ``load_one`` uses."""
    MPI = mpi()
    rank = comm.Get_rank()
    b = split(n, comm.Get_size())
    counts = np.diff(b) * row
    out = np.empty((int(np.diff(b)[rank]), row), dtype=dtype)
    kind = {"f": MPI.DOUBLE, "u": MPI.UINT64_T, "i": MPI.INT64_T}[np.dtype(dtype).kind]
    send = (
        [np.ascontiguousarray(full, dtype=dtype), (counts, b[:-1] * row), kind]
        if rank == 0
        else None
    )
    comm.Scatterv(send, [out, kind], root=0)
    return out


def count(
    kind: str,
    data: Any,
    randoms: Any = None,
    *,
    comm: Any,
    allreduce: bool = False,
    bins: Any = None,
    rp_bins: Any = None,
    pimax: float | None = None,
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
) -> Any:
    """``count_pairs`` ("smu"), ``count_pairs_rppi`` ("rppi") or
    ``count_angular`` ("theta") over the ranks of ``comm``: arrays are taken
    from rank 0 (other ranks may pass None), file paths are read in slices
    by every rank; the result on rank 0 (every rank with ``allreduce``)."""
    rank = comm.Get_rank()
    angular = kind == "theta"
    clock = Stages()

    def setup() -> tuple:
        if isinstance(randoms, RandomSplits) or isinstance(randoms2, RandomSplits):
            raise InputError(
                "randoms streamed split by split (RandomSplits) are counted on one process; "
                "under MPI give the splits as a list of catalogue files, which every rank "
                "reads in row slices"
            )
        if kind == "smu":
            b = twopoint.as_bins(bins)
            binning: tuple = twopoint.smu_binning(b)
        elif kind == "rppi":
            if pimax is None:
                raise InputError("(rp, pi) counts need pimax")
            b = twopoint.rppi_bins(rp_bins, pimax, npi, signed)
            binning = twopoint.rppi_binning(b, pimax)
        else:
            b = twopoint.theta_bins(bins)
            binning = twopoint.theta_binning(b)
        box = None if boxsize is None else float(boxsize)
        if angular and box is not None:
            raise InputError("angular counts are on the sky: boxsize does not apply")
        line = twopoint.resolve_los(los, box, angular)
        roles = _roles(
            data,
            randoms,
            data2,
            randoms2,
            data_weights,
            random_weights,
            data2_weights,
            random2_weights,
        )
        names = list(CROSS if data2 is not None else AUTO)
        tables = angular_tables(twopoint_weights, names)
        if tables and box is not None:
            raise InputError("angular upweights need an observer at the origin, not a periodic box")
        return b, binning, box, line, tables, roles

    setup_out = stage(comm, setup) if rank == 0 else stage(comm, lambda: None)
    roles: list[Any] = setup_out[5] if rank == 0 else []
    b, binning, box, line, tables, names = comm.bcast(
        (*setup_out[:5], [r for r, _, _ in roles]) if rank == 0 else None, root=0
    )
    rmax = _search_radius(binning)
    clock.mark("setup")

    parts: dict[str, Points] = {}
    sizes: dict[str, int] = {}
    weighted: dict[str, bool] = {}
    for k, role in enumerate(names):
        src, w = (roles[k][1], roles[k][2]) if rank == 0 else (None, None)
        if angular:
            # (RA, Dec) arrays become unit vectors on rank 0; files and
            # catalogues give positions whose directions are taken below
            plain = rank == 0 and src is not None and not isinstance(src, (str, os.PathLike))
            plain = plain and not hasattr(src, "positions")
            converted = stage(
                comm,
                lambda s=src, r=role, c=plain: twopoint.sky_directions(s, _what(r)).T if c else s,
            )
            src = converted if rank == 0 else None
            plain = comm.bcast(plain, root=0)
        pts, n, wt = load_one(comm, src, w, _what(role))
        agree(comm, InputError(f"the {_what(role)} catalogue is empty") if n == 0 else None)
        assert pts is not None  # loaded: the catalogue is not empty (agreed above)
        if angular and not plain:
            r = np.sqrt((pts.pos**2).sum(axis=1))
            agree(
                comm,
                InputError(f"{_what(role)} has points at the origin") if (r == 0).any() else None,
            )
            pts.pos = pts.pos / r[:, None]
        parts[role], sizes[role], weighted[role] = pts, n, wt
        if tables:
            at = int((~(pts.pos != 0).any(axis=1)).sum())
            bad = InputError(
                f"angular upweights need every point away from the observer at the origin; "
                f"the {_what(role)} catalogue has points at it"
            )
            agree(comm, bad if at else None)

    clock.mark("load and scatter")

    # PIP: bitwise words and IIP weights of the galaxies, from rank 0's arrays
    def pip_setup() -> Any:
        return pip_spec(
            {"D1": data_bitwise_weights, "D2": data2_bitwise_weights}, sizes, weight_attrs
        )

    spec = stage(comm, pip_setup) if rank == 0 else stage(comm, lambda: None)
    norm = comm.bcast(None if spec is None else spec.norm, root=0)
    roles_with_bits = comm.bcast(None if spec is None else sorted(spec.words), root=0) or []
    nwords = comm.bcast(None if spec is None else spec.nwords, root=0) or 0
    if norm is not None and "D2" in sizes and roles_with_bits != ["D1", "D2"]:
        agree(
            comm,
            InputError(
                "PIP weights of a cross-correlation need bitwise weights for both tracers' data"
            ),
        )
    for role in roles_with_bits:
        full = spec.words[role] if rank == 0 else None
        words = _scatter_rows(comm, full, sizes[role], np.uint64, nwords)
        w = parts[role].w if weighted[role] else None
        x = iip_weights(words, norm.__dict__) * (1.0 if w is None else w)
        parts[role].extra.update(words=words, x=x[:, None])

    clock.mark("pip weights")
    nregions = stage(comm, _label, comm, regions, parts, sizes, box, names, rank)
    clock.mark("regions")
    # one key space for every catalogue: rows numbered across them
    offset = 0
    for i, role in enumerate(names):
        p = parts[role]
        row = p.key >> 1
        p.key = ((row + offset) << 1) | np.int64(role[0] == "R")
        p.extra["role"] = np.full((len(p), 1), i, dtype=np.int64)
        if "words" not in p.extra and nwords:
            p.extra["words"] = np.zeros((len(p), nwords), np.uint64)
        if "x" not in p.extra and nwords:
            p.extra["x"] = p.w[:, None].copy()
        offset += sizes[role]

    # weight sums (additive over the loaded slices)
    nbits = 0 if norm is None else norm.nbits
    sums: dict[str, WeightSums] = {}
    for role in names:
        p = parts[role]
        bits = p.extra["words"] if role in roles_with_bits else None
        s = WeightSums.of(
            p.w if weighted[role] else None,
            len(p),
            x=p.extra["x"][:, 0] if role in roles_with_bits else None,
            counts=None if bits is None else popcount(bits),
            nbits=nbits,
            labels=p.region if nregions else None,
            nregions=nregions,
        )
        tot = np.array(s.total)
        comm.Allreduce(mpi().IN_PLACE, tot, op=mpi().SUM)
        reg = None
        if nregions:
            reg = np.ascontiguousarray(s.regions)
            comm.Allreduce(mpi().IN_PLACE, reg, op=mpi().SUM)
        sums[role] = WeightSums(tot, reg)

    clock.mark("weight sums")
    allpts = Points.concat([parts[r] for r in names])
    del parts
    meta = Meta(offset, 0, False, True, True, box, line, nregions)
    local, flags, order = decompose(comm, allpts, meta, rmax)
    del allpts
    clock.mark("decomposition and buffers")
    keys = (
        order.ids(local.pos, local.key) if order is not None else (local.key >> 1).astype(np.uint64)
    )
    role_of = local.extra["role"][:, 0]
    prepared = twopoint.Prepared({}, {}, boxsize=box, los=line, nregions=nregions)
    core: dict[str, tuple] = {}
    for i, role in enumerate(names):
        sel = np.flatnonzero(role_of == i)
        pos = np.ascontiguousarray(local.pos[sel].T)
        w = np.ascontiguousarray(local.w[sel]) if weighted[role] else None
        x = np.ascontiguousarray(local.extra["x"][sel, 0]) if role in roles_with_bits else None
        bits = np.ascontiguousarray(local.extra["words"][sel]) if role in roles_with_bits else None
        lab = local.region[sel].astype(np.uint32) if nregions else None
        core[role] = (
            pos,
            w,
            x,
            bits,
            lab,
            np.ascontiguousarray(keys[sel]),
            np.ascontiguousarray(flags[sel]),
        )
        prepared.pos[role], prepared.w[role] = pos, w
    prepared.sums = sums
    del local
    clock.mark("core arrays")

    def run() -> tuple:
        r1 = sorted((r for r in names if r.startswith("R1.")), key=lambda r: int(r[3:]))
        r2 = sorted((r for r in names if r.startswith("R2.")), key=lambda r: int(r[3:]))
        opts: dict[str, Any] = {
            "nregions": nregions,
            "pip": None,
            "angular": [([], []) if t is None else t for t in tables],
        }
        if norm is not None:
            opts["pip"] = (float(norm.nrealizations), norm.noffset, norm.default_value, nwords)
        budget = rank_budget(comm, max_memory)
        show = progress and rank == 0
        with progress_bar(twopoint._passes(prepared), show) as cb:
            out = _lib.count_two_point(
                data1=core["D1"],
                randoms1=[core[r] for r in r1],
                data2=core.get("D2"),
                randoms2=[core[r] for r in r2],
                binning_args=binning,
                boxsize=box,
                los=line,
                **opts,
                max_memory=budget,
                num_threads=inputs.num_threads(num_threads),
                progress=cb,
            )
        clock.mark("count")
        return out

    raw = stage(comm, run)
    clock.mark("waiting for the slowest rank")
    cnames, tables, regs = raw
    exact = not any(weighted.values()) and norm is None and twopoint_weights is None
    total = reduce_sum(comm, [*tables, regs], exact=exact, allreduce=allreduce)
    clock.mark("reduction")
    clock.gather(comm)
    if total is None:
        return None
    sanity.check_counts(cnames, total[:-1], sums)
    cls: type = {"smu": PairCounts, "rppi": ProjectedCounts, "theta": AngularCounts}[kind]
    extra = {"pimax": float(binning[2])} if kind == "rppi" else {}
    r1 = [r for r in names if r.startswith("R1.")]
    return twopoint.build_result(
        cls,
        b,
        (cnames, total[:-1], total[-1]),
        sums,
        boxsize=box,
        los=line,
        pip=norm,
        weighted=(weighted["D1"], bool(r1) and weighted[r1[0]]),
        **extra,
    )


def _search_radius(binning: tuple) -> float:
    """A radius at least the core's search radius for a binning (the
    buffers may hold a few points more than needed, never fewer)."""
    kind, edges, pimax, _, _ = binning
    if kind == "smu":
        return float(edges[-1]) * (1 + 1e-9)
    if kind == "rppi":
        return float(np.sqrt(edges[-1] ** 2 + pimax**2)) * (1 + 1e-9)
    theta = float(edges[-1])
    if theta > 90.0:
        return 2.0 * (1 + 1e-9)
    return 2.0 * np.sin(np.radians(theta) / 2.0) * (1 + 1e-9)


def _label(
    comm: Any,
    spec: Any,
    parts: dict[str, Points],
    sizes: dict[str, int],
    box: float | None,
    names: list[str],
    rank: int,
) -> int:
    """Sets every loaded point's region (collectively); returns their number.

    K regions: sub-cubes of a box, or sky patches from k-means on a sample
    of the data directions gathered on rank 0; labels (given on rank 0 per
    catalogue, as for one process) are scattered like the rows."""
    kind = comm.bcast(
        ("none" if spec is None else "k" if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool) else "labels")
        if rank == 0 else None,
        root=0,
    )  # fmt: skip
    if kind == "none":
        return 0
    if kind == "k":
        k = comm.bcast(int(spec) if rank == 0 else None, root=0)
        if not 2 <= k <= MAX_REGIONS:
            raise InputError(f"regions must be between 2 and {MAX_REGIONS}, got {k}")
        if box is not None:
            for p in parts.values():
                p.region = box_labels(p.pos, box, k)
            return k
        # Each tracer's sample in row order: below KMEANS_SAMPLE points, the
        # patches are those of one process exactly.
        rng = np.random.default_rng(comm.Get_rank())
        samples = []
        for r in ("D1", "D2"):
            if r not in parts:
                continue
            pos = parts[r].pos
            take = min(len(pos), max(1, KMEANS_SAMPLE // comm.Get_size()))
            if take < len(pos):
                pos = pos[np.sort(rng.choice(len(pos), take, replace=False))]
            samples.append(
                np.concatenate(comm.gather(pos, root=0)) if rank == 0 else comm.gather(pos, root=0)
            )
        centres = sky_centres(np.concatenate(samples), k) if rank == 0 else None
        centres = comm.bcast(centres, root=0)
        for p in parts.values():
            if len(p):
                p.region = sky_labels(p.pos, centres)
        return k
    labelled = None
    if rank == 0:
        prepared = twopoint.Prepared({r: np.zeros((3, sizes[r])) for r in names}, {})
        labelled, _ = twopoint.region_labels(spec, prepared)
    k = 0
    for role in names:
        full = None if labelled is None else check_labels(labelled[role], sizes[role], role)
        lab = _scatter_rows(comm, None if full is None else full[:, None], sizes[role], np.int64, 1)
        parts[role].region = lab[:, 0]
        k = max(k, int(lab.max()) + 1 if len(lab) else 0)
    k = comm.allreduce(k, op=mpi().MAX)
    if k < 2:
        raise InputError("jackknife errors need at least 2 regions")
    return k


def counter(kind: str) -> Callable[..., Any]:
    """The MPI entry of one binning, with the local function's keywords."""

    def entry(
        data: Any, randoms: Any = None, *, comm: Any, allreduce: bool = False, **kw: Any
    ) -> Any:
        return count(kind, data, randoms, comm=comm, allreduce=allreduce, **kw)

    return entry
