"""astrograph against pycorr: its reference counts, pycorr itself, and PIP timings.

1. **Reference files** (no pycorr needed): pycorr's own test catalogues and
   reference counts (``pycorr/tests/reference`` of a pycorr checkout, given
   with ``--reference DIR`` or ``PYCORR_REFERENCE``; not shipped here): 1000
   galaxies with two 32-bit bitwise weights and an individual weight, 4000
   randoms with an individual weight, per tracer. For every mode (theta, s,
   smu, rppi), weight kind (none, individual, bitwise = PIP with
   nrealizations=64, noffset=0, default_value=0, nalways=1, individual +
   bitwise, + angular upweights) and auto / cross correlation, our counts,
   normalisations and Landy-Szalay estimate against the files.
2. **pycorr itself** (when ``import pycorr`` works, with the cosmodesi
   Corrfunc fork): the same catalogues with the midpoint, first-point and
   end-point lines of sight, smu and rppi, auto and cross, every weight
   kind, compared at full precision.
3. **Angular upweights' conditioning**: how much the counts move when cos
   theta is computed by another (equally exact) formula.
4. **PIP timing**: PIP counts against plain counts in pycorr + its Corrfunc
   fork and in astrograph, in this process (our target: PIP <= 1.5x plain).

Conventions (pycorr's counts are ordered pairs, ours unordered): auto DD and
RR counts and norms are half pycorr's; with a signed mu or pi, or a first /
end point line of sight, our auto DR holds both orientations of each
galaxy-random pair with half weight, (pycorr's D1R2 + R1D2) / 2 (pycorr's
R1D2 of an auto-correlation with the midpoint line of sight is D1R2 with mu
or pi reversed, which is how the reference files are compared). Every other
count equals pycorr's.

    python benchmarks/bench_pycorr.py --reference PYCORR/pycorr/tests/reference
        [--threads 2] [--repeat 3] [--timing-n 300000] [--skip-live] [--skip-timing] [--quick]

Parts 2 and 4 need pycorr and its Corrfunc fork (branch desi of
cosmodesi/Corrfunc) importable, with astrograph, in the Python that runs
this script; nothing here installs or builds them (set them up in an
environment of their own, outside the repository, as their documentation
says). Part 1 runs anywhere. Writes benchmarks/results/pycorr.json.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import cpu_mhz, extension_build, interleaved, loadavg, lscpu_model, write_json

import astrograph as ag

#: pycorr's tests/reference folder (set by --reference or PYCORR_REFERENCE).
REF = Path(os.environ.get("PYCORR_REFERENCE", "pycorr/tests/reference"))


def _open(path: Path) -> Any:
    """A reference file as text (plain, or gzipped beside it)."""
    if path.exists():
        return open(path)
    return gzip.open(path.with_name(path.name + ".gz"), "rt")


MODES = ("theta", "s", "smu", "rppi")
WEIGHTS = (
    "no_weights",
    "individual_weights",
    "bitwise_weights",
    "individual_bitwise_weights",
    "individual_bitwise_angular_upweights",
)
#: The reference's PIP conventions (pycorr/tests/test_reference.py).
ATTRS = {"nrealizations": 64, "noffset": 0, "default_value": 0.0, "nalways": 1}
#: Edges of each mode as the reference files' headers give them; pycorr turns
#: rppi's pi edges linspace(0, 20, 21) into linspace(-20, 20, 41) (signed pi).
EDGES = {
    "theta": np.logspace(-2, 0, 31),
    "s": np.logspace(-0.5, 1, 31),
    "smu": (np.linspace(1, 41, 41), np.linspace(-1, 1, 21)),
    "rppi": (np.linspace(1, 41, 41), np.linspace(-20, 20, 41)),
}
AUTO_FILE = {"DD": "D1D1", "DR": "D1R1", "RR": "R1R1"}
#: pycorr's names of our auto counts.
AUTO_PYCORR = {"DD": "D1D2", "DR": "D1R2", "RR": "R1R2"}


# -- catalogues ---------------------------------------------------------------
def load_catalogue(name: str) -> dict[str, Any]:
    """x y z [bitwise1 bitwise2] weight of a reference catalogue."""
    with _open(REF / "catalogs" / f"{name}.txt") as f:
        a = np.array([line.split() for line in f if not line.startswith("#")])
    out: dict[str, Any] = {"pos": a[:, :3].astype(float), "w": a[:, -1].astype(float)}
    if a.shape[1] == 6:
        # two uint32 words per galaxy (64 realisations), as pycorr reads them
        out["bits"] = [a[:, k].astype(np.int64).astype(np.uint32) for k in (3, 4)]
    return out


def load_all() -> dict[str, Any]:
    cats = {k: load_catalogue(f) for k, f in
            [("D1", "data_1"), ("D2", "data_2"), ("R1", "randoms_1"), ("R2", "randoms_2")]}  # fmt: skip
    with _open(REF / "custom_angular_upweights.txt") as f:
        cats["angular"] = np.loadtxt(f).T
    return cats


def radec(pos: np.ndarray) -> np.ndarray:
    """RA, Dec (degrees) as pycorr's utils.cartesian_to_sky makes them."""
    ra = np.arctan2(pos[:, 1], pos[:, 0]) % (2.0 * np.pi)
    dec = np.arcsin(pos[:, 2] / np.sqrt((pos * pos).sum(axis=1)))
    conversion = np.pi / 180.0
    return np.column_stack([ra / conversion, dec / conversion])


