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


def run(*args: str, cwd: Path, quiet: bool = True) -> subprocess.CompletedProcess:
    cmd = [EXE] if EXE else [sys.executable, "-m", "astrograph"]
    return subprocess.run(
        [*cmd, *(["--quiet"] if quiet else []), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_console_script_is_installed():
    assert EXE is not None, "the 'astrograph' command is not installed next to this Python"


def test_help(tmp_path):
    for sub in ([], ["demo"], ["graph", "build"], ["2pcf"], ["3pcf"], ["4pcf"], ["wp"], ["wtheta"]):
        r = run(*sub, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "usage:" in r.stdout


def test_help_gives_units_and_defaults(tmp_path):
    """Lengths in Mpc/h, angles in degrees, the line of sight's choices and default."""
    text = {sub: " ".join(run(sub, "--help", cwd=tmp_path).stdout.split()) for sub in
            ("2pcf", "wp", "wtheta")}  # fmt: skip
    for sub in ("2pcf", "wp"):
        assert "--rmin R smallest separation, Mpc/h (default" in text[sub]
        assert "--los {midpoint,firstpoint,endpoint,x,y,z}" in text[sub]
        assert "default midpoint, or z with --boxsize" in text[sub]
        assert "theta in degrees and weight" in text[sub]  # --twopoint-weights
        assert "--data2" in text[sub] and "--bitwise-columns" in text[sub]
        assert "Lengths are in Mpc/h" in text[sub]
    assert "largest |pi|, Mpc/h (default 40)" in text["wp"]
    assert "--signed-mu" in text["2pcf"] and "--signed-pi" in text["wp"]
    assert "--thetamin DEG smallest angle, degrees" in text["wtheta"]
    assert "--thetamax DEG largest angle, degrees (at most 180)" in text["wtheta"]
    assert "RA and Dec columns in degrees" in text["wtheta"]
    assert "writes PREFIX.parquet" in text["2pcf"] and "PREFIX_cov.txt" in text["2pcf"]


def _parsers():
    """(name, parser) of the top level and every subcommand."""
    import argparse

    from astrograph.cli import build_parser

    out, todo = [], [("astrograph", build_parser())]
    while todo:
        name, p = todo.pop()
        out.append((name, p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                todo += [(f"{name} {n}", sub) for n, sub in a.choices.items()]
    return out


def test_every_subcommand_documents_every_option():
    """Each subcommand has a description and examples; each option a help
    text that gives its default (unless it is required or a flag)."""
    import argparse

    parsers = _parsers()
    assert len(parsers) == 10  # astrograph, demo, graph, build, info, 2pcf, wp, 3pcf, 4pcf, wtheta
    for name, p in parsers:
        assert p.description and len(p.description.split()) > 3, name
        assert "examples:" in (p.epilog or "") or name == "astrograph", name
        required_groups = [g for g in p._mutually_exclusive_groups if g.required]
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._VersionAction,
                              argparse._SubParsersAction)):  # fmt: skip
                continue
            where = f"{name} {'/'.join(a.option_strings) or a.dest}"
            assert a.help and len(a.help.split()) >= 3, where
            takes_value = a.nargs != 0
            required = a.required or any(a in g._group_actions for g in required_groups)
            if takes_value and a.option_strings and not required:
                assert "default" in a.help, f"{where}: its help does not give the default"
            if a.choices is not None:
                assert a.metavar is None, f"{where}: the choices are not shown"
    by_name = dict(parsers)
    for sub in ("astrograph 2pcf", "astrograph wp", "astrograph 3pcf", "astrograph graph build"):
        helps = {o: a.help for a in by_name[sub]._actions for o in a.option_strings}
        for opt in ("--rmin", "--rmax", "--boxsize"):
            assert "Mpc/h" in helps[opt], (sub, opt)
        assert "writes" in helps["--out"] or "written" in helps["--out"], sub


@pytest.mark.parametrize(
    "args, where",
    [
        (["2pcf"], "2pcf: one of the arguments --data --graph is required"),
        (["2pcf", "--data", "g.txt", "--bogus"], "2pcf: unrecognized arguments: --bogus"),
        (["graph", "build", "--data", "g.txt"], "graph build: the following arguments"),
        (["wp", "--data", "g.txt", "--nbins", "x"], "wp: argument --nbins"),
        (["2pcf", "--data", "g.txt", "--cosmology", "Planck99"], "unknown cosmology 'Planck99'"),
        (["2pcf", "--data", "g.txt", "--cosmology", "flat:70"], "flat:H0,Om0 needs"),
        (["2pcf", "--data", "g.txt", "--zmin", "-1"], "expected a redshift >= 0"),
        (["5pcf"], "invalid choice: '5pcf'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_argument_errors_name_the_program_once(capsys, args, where):
    """argparse's errors: one line, 'astrograph: error: SUBCOMMAND: ...',
    without the program named a second time."""
    from astrograph.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("astrograph: error: ") and where in lines[0], lines[0]
    assert lines[0].count("astrograph") == 1, lines[0]


def test_quiet_and_threads_before_or_after_the_subcommand():
    from astrograph.cli.parser import parse

    for argv in (["--quiet", "2pcf", "--data", "g"], ["2pcf", "--data", "g", "--quiet"],
                 ["2pcf", "--quiet", "--data", "g"]):  # fmt: skip
        assert parse(argv).quiet is True, argv
    assert parse(["2pcf", "--data", "g"]).quiet is False
    assert parse(["--threads", "3", "wp", "--data", "g"]).threads == 3
    assert parse(["wp", "--data", "g", "--threads", "2"]).threads == 2
    assert parse(["graph", "build", "--data", "g", "--rmax", "2", "--quiet"]).quiet is True
    assert parse(["demo", "--quiet"]).quiet is True


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
    got = pq.read_table(tmp_path / "z.parquet").column("DDD").to_numpy()
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
    np.testing.assert_array_equal(q.column("DDDD_odd").to_numpy(), want.odd[0])


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
    np.testing.assert_array_equal(t.column("N_field").to_numpy(), tm.field[:, keep].ravel())
    np.testing.assert_array_equal(t.column("zeta").to_numpy(), tm.zeta()[:, keep].ravel())
    assert np.loadtxt(tmp_path / "m.txt").shape == (30, 8)
    res = run("3pcf", *args, "--nbins", "3", "--multipoles", "--regions", "4", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "zeta_0 error (4 regions)" in res.stdout
    real = pq.read_table(tmp_path / "3pcf_jackknife.parquet")
    assert real.num_columns == 4 and real.num_rows == 11 * 3 * 3
    assert np.loadtxt(tmp_path / "3pcf_cov.txt").shape == (99, 99)


def test_quad_multipoles_command_matches_the_library(tmp_path, files):
    import pyarrow.parquet as pq

    d, r = files
    args = ["--data", "gal.txt", "--randoms", "ran.parquet", "--rmin", "1", "--rmax", "7"]
    res = run(
        "4pcf", *args, "--nbins", "4", "--multipoles", "--lmax", "2", "--out", "q", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "4PCF multipoles l <= 2: 15 (l1, l2, l3) (4 parity-odd)" in res.stdout
    qm = ag.count_quad_multipoles(d, r, bins=ag.Bins.linear(1, 7, 4), lmax=2)
    t = pq.read_table(tmp_path / "q.parquet")
    assert t.num_rows == 15 * 4  # (l1, l2, l3) x (b1 < b2 < b3 of 4 bins)
    np.testing.assert_array_equal(t.column("N_field").to_numpy(), qm.field.ravel())
    np.testing.assert_array_equal(t.column("zeta").to_numpy(), qm.zeta().ravel())
    back = ag.QuadMultipoles.load(tmp_path / "q.parquet")
    np.testing.assert_array_equal(back.field, qm.field)
    assert np.loadtxt(tmp_path / "q.txt").shape == (60, 13)
    res = run(
        "4pcf", *args, "--nbins", "4", "--multipoles", "--lmax", "2", "--regions", "4",
        "--out", "qj", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "error:" in res.stdout and "written qj_jackknife.parquet" in res.stdout
    real = pq.read_table(tmp_path / "qj_jackknife.parquet")
    assert real.num_columns == 4 and real.num_rows == 60
    assert ag.QuadMultipoles.load(tmp_path / "qj.parquet").nregions == 4
    res = run(
        "4pcf", *args, "--nbins", "4", "--multipoles", "--lmax", "2", "--disconnected",
        "--out", "qd", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "connected:" in res.stdout
    back = ag.QuadMultipoles.load(tmp_path / "qd.parquet")
    want = ag.count_quad_multipoles(d, r, bins=ag.Bins.linear(1, 7, 4), lmax=2, disconnected=True)
    np.testing.assert_allclose(back.disconnected, want.disconnected, rtol=1e-12)


def _bad_files(tmp_path: Path) -> None:
    """Files for the table of bad arguments below."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "nan.txt").write_text("1 2 3\nnan 1 1\n")
    (tmp_path / "afile").write_text("not a folder\n")
    g = np.random.default_rng(1).uniform(0, 30, (200, 3))
    both = {"x": g[:, 0], "y": g[:, 1], "z": g[:, 2], "ra": g[:, 0], "dec": g[:, 1] - 15}
    pq.write_table(pa.table(both), tmp_path / "both.parquet")
    pq.write_table(pa.table({"ra": g[:, 0], "dec": g[:, 1] - 15}), tmp_path / "sky.parquet")
    (tmp_path / "badsky.txt").write_text("10 20\n10 95\n")
    (tmp_path / "tw.txt").write_text("0 2\n1 1\n")
    (tmp_path / "three.txt").write_text("0 2 1\n1 1 1\n")
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
    (["4pcf", "--data", "gal.txt", "--multipoles", "--lmax", "11"], "lmax"),
    (["4pcf", "--data", "gal.txt", "--lmax", "2"], "apply to --multipoles"),
    (["4pcf", "--data", "gal.txt", "--disconnected"], "apply to --multipoles"),
    (["4pcf", "--data", "gal.txt", "--multipoles", "--disconnected"], "pass randoms"),
    (["4pcf", "--data", "gal.txt", "--multipoles", "--nbins", "2"], "at least 3 radial bins"),
    (["4pcf", "--data", "gal.txt", "--multipoles", "--regions", "4"], "need randoms"),
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


#: Bad uses of the two-point options (run in this process: no start-up cost).
# fmt: off
TWO_POINT_BAD_ARGUMENTS = [
    (["2pcf", "--data", "gal.txt", "--randoms2", "gal.txt"], "--randoms2 needs --data2"),
    (["wp", "--data", "gal.txt", "--weight-column2", "w"], "--weight-column2 needs --data2"),
    (["wp", "--data", "gal.txt", "--boxsize", "40", "--los", "firstpoint"], "observer"),
    (["2pcf", "--data", "gal.txt", "--los", "sideways"], "invalid choice"),
    (["2pcf", "--graph", "g.arrow", "--data2", "gal.txt"], "--graph cannot be combined"),
    (["2pcf", "--data", "gal.txt", "--randoms", "gal.txt", "--data2", "gal.txt",
      "--randoms2", "gal.txt", "--randoms2", "gal.txt"], "given once and --randoms2 twice"),
    (["3pcf", "--data", "gal.txt", "--randoms", "gal.txt", "--randoms", "gal.txt"], "twice"),
    (["2pcf", "--data", "both.parquet", "--coords", "cartesian", "--bitwise-columns", "ra"],
     "'ra' is not an integer column"),
    (["2pcf", "--data", "gal.txt", "--bitwise-columns", "w"], "no named integer columns"),
    (["2pcf", "--data", "both.parquet", "--coords", "cartesian", "--bitwise-columns", "b"],
     "no column 'b'"),
    (["2pcf", "--data", "gal.txt", "--nrealizations", "5"], "applies to PIP weights"),
    (["wtheta", "--data", "sky.parquet", "--thetamin", "1", "--thetamax", "2", "--noffset", "-1"],
     "integer >= 0"),
    (["2pcf", "--data", "gal.txt", "--data2", "gal.txt", "--bitwise-columns2", "x"],
     "both tracers' bitwise weights"),
    (["2pcf", "--data", "gal.txt", "--twopoint-weights", "missing.txt"], "not found"),
    (["2pcf", "--data", "gal.txt", "--twopoint-weights", "three.txt"], "2 columns"),
    (["2pcf", "--data", "gal.txt", "--boxsize", "40", "--twopoint-weights", "tw.txt"], "boxsize"),
    (["wtheta", "--data", "sky.parquet", "--thetamin", "0", "--thetamax", "5"], "(0, 180]"),
    (["wtheta", "--data", "sky.parquet", "--thetamin", "1", "--thetamax", "181"], "(0, 180]"),
    (["wtheta", "--data", "sky.parquet", "--thetamin", "1"], "--thetamax"),
    (["wtheta", "--data", "both.parquet", "--thetamin", "1", "--thetamax", "2",
      "--columns", "x,y,z"], "2 sky columns"),
    (["wtheta", "--data", "ran.parquet", "--thetamin", "1", "--thetamax", "2"], "ra and dec"),
    (["wtheta", "--data", "badsky.txt", "--thetamin", "1", "--thetamax", "2"],
     "row 1, RA 10, Dec 95"),
    (["2pcf", "--data", "gal.txt", "--random-splits", "2"], "give --randoms"),
    (["2pcf", "--data", "gal.txt", "--randoms", "gal.txt", "--random-splits", "x"],
     "positive integer"),
    (["2pcf", "--data", "gal.txt", "--randoms", "gal.txt", "--randoms", "gal.txt",
      "--random-splits", "2"], "give --randoms once"),
    (["2pcf", "--data", "gal.txt", "--randoms", "gal.txt", "--random-splits", "2"],
     "parsed whole"),
    (["wtheta", "--data", "sky.parquet", "--randoms", "sky.parquet", "--random-splits", "2",
      "--thetamin", "1", "--thetamax", "2"], "applies to 2pcf and wp"),
]
# fmt: on


@pytest.mark.parametrize("args, message", TWO_POINT_BAD_ARGUMENTS)
def test_two_point_options_refuse_bad_arguments_in_one_line(
    tmp_path, files, monkeypatch, capsys, args, message
):
    """The same contract as above through ``main()`` in this process."""
    from astrograph.cli import main

    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["--quiet", *args])
    except SystemExit as exc:  # argparse's errors
        code = exc.code
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert code == 2, out.err
    assert len(lines) == 1 and lines[0].startswith("astrograph: error:"), out.err
    assert message in lines[0], lines[0]
    assert not out.out and not list(tmp_path.glob("2pcf*")) and not list(tmp_path.glob("wtheta*"))


# -- the two-point features: two tracers, lines of sight, splits, PIP, w(theta)


def _column(table, name: str) -> np.ndarray:
    """A column of a written table by name, in either case ("ddd" or "DDD")."""
    (found,) = [c for c in table.column_names if c.lower() == name.lower()]
    return table.column(found).to_numpy()


def _pq(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    return {c: t.column(c).to_numpy() for c in t.column_names if ":" not in c}


def _assert_counts(path: Path, want, rtol: float = 1e-12) -> None:
    """The counts the command wrote (Parquet, and text columns named as the
    counts) are the library's."""
    got = _pq(path.with_suffix(".parquet"))
    with open(path.with_suffix(".txt")) as f:
        header = [line[2:].split() for line in f if line.startswith("# ")][-1]
    text = np.loadtxt(path.with_suffix(".txt"))
    assert [n for n in header if n in want.counts] == list(want.names)
    for name in want.names:
        np.testing.assert_allclose(got[name], want.counts[name].ravel(), rtol=rtol, atol=0)
        np.testing.assert_allclose(text[:, header.index(name)], got[name], rtol=1e-11)


def _survey(n: int, seed: int) -> np.ndarray:
    """Points of a survey-like shell far from the observer at the origin."""
    g = np.random.default_rng(seed)
    ra, dec, r = g.uniform(0, 15, n), g.uniform(-7, 7, n), g.uniform(300, 400, n)
    c = np.cos(np.radians(dec))
    ra, dec = np.radians(ra), np.radians(dec)
    return np.column_stack([r * c * np.cos(ra), r * c * np.sin(ra), r * np.sin(dec)])


@pytest.fixture()
def tracers(tmp_path):
    """Two tracers with randoms (Parquet, the second weighted), bitwise weights
    (two integer columns of the first, one of the second) and an angular
    upweight table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    g = np.random.default_rng(5)
    d1, r1, d2, r2 = _survey(500, 1), _survey(1500, 2), _survey(400, 3), _survey(1200, 4)
    b1 = g.integers(-(2**62), 2**62, len(d1)), g.integers(0, 255, len(d1)).astype(np.uint8)
    b2 = g.integers(-(2**62), 2**62, len(d2)), g.integers(0, 255, len(d2)).astype(np.uint8)
    w2 = g.uniform(0.5, 1.5, len(d2))
    xyz = lambda p: dict(zip("xyz", p.T, strict=True))  # noqa: E731
    pq.write_table(pa.table({**xyz(d1), "bits": b1[0], "bits8": b1[1]}), tmp_path / "d1.parquet")
    pq.write_table(pa.table({**xyz(d2), "bits": b2[0], "bits8": b2[1], "wt": w2}),
                   tmp_path / "d2.parquet")  # fmt: skip
    for name, r in (("r1a", r1[:700]), ("r1b", r1[700:]), ("r2", r2)):
        pq.write_table(pa.table(xyz(r)), tmp_path / f"{name}.parquet")
    tw = (np.array([0.0, 0.2, 0.5, 1.0, 3.0]), np.array([3.0, 2.0, 1.5, 1.2, 1.0]))
    np.savetxt(tmp_path / "tw.txt", np.column_stack(tw))
    return {"d1": d1, "r1": r1, "d2": d2, "r2": r2, "b1": b1, "b2": b2, "w2": w2, "tw": tw}


def test_cross_correlation_matches_the_library(tmp_path, tracers):
    """--data2/--randoms2 with a first-point line of sight, signed mu and
    regions: the four counts, the saved result (regions kept) and the
    covariance are the library's; wp with one tracer's randoms (Davis-Peebles)."""
    t = tracers
    res = run(
        "2pcf", "--data", "d1.parquet", "--randoms", "r1a.parquet", "--data2", "d2.parquet",
        "--randoms2", "r2.parquet", "--los", "firstpoint", "--signed-mu", "--nmu", "4",
        "--rmin", "2", "--rmax", "20", "--nbins", "3", "--regions", "3", "--out", "x",
        cwd=tmp_path, quiet=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    bins = ag.Bins.log(2, 20, 3, 4, mu_min=-1)
    want = ag.count_pairs(t["d1"], t["r1"][:700], bins=bins, data2=t["d2"], randoms2=t["r2"],
                          data2_weights=t["w2"], random2_weights=None, los="firstpoint",
                          regions=3)  # fmt: skip
    assert want.names == ("D1D2", "D1R2", "R1D2", "R1R2")
    _assert_counts(tmp_path / "x", want)
    assert want.summary().splitlines()[0] in res.stdout  # the summary, without --quiet
    back = ag.clustering.results.TwoPointCounts.load(tmp_path / "x.parquet")
    assert back.los == "firstpoint" and back.bins == bins and back.resampling is not None
    np.testing.assert_allclose(back.cov("xi_s"), want.cov("xi_s"), rtol=1e-9)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "x_cov.txt"), want.cov("xi_s"), rtol=1e-9)
    res = run(
        "wp", "--data", "d1.parquet", "--randoms", "r1a.parquet", "--data2", "d2.parquet",
        "--weight-column2", "none", "--los", "endpoint", "--signed-pi", "--pimax", "10",
        "--npi", "4", "--rmin", "2", "--rmax", "10", "--nbins", "3", "--out", "p",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = ag.count_pairs_rppi(t["d1"], t["r1"][:700], rp_bins=ag.Bins.log(2, 10, 3),
                               pimax=10.0, npi=4, signed=True, data2=t["d2"], los="endpoint")  # fmt: skip
    assert want.names == ("D1D2", "R1D2") and want.default_estimator() == "davis-peebles"
    _assert_counts(tmp_path / "p", want)
    np.testing.assert_allclose(_pq(tmp_path / "p.parquet")["xi"], want.xi().ravel(), rtol=1e-12)


def test_random_splits_and_axis_line_of_sight_match_the_library(tmp_path, tracers):
    """--randoms given twice: random splits (RR within each split); the same
    splits as the row groups of one file, streamed (--random-splits groups)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = tracers
    schema = pa.schema([(c, pa.float64()) for c in "xyz"])
    with pq.ParquetWriter(tmp_path / "r1.parquet", schema) as w:
        for part in (t["r1"][:700], t["r1"][700:]):
            w.write_table(pa.table(dict(zip("xyz", part.T, strict=True)), schema=schema))
    want = ag.count_pairs(t["d1"], [t["r1"][:700], t["r1"][700:]],
                          bins=ag.Bins.log(2, 20, 3, 3), los="x")  # fmt: skip
    assert want.nsplits == 2
    for out, randoms in (
        ("s", ["--randoms", "r1a.parquet", "--randoms", "r1b.parquet"]),
        ("g", ["--randoms", "r1.parquet", "--random-splits", "groups"]),
    ):
        res = run(
            "2pcf", "--data", "d1.parquet", *randoms, "--los", "x", "--nmu", "3", "--rmin", "2",
            "--rmax", "20", "--nbins", "3", "--out", out, cwd=tmp_path,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        _assert_counts(tmp_path / out, want, rtol=0)
        assert "randoms in 2 splits" in open(tmp_path / f"{out}.txt").readline()


def test_pip_and_angular_weights_match_the_library(tmp_path, tracers):
    """--bitwise-columns (two integer columns of 64 and 8 bits), pycorr's
    weight_attrs and --twopoint-weights, for one tracer and two."""
    t = tracers
    common = ["--rmin", "2", "--rmax", "20", "--nbins", "3", "--twopoint-weights", "tw.txt"]
    pip = ["--bitwise-columns", "bits,bits8", "--nrealizations", "80", "--noffset", "0",
           "--default-value", "2.5"]  # fmt: skip
    attrs = {"nrealizations": 80, "noffset": 0, "default_value": 2.5}
    res = run("2pcf", "--data", "d1.parquet", "--randoms", "r1a.parquet", *common, *pip,
              "--out", "a", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    bins = ag.Bins.log(2, 20, 3)
    want = ag.count_pairs(t["d1"], t["r1"][:700], bins=bins, data_bitwise_weights=list(t["b1"]),
                          weight_attrs=attrs, twopoint_weights=t["tw"])  # fmt: skip
    _assert_counts(tmp_path / "a", want)
    plain = ag.count_pairs(t["d1"], t["r1"][:700], bins=bins)
    assert not np.allclose(want.counts["DD"], plain.counts["DD"])  # the weights did something
    res = run("2pcf", "--data", "d1.parquet", "--randoms", "r1a.parquet", "--data2",
              "d2.parquet", "--randoms2", "r2.parquet", "--bitwise-columns2", "bits,bits8",
              *common, *pip, "--out", "c", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = ag.count_pairs(t["d1"], t["r1"][:700], bins=bins, data2=t["d2"], randoms2=t["r2"],
                          data2_weights=t["w2"], data_bitwise_weights=list(t["b1"]),
                          data2_bitwise_weights=list(t["b2"]), weight_attrs=attrs,
                          twopoint_weights=t["tw"])  # fmt: skip
    _assert_counts(tmp_path / "c", want)


@pytest.fixture()
def sky(tmp_path):
    """RA/Dec catalogues without redshifts: FITS data with a 2 x 64-bit
    bitwise vector column, plain 'ra dec' text randoms in two splits, and a
    weighted Parquet second tracer with upper-case column names."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from astropy.io import fits

    g = np.random.default_rng(8)
    radec = lambda n: np.column_stack([g.uniform(0, 20, n), g.uniform(-10, 10, n)])  # noqa: E731
    d, r, d2, r2 = radec(600), radec(2000), radec(400), radec(1500)
    bits = g.integers(-(2**62), 2**62, (len(d), 2))
    cols = [fits.Column(name="RA", format="D", array=d[:, 0]),
            fits.Column(name="DEC", format="D", array=d[:, 1]),
            fits.Column(name="BITWEIGHTS", format="2K", array=bits)]  # fmt: skip
    fits.BinTableHDU.from_columns(cols).writeto(tmp_path / "d.fits")
    np.savetxt(tmp_path / "ra.txt", r[:900])
    np.savetxt(tmp_path / "rb.txt", r[900:])
    w2 = g.uniform(0.5, 2.0, len(d2))
    pq.write_table(pa.table({"RA": d2[:, 0], "DEC": d2[:, 1], "WEIGHT": w2}),
                   tmp_path / "s2.parquet")  # fmt: skip
    pq.write_table(pa.table({"RA": r2[:, 0], "DEC": r2[:, 1]}), tmp_path / "sr2.parquet")
    return {"d": d, "r": r, "d2": d2, "r2": r2, "bits": bits, "w2": w2}


def test_wtheta_matches_the_library(tmp_path, sky):
    """``wtheta`` on RA/Dec files (FITS, text, Parquet; no redshift column):
    random splits, PIP weights from a FITS vector column, regions; a
    cross-correlation with weights."""
    s = sky
    res = run(
        "wtheta", "--data", "d.fits", "--randoms", "ra.txt", "--randoms", "rb.txt",
        "--bitwise-columns", "BITWEIGHTS", "--thetamin", "0.1", "--thetamax", "4",
        "--nbins", "4", "--regions", "4", "--out", "w", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    bins = ag.Bins.log(0.1, 4, 4)
    want = ag.count_angular(s["d"], [s["r"][:900], s["r"][900:]], bins=bins,
                            data_bitwise_weights=s["bits"], regions=4)  # fmt: skip
    assert want.names == ("DD", "DR", "RR") and want.nsplits == 2
    _assert_counts(tmp_path / "w", want)
    got = _pq(tmp_path / "w.parquet")
    np.testing.assert_allclose(got["theta_lo"], bins.edges[:-1])
    np.testing.assert_allclose(got["wtheta"], want.wtheta(), rtol=1e-10)
    np.testing.assert_allclose(np.loadtxt(tmp_path / "w_cov.txt"), want.cov("wtheta"), rtol=1e-9)
    assert _pq(tmp_path / "w_jackknife.parquet").keys() == {f"jk{k}" for k in range(4)}
    assert "error" in res.stdout
    res = run(
        "wtheta", "--data", "d.fits", "--randoms", "ra.txt", "--data2", "s2.parquet",
        "--randoms2", "sr2.parquet", "--thetamin", "0.5", "--thetamax", "10", "--nbins", "3",
        "--scale", "linear", "--out", "c", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    want = ag.count_angular(s["d"], s["r"][:900], bins=ag.Bins.linear(0.5, 10, 3),
                            data2=s["d2"], randoms2=s["r2"], data2_weights=s["w2"])  # fmt: skip
    assert want.names == ("D1D2", "D1R2", "R1D2", "R1R2")
    _assert_counts(tmp_path / "c", want)


#: mpiexec jobs of the new options, by name: their arguments.
MPI_JOBS = {
    "2pcf": ["2pcf", "--data", "d1.parquet", "--randoms", "r1a.parquet", "--randoms",
             "r1b.parquet", "--data2", "d2.parquet", "--randoms2", "r2.parquet", "--randoms2",
             "r2.parquet", "--bitwise-columns", "bits,bits8", "--bitwise-columns2", "bits,bits8",
             "--nrealizations", "80", "--twopoint-weights", "tw.txt", "--los", "endpoint",
             "--signed-mu", "--rmin", "2", "--rmax", "20", "--nbins", "3", "--regions", "3"],
    "wtheta": ["wtheta", "--data", "d.fits", "--randoms", "ra.txt", "--randoms", "rb.txt",
               "--bitwise-columns", "BITWEIGHTS", "--thetamin", "0.1", "--thetamax", "4",
               "--nbins", "4", "--regions", "3"],
}  # fmt: skip


@pytest.mark.mpi
@pytest.mark.parametrize("job", sorted(MPI_JOBS))
def test_new_options_under_mpiexec_match_one_process(tmp_path, tracers, sky, job):
    """``mpiexec -n 2 astrograph ...`` with the new options writes the counts
    and covariance of one process (the catalogues go through comm=)."""
    exe = Path(sys.executable).parent / "mpiexec"
    exe = str(exe) if exe.exists() else shutil.which("mpiexec")
    if exe is None:
        pytest.fail("mpiexec not found: pip install mpich mpi4py")
    env = dict(os.environ, HYDRA_LAUNCHER="fork", OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    args = MPI_JOBS[job]
    cmd = [exe, "-n", "2", sys.executable, "-m", "astrograph", "--quiet", *args, "--out", "m"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("written m.parquet") == 1  # rank 0 only
    one = run(*args, "--out", "s", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    got, want = _pq(tmp_path / "m.parquet"), _pq(tmp_path / "s.parquet")
    assert got.keys() == want.keys()
    for name in got:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-11, err_msg=name)
    if "--regions" in args:
        np.testing.assert_allclose(
            np.loadtxt(tmp_path / "m_cov.txt"), np.loadtxt(tmp_path / "s_cov.txt"), rtol=1e-8
        )


# -- sky catalogues: redshift cuts, the cosmology, several weight columns --------------


@pytest.fixture()
def redshifts(tmp_path):
    """Sky catalogues with redshifts, as a survey's files are: FITS data with
    a few slightly negative redshifts (as the raw SDSS DR7 file has) and two
    weight columns, Parquet randoms with the same two weight columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from astropy.io import fits

    g = np.random.default_rng(11)

    def cat(n):
        return {"RA": g.uniform(150, 165, n), "DEC": g.uniform(-3, 3, n),
                "Z": g.uniform(0.03, 0.11, n), "WEIGHT_FKP": g.uniform(0.5, 1.0, n),
                "WEIGHT_COMP": g.uniform(1.0, 1.5, n)}  # fmt: skip

    d, r = cat(700), cat(2100)
    d["Z"][[5, 40, 41]] = [-1e-5, -3e-4, 0.5]  # two below 0, one beyond the cut
    d["BITS"] = g.integers(0, 2**40, len(d["Z"]))
    fits.BinTableHDU.from_columns(
        [fits.Column(name=k, format="K" if k == "BITS" else "D", array=v) for k, v in d.items()]
    ).writeto(tmp_path / "gal.fits")
    pq.write_table(pa.table(r), tmp_path / "ran.parquet")
    return d, r


def _sky_catalog(c, keep, weights=("WEIGHT_FKP", "WEIGHT_COMP"), cosmology=None):
    w = np.prod([c[k][keep] for k in weights], axis=0) if weights else None
    return ag.Catalog.from_sky(c["RA"][keep], c["DEC"][keep], c["Z"][keep], w,
                               cosmology=cosmology)  # fmt: skip


def test_negative_redshifts_are_named_and_cut(tmp_path, redshifts, monkeypatch, capsys):
    """Without a cut, the message names the file, the first bad row and how
    many; --zmin/--zmax cut data and randoms by redshift before conversion
    and the counts are the library's on the cut catalogues."""
    from astrograph.cli import main

    d, r = redshifts
    monkeypatch.chdir(tmp_path)
    assert main(["--quiet", "2pcf", "--data", "gal.fits", "--randoms", "ran.parquet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gal.fits: redshifts (column 'Z') must be finite and >= 0" in err[0]
    assert "2 rows are not (first: row 5, Z = -1e-05)" in err[0] and "--zmin/--zmax" in err[0]
    args = ["2pcf", "--data", "gal.fits", "--randoms", "ran.parquet", "--zmin", "0.02",
            "--zmax", "0.12", "--weight-column", "WEIGHT_FKP", "--weight-column",
            "WEIGHT_COMP", "--rmin", "2", "--rmax", "20", "--nbins", "4", "--out", "xi"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "gal.fits: 697 of 700 rows with 0.02 <= z < 0.12" in out
    assert "cosmology: Planck18 (sky catalogues to comoving Mpc/h)" in out
    keep = (d["Z"] >= 0.02) & (d["Z"] < 0.12)
    want = ag.count_pairs(_sky_catalog(d, keep), _sky_catalog(r, slice(None)),
                          bins=ag.Bins.log(2, 20, 4))  # fmt: skip
    _assert_counts(tmp_path / "xi", want)
    saved = ag.clustering.results.TwoPointCounts.load(tmp_path / "xi.parquet")
    assert saved.meta["cosmology"] == "Planck18"
    assert (saved.meta["zmin"], saved.meta["zmax"]) == (0.02, 0.12)


def test_bitwise_weights_follow_the_redshift_cut(tmp_path, redshifts, monkeypatch):
    """--bitwise-columns of a cut catalogue: the bits of the rows kept."""
    from astrograph.cli import main

    d, r = redshifts
    monkeypatch.chdir(tmp_path)
    args = ["2pcf", "--data", "gal.fits", "--randoms", "ran.parquet", "--zmin", "0.02",
            "--zmax", "0.12", "--weight-column", "none", "--bitwise-columns", "BITS",
            "--rmin", "2", "--rmax", "20", "--nbins", "3", "--out", "b"]  # fmt: skip
    assert main(["--quiet", *args]) == 0
    keep = (d["Z"] >= 0.02) & (d["Z"] < 0.12)
    want = ag.count_pairs(_sky_catalog(d, keep, ()), _sky_catalog(r, slice(None), ()),
                          bins=ag.Bins.log(2, 20, 3), data_bitwise_weights=[d["BITS"][keep]])  # fmt: skip
    _assert_counts(tmp_path / "b", want)


def test_the_raw_dr7_file_names_its_bad_redshifts(shared_data, capsys):
    """The real SDSS DR7 stripe: 16 slightly negative redshifts, named."""
    from astrograph.cli import main

    f = shared_data / "sdss_dr7_stripe_west" / "sdss_dr7_stripe_west.fits"
    assert main(["--quiet", "2pcf", "--data", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: redshifts (column 'z') must be finite and >= 0; 16 rows are not" in err
    assert "(first: row 1016, z = -1.01393e-05); cut them with --zmin/--zmax" in err


def test_cosmology_is_used_and_recorded(tmp_path, redshifts, monkeypatch, capsys):
    """--cosmology flat:H0,Om0 and a named one: the positions are those
    Catalog.from_sky gives with it, and the outputs name it (two-point
    metadata, the 3pcf file, the printed summary)."""
    import pyarrow.parquet as pq
    from astropy.cosmology import WMAP9, FlatLambdaCDM

    from astrograph.cli import main

    d, r = redshifts
    monkeypatch.chdir(tmp_path)
    keep = (d["Z"] >= 0.02) & (d["Z"] < 0.12)
    common = ["--data", "gal.fits", "--randoms", "ran.parquet", "--zmin", "0.02", "--zmax",
              "0.12", "--weight-column", "WEIGHT_FKP,WEIGHT_COMP", "--rmin", "2", "--rmax",
              "12", "--nbins", "3"]  # fmt: skip
    assert main(["wp", *common, "--pimax", "10", "--cosmology", "flat:100,0.3", "--out", "p"]) == 0
    out = capsys.readouterr().out
    assert "cosmology: FlatLambdaCDM(H0=100, Om0=0.3)" in out
    flat = FlatLambdaCDM(100, 0.3)
    want = ag.count_pairs_rppi(_sky_catalog(d, keep, cosmology=flat),
                               _sky_catalog(r, slice(None), cosmology=flat),
                               rp_bins=ag.Bins.log(2, 12, 3), pimax=10.0)  # fmt: skip
    _assert_counts(tmp_path / "p", want)
    saved = ag.clustering.results.TwoPointCounts.load(tmp_path / "p.parquet")
    assert saved.meta["cosmology"] == "FlatLambdaCDM(H0=100, Om0=0.3)"
    assert main(["--quiet", "3pcf", *common, "--cosmology", "wmap9", "--out", "z"]) == 0
    assert "cosmology: WMAP9" in capsys.readouterr().out
    tc = ag.count_triangles(_sky_catalog(d, keep, cosmology=WMAP9),
                            _sky_catalog(r, slice(None), cosmology=WMAP9),
                            bins=ag.Bins.linear(2, 12, 3))  # fmt: skip
    got = pq.read_table(tmp_path / "z.parquet")
    np.testing.assert_array_equal(np.sort(_column(got, "ddd")), np.sort(tc.ddd[tc.valid]))
    assert any(b"WMAP9" in v for v in got.schema.metadata.values())


def test_cartesian_outputs_name_no_cosmology(tmp_path, files, monkeypatch, capsys):
    from astrograph.cli import main

    monkeypatch.chdir(tmp_path)
    args = ["2pcf", "--data", "gal.txt", "--randoms", "ran.parquet", "--rmax", "8", "--out", "c"]
    assert main(args) == 0
    assert "cosmology" not in capsys.readouterr().out
    assert "cosmology" not in ag.clustering.results.TwoPointCounts.load(tmp_path / "c.parquet").meta
    assert main([*args, "--cosmology", "WMAP9"]) == 0
    assert "cosmology: WMAP9 not used (the catalogues are Cartesian)" in capsys.readouterr().out
    assert main(["--quiet", *args, "--zmax", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--zmin/--zmax cut sky catalogues (ra, dec, z) by redshift" in err


def test_wtheta_cuts_by_redshift(tmp_path, redshifts, monkeypatch):
    from astrograph.cli import main

    d, r = redshifts
    monkeypatch.chdir(tmp_path)
    args = ["wtheta", "--data", "gal.fits", "--randoms", "ran.parquet", "--columns", "RA,DEC,Z",
            "--zmin", "0.02", "--zmax", "0.12", "--weight-column", "WEIGHT_FKP",
            "--weight-column", "WEIGHT_COMP", "--thetamin", "0.1", "--thetamax", "3",
            "--nbins", "3", "--out", "w"]  # fmt: skip
    assert main(["--quiet", *args]) == 0
    keep = (d["Z"] >= 0.02) & (d["Z"] < 0.12)
    radec = lambda c, k: np.column_stack([c["RA"][k], c["DEC"][k]])  # noqa: E731
    weight = lambda c, k: c["WEIGHT_FKP"][k] * c["WEIGHT_COMP"][k]  # noqa: E731
    want = ag.count_angular(radec(d, keep), radec(r, slice(None)), bins=ag.Bins.log(0.1, 3, 3),
                            data_weights=weight(d, keep),
                            random_weights=weight(r, slice(None)))  # fmt: skip
    _assert_counts(tmp_path / "w", want)


#: Bad uses of the catalogue options, and the phrase of their one-line message.
CATALOGUE_BAD_ARGUMENTS = [
    (["2pcf", "--data", "gal.fits", "--zmin", "0.2", "--zmax", "0.1"], "need --zmin < --zmax"),
    (["2pcf", "--data", "gal.fits", "--zmin", "0.6"], "no row has 0.6 <= z (column 'Z'"),
    (["2pcf", "--data", "gal.fits", "--zmin", "0.02", "--weight-column", "W"],
     "no weight column 'W'"),
    (["2pcf", "--data", "gal.fits", "--zmin", "0.02", "--weight-column", "none,WEIGHT_FKP"],
     "'none' alone"),
    (["2pcf", "--data", "two_w.parquet"],
     "several candidate weight columns ['w', 'weight']; choose with --weight-column (repeat "
     "it, or NAME,NAME, to multiply columns), or --weight-column none"),
    (["2pcf", "--graph", "g.arrow", "--zmin", "0.02"], "--graph cannot be combined with --zmin"),
    (["3pcf", "--graph", "g.arrow", "--cosmology", "WMAP9"], "cannot be combined with --cosmology"),
    (["wtheta", "--data", "gal.fits", "--thetamin", "1", "--thetamax", "2", "--columns",
      "RA,DEC,Z"], "with --zmin/--zmax the redshift column"),
    (["wtheta", "--data", "sky.parquet", "--thetamin", "1", "--thetamax", "2", "--zmax", "0.1"],
     "need a redshift column"),
]  # fmt: skip


@pytest.mark.parametrize("args, message", CATALOGUE_BAD_ARGUMENTS)
def test_catalogue_options_refuse_bad_arguments_in_one_line(
    tmp_path, redshifts, monkeypatch, capsys, args, message
):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from astrograph.cli import main

    pq.write_table(pa.table({"ra": [1.0, 2.0], "dec": [0.0, 1.0]}), tmp_path / "sky.parquet")
    two = {"x": [1.0, 2.0], "y": [1.0, 2.0], "z": [1.0, 2.0], "w": [1.0, 1.0], "weight": [1.0, 2.0]}
    pq.write_table(pa.table(two), tmp_path / "two_w.parquet")
    ag.NeighbourGraph.build(np.random.default_rng(1).random((50, 3)), rmax=0.3).save(
        tmp_path / "g.arrow"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["--quiet", *args]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("astrograph: error:"), out.err
    assert message in lines[0], lines[0]


def test_ambiguous_columns_name_the_options_of_the_caller(tmp_path, capsys):
    """A file with Cartesian and sky columns: the library names its keywords
    (coords=), the command line its options (--coords)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from astrograph.cli import main

    g = np.random.default_rng(2).uniform(1, 30, (100, 3))
    cols = {"x": g[:, 0], "y": g[:, 1], "z": g[:, 2], "ra": g[:, 0], "dec": g[:, 1] - 15}
    pq.write_table(pa.table(cols), tmp_path / "both.parquet")
    with pytest.raises(ag.errors.CatalogFormatError) as exc:
        ag.read_catalog(tmp_path / "both.parquet")
    assert "pass coords='cartesian' or coords='sky', or name them with columns=" in str(exc.value)
    assert main(["--quiet", "2pcf", "--data", str(tmp_path / "both.parquet")]) == 2
    err = capsys.readouterr().err
    assert "pass --coords cartesian or --coords sky, or name them with --columns" in err
    assert "coords=" not in err and "columns=" not in err


def test_demo_default_folder_is_ignored_by_git_and_printed(tmp_path):
    """``astrograph demo`` in a checkout writes astrograph-demo/, which the
    repository's .gitignore covers, and says where the files went."""
    from astrograph.cli.parser import DEMO_OUT

    root = Path(__file__).resolve().parents[2]
    ignore = root / ".gitignore"
    assert f"/{DEMO_OUT}/" in ignore.read_text().splitlines()
    if shutil.which("git") and (root / ".git").exists():  # read-only: which files git ignores
        check = subprocess.run(["git", "check-ignore", "-q", f"{DEMO_OUT}/summary.json"],
                               cwd=root, capture_output=True)  # fmt: skip
        assert check.returncode == 0, "git does not ignore the demo's default folder"
    r = run("demo", "--parents", "300", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"outputs in {(tmp_path / DEMO_OUT).resolve()}{os.sep}: demo.png" in r.stdout
    assert (tmp_path / DEMO_OUT / "summary.json").exists()


def test_cosmology_names_are_astropys():
    """The names --help lists are astropy's named cosmologies, each accepted."""
    from astropy.cosmology import realizations

    from astrograph.cli.files import COSMOLOGY_NAMES, parse_cosmology

    assert sorted(COSMOLOGY_NAMES) == sorted(realizations.available)
    for name in COSMOLOGY_NAMES:
        assert parse_cosmology(name.lower()).name == name
    flat = parse_cosmology("flat:70,0.25")
    assert flat.name == "FlatLambdaCDM(H0=70, Om0=0.25)" and flat.model.Om0 == 0.25
