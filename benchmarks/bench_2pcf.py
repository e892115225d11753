"""2PCF pair counts: astrograph against Corrfunc and TreeCorr, in one process.

The issue's figures of merit, on the standard catalogue (about 50,000 Thomas-process
points in a (250 Mpc/h)^3 box), 10 log bins from 1 to 20 Mpc/h, 2 threads:

* DD(r): astrograph ``count_pairs`` <= 1.0x Corrfunc ``theory.DD`` and <= 0.3x
  TreeCorr ``NNCorrelation`` (bin_slop=0, brute=False);
* DD(s, mu) (5 mu bins, line of sight = z) <= 1.0x Corrfunc ``theory.DDsmu``;
* graph build (all edges < 20 Mpc/h) for 100,000 points (the 50,000 data + 50,000
  randoms of the 3PCF catalogue): seconds, edges, bytes per edge, peak memory
  (measured in a child process), and <= 3x Corrfunc DD on the same points.

Every time is the best of ``--repeat`` runs. Counts are checked against Corrfunc
exactly (Corrfunc's autocorrelation counts ordered pairs, astrograph unordered
ones: Corrfunc npairs = 2 x astrograph DD) and against TreeCorr approximately
(TreeCorr bins in ln r with its own rounding).

    python benchmarks/bench_2pcf.py [--repeat 3] [--threads 2] [--quick]

Writes benchmarks/results/bench_2pcf.json.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import (
    BOX,
    HERE,
    LAST_CPU,
    best_of,
    have,
    loadavg,
    print_table,
    run_child,
    standard_data,
    standard_randoms,
    write_json,
    xyz,
)

import astrograph as ag

RMIN, RMAX, NBINS, NMU = 1.0, 20.0, 10, 5


def corrfunc_dd(points, edges, threads, box=None):
    from Corrfunc.theory import DD

    x, y, z = xyz(points)
    kw = {"periodic": box is not None}
    if box is not None:
        kw["boxsize"] = box
    res = DD(1, threads, np.asarray(edges), x, y, z, verbose=False, **kw)
    return res["npairs"].astype(np.float64)


def corrfunc_ddsmu(points, edges, nmu, threads, box=None):
    from Corrfunc.theory import DDsmu

    x, y, z = xyz(points)
    kw = {"periodic": box is not None}
    if box is not None:
        kw["boxsize"] = box
    res = DDsmu(1, threads, np.asarray(edges), 1.0, nmu, x, y, z, verbose=False, **kw)
    return res["npairs"].astype(np.float64).reshape(len(edges) - 1, nmu)


def treecorr_nn(points, threads):
    import treecorr

    x, y, z = xyz(points)
    cat = treecorr.Catalog(x=x, y=y, z=z)
    nn = treecorr.NNCorrelation(
        min_sep=RMIN, max_sep=RMAX, nbins=NBINS, bin_type="Log", bin_slop=0, brute=False
    )
    nn.process(cat, num_threads=threads)
    return np.asarray(nn.npairs, dtype=np.float64)


def compare(ours, theirs):
    """Exactness of two count arrays: (exact?, max |diff|, max relative diff)."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    diff = np.abs(ours - theirs)
    rel = diff / np.maximum(np.abs(theirs), 1.0)
    return bool(np.array_equal(ours, theirs)), float(diff.max()), float(rel.max())


