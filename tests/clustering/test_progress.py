"""Progress bars: one bar per step, opened when the step starts, in points."""

from __future__ import annotations

import subprocess
import sys

from astrograph._progress import progress_bar


def test_one_bar_per_step_in_points(capsys):
    with progress_bar(["neighbour lists", "triangles"], True, 3000) as cb:
        cb(0, 0, 0)  # before the first step: no bar yet
        assert capsys.readouterr().err == ""
        cb(1, 5, 10)
        cb(1, 10, 10)
        cb(2, 1, 4)
    err = capsys.readouterr().err
    assert "neighbour lists" in err and "triangles" in err
    assert "points" in err and "chunk" not in err
    assert "1.50k/3.00k" in err  # chunks scaled to points


def test_disabled_bar_is_no_callback():
    with progress_bar("pairs", False, 10) as cb:
        assert cb is None


def test_a_real_count_shows_steps_not_chunks():
    code = (
        "import numpy as np, astrograph as ag\n"
        "p = np.random.default_rng(0).uniform(0, 100, (200000, 3))\n"
        "ag.count_triangles(p, bins=ag.Bins.linear(1, 5, 4), progress=True, num_threads=1)\n"
    )
    err = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stderr
    assert "triangles" in err and "points/s" in err and "chunk" not in err
    assert "0/1" not in err  # no placeholder bar before the real one
