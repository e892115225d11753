"""Progress bars fed by the Rust kernels' (stage, done, total) reports.

The core counts chunks; users think in points. A bar shows the points
processed (chunks scaled by the number of points), one bar per step of the
work (e.g. "neighbour lists", then "triangles"), opened when the step starts,
so no placeholder bar appears before the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

ProgressCallback = Callable[[int, int, int], None]


@contextmanager
def progress_bar(
    desc: str | Sequence[str], enabled: bool, items: int | None = None, unit: str = "points"
) -> Iterator[ProgressCallback | None]:
    """Yields a callback for the core (or None when disabled) and closes the bar.

    ``desc`` names the step, or each step in order; ``items`` is what a full
    step processes (points), shown with ``unit``; without it, per cent.
    """
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm  # lazy: only when a bar is shown

    names = [desc] if isinstance(desc, str) else list(desc)
    total = items if items else 100
    state: dict[str, Any] = {"stage": 0, "bar": None}

    def update(stage: int, done: int, chunks: int) -> None:
        if stage < 1 or chunks < 1:
            return  # the work has not started its first step yet
        if stage != state["stage"]:
            if state["bar"] is not None:
                state["bar"].close()
            name = names[min(stage, len(names)) - 1]
            state["bar"] = tqdm(
                total=total,
                desc=name,
                unit=unit if items else "%",
                unit_scale=bool(items),
                leave=False,
            )
            state["stage"] = stage
        bar = state["bar"]
        bar.n = min(total, round(total * done / chunks))
        bar.refresh()

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].close()
