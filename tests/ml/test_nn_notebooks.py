"""Execute the neural-network notebooks top to bottom and check their key figures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# appended to each notebook: report the figures the test checks
PROBES = {
    "nn_ann.ipynb": "{'max_diff': max_diff, 'test_acc': net.score(X_test, y_test), 'costs': costs}",
    "nn_photoz.ipynb": "{'metrics': metrics, 'mdn': mdn_metrics, 'pdf_shape': list(pdf.shape)}",
    "nn_galaxy_cnn.ipynb": "{'accuracy': accuracy, 'cm': cm.tolist(), "
    "'n_epochs': len(cnn.history_[0].epoch)}",
}


def _run(name: str, shared_data: Path) -> tuple[dict, nbformat.NotebookNode]:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f"import json\nprint('__PROBE__' + json.dumps({PROBES[name]}))")
    )
    os.environ.setdefault("ASTROGRAPH_DATA", str(shared_data))
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    # the kernel inherits the environment: figures must render inline, not to Agg
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    probe = json.loads(text.split("__PROBE__", 1)[1])
    return probe, nb


def _n_figures(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("name", sorted(PROBES))
def test_notebook_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_ann_notebook(shared_data):
    probe, nb = _run("nn_ann.ipynb", shared_data)
    assert probe["max_diff"] < 1e-6
    assert probe["test_acc"] > 0.95
    assert probe["costs"]["cross_entropy"] >= probe["costs"]["quadratic"]
    assert _n_figures(nb) >= 4


def test_photoz_notebook(shared_data):
    probe, nb = _run("nn_photoz.ipynb", shared_data)
    assert probe["metrics"]["sigma_nmad"] <= 0.0147
    assert probe["mdn"]["sigma_nmad"] < 0.02
    assert probe["pdf_shape"][0] == 6
    assert _n_figures(nb) >= 3


def test_galaxy_cnn_notebook(shared_data):
    probe, nb = _run("nn_galaxy_cnn.ipynb", shared_data)
    assert probe["accuracy"] >= 0.75
    cm = probe["cm"]
    assert sum(map(sum, cm)) == 280 and cm[0][0] > cm[0][1] and cm[1][1] > cm[1][0]
    assert _n_figures(nb) >= 4  # augmentation, learning curves, confusion matrix, grid
