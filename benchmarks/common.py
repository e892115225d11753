"""Shared helpers of the benchmark scripts: catalogues, timing, machine state, output.

The standard benchmark catalogue (the issue's figures of merit) is
``thomas_process(6250, 8.0, 3.0, 250.0, seed=1)`` (about 50,000 clustered points)
plus ``uniform_randoms(50000, 250.0, seed=7)`` in a (250 Mpc/h)^3 box.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# where JSON/PNG go; run_all.sh QUICK=1 points this at results/quick
RESULTS = Path(os.environ.get("ASTROGRAPH_BENCH_RESULTS", HERE / "results"))
BOX = 250.0
# number density of the standard catalogue: 50,000 points in (250 Mpc/h)^3
DENSITY = 50_000 / BOX**3


def standard_data(n_parents: int = 6250, box: float = BOX, seed: int = 1) -> np.ndarray:
    """Thomas process: n_parents x 8 children (sigma 3 Mpc/h), wrapped into the box."""
    from astrograph.clustering.mocks import thomas_process

    return thomas_process(n_parents, 8.0, 3.0, box, seed=seed)


def standard_randoms(n: int = 50_000, box: float = BOX, seed: int = 7) -> np.ndarray:
    """Uniform randoms (seed differs from the parents' seed)."""
    from astrograph.clustering.mocks import uniform_randoms

    return uniform_randoms(n, box, seed=seed)


def box_for(n: int, density: float = DENSITY) -> float:
    """Side of the cube holding n points at the given number density."""
    return float((n / density) ** (1.0 / 3.0))


def sub_cube(points: np.ndarray, side: float, origin: float = 0.0) -> np.ndarray:
    """Points of the sub-cube [origin, origin + side)^3: same density, fewer points."""
    inside = np.all((points >= origin) & (points < origin + side), axis=1)
    return np.ascontiguousarray(points[inside])


def xyz(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Separate contiguous X, Y, Z columns (what Corrfunc wants)."""
    return tuple(np.ascontiguousarray(points[:, a]) for a in range(3))  # type: ignore[return-value]


#: CPU seconds (all threads of this process) of the fastest run of the last best_of call.
#: On a loaded machine wall time stretches but CPU time much less: cpu / threads is a
#: rough estimate of the wall time on an idle machine (OpenMP spin-waits inflate it).
LAST_CPU: dict[str, float] = {"cpu": float("nan")}


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, list[float], Any]:
    """Runs fn `repeat` times; returns (best seconds, all seconds, last result).

    The CPU time of the fastest run is left in ``LAST_CPU["cpu"]``.
    """
    times, cpus = [], []
    result = None
    for _ in range(max(1, repeat)):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    LAST_CPU["cpu"] = cpus[times.index(min(times))]
    return min(times), times, result


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def machine_state() -> dict[str, Any]:
    """What the figures depend on: CPU, cores, load, library versions."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("astrograph", "Corrfunc", "treecorr"):
        try:
            versions[mod] = getattr(__import__(mod), "__version__", "?")
        except ImportError:
            versions[mod] = None
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg_1_5_15": loadavg(),
        "versions": versions,
    }


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Prints rows (dicts) as an aligned text table."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if v != v:  # NaN
                return "-"
            if abs(v) >= 1e5 or (v != 0 and abs(v) < 1e-3):
                return f"{v:.3e}"
            return f"{v:.3f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Writes benchmarks/results/<name>.json (with the machine state) and returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine_state(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    print(f"wrote {path}")
    return path


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {type(v)}")


def proc_status_mib(field: str) -> float:
    """A memory line of /proc/self/status (VmRSS, VmHWM, ...) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return float("nan")


def reset_peak_rss() -> bool:
    """Resets this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_child(code: str, timeout: float = 1800) -> dict[str, Any]:
    """Runs Python code in a fresh interpreter and returns the JSON dict it prints last.

    Used for peak memory: Rust allocations are invisible to tracemalloc, so the child
    reads its own peak RSS. It uses VmHWM from /proc/self/status, reset just before
    the measured step, rather than ``ru_maxrss``: on Linux a fork()ed child inherits
    the parent's high-water mark through exec, so ``ru_maxrss`` (and the parent's
    ``RUSAGE_CHILDREN``) can report the *parent's* size; both are kept for reference.
    """
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux
    result["parent_rusage_children_maxrss_mib"] = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )
    return result


def have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def lscpu_model() -> str:
    """The ``Model name`` line of lscpu (empty when lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    for line in out.splitlines():
        if line.strip().startswith("Model name"):
            return " ".join(line.split())
    return ""


def cpu_mhz() -> float:
    """The clock of the first core in /proc/cpuinfo (MHz; NaN when unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):  # pragma: no cover
        pass
    return float("nan")


def interleaved(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[float, float, Any]]:
    """Each of ``fns`` run in turn, ``repeat`` rounds (so that a slow spell of a
    shared machine hits them alike): per fn (best wall seconds, CPU seconds of
    that run, its result)."""
    best: list[tuple[float, float, Any]] = [(float("inf"), float("nan"), None)] * len(fns)
    for _ in range(max(1, repeat)):
        for a, fn in enumerate(fns):
            t, _, res = best_of(fn, 1)
            if t < best[a][0]:
                best[a] = (t, LAST_CPU["cpu"], res)
    return best


def extension_build() -> dict[str, Any]:
    """Which build of astrograph's extension ran: its file, time and hash."""
    import hashlib

    import astrograph._lib as lib

    path = Path(lib.__file__)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    mtime = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc)
    return {
        "path": str(path),
        "mtime_utc": mtime.isoformat(timespec="seconds"),
        "sha256_16": digest,
    }


def run_mpi(ranks: int, script: str, args: list[str], timeout: float = 3600) -> dict[str, Any]:
    """Runs ``script args`` under ``mpiexec -n ranks`` (the venv's mpiexec when
    there is one, ranks forked on this machine) and returns the JSON dict its
    rank 0 printed on a line starting with ``RESULT ``, with the wall time
    including start-up as ``wall_with_startup``."""
    local = Path(sys.executable).parent / "mpiexec"
    mpiexec = str(local) if local.exists() else "mpiexec"
    env = dict(os.environ, HYDRA_LAUNCHER="fork", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [mpiexec, "-n", str(ranks), sys.executable, script, *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    res = json.loads(line[7:])
    res["wall_with_startup"] = time.perf_counter() - t0
    return res
