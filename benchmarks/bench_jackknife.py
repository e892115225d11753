"""Cost of jackknife error bars: counts with K = 50 regions against the plain count.

Issue 11's figure of merit: on the 3PCF benchmark catalogue (about 50,000
Thomas-process points + 50,000 uniform randoms in a (250 Mpc/h)^3 box, open
space), 2 threads, counting with ``regions=50`` (the per-region "touch" and
"smallest region" tables filled in the same pass) costs <= 1.3x the plain count,
for pairs (``count_pairs``, DD + DR + RR, 10 log bins 1-20 Mpc/h) and for
triangles (``count_triangles``, DDD + DDR + DRR + RRR, 6 linear bins 1-20 Mpc/h).

Four ways of giving the regions are timed, each against the same plain count
(issue 24 asks <= 1.2x whatever their shape):

* ``labels``: 50 equal blocks of the box (5 x 5 x 2), passed as labels: the
  cost of the per-region tables alone;
* ``slabs``: 50 slabs of 5 Mpc/h across the box, as labels (a quarter of
  rmax: most pairs and triangles cross a border; survey stripes look so);
* ``patches``: the k-means patches of ``kmeans`` made beforehand and passed as
  labels (cones from the observer at the box's corner);
* ``kmeans``: ``regions=50``, k-means patches on the directions seen from the
  origin (what a survey catalogue gets), label making included.

Also reported: the cost of turning the tables into errors (``cov`` of xi(s)
and of zeta over the 50 delete-one realisations), and a check that the counts
with regions equal the plain counts.

    python benchmarks/bench_jackknife.py [--repeat 5] [--threads 2] [--regions 50] [--quick]

Writes benchmarks/results/bench_jackknife.json.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import numpy as np
from common import (
    BOX,
    LAST_CPU,
    best_of,
    loadavg,
    print_table,
    standard_data,
    standard_randoms,
    sub_cube,
    write_json,
)

import astrograph as ag
from astrograph.clustering.regions import sky_centres, sky_labels

PAIR_BINS = (1.0, 20.0, 10)  # log bins, as bench_2pcf
TRI_BINS = (1.0, 20.0, 6)  # linear bins, as bench_3pcf
TARGET = 1.3
SHAPE_TARGET = 1.2  # issue 24, every shape
SHAPES = ("labels", "slabs", "patches", "kmeans")
PARITY_TARGET = 1.5
QUAD_BINS = (1.0, 15.0, 3)  # linear bins: about 0.5 s of quads at 2 threads
QUAD_SIDE = 125.0  # the sub-cube bench_3pcf counts quads on


def lscpu_model() -> str:
    """The ``Model name`` line of lscpu (empty when lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    for line in out.splitlines():
        if line.strip().startswith("Model name"):
            return " ".join(line.split())
    return ""


def block_labels(points: np.ndarray, box: float, shape=(5, 5, 2)) -> np.ndarray:
    """Labels of equal blocks of the box, shape[0] x shape[1] x shape[2] of them."""
    n = np.asarray(shape)
    cell = np.clip(np.floor(points / box * n).astype(np.int64), 0, n - 1)
    return (cell[:, 0] * n[1] + cell[:, 1]) * n[2] + cell[:, 2]


def interleaved(fns, repeat):
    """Each of ``fns`` run in turn, ``repeat`` rounds (so that a slow spell
    of a shared machine hits them alike): per fn (best wall seconds, CPU
    seconds of that run, result)."""
    best = [(np.inf, np.nan, None)] * len(fns)
    for _ in range(repeat):
        for a, fn in enumerate(fns):
            t, _, res = best_of(fn, 1)
            if t < best[a][0]:
                best[a] = (t, LAST_CPU["cpu"], res)
    return best


def same_counts(a, b, names) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in names)


