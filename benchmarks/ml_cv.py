"""Photo-z by repeated stratified k-fold cross-validation: point estimates and PDFs.

Every figure is the mean +- standard deviation over 5 folds x 2 repeats
(``RepeatedStratifiedKFold`` on 10 redshift-quantile strata), on

* ``mgs`` - ``sdss_mgs_photoz``, the train and test files together, ugriz + their
  errors, less the tuning subset below (8,000 galaxies);
* ``dr14`` - the galaxies of ``sdss_dr14_classes`` (4,998; ugriz only, no errors),
  never used for any choice.

The model choices are fixed before the final run: ``--phase tune`` runs an inner
3-fold CV on a tuning subset of 2,000 MGS galaxies (seeded, held out of every
final figure) over a small grid for the stack's gradient-boosting member (loss,
learning rate, iterations, leaf size), and prints the choice that
``PhotoZRegressor`` then hard-codes.

    python benchmarks/ml_cv.py --phase tune      # inner CV on the tuning subset
    python benchmarks/ml_cv.py --phase cv        # every model: point metrics + PDF scores
    python benchmarks/ml_cv.py --phase cv --datasets dr14   # one data set
    python benchmarks/ml_cv.py --quick           # 3 folds x 1 repeat on 2,000 galaxies

Each model is fitted once per fold; its point estimates (sigma_NMAD, bias, RMS,
outliers, and the per-fold gain over the baseline forest) and its PDFs (PIT KS /
CvM, CRPS, 68 / 95 % coverage, N(z) from the stacked PDFs) are scored on the
held-out fold. Results go to ``benchmarks/results/ml_cv_<phase>.json`` and the
tables into ``benchmarks/ml.md`` between the ``ml_cv`` markers
(``--merge a.json b.json`` writes the tables of runs made per data set). The data folder is
``../shared/data`` beside the repository, or ``$ASTROGRAPH_DATA``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # OpenMP spin-waits ruin shared 2-core machines
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.model_selection import GridSearchCV, KFold, RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from astrograph.ml.datasets import load_sdss_dr14_classes, load_sdss_mgs_photoz
from astrograph.ml.features import colour_features
from astrograph.ml.metrics import photoz_metrics
from astrograph.ml.pdf_metrics import pdf_scores
from astrograph.ml.photoz import PhotoZRegressor

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MD = ROOT / "benchmarks" / "ml.md"
DATA = Path(os.environ.get("ASTROGRAPH_DATA", ROOT.parent / "shared" / "data"))
TUNING_SEED, N_TUNING = 2024, 2000
POINT_KEYS = ("sigma_nmad", "bias", "rms", "eta_015")
BASELINE = "baseline: sklearn RandomForestRegressor, colours + r"
ENSEMBLE = "DensePhotoZRegressor MDN, 3 Gaussians, 2 x 64, n_ensemble=5"
PDF_LABELS = {
    "ensemble": "forest spread",
    "quantile_forest": "quantile forest",
    "quantile": "boosted quantiles",
    "mdn": "mixture density",
}


# --------------------------------------------------------------------------- data
def load(name: str, quick: bool) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (ugriz [+ errors]) and spectroscopic ``z`` of a data set, less the tuning set."""
    if name == "mgs":
        parts = [load_sdss_mgs_photoz(DATA, s) for s in ("train", "test")]
        X = np.vstack([np.hstack([p.mags, p.mag_errors]) for p in parts])
        z = np.concatenate([p.z_spec for p in parts])
        keep = np.setdiff1d(np.arange(len(z)), tuning_rows(len(z)))
        X, z = X[keep], z[keep]
    elif name == "dr14":
        d = load_sdss_dr14_classes(DATA)
        galaxy = d.labels == "GALAXY"
        X, z = d.mags[galaxy], d.redshift[galaxy]
    else:
        raise SystemExit(f"unknown data set {name!r}")
    if quick:
        pick = np.random.default_rng(0).choice(len(z), min(len(z), 2000), replace=False)
        X, z = X[pick], z[pick]
    return X, z


def tuning_rows(n: int) -> np.ndarray:
    return np.sort(np.random.default_rng(TUNING_SEED).choice(n, N_TUNING, replace=False))


def strata(z: np.ndarray, n: int = 10) -> np.ndarray:
    return np.digitize(z, np.quantile(z, np.linspace(0, 1, n + 1)[1:-1]))


