"""MPI domain decomposition against the single-process counts, with a real mpiexec.

Each test launches ``mpiexec -n K python tests/mpi_worker.py`` (oversubscribed
on small machines) and compares what rank 0 wrote with the counts computed
here in one process: unweighted counts identical, weighted sums within 1e-12.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from astrograph.errors import MPIError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mpi_cases import (  # noqa: E402
    CASES,
    WEIGHTED,
    bins_for,
    count,
    flatten,
    single_process_case,
    write_files,
)

pytestmark = pytest.mark.mpi

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mpi_worker.py"
TIMEOUT = 60


def _mpiexec() -> str:
    """mpiexec beside this Python (pip's mpich) or on PATH; fails clearly when missing."""
    local = Path(sys.executable).parent / "mpiexec"
    exe = str(local) if local.exists() else shutil.which("mpiexec")
    if exe is None:
        pytest.fail("mpiexec not found: pip install mpich mpi4py (or load your MPI module)")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.fail("mpi4py is not installed: pip install mpi4py")
    return exe


def _run(nranks: int, args: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    env = dict(os.environ, HYDRA_LAUNCHER="fork", OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    return subprocess.run(
        [_mpiexec(), "-n", str(nranks), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    """Files on disk and the single-process counts of every case."""
    tmp = tmp_path_factory.mktemp("mpi")
    write_files(tmp)
    ref: dict[str, np.ndarray] = {}
    for name, case in CASES.items():
        kw = single_process_case(name)
        for kind in case["kinds"]:
            res = count(kind, **kw, bins=bins_for(name, kind), num_threads=1)
            ref.update(flatten(f"{name}.{kind}", res))
    return tmp, ref


def _compare(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> None:
    assert sorted(got) == sorted(ref)
    for key, want in ref.items():
        case = key.split(".")[0]
        weighted = case in WEIGHTED
        have = got[key]
        assert have.shape == want.shape, key
        if "multipoles." in key or ".disconnected." in key:  # 3- and 4-point
            # Sums of products of floats, added in another order on each rank.
            # (NaN where a bin pair has no random pairs: the disconnected part)
            scale = np.nanmax(np.abs(want)) if np.isfinite(want).any() else 0.0
            np.testing.assert_allclose(have, want, rtol=1e-9, atol=1e-10 * scale, err_msg=key)
        elif weighted and not key.endswith("shapes"):
            np.testing.assert_allclose(have, want, rtol=1e-12, atol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(have, want, err_msg=key)


def test_nonzero_counts(reference: tuple[Path, dict[str, np.ndarray]]) -> None:
    """The cases are not vacuous: every kind of tuple is present somewhere."""
    _, ref = reference
    for key in (
        "clustered.pairs.DD",
        "clustered.triangles.ddd",
        "clustered.triangles.rrr",
        "tiny.quads.counts",
        "periodic_weighted.quads.counts",
        "files.triangles.ddr",
        "regions.triangles.touch",
        "regions_box.triangles.low",
        "regions.triangles.within",
        "clustered.multipoles.field",
        "clustered.quad_multipoles.field",
        "regions.multipoles.jackknife",
        "regions.quad_multipoles.jackknife",
        "clustered.disconnected.disconnected",
        "regions_box.multipoles.typed",
        "cross_survey.pairs.R1D2",
        "cross_survey.angular.R1R2",
        "pip_splits.rppi.D1D2",
    ):
        assert np.abs(ref[key]).sum() > 0, key
    assert ref["tiny.quads.counts"][0].sum() == 1 and ref["tiny.quads.counts"][4].sum() == 5


@pytest.mark.parametrize("nranks", [1, 2, 3, 4])
def test_counts_match_single_process(nranks: int, reference, tmp_path: Path) -> None:
    tmp, ref = reference
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cases": list(CASES), "tmp": str(tmp)}))
    out = tmp_path / "out.npz"
    proc = _run(nranks, [sys.executable, str(WORKER), str(spec), str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with np.load(out) as f:
        got = dict(f)
    _compare(got, ref)


def test_stage_timings_of_a_two_point_count(reference, tmp_path: Path) -> None:
    """Rank 0 holds every rank's wall time per stage of the last two-point
    count (pairs, then angles, of two tracers on 2 ranks), stage by stage
    from the setup to the reduction."""
    tmp, _ = reference
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cases": ["cross_survey"], "tmp": str(tmp), "timings": True}))
    out = tmp_path / "out.npz"
    proc = _run(2, [sys.executable, str(WORKER), str(spec), str(out)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with np.load(out) as f:
        for kind in ("pairs", "angular"):
            names = list(f[f"cross_survey.{kind}.stage_names"])
            seconds = f[f"cross_survey.{kind}.stage_seconds"]
            assert names[0] == "setup" and names[-1] == "reduction"
            assert {"load and scatter", "decomposition and buffers", "count",
                    "waiting for the slowest rank"} <= set(names)  # fmt: skip
            assert seconds.shape == (len(names), 2) and (seconds >= 0).all()
            assert 0 < seconds.sum(axis=0).max() < 60


def test_failing_rank_stops_every_rank(reference, tmp_path: Path) -> None:
    """A catalogue file missing on rank 1 only: all ranks exit non-zero, quickly."""
    tmp, _ = reference
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cases": ["files"], "tmp": str(tmp), "fail_rank": 1}))
    t0 = time.perf_counter()
    proc = _run(3, [sys.executable, str(WORKER), str(spec), str(tmp_path / "out.npz")], timeout=30)
    assert proc.returncode != 0
    assert time.perf_counter() - t0 < 30
    assert "MPIError: rank 1: FileNotFoundError" in proc.stderr
    assert not (tmp_path / "out.npz").exists()


def test_memory_budget_on_every_rank(reference, tmp_path: Path) -> None:
    """A graph over the per-rank budget: MPIError(MemoryBudgetError) on every rank."""
    tmp, _ = reference
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cases": [], "tmp": str(tmp), "memory_fail": True}))
    out = tmp_path / "out.npz"
    proc = _run(2, [sys.executable, str(WORKER), str(spec), str(out)], timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with np.load(out) as f:
        assert "MemoryBudgetError" in str(f["memory_error"])


def test_cli_error_printed_once(tmp_path: Path) -> None:
    """The CLI under mpiexec: a missing catalogue -> every rank exits 2, one message."""
    proc = _run(
        3,
        [
            sys.executable,
            "-m",
            "astrograph.cli",
            "--quiet",
            "3pcf",
            "--data",
            str(tmp_path / "missing.parquet"),
            "--out",
            str(tmp_path / "z"),
        ],
        timeout=30,
    )
    assert proc.returncode != 0
    assert proc.stderr.count("astrograph: error:") == 1, proc.stderr
    assert "not found" in proc.stderr


def test_cli_errors_name_the_file_and_its_row(reference, tmp_path: Path) -> None:
    """A NaN is reported by its row in the file (not in a rank's slice), and an
    unreadable randoms file by its name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp, _ = reference
    pts = np.random.default_rng(3).uniform(0, 50, (300, 3))
    pts[250, 1] = np.nan
    pq.write_table(pa.table(dict(zip("xyz", pts.T, strict=True))), tmp_path / "nan.parquet")
    (tmp_path / "bad_randoms.parquet").write_bytes(b"PAR1" + bytes(100))
    for args, phrases in (
        (["--data", str(tmp_path / "nan.parquet")], ["row 250 of the file", "nan.parquet"]),
        (
            [
                "--data",
                str(tmp / "data.parquet"),
                "--randoms",
                str(tmp_path / "bad_randoms.parquet"),
            ],
            ["bad_randoms.parquet"],
        ),
    ):
        cmd = [sys.executable, "-m", "astrograph.cli", "--quiet", "2pcf", *args]
        proc = _run(3, [*cmd, "--out", str(tmp_path / "xi")], timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("astrograph: error:") == 1, proc.stderr
        for phrase in phrases:
            assert phrase in proc.stderr, proc.stderr


def test_cli_3pcf_matches(reference, tmp_path: Path) -> None:
    """``mpiexec -n 2 astrograph 3pcf`` on files writes the single-process counts."""
    tmp, ref = reference
    out = tmp_path / "zeta"
    proc = _run(
        2,
        [
            sys.executable,
            "-m",
            "astrograph.cli",
            "--quiet",
            "--threads",
            "1",
            "3pcf",
            "--data",
            str(tmp / "data.parquet"),
            "--randoms",
            str(tmp / "randoms.fits"),
            "--rmin",
            "2",
            "--rmax",
            "8",
            "--nbins",
            "3",
            "--scale",
            "linear",
            "--out",
            str(out),
        ],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import pyarrow.parquet as pq

    t = pq.read_table(out.with_suffix(".parquet"))
    np.testing.assert_allclose(
        t.column("DDD").to_numpy().sum(), ref["files.triangles.ddd"].sum(), rtol=1e-12
    )
    assert proc.stdout.count("triangles;") == 1


def test_without_mpi4py_comm_is_optional() -> None:
    """No comm: the package never imports mpi4py."""
    code = (
        "import sys, numpy as np, astrograph; "
        "astrograph.count_pairs(np.random.default_rng(0).random((50, 3)), bins=[0.1, 0.2]); "
        "assert 'mpi4py' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_mpierror_is_exported() -> None:
    assert issubclass(MPIError, RuntimeError)
