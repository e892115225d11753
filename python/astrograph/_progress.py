"""Progress bars fed by the Rust kernels' (stage, done, total) reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[int, int, int], None]


@contextmanager
def progress_bar(desc: str, enabled: bool) -> Iterator[ProgressCallback | None]:
    """Yields a callback for the core (or None when disabled) and closes the bar."""
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=1, desc=desc, unit="chunk", leave=False)
    state = {"stage": -1}

    def update(stage: int, done: int, total: int) -> None:
        if stage != state["stage"]:
            state["stage"] = stage
            bar.reset(total=max(total, 1))
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