def read_reference(mode: str, name: str) -> tuple[float | None, np.ndarray]:
    """(#norm, last column) of a reference file."""
    path = REF / f"twopoint_{mode}" / f"{name}.txt"
    with _open(path) as f:
        first = f.readline()
    m = re.match(r"#norm = (.*)", first)
    return (float(m.group(1)) if m else None), np.loadtxt(path)[:, -1]


# -- our counts ------------------------------------------------------------------
def our_counts(
    cats: dict, mode: str, weight: str, cross: bool, los: str = "midpoint", threads=None
):
    d1, d2, r1, r2 = (cats[k] for k in ("D1", "D2", "R1", "R2"))
    kw: dict[str, Any] = {"num_threads": threads}
    if "individual" in weight:
        kw.update(data_weights=d1["w"], random_weights=r1["w"])
        if cross:
            kw.update(data2_weights=d2["w"], random2_weights=r2["w"])
    if "bitwise" in weight:
        kw.update(data_bitwise_weights=d1["bits"], weight_attrs=ATTRS)
        if cross:
            kw.update(data2_bitwise_weights=d2["bits"])
    if "angular" in weight:
        kw.update(twopoint_weights=(cats["angular"][0], cats["angular"][1]))
    if mode == "theta":
        if cross:
            kw.update(data2=radec(d2["pos"]), randoms2=radec(r2["pos"]))
        return ag.count_angular(radec(d1["pos"]), radec(r1["pos"]), bins=EDGES["theta"], **kw)
    if cross:
        kw.update(data2=d2["pos"], randoms2=r2["pos"])
    kw["los"] = los
    if mode == "s":
        return ag.count_pairs(d1["pos"], r1["pos"], bins=EDGES["s"], **kw)
    if mode == "smu":
        s, mu = EDGES["smu"]
        return ag.count_pairs(d1["pos"], r1["pos"], bins=ag.Bins(s, len(mu) - 1, mu_min=-1), **kw)
    rp, pi = EDGES["rppi"]
    return ag.count_pairs_rppi(
        d1["pos"], r1["pos"], rp_bins=rp, pimax=pi[-1], npi=len(pi) - 1, signed=True, **kw
    )


def compare(ours: np.ndarray, ref: np.ndarray) -> dict[str, Any]:
    """Largest relative difference over the bins where the reference is not
    zero, and whether ours is zero wherever it is."""
    ours, ref = np.ravel(ours), np.ravel(ref)
    nz = ref != 0
    rel = float(np.max(np.abs(ours[nz] - ref[nz]) / np.abs(ref[nz]))) if nz.any() else 0.0
    return {"max_rel": rel, "zeros_agree": bool(np.all(ours[~nz] == 0)), "bins": int(ref.size)}


