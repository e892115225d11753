"""Progress bars: one bar per step, in points, shown only for a step that
lasts; the rate is the step's real throughput."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from astrograph._progress import DELAY, progress_bar


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _last_rate(err: str) -> float:
    """The rate in points/s of the last bar line drawn."""
    rates = re.findall(r"([0-9.]+)([kMG]?)points/s", err)
    assert rates, err
    value, prefix = rates[-1]
    return float(value) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[prefix]


def test_one_bar_per_step_in_points(capsys):
    clock = Clock()
    with progress_bar(["neighbour lists", "triangles"], True, 3000, clock=clock) as cb:
        cb(0, 0, 0)  # before the first step: no bar yet
        assert capsys.readouterr().err == ""
        cb(1, 0, 10)
        clock.t += 1.0
        cb(1, 5, 10)
        clock.t += 1.0
        cb(1, 10, 10)
        cb(2, 0, 4)
        clock.t += 2.0
        cb(2, 1, 4)
    err = capsys.readouterr().err
    assert "neighbour lists" in err and "triangles" in err
    assert "points" in err and "chunk" not in err
    assert "1.50k/3.00k" in err  # chunks scaled to points


def test_a_short_step_shows_no_bar(capsys):
    """A step that ends before DELAY seconds draws nothing, so no rate
    measured over microseconds ('5.89Gpoints/s') can appear."""
    clock = Clock()
    with progress_bar("building graph", True, 60_400, clock=clock) as cb:
        cb(1, 0, 8)
        clock.t += DELAY / 10
        cb(1, 4, 8)
        clock.t += DELAY / 10
        cb(1, 8, 8)
    assert capsys.readouterr().err == ""


def test_a_long_step_shows_its_real_throughput(capsys):
    """The bar appears once the step has run DELAY seconds, and its rate is
    the points done over the time since the step started (not since the bar
    appeared): 60,400 points in 4 s are 15.1k points/s."""
    clock = Clock()
    with progress_bar("building graph", True, 60_400, clock=clock) as cb:
        cb(1, 0, 8)
        clock.t += DELAY / 2
        cb(1, 1, 8)
        assert capsys.readouterr().err == ""  # not yet: the step may still be short
        clock.t += 1.5 - DELAY / 2
        cb(1, 3, 8)  # 22,650 points in 1.5 s
        err = capsys.readouterr().err
        assert "building graph" in err
        assert _last_rate(err) == pytest.approx(22_650 / 1.5, rel=0.01)
        clock.t += 2.5
        cb(1, 8, 8)  # all 60,400 points in 4 s
        err = capsys.readouterr().err
        assert _last_rate(err) == pytest.approx(60_400 / 4.0, rel=0.01)
        assert "00:04" in err  # the step's elapsed time, not the bar's


def test_each_step_is_timed_from_its_own_start(capsys):
    """A long first step, then a short second one: only the first has a bar."""
    clock = Clock()
    with progress_bar(["neighbour lists", "triangles"], True, 1000, clock=clock) as cb:
        cb(1, 0, 2)
        clock.t += 2 * DELAY
        cb(1, 2, 2)
        cb(2, 0, 2)
        clock.t += DELAY / 5
        cb(2, 2, 2)
    err = capsys.readouterr().err
    assert "neighbour lists" in err and "triangles" not in err


def test_disabled_bar_is_no_callback():
    with progress_bar("pairs", False, 10) as cb:
        assert cb is None


def test_a_real_count_shows_steps_not_chunks():
    """A real count long enough for a bar: steps in points with a sane rate,
    no placeholder bar before the real one."""
    code = (
        "import numpy as np, astrograph as ag\n"
        "p = np.random.default_rng(0).uniform(0, 100, (200000, 3))\n"
        "ag.count_triangles(p, bins=ag.Bins.linear(1, 6, 5), progress=True, num_threads=1)\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stderr
    assert "triangles" in err and "points/s" in err and "chunk" not in err
    assert "0/1" not in err  # no placeholder bar before the real one
    assert _last_rate(err) < 1e8  # 200,000 points take seconds on one thread, not nanoseconds
