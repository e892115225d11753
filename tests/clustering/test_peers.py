"""Counts against the peers' own code where it is installed: Corrfunc's
DDrppi (which counts ordered pairs) on the same points.

CI installs Corrfunc (it builds from source and needs GSL) and sets
ASTROGRAPH_PEERS=1, which turns its absence into a failure; elsewhere the
test is skipped when Corrfunc is missing (the exactness of every count is
checked against brute force in the other tests either way).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import astrograph as ag


def _ddrppi():
    try:
        from Corrfunc.theory.DDrppi import DDrppi
    except ImportError:
        if os.environ.get("ASTROGRAPH_PEERS"):
            pytest.fail("ASTROGRAPH_PEERS is set but Corrfunc is not installed")
        pytest.skip("Corrfunc is not installed (pip install Corrfunc; it needs GSL)")
    return DDrppi


@pytest.mark.parametrize("periodic", [True, False])
def test_rppi_counts_equal_corrfunc_ddrppi(periodic):
    ddrppi = _ddrppi()
    box, pimax = 100.0, 20.0
    data = ag.thomas_process(300, 5, 2.0, box, seed=2)
    randoms = ag.uniform_randoms(2000, box, seed=3)
    edges = np.geomspace(0.5, 20.0, 9)
    ours = ag.count_pairs_rppi(
        data,
        randoms,
        rp_bins=ag.Bins(edges),
        pimax=pimax,
        npi=int(pimax),
        boxsize=box if periodic else None,
        los="z",
    )
    shape = (len(edges) - 1, int(pimax))
    x, y, z = (np.ascontiguousarray(data[:, a]) for a in range(3))
    rx, ry, rz = (np.ascontiguousarray(randoms[:, a]) for a in range(3))
    opts = {"periodic": periodic, "boxsize": box, "verbose": False}
    dd = ddrppi(1, 1, pimax, edges, x, y, z, **opts)["npairs"].reshape(shape)
    dr = ddrppi(0, 1, pimax, edges, x, y, z, X2=rx, Y2=ry, Z2=rz, **opts)["npairs"].reshape(shape)
    assert dd.sum() > 1000 and dr.sum() > 1000
    # Corrfunc counts each pair of one catalogue twice (i, j and j, i).
    np.testing.assert_array_equal(dd, 2 * np.asarray(ours.dd).reshape(shape))
    np.testing.assert_array_equal(dr, np.asarray(ours.dr).reshape(shape))