def both_orientations(mode: str, flat: np.ndarray, nmu: int) -> np.ndarray:
    """(D1R2 + R1D2) / 2 of a pycorr auto count with the midpoint line of
    sight, whose R1D2 is D1R2 with mu (pi) reversed: our DR (module doc)."""
    if mode not in ("smu", "rppi"):
        return flat
    t = flat.reshape(-1, nmu)
    return (0.5 * (t + t[:, ::-1])).ravel()


def reference_check(cats: dict) -> dict[str, Any]:
    rows, xis = [], []
    for mode in MODES:
        nmu = 1 if mode in ("theta", "s") else len(EDGES[mode][1]) - 1
        for weight in WEIGHTS:
            for cross in (False, True):
                res = our_counts(cats, mode, weight, cross)
                norms = res.norms()
                for name, counts in res.counts.items():
                    fname = name if cross else AUTO_FILE[name]
                    if fname in ("R1R1", "R1R2") and "bitwise" in weight:
                        continue  # not written (they equal the no / individual weights' ones)
                    rnorm, rc = read_reference(mode, f"counts_{fname}_{weight}")
                    factor = 2.0 if not cross and name in ("DD", "RR") else 1.0
                    if not cross and name == "DR":
                        rc = both_orientations(mode, rc, nmu)
                    row = {"mode": mode, "weights": weight, "cross": cross, "count": fname}
                    row.update(compare(factor * counts, rc))
                    row["norm_rel"] = abs(factor * norms[name] - rnorm) / abs(rnorm)
                    rows.append(row)
                kind = "cross" if cross else "auto1"
                _, rxi = read_reference(mode, f"correlation_function_{kind}_{weight}")
                xi = np.ravel(res.xi())
                ok = ~np.isnan(rxi)
                xis.append({
                    "mode": mode, "weights": weight, "cross": cross,
                    "max_abs": float(np.max(np.abs(xi[ok] - rxi[ok]))),
                    "nan_agree": bool(np.array_equal(np.isnan(xi), np.isnan(rxi))),
                })  # fmt: skip
    return {"counts": rows, "xi": xis, "summary": summarise(rows, xis)}


def summarise(rows: list[dict], xis: list[dict]) -> dict[str, Any]:
    def worst(sel, key="max_rel"):
        vals = [r[key] for r in rows if sel(r)]
        return max(vals) if vals else None

    return {
        "tables": len(rows),
        "unweighted_max_rel": worst(lambda r: r["weights"] == "no_weights"),
        "weighted_max_rel_no_angular": worst(
            lambda r: r["weights"] != "no_weights" and "angular" not in r["weights"]
        ),
        "angular_max_rel": worst(lambda r: "angular" in r["weights"]),
        "norm_max_rel": worst(lambda r: True, "norm_rel"),
        "zeros_agree": all(r["zeros_agree"] for r in rows),
        "xi_max_abs_no_angular": max(x["max_abs"] for x in xis if "angular" not in x["weights"]),
        "xi_max_abs_angular": max(x["max_abs"] for x in xis if "angular" in x["weights"]),
        "xi_nan_agree": all(x["nan_agree"] for x in xis),
    }


# -- pycorr itself -------------------------------------------------------------
def pycorr_counts(cats: dict, mode: str, weight: str, cross: bool, los: str, threads: int):
    """pycorr's TwoPointCorrelationFunction as in its test_reference.py."""
    from pycorr import TwoPointCorrelationFunction

    d1, d2, r1, r2 = (cats[k] for k in ("D1", "D2", "R1", "R2"))

    def weights(c, galaxies):
        bits = [b.astype(np.int64) for b in c["bits"]] if galaxies else []
        if weight == "individual_weights":
            return [c["w"]]
        if weight == "bitwise_weights":
            return bits if galaxies else np.ones_like(c["w"])
        if "individual_bitwise" in weight:
            return [*bits, c["w"]] if galaxies else [c["w"]]
        return None

    kw: dict[str, Any] = {
        "weight_attrs": ATTRS, "position_type": "xyz", "nthreads": threads, "los": los,
    }  # fmt: skip
    if "angular" in weight:
        for n in ("D1D2", "D1R2", "R1D2"):
            kw[f"{n}_twopoint_weights"] = cats["angular"]
    if cross:
        kw.update(
            data_positions2=list(d2["pos"].T), data_weights2=weights(d2, True),
            randoms_positions2=list(r2["pos"].T), randoms_weights2=weights(r2, False),
        )  # fmt: skip
    return TwoPointCorrelationFunction(
        mode, EDGES[mode], data_positions1=list(d1["pos"].T), data_weights1=weights(d1, True),
        randoms_positions1=list(r1["pos"].T), randoms_weights1=weights(r1, False), **kw,
    )  # fmt: skip


