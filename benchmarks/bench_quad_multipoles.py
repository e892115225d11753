"""4PCF multipoles (both parities) at large scales: astrograph against ENCORE.

Issue 25's figures. ENCORE (github.com/oliverphilcox/encore) is not on PyPI:
build it yourself in a scratch folder with its 4PCF options (NBIN = 10 and
ORDER = 4 in encore.cpp, ``-DOPENMP -DFOURPCF -DALLPARITY``, ``-DAVX`` for
its fastest pair loop; print the 4PCF with ``%.17le`` for full precision)
and pass the binary and its folder (which holds ``coupling_matrices/``).
Both codes run on the same catalogue in the same process run, 2 threads: a
Thomas process at a BOSS-like density (3e-4 h^3 Mpc^-3) plus 3x as many
uniform randoms, open space, 10 linear bins 20-160 Mpc/h (the range of the
BOSS parity-odd measurements), lmax 4. ENCORE runs its D - R field
(``-balance``) and its randoms (``-invert``) as two processes, as its own
wrapper does; astrograph sums both fields in one pass. Reported: the wall
times and their ratio, the largest difference of the raw counts per
(l1, l2, l3) over that row's largest value, and cycles per primary and per
(bin triplet, l triple) from CPU time x clock.

    python benchmarks/bench_quad_multipoles.py --encore /scratch/encore/encoreAVX_all [--ndata 100000]

Writes benchmarks/results/bench_quad_multipoles.json. ``--jackknife`` (no
ENCORE needed) times instead the exact delete-one jackknife (``regions=``)
against the plain count on a smaller catalogue of the same density, for
regions given as cubes and as ``regions=K`` (k-means, patch making included),
and writes bench_quad_multipoles_jackknife.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from bench_multipoles import (
    catalogue,
    clock_hz,
    lscpu_model,
    pair_visits,
    run_encore,
    timing_row,
)
from common import LAST_CPU, best_of, loadavg, print_table, write_json

import astrograph as ag

RMIN, RMAX, NBIN, LMAX = 20.0, 160.0, 10, 4


def parse_4pcf(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """ENCORE's 4PCF file: b1, b2, b3 rows (b1 < b2 < b3), then one row per
    (l1, l2, l3): the triples (n, 3) and values (n, n_triplets)."""
    lines = [x for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
    rows = np.array([x.split() for x in lines[3:]], dtype=float)
    return rows[:, :3].astype(int), rows[:, 3:]


def versus_encore(args) -> dict:
    data, randoms, box = catalogue(args.ndata)
    edges = np.linspace(RMIN, RMAX, NBIN + 1)
    print(f"catalogue: {len(data)} data + {len(randoms)} randoms, box {box:.0f}, open space")
    t, _, m = best_of(
        lambda: ag.count_quad_multipoles(
            data, randoms, bins=edges, lmax=LMAX, num_threads=args.threads
        ),
        1,
    )
    cpu = LAST_CPU["cpu"]
    enc = run_encore(
        Path(args.encore),
        Path(args.encore_dir),
        data,
        randoms,
        args.threads,
        span=(RMIN, RMAX),
        read=lambda out, tag: parse_4pcf(out / f"{tag}_4pcf.txt"),
    )
    sign = np.where(m.odd, -1.0, 1.0)[:, None]  # ENCORE's raw odd counts are -Im
    row = timing_row(data, randoms, t, cpu, enc)
    # ENCORE's R run weighs each random by N_data / N_randoms (-random_scale).
    for tag, ours in (("dmr", m.field), ("r", m.randoms * m.random_scale**4)):
        ells, values = enc[tag]
        assert (ells == m.ells).all(), "ENCORE's (l1, l2, l3) rows differ from ours"
        diff = np.abs(sign * ours - values).max(axis=1) / np.abs(values).max(axis=1)
        row[f"max_rel_diff_{tag}"] = float(diff.max())
    primaries = len(data) + 2 * len(randoms)  # the randoms are primaries of both fields
    per = len(m.ells) * len(m.triplets)
    row["cycles_per_primary"] = cpu * clock_hz() / primaries
    row["cycles_per_primary_and_multipole"] = row["cycles_per_primary"] / per
    encore_cycles = row["encore_s"] * args.threads * clock_hz()
    row["encore_cycles_per_primary"] = encore_cycles / primaries
    visits, _ = pair_visits(data, randoms, RMAX)
    row["pair_visits"] = visits
    print_table([row], ["ndata", "nrandoms", "astrograph_s", "encore_dmr_s", "encore_r_s", "ratio"])
    print(
        f"largest difference over each row's largest value: D-R {row['max_rel_diff_dmr']:.2e}, "
        f"R {row['max_rel_diff_r']:.2e}; cycles per primary: astrograph "
        f"{row['cycles_per_primary']:.3g}, ENCORE {row['encore_cycles_per_primary']:.3g}; "
        f"per (triplet, triple) {row['cycles_per_primary_and_multipole']:.3g}"
    )
    return row


def jackknife(args) -> list[dict]:
    data, randoms, box = catalogue(args.jk_ndata)
    edges = np.linspace(RMIN, RMAX, NBIN + 1)
    print(f"catalogue: {len(data)} data + {len(randoms)} randoms, box {box:.0f}, open space")

    def run(regions):
        return best_of(
            lambda: ag.count_quad_multipoles(
                data, randoms, bins=edges, lmax=LMAX, regions=regions, num_threads=args.threads
            ),
            1,
        )[0]

    plain = run(None)
    rows = []

    def cube(p, side):
        return np.minimum((p / box * side).astype(int), side - 1) @ [side**2, side, 1]

    for side in (2, 3):  # cubes of box / side
        t = run((cube(data, side), cube(randoms, side)))
        rows.append({"regions": f"{side**3} cubes of {box / side:.0f}", "plain_s": plain, "s": t})
    for k in (27, 50):
        rows.append({"regions": f"regions={k} (k-means)", "plain_s": plain, "s": run(k)})
    for r in rows:
        r["ratio"] = r["s"] / r["plain_s"]
    print_table(rows, ["regions", "plain_s", "s", "ratio"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encore", help="ENCORE binary (NBIN 10, ORDER 4, ALLPARITY)")
    ap.add_argument("--jackknife", action="store_true", help="time regions= instead")
    ap.add_argument("--jk-ndata", type=int, default=10_000)
    ap.add_argument(
        "--encore-dir", help="ENCORE's folder (coupling_matrices/); default: the binary's"
    )
    ap.add_argument("--ndata", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not args.jackknife and not args.encore:
        ap.error("--encore is needed (or --jackknife)")
    out = {"lscpu_model": lscpu_model(), "clock_hz": clock_hz(), "loadavg_before": loadavg()}
    print(
        out["lscpu_model"], f"clock {out['clock_hz'] / 1e9:.2f} GHz, load {out['loadavg_before']}"
    )
    if args.jackknife:
        out["jackknife"] = jackknife(args)
        write_json("bench_quad_multipoles_jackknife", out)
        return
    args.encore_dir = args.encore_dir or str(Path(args.encore).parent)
    out["versus_encore"] = versus_encore(args)
    write_json("bench_quad_multipoles", out)


if __name__ == "__main__":
    main()