def splits(z: np.ndarray, quick: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    folds, repeats = (3, 1) if quick else (5, 2)
    cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=0)
    return list(cv.split(z, strata(z)))


# --------------------------------------------------------------------------- models
def colours_and_r(X: np.ndarray) -> np.ndarray:
    """The baseline's features: u-g, g-r, r-i, i-z and r (errors, if any, dropped)."""
    m = X[:, :5]
    return np.column_stack([m[:, :-1] - m[:, 1:], m[:, 2]])


def baseline_forest(seed: int = 0):
    """A plain scikit-learn random forest (defaults, 200 trees) on colours + r."""
    return make_pipeline(
        FunctionTransformer(colours_and_r),
        RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1),
    )


def cv_models(quick: bool) -> dict:
    """Label -> (estimator, PDF modes scored from the same fit)."""
    trees = 50 if quick else 200
    return {
        BASELINE: (baseline_forest(), ()),
        "PhotoZRegressor('random_forest')": (
            PhotoZRegressor("random_forest", n_estimators=trees),
            ("ensemble", "quantile_forest"),
        ),
        "PhotoZRegressor('extra_trees')": (
            PhotoZRegressor("extra_trees", n_estimators=trees),
            ("quantile_forest",),
        ),
        "PhotoZRegressor('gradient_boosting')": (
            PhotoZRegressor("gradient_boosting", n_estimators=trees),
            ("quantile",),
        ),
        "PhotoZRegressor() = 'stacked' (default)": (
            PhotoZRegressor(n_estimators=trees),
            ("quantile_forest",),
        ),
        "DensePhotoZRegressor MDN, 3 Gaussians, 2 x 64": (mdn(quick, 1), ("mdn",)),
        ENSEMBLE: (mdn(quick, 5), ("mdn",)),
    }


def mdn(quick: bool, networks: int):
    """The mixture density network: 3 Gaussians, 2 x 64, ``networks`` seeds."""
    from astrograph.ml.nn.photoz import DensePhotoZRegressor  # lazy: JAX

    return DensePhotoZRegressor(
        hidden=(64, 64),
        n_components=3,
        max_epochs=20 if quick else 80,
        patience=20,
        use_errors="auto",
        n_ensemble=networks,
    )