def live_check(cats: dict, threads: int) -> dict[str, Any]:
    rows = []
    for los in ("midpoint", "firstpoint", "endpoint"):
        for mode in ("smu", "rppi"):
            for weight in WEIGHTS:
                for cross in (False, True):
                    theirs = pycorr_counts(cats, mode, weight, cross, los, threads)
                    ours = our_counts(cats, mode, weight, cross, los, threads)
                    norms = ours.norms()
                    for name, counts in ours.counts.items():
                        pname = name if cross else AUTO_PYCORR[name]
                        pc = getattr(theirs, pname)
                        ref = pc.wcounts
                        if not cross and name == "DR":
                            ref = 0.5 * (theirs.D1R2.wcounts + theirs.R1D2.wcounts)
                        factor = 2.0 if not cross and name in ("DD", "RR") else 1.0
                        row = {
                            "los": los,
                            "mode": mode,
                            "weights": weight,
                            "cross": cross,
                            "count": pname,
                        }
                        row.update(compare(factor * counts, ref))
                        row["norm_rel"] = abs(factor * norms[name] - pc.wnorm) / abs(pc.wnorm)
                        rows.append(row)
                    xi = ours.xi()
                    rows[-1]["xi_max_abs"] = float(np.nanmax(np.abs(xi - theirs.corr)))
                    rows[-1]["xi_nan_agree"] = bool(
                        np.array_equal(np.isnan(xi), np.isnan(theirs.corr))
                    )
    summary = {
        los: {
            "unweighted_max_rel": max(r["max_rel"] for r in rows if r["los"] == los and r["weights"] == "no_weights"),
            "weighted_max_rel_no_angular": max(
                r["max_rel"] for r in rows
                if r["los"] == los and r["weights"] != "no_weights" and "angular" not in r["weights"]
            ),
            "angular_max_rel": max(r["max_rel"] for r in rows if r["los"] == los and "angular" in r["weights"]),
            "norm_max_rel": max(r["norm_rel"] for r in rows if r["los"] == los),
            "zeros_agree": all(r["zeros_agree"] for r in rows if r["los"] == los),
            "xi_max_abs": max(r.get("xi_max_abs", 0.0) for r in rows if r["los"] == los),
        }
        for los in ("midpoint", "firstpoint", "endpoint")
    }  # fmt: skip
    return {"rows": rows, "summary": summary}


