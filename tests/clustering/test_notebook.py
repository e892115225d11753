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
    # 3PCF multipoles: the monopole is the exact triangle count; higher
    # multipoles approach the Legendre projection of exact triangles.
    assert s["multipole_l0_difference"] < 1e-12
    coarse, fine = s["multipole_convergence"]
    assert fine < 0.6 * coarse


def test_clustering_sdss_survey_notebook(tmp_path, shared_data, monkeypatch):
    """The real-survey notebook: xi(s), wp(rp) with a power-law fit, and Q, all
    with jackknife errors, on the SDSS DR7 stripe; its figures stay in range."""
    monkeypatch.setenv("ASTROGRAPH_DATA", str(shared_data))
    monkeypatch.setenv("ASTROGRAPH_NB_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOKS / "clustering_sdss_survey.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    s = json.loads((tmp_path / "clustering_sdss_survey_results.json").read_text())
    assert s["galaxies"] == 7430 and s["regions"] == 25
    assert 3.0 < s["r0"] < 4.6 and 0.1 < s["r0_err"] < 1.0
    assert 1.7 < s["gamma"] < 2.3 and 0.03 < s["gamma_err"] < 0.4
    assert s["chi2"] < 15
    q, qe = np.array(s["q_equilateral"]), np.array(s["q_equilateral_err"])
    assert np.all((q[:3] > 0.3) & (q[:3] < 1.2)) and np.all(qe[:3] > 0)