def _pdf(fitted, mode: str, X: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if mode == "mdn":
        return fitted.predict_pdf(X, grid)
    fitted.set_params(pdf=mode)  # tree models keep their leaves: modes switch after fit
    return fitted.predict_pdf(X, grid)[1]


def run_cv(datasets: list[str], quick: bool, only: list[str] | None = None) -> dict:
    out = {}
    for name in datasets:
        X, z = load(name, quick)
        folds = splits(z, quick)
        grid = np.linspace(0.0, float(np.quantile(z, 0.999)) + 0.05, 400)
        points: dict[str, dict[str, list[float]]] = {}
        pdfs: dict[str, dict[str, list[float]]] = {}
        for label, (model, modes) in cv_models(quick).items():
            if only is not None and label not in only:
                continue
            per_fold = points.setdefault(label, {k: [] for k in (*POINT_KEYS, "fit_seconds")})
            for train, test in folds:
                t0 = time.perf_counter()
                fitted = clone(model).fit(X[train], z[train])
                per_fold["fit_seconds"].append(time.perf_counter() - t0)
                m = photoz_metrics(fitted.predict(X[test]), z[test])
                for k in POINT_KEYS:
                    per_fold[k].append(m[k])
                for mode in modes:
                    t0 = time.perf_counter()
                    scores = pdf_scores(grid, _pdf(fitted, mode, X[test], grid), z[test])
                    scores["pdf_seconds"] = time.perf_counter() - t0
                    row = pdfs.setdefault(f"{label}, {PDF_LABELS[mode]}", {})
                    for k, v in scores.items():
                        row.setdefault(k, []).append(v)
            s = np.array(per_fold["sigma_nmad"])
            print(
                f"{name:5s} {label:48s} sigma_NMAD {s.mean():.5f} +- {s.std():.5f} "
                f"fit {np.mean(per_fold['fit_seconds']):.1f} s",
                flush=True,
            )
        base = np.array(points[BASELINE]["sigma_nmad"])
        for per_fold in points.values():
            per_fold["gain_vs_baseline"] = list(1.0 - np.array(per_fold["sigma_nmad"]) / base)
        for label, row in pdfs.items():
            print(f"{name:5s} {label:70s} CRPS {np.mean(row['crps']):.5f} "
                  f"KS {np.mean(row['pit_ks']):.3f} cov68 {np.mean(row['coverage_68']):.3f}")  # fmt: skip
        out[name] = {
            "n_galaxies": int(len(z)),
            "n_folds": len(folds),
            "z_grid": [0.0, float(grid[-1]), int(grid.size)],
            "point": points,
            "pdf": pdfs,
        }
    return out


def run_tune(quick: bool) -> dict:
    """Inner 3-fold CV on the tuning subset for the stack's gradient-boosting member."""
    parts = [load_sdss_mgs_photoz(DATA, s) for s in ("train", "test")]
    X = np.vstack([np.hstack([p.mags, p.mag_errors]) for p in parts])
    z = np.concatenate([p.z_spec for p in parts])
    rows = tuning_rows(len(z))
    F = colour_features(X[rows, :5], X[rows, 5:])
    zt = z[rows]

    def neg_nmad(est, Xv, yv):
        return -photoz_metrics(est.predict(Xv), yv)["sigma_nmad"]

    grid = {
        "loss": ["squared_error", "absolute_error"],
        "learning_rate": [0.05, 0.1],
        "max_iter": [200, 400, 800],
        "min_samples_leaf": [10, 20, 40],
    }
    if quick:
        grid = {"loss": ["absolute_error"], "learning_rate": [0.05, 0.1], "max_iter": [200]}
    search = GridSearchCV(
        HistGradientBoostingRegressor(random_state=0),
        grid,
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=neg_nmad,
    ).fit(F, zt)
    ranked = np.argsort(search.cv_results_["rank_test_score"])
    res = {
        "n_tuning": int(len(rows)),
        "best_params": search.best_params_,
        "best_sigma_nmad": -search.best_score_,
        "top5": [
            {
                "params": search.cv_results_["params"][i],
                "sigma_nmad": -search.cv_results_["mean_test_score"][i],
            }
            for i in ranked[:5]
        ],
    }
    print(json.dumps(res, indent=1))
    return res


# --------------------------------------------------------------------------- report
def machine() -> dict:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        model = platform.processor()
    return {"cpu": model, "cores": os.cpu_count(), "load": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}  # fmt: skip


def _pm(values, fmt="{:.5f}") -> str:
    v = np.asarray(values, float)
    return f"{fmt.format(v.mean())} ± {fmt.format(v.std())}"


def point_table(res: dict) -> str:
    lines = []
    for name, block in res["datasets"].items():
        models = block["point"]
        lines += [
            f"**{name}** ({block['n_galaxies']:,} galaxies, {block['n_folds']} folds):",
            "",
            "| model | σ_NMAD | gain vs baseline (per fold) | bias | RMS | η_0.15 | fit time |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, f in models.items():
            lines.append(
                f"| {label} | {_pm(f['sigma_nmad'])} | {_pm(100 * np.array(f['gain_vs_baseline']), '{:.1f}')} % "
                f"| {_pm(f['bias'])} | {_pm(f['rms'])} | {_pm(f['eta_015'], '{:.4f}')} "
                f"| {np.mean(f['fit_seconds']):.1f} s |"
            )
        lines.append("")
    return "\n".join(lines)


def pdf_table(res: dict) -> str:
    lines = []
    for name, block in res["datasets"].items():
        lines += [
            f"**{name}** ({block['n_galaxies']:,} galaxies, {block['n_folds']} folds; grid "
            f"0–{block['z_grid'][1]:.2f}, {block['z_grid'][2]} points):",
            "",
            "| model, PDF | CRPS | PIT KS | PIT CvM | PIT outliers | 68 % coverage | 95 % coverage | N(z) mean shift | N(z) KS | PDF time/fold |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for label, f in block["pdf"].items():
            lines.append(
                f"| {label} | {_pm(f['crps'])} | {_pm(f['pit_ks'], '{:.3f}')} | {_pm(f['pit_cvm'], '{:.2f}')} "
                f"| {_pm(f['pit_outliers'], '{:.4f}')} | {_pm(f['coverage_68'], '{:.3f}')} "
                f"| {_pm(f['coverage_95'], '{:.3f}')} | {_pm(f['nz_mean_shift'])} | {_pm(f['nz_ks'], '{:.4f}')} "
                f"| {np.mean(f['pdf_seconds']):.1f} s |"
            )
        lines.append("")
    return "\n".join(lines)


def write_markdown(section: str, body: str) -> None:
    text = MD.read_text()
    begin, end = f"<!-- ml_cv:{section}:begin -->", f"<!-- ml_cv:{section}:end -->"
    block = f"{begin}\n{body}\n{end}"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    MD.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase", choices=("tune", "cv", "all"), default="all")
    ap.add_argument("--datasets", default="mgs,dr14")
    ap.add_argument("--quick", action="store_true", help="3 folds x 1 repeat on 2,000 galaxies")
    ap.add_argument("--no-markdown", action="store_true", help="only write the JSON")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="merge per-data-set CV results")
    ap.add_argument(
        "--add-ensemble",
        action="store_true",
        help="run the baseline and the 5-network MDN only, on the same folds, and add the "
        "latter's rows to results/ml_cv_cv.json (the baseline must come out identical)",
    )
    args = ap.parse_args()
    if args.add_ensemble:
        add_ensemble(args.datasets.split(","))
        return
    if args.merge:
        runs = [json.loads(Path(p).read_text()) for p in args.merge]
        merged = {
            "machine": runs[0]["machine"],
            "datasets": {k: v for r in runs for k, v in r["datasets"].items()},
            "wall_seconds": max(r["wall_seconds"] for r in runs),
            "merged_from": [str(p) for p in args.merge],
        }
        (RESULTS / "ml_cv_cv.json").write_text(json.dumps(merged, indent=1))
        write_report(merged)
        return
    datasets = args.datasets.split(",")
    phases = ("tune", "cv") if args.phase == "all" else (args.phase,)
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.phase == "cv" and args.datasets != "mgs,dr14":
        suffix += "_" + "_".join(datasets)
    with threadpool_limits(1):
        for phase in phases:
            t0 = time.perf_counter()
            info = machine()
            if phase == "tune":
                res = {"machine": info, "tuning": run_tune(args.quick)}
            else:
                res = {"machine": info, "datasets": run_cv(datasets, args.quick)}
            res["wall_seconds"] = time.perf_counter() - t0
            path = RESULTS / f"ml_cv_{phase}{suffix}.json"
            path.write_text(json.dumps(res, indent=1))
            print(f"{phase}: {res['wall_seconds']:.0f} s -> {path}")
            if phase == "cv" and not args.quick and not args.no_markdown:
                write_report(res)


def add_ensemble(datasets: list[str]) -> None:
    """Adds the MDN ensemble, run on the same folds as the stored results, to them."""
    path = RESULTS / "ml_cv_cv.json"
    stored = json.loads(path.read_text())
    t0 = time.perf_counter()
    with threadpool_limits(1):
        new = run_cv(datasets, quick=False, only=[BASELINE, ENSEMBLE])
    for name, res in new.items():
        old = stored["datasets"][name]
        base_old = old["point"][BASELINE]["sigma_nmad"]
        if not np.allclose(res["point"][BASELINE]["sigma_nmad"], base_old, rtol=1e-12):
            raise SystemExit(f"{name}: the baseline differs from the stored run (other folds?)")
        old["point"][ENSEMBLE] = res["point"][ENSEMBLE]
        for label, row in res["pdf"].items():
            old["pdf"][label] = row
    stored["added"] = {
        "models": [ENSEMBLE],
        "machine": machine(),
        "wall_seconds": time.perf_counter() - t0,
    }
    path.write_text(json.dumps(stored, indent=1))
    write_report(stored)


def write_report(res: dict) -> None:
    """Put the point and PDF tables of a CV result into benchmarks/ml.md."""
    info = res["machine"]
    head = (
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, load "
        f"{info['load']:.1f} at the start), one thread per model; the run took "
        f"{res['wall_seconds'] / 60:.0f} min.\n"
    )
    if "added" in res:
        add = res["added"]
        head += (
            f"The {', '.join(add['models'])} rows were added on {add['machine']['date']} "
            f"(load {add['machine']['load']:.1f}), on the same folds, with the baseline "
            f"recomputed and checked identical ({add['wall_seconds'] / 60:.0f} min).\n"
        )
    write_markdown("point", head + "\n" + point_table(res))
    write_markdown("pdf", pdf_table(res))


if __name__ == "__main__":
    main()