# -- angular upweights: conditioning ------------------------------------------------
def angular_conditioning(cats: dict, with_pycorr: bool, threads: int) -> dict[str, Any]:
    """D1D2 and R1D2 in the (s, mu) bins, midpoint line of sight, with the
    angular upweights only, summed in numpy with cos theta from
    p.q / (|p| |q|) (formula A: ours, and theory.DD's in the Corrfunc fork)
    and from the dot product of unit vectors (formula B: its
    DDsmu_mocks' and DDrppi_mocks'). Both are right to the last bit or two;
    the table's slope in cos theta (dw / dcos = 5e8 at 0.06 degrees, 5e9 at
    0.02, 8e10 at 0.0001) turns that into the relative differences per bin
    reported here; ours and pycorr's are compared with each formula."""
    s_edges, mu_edges = EDGES["smu"]
    nmu = len(mu_edges) - 1
    sep, weight = cats["angular"]
    nodes = np.cos(np.radians(sep))
    order = np.argsort(nodes)
    xs, ys = nodes[order], weight[order]
    out: dict[str, Any] = {"bins": "smu: s linspace(1, 41, 41), mu linspace(-1, 1, 21), midpoint"}
    for name, (a, b) in {"D1D2": ("D1", "D2"), "R1D2": ("R1", "D2")}.items():
        p, q = cats[a]["pos"], cats[b]["pos"]
        tables = np.zeros((2, (len(s_edges) - 1) * nmu))
        pn = np.sqrt(p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1] + p[:, 2] * p[:, 2])
        qn = np.sqrt(q[:, 0] * q[:, 0] + q[:, 1] * q[:, 1] + q[:, 2] * q[:, 2])
        up, uq = p / pn[:, None], q / qn[:, None]
        for lo in range(0, len(p), 500):
            sl = slice(lo, lo + 500)
            sv = q[None, :, :] - p[sl, None, :]
            lv = q[None, :, :] + p[sl, None, :]
            d = np.sqrt((sv * sv).sum(-1))
            m = (d >= s_edges[0]) & (d < s_edges[-1])
            mu = (sv * lv).sum(-1)[m] / d[m] / np.sqrt((lv * lv).sum(-1))[m]
            flat = (np.searchsorted(s_edges, d[m], side="right") - 1) * nmu + np.minimum(
                ((mu + 1.0) * (nmu / 2)).astype(int), nmu - 1
            )
            dot = p[sl, None, 0] * q[None, :, 0] + p[sl, None, 1] * q[None, :, 1]
            dot = dot + p[sl, None, 2] * q[None, :, 2]
            udot = up[sl, None, 0] * uq[None, :, 0] + up[sl, None, 1] * uq[None, :, 1]
            udot = udot + up[sl, None, 2] * uq[None, :, 2]
            formulas = (dot / (pn[sl, None] * qn[None, :]), udot)
            for k, cos in enumerate(formulas):
                c = np.minimum(cos[m], 1.0)
                w = np.where((c > xs[0]) & (c <= xs[-1]), np.interp(c, xs, ys), 1.0)
                tables[k] += np.bincount(flat, weights=w, minlength=tables.shape[1])
        nz = tables[0] > 0

        def rel(x, y, nz=nz):
            return float(np.max(np.abs(np.ravel(x)[nz] - np.ravel(y)[nz]) / np.ravel(y)[nz]))

        row = {"A_vs_B": rel(tables[0], tables[1])}
        kw = {
            "data2": q,
            "twopoint_weights": (sep, weight),
            "los": "midpoint",
            "num_threads": threads,
        }
        ours = ag.count_pairs(p, bins=ag.Bins(s_edges, nmu, mu_min=-1), **kw).counts["D1D2"]
        row.update(ours_vs_A=rel(ours, tables[0]), ours_vs_B=rel(ours, tables[1]))
        if with_pycorr:
            from pycorr import TwoPointCounter

            theirs = TwoPointCounter(
                "smu", EDGES["smu"], positions1=list(p.T), positions2=list(q.T), position_type="xyz",
                los="midpoint", twopoint_weights={"sep": sep, "weight": weight}, nthreads=threads,
            ).wcounts  # fmt: skip
            row.update(pycorr_vs_A=rel(theirs, tables[0]), pycorr_vs_B=rel(theirs, tables[1]))
            row["ours_vs_pycorr"] = rel(ours, theirs)
        out[name] = row
    return out


# -- PIP timing ------------------------------------------------------------------
def timing_catalogue(n: int, seed: int = 5) -> dict[str, Any]:
    """A survey-like shell: RA 150-190, Dec 0-30 degrees, comoving distance
    900-1100 Mpc/h (uniform in volume); two 32-bit bitwise words per galaxy
    (bits set with probability 0.7, the last one always), weights in [0.5, 1)."""
    rng = np.random.default_rng(seed)
    ra = np.radians(rng.uniform(150, 190, n))
    dec = np.arcsin(rng.uniform(0.0, 0.5, n))
    dist = np.cbrt(rng.uniform(900.0**3, 1100.0**3, n))
    pos = np.column_stack(
        [dist * np.cos(dec) * np.cos(ra), dist * np.cos(dec) * np.sin(ra), dist * np.sin(dec)]
    )
    bits = rng.random((n, 64)) < 0.7
    bits[:, 31] = True
    words = np.packbits(bits, axis=1, bitorder="little").view("<u4")
    return {"pos": pos, "bits": [np.ascontiguousarray(words[:, 0]), np.ascontiguousarray(words[:, 1])],
            "w": rng.uniform(0.5, 1.0, n)}  # fmt: skip


