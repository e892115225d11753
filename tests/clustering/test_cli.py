"""The command line: demo, graph build/info, 2pcf/3pcf/4pcf, clear failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import astrograph as ag

EXE = shutil.which(
    "astrograph", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = [EXE] if EXE else [sys.executable, "-m", "astrograph"]
    return subprocess.run(
        [*cmd, "--quiet", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_console_script_is_installed():
    assert EXE is not None, "the 'astrograph' command is not installed next to this Python"


def test_help(tmp_path):
    for sub in ([], ["demo"], ["graph", "build"], ["2pcf"], ["3pcf"], ["4pcf"]):
        r = run(*sub, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "usage:" in r.stdout


def test_demo_runs_without_arguments_or_downloads(tmp_path):
    r = run("demo", "--parents", "600", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    for name in ("demo.png", "xi.parquet", "xi.txt", "zeta.parquet", "zeta.txt", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    s = json.loads((out / "summary.json").read_text())
    xi = np.array(list(s["xi_s"].values()))
    assert xi[0] > 1.0 and xi[0] > xi[-1]  # clustered mock: strong small-scale clustering
    assert s["triangles"] > 0 and s["graph_bytes_per_edge"] == 10
    assert "3PCF" in r.stdout


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    d = ag.clustering.mocks.thomas_process(300, 5.0, 1.5, 40.0, seed=3)
    r = rng.uniform(0, 40, (3000, 3))
    np.savetxt(tmp_path / "gal.txt", d)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": r[:, 0], "y": r[:, 1], "z": r[:, 2]}), tmp_path / "ran.parquet")
    return d, r


def test_pair_and_npoint_commands_match_the_library(tmp_path, files):
    d, r = files
    res = run(
        "2pcf",
        "--data",
        "gal.txt",
        "--randoms",
        "ran.parquet",
        "--rmin",
        "1",
        "--rmax",
        "8",
        "--nbins",
        "5",
        "--out",
        "xi",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    import pyarrow.parquet as pq

    got = pq.read_table(tmp_path / "xi.parquet").column("DD").to_numpy()
    want = ag.count_pairs(d, r, bins=ag.Bins.log(1, 8, 5)).dd.ravel()
    np.testing.assert_array_equal(got, want)
    res = run(
        "graph",
        "build",
        "--data",
        "gal.txt",
        "--randoms",
        "ran.parquet",
        "--rmax",
        "8",
        "--out",
        "g.arrow",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    res = run("graph", "info", "g.arrow", cwd=tmp_path)
    assert res.returncode == 0 and "bytes per edge: 10" in res.stdout
    res = run(
        "3pcf",
        "--graph",
        "g.arrow",
        "--rmin",
        "1",
        "--rmax",
        "8",
        "--nbins",
        "3",
        "--out",
        "z",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    tc = ag.count_triangles(d, r, bins=ag.Bins.linear(1, 8, 3))
    got = pq.read_table(tmp_path / "z.parquet").column("ddd").to_numpy()
    np.testing.assert_array_equal(np.sort(got), np.sort(tc.ddd[tc.valid]))
    res = run(
        "4pcf",
        "--data",
        "gal.txt",
        "--randoms",
        "ran.parquet",
        "--rmin",
        "1",
        "--rmax",
        "4",
        "--nbins",
        "2",
        "--out",
        "q",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "q.parquet").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["2pcf", "--data", "missing.txt"], "not found"),
        (["2pcf", "--data", "nan.txt"], "NaN"),
        (["2pcf", "--data", "gal.txt", "--rmin", "5", "--rmax", "2"], "smaller than rmax"),
        (["2pcf", "--data", "gal.txt", "--boxsize", "50", "--rmax", "30"], "half the box"),
        (
            ["2pcf", "--data", "gal.txt", "--boxsize", "10", "--rmax", "4"],
            "outside the periodic box",
        ),
        (["graph", "info", "gal.txt"], "not a readable Arrow IPC"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path, files, args, message):
    (tmp_path / "nan.txt").write_text("1 2 3\nnan 1 1\n")
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("astrograph: error:") and message in lines[0], (
        res.stderr
    )


def test_wp_and_jackknife_outputs_match_the_library(tmp_path, files):
    """``wp`` and ``--regions``: the counts, the jackknife realisations and
    the covariance written by the command are the library's."""
    import pyarrow.parquet as pq

    d, r = files
    args = ["--data", "gal.txt", "--randoms", "ran.parquet", "--rmin", "1", "--rmax", "8"]
    res = run(
        "wp", *args, "--nbins", "4", "--pimax", "10", "--regions", "4", "--out", "wp", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    want = ag.count_pairs_rppi(d, r, rp_bins=ag.Bins.log(1, 8, 4), pimax=10.0, regions=4)
    got = pq.read_table(tmp_path / "wp.parquet")
    np.testing.assert_array_equal(got.column("DD").to_numpy(), want.dd.ravel())
    np.testing.assert_allclose(np.loadtxt(tmp_path / "wp_cov.txt"), want.cov("wp"), rtol=1e-10)
    jk = pq.read_table(tmp_path / "wp_jackknife.parquet")
    assert jk.num_columns == 4 and jk.num_rows == 4
    assert "error" in res.stdout
    res = run("2pcf", *args, "--nbins", "4", "--regions", "5", "--out", "xi", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    want = ag.count_pairs(d, r, bins=ag.Bins.log(1, 8, 4), regions=5)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "xi_cov.txt"), want.cov("xi_s"), rtol=1e-10)
    res = run("3pcf", *args, "--nbins", "3", "--regions", "4", "--out", "z", cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "z_cov.txt").exists(), res.stderr
    res = run(
        "3pcf", *args, "--nbins", "3", "--regions", "4", "--correction", "mohammad21",
        "--out", "zc", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = ag.count_triangles(d, r, bins=ag.Bins.linear(1, 8, 3), regions=4)
    got = np.loadtxt(tmp_path / "zc_cov.txt")
    np.testing.assert_allclose(got, want.cov("equilateral", correction="mohammad21"), rtol=1e-10)
    assert not np.allclose(got, np.loadtxt(tmp_path / "z_cov.txt"))
    res = run("4pcf", *args, "--rmax", "4", "--nbins", "2", "--parity", "--out", "q", cwd=tmp_path)
    assert res.returncode == 0 and "parity-odd" in res.stdout, res.stderr
    q = pq.read_table(tmp_path / "q.parquet")
    want = ag.count_quads(d, r, bins=ag.Bins.linear(1, 4, 2), parity=True)
    np.testing.assert_array_equal(q.column("dddd_odd").to_numpy(), want.odd[0])


def test_multipoles_command_matches_the_library(tmp_path, files):
    d, r = files
    args = ["--data", "gal.txt", "--randoms", "ran.parquet", "--rmin", "1", "--rmax", "6"]
    res = run(
        "3pcf", *args, "--nbins", "3", "--multipoles", "--lmax", "4", "--out", "m", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "zeta_0" in res.stdout and "zeta_1" in res.stdout
    import pyarrow.parquet as pq

    tm = ag.count_triangle_multipoles(d, r, bins=ag.Bins.linear(1, 6, 3), lmax=4)
    t = pq.read_table(tmp_path / "m.parquet")
    assert t.num_rows == 5 * 6  # l = 0..4, b1 <= b2 of 3 bins
    keep = np.triu(np.ones((3, 3), bool))
    np.testing.assert_array_equal(t.column("n_field").to_numpy(), tm.field[:, keep].ravel())
    np.testing.assert_array_equal(t.column("zeta").to_numpy(), tm.zeta()[:, keep].ravel())
    assert np.loadtxt(tmp_path / "m.txt").shape == (30, 8)
    res = run("3pcf", *args, "--nbins", "3", "--multipoles", "--regions", "4", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "zeta_0 error (4 regions)" in res.stdout
    real = pq.read_table(tmp_path / "3pcf_jackknife.parquet")
    assert real.num_columns == 4 and real.num_rows == 11 * 3 * 3
    assert np.loadtxt(tmp_path / "3pcf_cov.txt").shape == (99, 99)


def _bad_files(tmp_path: Path) -> None:
    """Files for the table of bad arguments below."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "nan.txt").write_text("1 2 3\nnan 1 1\n")
    (tmp_path / "afile").write_text("not a folder\n")
    g = np.random.default_rng(1).uniform(0, 30, (200, 3))
    both = {"x": g[:, 0], "y": g[:, 1], "z": g[:, 2], "ra": g[:, 0], "dec": g[:, 1] - 15}
    pq.write_table(pa.table(both), tmp_path / "both.parquet")
    ag.NeighbourGraph.build(g, rmax=3.0).save(tmp_path / "g.arrow")


#: (arguments, a phrase the one-line message must contain), for every subcommand.
BAD_ARGUMENTS = [
    (["demo", "--parents", "-5"], "positive integer"),
    (["demo", "--parents", "0"], "positive integer"),
    (["demo", "--out", "afile"], "afile"),
    (["--threads", "0", "demo"], "positive integer"),
    (["--threads", "100000", "2pcf", "--data", "gal.txt"], "num_threads"),
    (["graph", "build", "--data", "gal.txt", "--rmax", "2", "--max-memory", "-1"], "max_memory"),
    (["graph", "build", "--data", "gal.txt", "--rmax", "2", "--max-memory", "lots"], "max_memory"),
    (["graph", "build", "--data", "gal.txt", "--rmax", "2", "--out", "afile/g.arrow"], "afile"),
    (["graph", "build", "--data", "gal.txt", "--rmax", "2", "--out", "nodir/g.arrow"], "nodir"),
    (["graph", "build", "--rmax", "2"], "--data"),
    (["graph", "info", "missing.arrow"], "not found"),
    (["graph", "info", "gal.txt"], "not a readable Arrow IPC"),
    (["2pcf", "--data", "both.parquet"], "coords"),
    (["2pcf", "--data", "gal.txt", "--coords", "sky"], "ra, dec and z"),
    (["2pcf", "--data", "gal.txt", "--columns", "a,b"], "3 position columns"),
    (["2pcf", "--data", "gal.txt", "--nbins", "-3"], "positive integer"),
    (["2pcf", "--data", "gal.txt", "--nmu", "0"], "positive integer"),
    (["2pcf", "--data", "gal.txt", "--out", "afile/xi"], "afile"),
    (["2pcf", "--graph", "g.arrow", "--boxsize", "5"], "--graph cannot be combined"),
    (["2pcf", "--graph", "g.arrow", "--los", "z"], "--graph cannot be combined"),
    (["3pcf", "--graph", "g.arrow", "--randoms", "gal.txt"], "--graph cannot be combined"),
    (["3pcf", "--graph", "g.arrow", "--rmax", "9"], "rebuild the graph"),
    (["3pcf", "--data", "nan.txt"], "NaN"),
    (["4pcf", "--data", "gal.txt", "--nbins", "70"], "4-point"),
    (["4pcf", "--data", "missing.txt"], "not found"),
    (["5pcf"], "invalid choice"),
    (["2pcf", "--data", "gal.txt", "--nmu", "1000000000"], "memory budget"),
    (["wp", "--data", "gal.txt", "--pimax", "-2"], "pimax"),
    (["wp", "--graph", "g.arrow", "--rmax", "2", "--pimax", "8"], "rebuild it"),
    (["2pcf", "--data", "gal.txt", "--regions", "0"], "positive integer"),
    (["2pcf", "--data", "gal.txt", "--correction", "mp"], "invalid choice"),
    (["2pcf", "--graph", "g.arrow", "--regions", "4"], "--graph cannot be combined"),
    (["3pcf", "--data", "gal.txt", "--multipoles", "--lmax", "30"], "lmax"),
    (["3pcf", "--data", "gal.txt", "--lmax", "4"], "--lmax applies to --multipoles"),
    (["2pcf", "--data", "gal.txt", "--boxsize", "40", "--regions", "8"], "need randoms"),
    (["3pcf", "--graph", "g.arrow", "--multipoles", "--rmax", "9"], "rebuild the graph"),
    (["3pcf", "--data", "gal.txt", "--multipoles"], "randoms"),
]


@pytest.mark.parametrize("args, message", BAD_ARGUMENTS)
def test_every_subcommand_refuses_bad_arguments_in_one_line(tmp_path, files, args, message):
    _bad_files(tmp_path)
    res = run(*args, cwd=tmp_path)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("astrograph: error:"), res.stderr
    assert message in lines[0], lines[0]
    assert "Traceback" not in res.stderr
    assert not [p for p in tmp_path.rglob("*.tmp-*")], "a temporary file was left behind"
