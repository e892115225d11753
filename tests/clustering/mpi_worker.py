"""Runs under ``mpiexec``: the MPI counts of the cases in tests/test_mpi.py.

Usage: ``mpiexec -n K python tests/mpi_worker.py SPEC.json OUT.npz``. Rank 0
writes every count array to OUT.npz; with ``"fail_rank": r`` in the spec,
rank r pretends its catalogue file is missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parent))

import astrograph  # noqa: E402
import astrograph.errors  # noqa: E402
from astrograph.clustering.mpi import load, timing  # noqa: E402

from mpi_cases import CASES, bins_for, count, flatten, make_case  # noqa: E402


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if spec.get("fail_rank") == rank:

        def missing(path, fmt):
            raise FileNotFoundError(f"catalogue file not found on this node: {path}")

        load.file_rows = missing
    results: dict[str, np.ndarray] = {}
    if spec.get("memory_fail"):
        kw = make_case("clustered", Path(spec["tmp"]), rank=rank)
        try:
            astrograph.build_graph(kw["data"], kw["randoms"], rmax=8.0, max_memory=1000, comm=comm)
        except astrograph.errors.MPIError as exc:
            results["memory_error"] = np.array(str(exc))
        else:
            raise AssertionError("the memory budget was not enforced")
    for name in spec["cases"]:
        case = CASES[name]
        kw = make_case(name, Path(spec["tmp"]), rank=rank)
        for kind in case["kinds"]:
            allreduce = kind in ("triangles", "multipoles", "quad_multipoles")
            b = bins_for(name, kind)
            res = count(kind, **kw, bins=b, comm=comm, allreduce=allreduce, num_threads=1)
            if allreduce:
                assert res is not None
            if rank == 0:
                results.update(flatten(f"{name}.{kind}", res))
            elif not allreduce:
                assert res is None
            if spec.get("timings") and rank == 0:
                stages = timing.last()
                results[f"{name}.{kind}.stage_names"] = np.array(list(stages))
                results[f"{name}.{kind}.stage_seconds"] = np.array(list(stages.values()))
    if rank == 0:
        np.savez(sys.argv[2], **results)


if __name__ == "__main__":
    main()