def timing(n: int, threads: int, repeat: int, with_pycorr: bool) -> dict[str, Any]:
    cat = timing_catalogue(n)
    s_edges, mu_edges = EDGES["smu"]
    bins = ag.Bins(s_edges, len(mu_edges) - 1, mu_min=-1)
    kinds = {
        "plain": {},
        "individual": {"data_weights": cat["w"]},
        "pip": {"data_bitwise_weights": cat["bits"], "weight_attrs": ATTRS},
        "pip_individual": {"data_bitwise_weights": cat["bits"], "data_weights": cat["w"], "weight_attrs": ATTRS},
    }  # fmt: skip

    def ours(kw):
        return lambda: ag.count_pairs(
            cat["pos"], bins=bins, los="midpoint", num_threads=threads, **kw
        )

    fns, names = [], []
    for k, kw in kinds.items():
        fns.append(ours(kw))
        names.append(("astrograph", k))
    if with_pycorr:
        from pycorr import TwoPointCounter

        pw = {
            "plain": None,
            "individual": [cat["w"]],
            "pip": [b.astype(np.int64) for b in cat["bits"]],
            "pip_individual": [*(b.astype(np.int64) for b in cat["bits"]), cat["w"]],
        }

        def theirs(w):
            return lambda: TwoPointCounter(
                "smu", (s_edges, mu_edges), positions1=list(cat["pos"].T), weights1=w,
                weight_attrs=ATTRS, position_type="xyz", los="midpoint", nthreads=threads,
            )  # fmt: skip

        for k in kinds:
            fns.append(theirs(pw[k]))
            names.append(("pycorr", k))
    t0 = time.perf_counter()
    best = interleaved(fns, repeat)
    out: dict[str, Any] = {
        "catalogue": {"galaxies": n, "shell": "RA 150-190, Dec 0-30 deg, 900-1100 Mpc/h"},
        "bins": "s: linspace(1, 41, 41), mu: linspace(-1, 1, 21) (signed), midpoint, DD only",
        "threads": threads,
        "repeat": repeat,
        "seconds": {},
        "cpu_seconds": {},
        "pairs": None,
    }
    for (who, k), (t, c, res) in zip(names, best, strict=True):
        out["seconds"].setdefault(who, {})[k] = t
        out["cpu_seconds"].setdefault(who, {})[k] = c
        if who == "astrograph" and k == "plain":
            out["pairs"] = float(res.counts["DD"].sum())
        if who == "pycorr" and k == "pip":
            ours_pip = best[names.index(("astrograph", "pip"))][2]
            dd = ours_pip.counts["DD"]
            out["pip_counts_max_rel_vs_pycorr"] = float(
                np.max(
                    np.abs(2 * dd - res.wcounts)[res.wcounts != 0] / res.wcounts[res.wcounts != 0]
                )
            )
            out["pip_norm_rel_vs_pycorr"] = abs(2 * ours_pip.norm("DD") - res.wnorm) / res.wnorm
    for clock in ("seconds", "cpu_seconds"):
        tag = "" if clock == "seconds" else "_cpu"
        for who, secs in out[clock].items():
            out.setdefault(f"ratio_pip_over_plain{tag}", {})[who] = secs["pip"] / secs["plain"]
            out.setdefault(f"ratio_pip_individual_over_plain{tag}", {})[who] = (
                secs["pip_individual"] / secs["plain"]
            )
        if with_pycorr:
            out[f"astrograph_over_pycorr{tag}"] = {
                k: out[clock]["astrograph"][k] / out[clock]["pycorr"][k] for k in kinds
            }
    out["wall_for_all_s"] = time.perf_counter() - t0
    return out


