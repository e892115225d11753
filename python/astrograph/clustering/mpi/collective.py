"""Collective failure handling and reductions over an mpi4py communicator.

Each stage of an MPI job runs under :func:`stage`: at its end all ranks
agree, and if any rank failed every rank raises
:class:`~astrograph.errors.MPIError` carrying the first failing rank's
message, so no rank is left waiting in a collective. mpi4py is imported here
only, and lazily (it is an optional dependency).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import MPIError


def mpi() -> Any:
    """The mpi4py ``MPI`` module, with a clear error when it is not installed."""
    try:
        from mpi4py import MPI  # lazy: optional dependency (the [mpi] extra)
    except ImportError:
        raise ImportError("comm= needs mpi4py: pip install 'astrograph[mpi]'") from None
    return MPI


def agree(comm: Any, exc: BaseException | None) -> None:
    """Collective: raises MPIError on every rank when any rank passed an exception."""
    msg = None if exc is None else f"{type(exc).__name__}: {exc}"
    msgs = comm.allgather(msg)
    for rank, m in enumerate(msgs):
        if m is not None:
            err = MPIError(f"rank {rank}: {m}")
            err.rank = rank  # type: ignore[attr-defined]
            if exc is not None:
                raise err from exc
            raise err


def stage(comm: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs ``fn`` on this rank, then agrees with all ranks on success (collective)."""
    try:
        out, err = fn(*args, **kwargs), None
    except Exception as exc:  # reported collectively below
        out, err = None, exc
    agree(comm, err)
    return out


def abort(comm: Any, exc: BaseException) -> None:
    """CLI error path under MPI: print the message once, make every rank exit.

    An :class:`MPIError` was raised on every rank by the same collective
    agreement, so rank 0 prints it and all ranks return normally (and exit
    non-zero). Any other exception happened on this rank alone, outside a
    guarded stage, and other ranks may be blocked in a collective: the
    message is printed here and ``comm.Abort`` ends the whole job.
    """
    if isinstance(exc, MPIError):
        if comm.Get_rank() == 0:
            print(f"astrograph: error: {exc}", file=sys.stderr, flush=True)
        return
    print(f"astrograph: error on rank {comm.Get_rank()}: {exc}", file=sys.stderr, flush=True)
    comm.Abort(2)


def reduce_sum(
    comm: Any, arrays: list[np.ndarray], *, exact: bool, allreduce: bool
) -> list[np.ndarray] | None:
    """Sums same-shaped arrays over ranks: to rank 0 (None elsewhere) or, with
    ``allreduce``, to every rank. With ``exact`` (unweighted counts) the sums
    travel as int64 when every rank's values are integers, so they stay exact
    beyond 2**53."""
    MPI = mpi()
    shapes = [np.shape(a) for a in arrays]
    flat = np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
    send = flat
    if exact:
        as_int = np.rint(flat).astype(np.int64)
        # integers below 2**53 are exact in float64; agree before choosing the type
        if comm.allreduce(bool(np.array_equal(as_int, flat)), op=MPI.LAND):
            send = as_int
    recv = np.empty_like(send)
    if allreduce:
        comm.Allreduce(send, recv, op=MPI.SUM)
    elif comm.Get_rank() == 0:
        comm.Reduce(send, recv, op=MPI.SUM, root=0)
    else:
        comm.Reduce(send, None, op=MPI.SUM, root=0)
        return None
    recv = recv.astype(np.float64)
    out, at = [], 0
    for s in shapes:
        k = int(np.prod(s))
        out.append(recv[at : at + k].reshape(s))
        at += k
    return out