def parity_quads(data, randoms, box, rep, th) -> dict:
    """Quads with their handedness (``parity=True``) against plain quads."""
    side = QUAD_SIDE * box / BOX
    qd, qr = sub_cube(data, side), sub_cube(randoms, side)
    qbins = ag.Bins.linear(*QUAD_BINS)
    (t0, c0, plain), (t1, c1, odd) = interleaved(
        [
            lambda: ag.count_quads(qd, qr, bins=qbins, num_threads=th),
            lambda: ag.count_quads(qd, qr, bins=qbins, parity=True, num_threads=th),
        ],
        rep,
    )
    row = {
        "catalogue": {"data": len(qd), "randoms": len(qr), "side": side},
        "quads": plain.total,
        "plain_s": t0,
        "parity_s": t1,
        "ratio": t1 / t0,
        "plain_cpu_s": c0,
        "parity_cpu_s": c1,
        "cpu_ratio": c1 / c0,
        "same_even_counts": bool(np.array_equal(plain.counts, odd.counts)),
    }
    print(
        f"\nquads on a sub-cube of side {side:.0f} ({len(qd)} + {len(qr)} points, "
        f"{plain.total:.3g} quads): plain {t0:.3f} s, parity {t1:.3f} s, "
        f"ratio {row['ratio']:.2f} wall / {row['cpu_ratio']:.2f} CPU; "
        f"same counts: {row['same_even_counts']}"
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--regions", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1/10 of the catalogue (smoke test)")
    args = ap.parse_args()
    rep, th, k = args.repeat, args.threads, args.regions
    npar, nran, box = 6250, 50_000, BOX
    if args.quick:
        npar, nran, box = 625, 5000, BOX / 10 ** (1 / 3)
    data = standard_data(npar, box=box)
    randoms = standard_randoms(nran, box=box)
    if k == 50:
        shape = (5, 5, 2)
    else:  # a near-cube grid with exactly k cells is not always possible: use k slabs
        shape = (k, 1, 1)
    labels = (block_labels(data, box, shape), block_labels(randoms, box, shape))
    slabs = (block_labels(data, box, (k, 1, 1)), block_labels(randoms, box, (k, 1, 1)))
    centres = sky_centres(data, k)
    patches = (sky_labels(data, centres), sky_labels(randoms, centres))
    given = dict(zip(SHAPES, (labels, slabs, patches, k), strict=True))
    model = lscpu_model()
    print(f"{model}")
    print(f"catalogue: {len(data)} data + {len(randoms)} randoms, box {box:.1f}, open space")
    print(f"threads {th}, best of {rep}, K = {k} regions; load average before: {loadavg()}")

    pbins = ag.Bins.log(*PAIR_BINS)
    tbins = ag.Bins.linear(*TRI_BINS)
    kinds = {
        "pairs": (
            lambda reg: ag.count_pairs(data, randoms, bins=pbins, regions=reg, num_threads=th),
            ("dd", "dr", "rr"),
            "xi_s",
        ),
        "triangles": (
            lambda reg: ag.count_triangles(data, randoms, bins=tbins, regions=reg, num_threads=th),
            ("ddd", "ddr", "drr", "rrr"),
            "zeta",
        ),
    }
    rows, out = [], {}
    for kind, (count, names, stat) in kinds.items():
        regs = [None, *given.values()]
        runs = interleaved([lambda c=count, r=reg: c(r) for reg in regs], rep)
        t0, c0, plain = runs[0]
        row = {"count": kind, "plain_s": t0, "plain_cpu_s": c0}
        for how, (t1, c1, res) in zip(SHAPES, runs[1:], strict=True):
            row[f"{how}_s"] = t1
            row[f"{how}_cpu_s"] = c1
            row[f"{how}_ratio"] = t1 / t0
            row[f"{how}_cpu_ratio"] = c1 / c0
            row[f"{how}_same_counts"] = same_counts(plain, res, names)
            if how == "labels":
                tc0 = time.perf_counter()
                cov = res.cov(stat)
                row["cov_s"] = time.perf_counter() - tc0
                row["cov_shape"] = list(cov.shape)
        rows.append(row)
        out[kind] = row
    print()
    print_table(rows, ["count", "plain_s", *(f"{h}_ratio" for h in SHAPES), "cov_s"])
    print("\nCPU seconds (all threads), the steadier figure on a shared machine:")
    print_table(rows, ["count", "plain_cpu_s", *(f"{h}_cpu_ratio" for h in SHAPES)])
    out["parity_quads"] = parity_quads(data, randoms, box, rep, th)
    for r in rows:
        same = all(r[f"{h}_same_counts"] for h in SHAPES)
        print(f"{r['count']}: counts with regions equal the plain counts: {same}")
    targets = {
        f"{r['count']} with {k} regions <= {TARGET}x plain": r["labels_ratio"] <= TARGET
        for r in rows
    }
    targets.update(
        {
            f"{r['count']} with {k} regions as {h} <= {SHAPE_TARGET}x plain": (
                r[f"{h}_ratio"] <= SHAPE_TARGET
            )
            for r in rows
            for h in SHAPES
        }
    )
    pq = out["parity_quads"]
    targets[f"parity quads <= {PARITY_TARGET}x plain quads"] = pq["ratio"] <= PARITY_TARGET
    print()
    for name, ok in targets.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    print(f"load average after: {loadavg()}")
    write_json(
        "bench_jackknife",
        {
            "lscpu_model": model,
            "catalogue": {"data": len(data), "randoms": len(randoms), "box": box},
            "regions": k,
            "label_blocks": list(shape),
            "threads_used": th,
            "repeat": rep,
            "bins": {"pairs_log": PAIR_BINS, "triangles_linear": TRI_BINS},
            **out,
            "targets": targets,
            "loadavg_after": loadavg(),
        },
    )


if __name__ == "__main__":
    main()