def main() -> None:
    global REF
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--reference",
        type=Path,
        default=REF,
        help="pycorr's tests/reference folder (from a pycorr checkout; default $PYCORR_REFERENCE)",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timing-n", type=int, default=300_000)
    ap.add_argument("--skip-live", action="store_true", help="do not run pycorr itself")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--quick", action="store_true", help="timing on 1/10 of the catalogue, 1 round")
    args = ap.parse_args()
    REF = args.reference
    if not (REF / "catalogs").is_dir():
        raise SystemExit(
            f"pycorr's reference folder not found at {REF}: pass --reference "
            "PYCORR_CHECKOUT/pycorr/tests/reference"
        )
    if args.quick:
        args.timing_n //= 10
        args.repeat = 1
    try:
        import Corrfunc
        import pycorr

        have_pycorr = True
        peer = {
            "pycorr": pycorr.__version__,
            "Corrfunc": Corrfunc.__version__,
            "Corrfunc_path": Corrfunc.__file__,
        }
    except ImportError:
        have_pycorr, peer = False, {}
    print(f"pycorr: {peer or 'not importable (parts 2 and 4 without it)'}; load {loadavg()}")

    cats = load_all()
    out: dict[str, Any] = {
        "lscpu_model": lscpu_model(),
        "extension": extension_build(),
        "cpu_mhz": cpu_mhz(),
        "peer": peer,
    }
    t0 = time.perf_counter()
    out["reference"] = reference_check(cats)
    s = out["reference"]["summary"]
    print(
        f"\n1. pycorr's reference files ({s['tables']} count tables, {time.perf_counter() - t0:.1f} s):"
    )
    for k, v in s.items():
        print(f"   {k}: {v}")

    if have_pycorr and not args.skip_live:
        import logging

        logging.disable(logging.INFO)
        t0 = time.perf_counter()
        out["live"] = live_check(cats, args.threads)
        print(
            f"\n2. pycorr {peer['pycorr']} itself ({len(out['live']['rows'])} count tables, {time.perf_counter() - t0:.1f} s):"
        )
        for los, v in out["live"]["summary"].items():
            print(f"   {los}: {v}")

    out["angular_conditioning"] = angular_conditioning(cats, have_pycorr, args.threads)
    print("\n3. angular upweights only, largest relative difference per (s, mu) bin:")
    for k, v in out["angular_conditioning"].items():
        print(f"   {k}: {v}")

    if not args.skip_timing:
        import logging

        logging.disable(logging.INFO)
        out["timing"] = timing(args.timing_n, args.threads, args.repeat, have_pycorr)
        t = out["timing"]
        print(
            f"\n4. PIP timing, {args.timing_n} galaxies, {t['pairs']:.3g} pairs, {args.threads} threads, load {loadavg()}:"
        )
        for who, secs in t["seconds"].items():
            cpu = t["cpu_seconds"][who]
            print(
                "   "
                + who
                + ": "
                + ", ".join(f"{k} {v:.3f} s (cpu {cpu[k]:.3f})" for k, v in secs.items())
            )
        for tag, what in (("", "wall"), ("_cpu", "CPU")):
            print(
                f"   {what}: PIP / plain {t['ratio_pip_over_plain' + tag]}; "
                f"PIP+individual / plain {t['ratio_pip_individual_over_plain' + tag]}"
            )
            if "astrograph_over_pycorr" + tag in t:
                print(f"   {what}: astrograph / pycorr {t['astrograph_over_pycorr' + tag]}")
        out["targets"] = {
            "astrograph PIP <= 1.5x plain (wall)": t["ratio_pip_over_plain"]["astrograph"] <= 1.5,
            "astrograph PIP <= 1.5x plain (CPU)": t["ratio_pip_over_plain_cpu"]["astrograph"]
            <= 1.5,
        }
        for name, ok in out["targets"].items():
            print(f"   target {name}: {'met' if ok else 'NOT met'}")
    out["loadavg_after"] = loadavg()
    write_json("pycorr", out)


if __name__ == "__main__":
    main()