PEAK_CHILD = """
import json, resource, time
import sys; sys.path.insert(0, {here!r})
from common import standard_data, standard_randoms, proc_status_mib, reset_peak_rss
import astrograph as ag
d = standard_data({npar}); r = standard_randoms({nran})
base = proc_status_mib("VmRSS")
reset = reset_peak_rss()
t0 = time.perf_counter()
g = ag.NeighbourGraph.build(d, r, rmax={rmax}, num_threads={threads})
dt = time.perf_counter() - t0
print(json.dumps(dict(seconds=dt, n_edges=int(g.n_edges), nbytes=int(g.nbytes),
    rss_before_build_mib=base, peak_rss_mib=proc_status_mib("VmHWM"), hwm_reset=reset,
    rss_after_build_mib=proc_status_mib("VmRSS"),
    ru_maxrss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1/10 of the catalogue (smoke test)")
    ap.add_argument("--no-treecorr", action="store_true")
    args = ap.parse_args()
    rep, th = args.repeat, args.threads
    npar = 625 if args.quick else 6250
    nran = 5000 if args.quick else 50_000
    box = BOX

    # first, while this process is still small
    print("measuring peak memory of the graph build in a child process ...")
    peak = run_child(PEAK_CHILD.format(here=str(HERE), npar=npar, nran=nran, rmax=RMAX, threads=th))
    have_cf, have_tc = have("Corrfunc"), have("treecorr") and not args.no_treecorr
    data = standard_data(npar)
    randoms = standard_randoms(nran)
    print(f"catalogue: {len(data)} data, {len(randoms)} randoms, box {box}, threads {th}")
    print(f"load average before: {loadavg()}")
    bins = ag.Bins.log(RMIN, RMAX, NBINS)
    bins_mu = ag.Bins.log(RMIN, RMAX, NBINS, nmu=NMU)
    edges = np.asarray(bins.edges, dtype=np.float64)
    rows, checks = [], {}

    def row(test, code, secs, all_secs, cpu=None):
        """A table row; cpu defaults to the CPU time of the latest best_of call."""
        cpu = LAST_CPU["cpu"] if cpu is None else cpu
        r = {"test": test, "code": code, "seconds": secs, "cpu": cpu, "times": all_secs}
        rows.append(r)
        return r

    # --- DD(r), open space ---------------------------------------------------------
    t_ag, ts, pc = best_of(lambda: ag.count_pairs(data, bins=bins, num_threads=th), rep)
    c_ag = LAST_CPU["cpu"]
    dd = pc.dd[:, 0]
    t_cf = t_tc = None
    if have_cf:
        t_cf, ts_cf, cf = best_of(lambda: corrfunc_dd(data, edges, th), rep)
        checks["DD_vs_Corrfunc"] = compare(2 * dd, cf)
        row("DD(r)", "Corrfunc DD", t_cf, ts_cf)
    if have_tc:
        t_tc, ts_tc, tc = best_of(lambda: treecorr_nn(data, th), rep)
        checks["DD_vs_TreeCorr"] = compare(dd, tc)
        row("DD(r)", "TreeCorr NN bin_slop=0", t_tc, ts_tc)
    r = row("DD(r)", "astrograph count_pairs", t_ag, ts, c_ag)
    r["vs_Corrfunc"] = t_ag / t_cf if t_cf else None
    r["vs_TreeCorr"] = t_ag / t_tc if t_tc else None
    dd_total = float(dd.sum())

    # --- DD(r), periodic box (Corrfunc periodic=True, astrograph boxsize=250, los=z) ---
    t_agp, ts, pcp = best_of(
        lambda: ag.count_pairs(data, bins=bins, boxsize=box, los="z", num_threads=th), rep
    )
    c_ag = LAST_CPU["cpu"]
    t_cfp = None
    if have_cf:
        t_cfp, ts_cf, cfp = best_of(lambda: corrfunc_dd(data, edges, th, box=box), rep)
        checks["DD_periodic_vs_Corrfunc"] = compare(2 * pcp.dd[:, 0], cfp)
        row("DD(r) periodic", "Corrfunc DD periodic", t_cfp, ts_cf)
    r = row("DD(r) periodic", "astrograph count_pairs boxsize=250", t_agp, ts, c_ag)
    r["vs_Corrfunc"] = t_agp / t_cfp if t_cfp else None

    # --- DD(s, mu), line of sight z ---------------------------------------------------
    t_agm, ts, pcm = best_of(
        lambda: ag.count_pairs(data, bins=bins_mu, los="z", num_threads=th), rep
    )
    c_ag = LAST_CPU["cpu"]
    t_cfm = None
    if have_cf:
        t_cfm, ts_cf, cfm = best_of(lambda: corrfunc_ddsmu(data, edges, NMU, th), rep)
        checks["DDsmu_vs_Corrfunc"] = compare(2 * pcm.dd, cfm)
        row("DD(s,mu)", "Corrfunc DDsmu", t_cfm, ts_cf)
    r = row("DD(s,mu)", "astrograph count_pairs nmu=5 los=z", t_agm, ts, c_ag)
    r["vs_Corrfunc"] = t_agm / t_cfm if t_cfm else None

    # --- graph build on data + randoms (100,000 points) -------------------------------
    both = np.concatenate([data, randoms])
    t_b, ts, g = best_of(
        lambda: ag.NeighbourGraph.build(data, randoms, rmax=RMAX, num_threads=th), rep
    )
    graph = {
        "points": len(both),
        "seconds": t_b,
        "times": ts,
        "n_edges": int(g.n_edges),
        "bytes_per_edge": float(g.bytes_per_edge),
        "nbytes": int(g.nbytes),
    }
    del g
    r = row("graph build rmax=20", "astrograph NeighbourGraph.build", t_b, ts)
    if have_cf:
        t_cfb, ts_cf, cfb = best_of(lambda: corrfunc_dd(both, edges, th), rep)
        graph["corrfunc_dd_seconds"] = t_cfb
        graph["ratio_vs_corrfunc_dd"] = t_b / t_cfb
        graph["corrfunc_pairs_1_20"] = float(cfb.sum() / 2)
        row("graph build rmax=20", f"Corrfunc DD same {len(both)} points", t_cfb, ts_cf)
        r["vs_Corrfunc"] = t_b / t_cfb
    graph["peak_memory"] = peak

    # --- report -------------------------------------------------------------------------
    print()
    print_table(rows, ["test", "code", "seconds", "cpu", "vs_Corrfunc", "vs_TreeCorr"])
    print()
    print(f"DD total (unordered pairs, 1-20 Mpc/h): {dd_total:.0f}")
    for k, (exact, dmax, rmax_) in checks.items():
        print(f"{k}: exact={exact} max|diff|={dmax:g} max rel={rmax_:.2e}")
    print(
        f"graph: {graph['points']} points, {graph['n_edges']} edges, "
        f"{graph['bytes_per_edge']:.2f} B/edge, {graph['nbytes'] / 2**20:.1f} MiB, "
        f"build {t_b:.3f} s\nchild process: peak RSS {peak['peak_rss_mib']:.0f} MiB during the build, "
        f"{peak['rss_before_build_mib']:.0f} MiB before it (catalogue loaded) -> "
        f"{peak['peak_rss_mib'] - peak['rss_before_build_mib']:.0f} MiB for the build "
        f"(graph itself {graph['nbytes'] / 2**20:.0f} MiB; build {peak['seconds']:.3f} s)"
    )
    targets = {}
    if t_cf:
        targets["DD <= 1.0x Corrfunc"] = t_ag / t_cf <= 1.0
    if t_tc:
        targets["DD <= 0.3x TreeCorr"] = t_ag / t_tc <= 0.3
    if t_cfm:
        targets["DDsmu <= 1.0x Corrfunc"] = t_agm / t_cfm <= 1.0
    if "ratio_vs_corrfunc_dd" in graph:
        targets["build <= 3x Corrfunc DD"] = graph["ratio_vs_corrfunc_dd"] <= 3.0
    for k, ok in targets.items():
        print(f"target {k}: {'met' if ok else 'NOT met'}")
    print(f"load average after: {loadavg()}")
    write_json(
        "bench_2pcf" if th == 2 else f"bench_2pcf_threads{th}",
        {
            "catalogue": {"data": len(data), "randoms": len(randoms), "box": box},
            "threads": th,
            "repeat": rep,
            "bins": {"rmin": RMIN, "rmax": RMAX, "nbins": NBINS, "nmu": NMU},
            "rows": rows,
            "dd_total": dd_total,
            "checks": {
                k: dict(exact=e, max_abs_diff=d, max_rel_diff=m) for k, (e, d, m) in checks.items()
            },
            "graph": graph,
            "targets": targets,
            "loadavg_after": loadavg(),
        },
    )


if __name__ == "__main__":
    main()
