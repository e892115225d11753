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


def test_clustering_red_blue_notebook(tmp_path, shared_data, monkeypatch):
    """Red and blue galaxies of the SDSS DR7 stripe: red cluster more strongly
    (ratio, r0 and gamma with jackknife errors on shared patches), the cross
    w_p is the geometric mean of the autos on large scales and below it on
    small ones, and w(theta) agrees."""
    monkeypatch.setenv("ASTROGRAPH_DATA", str(shared_data))
    monkeypatch.setenv("ASTROGRAPH_NB_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOKS / "clustering_red_blue.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    s = json.loads((tmp_path / "clustering_red_blue_results.json").read_text())
    assert s["galaxies"] == 7430 and s["red"] + s["blue"] == 7430
    assert 0.6 < s["red"] / s["galaxies"] < 0.7 and s["regions"] == 25
    assert 2.0 < s["ur_valley"] < 2.6  # the cut lies in the colour valley
    a, e = s["amp_ratio"]["0.2-2"]
    assert a - 2 * e > 1.0 and 0.3 < e < 2.0  # red clearly above blue on small scales
    for cut in s["cut_check"].values():
        assert cut["0.2-2"][0] > 2.0
    f, d, de = s["fits"], s["fit_difference"], s["fit_difference_err"]
    assert 3.5 < f["red"]["r0"] < 6.0 and 2.0 < f["blue"]["r0"] < 4.0
    assert d[0] > 3 * de[0] and d[1] > 0  # red: larger r0, steeper
    assert s["rho_small"] + 2 * s["rho_small_err"] < 1.0
    assert abs(s["rho_large"] - 1.0) < 3 * s["rho_large_err"]
    assert s["wtheta_amp_ratio"] - 2 * s["wtheta_amp_ratio_err"] > 1.0
    wt = s["wtheta"]
    assert s["theta"][0] < 55 / 3600 < s["theta"][1] and wt["blue"][0] < wt["blue"][1] / 2


def test_clustering_parity_4pcf_notebook(tmp_path, shared_data, monkeypatch):
    """The parity test: chi^2 of the parity-odd 4PCF follows its law on
    parity-symmetric mocks, handed tetrahedra are found with the right sign,
    and on the SDSS stripe the verdict depends on mocks that match the data,
    which the data's own jackknife confirms."""
    monkeypatch.setenv("ASTROGRAPH_DATA", str(shared_data))
    monkeypatch.setenv("ASTROGRAPH_NB_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOKS / "clustering_parity_4pcf.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    s = json.loads((tmp_path / "clustering_parity_4pcf_results.json").read_text())
    assert s["null_dof"] == 80 and abs(s["null_mean_chi2"] - 80) < 5 and s["null_ks_p"] > 0.01
    right, mirror = s["injected"]["right-handed"], s["injected"]["mirror image"]
    assert right["sigma"] > 4 and mirror["sigma"] > 4
    assert right["z111"] < -4 and mirror["z111"] > 4
    assert s["galaxies"] == 7430
    assert s["survey"]["weak"]["p"] < 1e-4 and s["survey"]["groups"]["p"] > 0.01
    # the jackknife of the data alone: no signal, a scatter like the group mocks'
    jk = s["jackknife"]
    assert jk["dof"] >= 2 and jk["p"] > 0.01
    assert 0.3 < jk["median_std_ratio"] < 3.0
    assert all(e > 0 for e in jk["zeta000_err"])
