"""Progress bars fed by the Rust kernels' (stage, done, total) reports.

The core counts chunks; users think in points. A bar shows the points
processed (chunks scaled by the number of points), one bar per step of the
work (e.g. "neighbour lists", then "triangles").

A bar appears only once its step has run for :data:`DELAY` seconds: a step
that ends sooner shows nothing (no flash of a bar, no rate measured over a
few microseconds). The rate shown is the step's own: the points done over
the time since the step started, not since the bar appeared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

ProgressCallback = Callable[[int, int, int], None]

#: Seconds a step runs before its bar appears.
DELAY = 0.5


@contextmanager
def progress_bar(
    desc: str | Sequence[str],
    enabled: bool,
    items: int | None = None,
    unit: str = "points",
    delay: float = DELAY,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[ProgressCallback | None]:
    """Yields a callback for the core (or None when disabled) and closes the bar.

    ``desc`` names the step, or each step in order; ``items`` is what a full
    step processes (points), shown with ``unit``; without it, per cent. A
    step's bar appears once the step has run ``delay`` seconds (by ``clock``).
    """
    if not enabled:
        yield None
        return
    names = [desc] if isinstance(desc, str) else list(desc)
    total = items if items else 100
    state: dict[str, Any] = {"stage": 0, "start": 0.0, "bar": None}

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()
            state["bar"] = None

    def update(stage: int, done: int, chunks: int) -> None:
        if stage < 1 or chunks < 1:
            return  # the work has not started its first step yet
        now = clock()
        if stage != state["stage"]:
            close()
            state["stage"], state["start"] = stage, now
        elapsed = now - state["start"]
        if state["bar"] is None:
            if elapsed < delay:
                return  # a short step: no bar
            name = names[min(stage, len(names)) - 1]
            state["bar"] = _open(name, total, items, unit, state["start"], delay, clock)
        bar = state["bar"]
        bar.n = min(total, round(total * done / chunks))
        bar.refresh()

    try:
        yield update
    finally:
        close()


def _open(
    name: str,
    total: int,
    items: int | None,
    unit: str,
    start: float,
    delay: float,
    clock: Callable[[], float],
) -> Any:
    """A bar for a step that started at ``start`` (by ``clock``): its time and
    rate count from the start of the step, not from the bar's."""
    from tqdm.auto import tqdm  # lazy: only when a bar is shown

    bar = tqdm(
        total=total,
        desc=name,
        unit=unit if items else "%",
        unit_scale=bool(items),
        leave=False,
        smoothing=0,  # the average rate over the step, not that of the last update
        delay=max(delay, 1e-9),  # no empty bar drawn before the first update
    )
    bar._time = clock  # tqdm's clock: the step's
    bar.start_t = start
    bar.last_print_t = clock()
    return bar


class _Parts:
    """One bar over work done in several core calls (random splits read one
    at a time): each call advances it over its share of the items, and the
    rate of what the calls produce (pairs) is shown beside it."""

    def __init__(self, total: int, unit: str, rate_unit: str, clock: Callable[[], float]) -> None:
        from tqdm.auto import tqdm  # lazy: only when a bar is shown

        self.start, self.clock, self.offset = clock(), clock, 0
        self.rate_unit = rate_unit
        self.bar = tqdm(total=total, unit=unit, unit_scale=True, leave=False, smoothing=0,
                        delay=DELAY)  # fmt: skip

    def part(self, items: int, steps: int) -> ProgressCallback:
        """The callback of a core call over ``items`` items in ``steps`` steps."""
        offset = self.offset
        self.offset += items

        def update(stage: int, done: int, chunks: int) -> None:
            if stage < 1 or chunks < 1:
                return
            frac = (min(stage, steps) - 1 + min(done, chunks) / chunks) / steps
            self._show(offset + round(items * frac))

        return update

    def produced(self, amount: float) -> None:
        """The call just made is done, with ``amount`` produced so far (e.g.
        pairs counted): shows the rate."""
        elapsed = max(self.clock() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{amount / elapsed:.3g} {self.rate_unit}/s", refresh=False)
        self._show(self.offset)

    def _show(self, n: int) -> None:
        self.bar.n = n
        if self.clock() - self.start >= DELAY:  # a short run shows nothing
            self.bar.refresh()


@contextmanager
def parts_bar(
    enabled: bool,
    total: int,
    unit: str = "randoms",
    rate_unit: str = "pairs",
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[_Parts | None]:
    """One bar over ``total`` items processed in several core calls (None
    when disabled); shown once the work has run :data:`DELAY` seconds."""
    if not enabled:
        yield None
        return
    parts = _Parts(total, unit, rate_unit, clock)
    try:
        yield parts
    finally:
        parts.bar.close()
