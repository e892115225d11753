"""Execute the scikit-learn notebooks top to bottom and check their key figures.

Each notebook writes its figures and a ``*_results.json`` into
``$ASTROGRAPH_NB_OUT`` (here a temporary folder), which the asserts read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def _run(name: str, out: Path, shared_data: Path, monkeypatch) -> dict:
    monkeypatch.setenv("ASTROGRAPH_NB_OUT", str(out))
    monkeypatch.setenv("ASTROGRAPH_DATA", str(shared_data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit without outputs"
    )
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return json.loads((out / f"{name}_results.json").read_text())


def _png(path: Path) -> None:
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5000, path


def test_photoz_notebook(tmp_path, shared_data, monkeypatch):
    res = _run("ml_photoz", tmp_path, shared_data, monkeypatch)
    table = res["photoz_metrics"]
    assert set(table) == {"tree", "random_forest", "extra_trees", "gradient_boosting"}
    best = table[res["best_model"]]
    assert best["sigma_nmad"] <= 0.0130 and abs(best["bias"]) <= 0.001 and best["eta_015"] <= 0.001
    assert 0.4 < res["one_sigma_coverage"] < 0.95
    study = res["depth_study"]
    best_depth = study["depth"][study["test_rms"].index(min(study["test_rms"]))]
    assert 4 <= best_depth <= 12 and study["test_rms"][-1] > min(study["test_rms"])
    assert res["lasso_entry_order"][0] == "g-r"
    for f in ("photoz_vs_specz", "photoz_pdfs", "depth_study", "importances", "tree_depth3",
              "tree_depth8", "regression_basics"):  # fmt: skip
        _png(tmp_path / f"{f}.png")


def test_classification_notebook(tmp_path, shared_data, monkeypatch):
    res = _run("ml_classification", tmp_path, shared_data, monkeypatch)
    assert res["information_gain"]["5/5"] == pytest.approx(0.0)
    assert res["information_gain"]["9/1"] == pytest.approx(0.531, abs=1e-3)
    assert max(res["dr14_accuracy"].values()) >= 0.97
    assert min(res["dr14_auc"].values()) > 0.97
    assert res["calibration_error"]["isotonic"] < res["calibration_error"]["None"] + 0.02
    assert max(res["morphology_accuracy"].values()) >= 0.87
    for f in ("dr14_confusion_roc", "calibration", "morphology_confusion"):
        _png(tmp_path / f"{f}.png")


def test_unsupervised_notebook(tmp_path, shared_data, monkeypatch):
    res = _run("ml_unsupervised", tmp_path, shared_data, monkeypatch)
    assert 2 <= res["elbow_k"] <= 5
    assert res["gmm_best_n"] >= 2
    assert res["pca_variance_ratio"][0] > 0.5
    assert res["label_spreading_accuracy"]["30"] > 0.7
    assert res["anomaly"]["isolation_forest"]["roc_auc"] > 0.85
    for f in ("elbow", "gmm_bic", "embeddings", "anomalies"):
        _png(tmp_path / f"{f}.png")


def test_association_notebook(tmp_path, shared_data, monkeypatch):
    res = _run("ml_association", tmp_path, shared_data, monkeypatch)
    assert res["apriori_equals_eclat"] is True
    assert res["n_itemsets"] > 20 and res["n_rules"] > 20
    rule = res["red_concentrated_elliptical"]
    assert rule["confidence"] > 0.7 and rule["lift"] > 2.0
    assert any("class=" in r["rule"].split("=>")[1] for r in res["top_rules"])
    _png(tmp_path / "association_rules.png")


def test_selection_bias_notebook(tmp_path, shared_data, monkeypatch):
    res = _run("ml_selection_bias", tmp_path, shared_data, monkeypatch)
    faint = res["faint_metrics"]
    # the bright-trained model is biased low on faint galaxies; a random training set is not
    assert faint["bright-trained"]["bias"] < -0.005 < -abs(faint["random-trained"]["bias"])
    true_mean, rw = res["nz_mean_true_faint"], res["reweighting"]
    # reweighting in colour space recovers part of the N(z) shift, not all of it
    gap_before = true_mean - rw["unweighted"]["nz_mean_weighted"]
    gap_after = true_mean - rw["colours"]["nz_mean_weighted"]
    assert 0 < gap_after < 0.7 * gap_before
    assert rw["colours"]["photoz_bias"] > rw["unweighted"]["photoz_bias"]
    assert rw["colours + r"]["target_support"] < 0.3 < rw["colours"]["target_support"]
    # a selection inside the support is corrected almost fully
    c = res["colour_selection_control"]
    assert abs(c["nz_mean_weighted"] - c["nz_mean_true"]) < 0.25 * abs(
        c["nz_mean_unweighted"] - c["nz_mean_true"]
    )
    for f in ("selection_bias", "reweighted_nz"):
        _png(tmp_path / f"{f}.png")
