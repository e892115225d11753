"""The graph-method notebook runs top to bottom and finds the clustering it should."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_clustering_graph_notebook(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "clustering_graph.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    s = json.loads((tmp_path / "clustering_graph_summary.json").read_text())
    xi, exact = np.array(s["xi"]), np.array(s["xi_exact"])
    strong = exact > 0.5
    np.testing.assert_allclose(xi[strong], exact[strong], rtol=0.2)
    assert all(q > 0 for q in s["q_equilateral"])
    assert s["triangles"] > 1e6 and s["quads"] > 0
    assert all(e > 0 for e in s["eta_tetrahedra"][:2])
