"""The ``astrograph`` command line.

Every error a user can cause ends with one line, ``astrograph: error: ...``,
and exit status 2 (argument errors included); only a genuine internal bug
prints a traceback. Ctrl-C ends with status 130.
"""

from __future__ import annotations

import sys
from typing import Any

from ..clustering.mpi.collective import abort, stage
from ..errors import AstrographError
from .commands import mpi_comm
from .parser import build_parser, parse

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    """Runs the command line with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    args = parse(argv)
    comm: Any = None
    try:
        comm = mpi_comm()
        check = getattr(args, "check", None)
        if check is not None and comm is None:  # option combinations, before any file is read
            check(args)
        elif check is not None:
            stage(comm, check, args)  # every rank agrees: one message on rank 0
        args.func(args, comm)
    except KeyboardInterrupt:
        print("astrograph: interrupted", file=sys.stderr)
        return 130
    except (AstrographError, OSError) as exc:  # bad input, unreadable or unwritable files
        if comm is not None:
            abort(comm, exc)  # prints once (rank 0); Abort()s on errors of one rank only
            return 2
        print(f"astrograph: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if comm is None:
            raise
        abort(comm, exc)  # an unexpected error on one rank: end the whole job
        return 2
    return 0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return text or type(exc).__name__
