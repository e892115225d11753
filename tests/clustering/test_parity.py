"""Parity-odd 4-point counts: the handedness of every quad of a chiral shape,
from the exact positions, with the vertices in the canonical order of its six
side bins. Brute force agrees; mirroring flips the odd counts exactly and
keeps the even ones; injected chiral tetrahedra are recovered exactly; an
isotropic catalogue gives zeta_odd consistent with zero."""

from __future__ import annotations

from itertools import combinations, permutations

import numpy as np
import pytest

import astrograph as ag
from astrograph import errors

import reference as ref

EDGES = ref.QUAD_EDGES


def _odd_perm(p) -> bool:
    return sum(p[a] > p[b] for a in range(4) for b in range(a + 1, 4)) % 2 == 1


def brute_parity(pts, edges, box=None, tol=1e-9):
    """{shape: (even count, odd count)} over all quads of unit weight."""
    b = ref.pair_bins(pts, np.asarray(edges, float), box)
    out: dict[tuple, list] = {}
    for v in combinations(range(len(pts)), 4):
        sides = [b[v[a], v[c]] for a, c in EDGES]
        if min(sides) < 0:
            continue
        relabelled = {}
        for perm in permutations(range(4)):
            t = tuple(sides[EDGES.index(tuple(sorted((perm[a], perm[c]))))] for a, c in EDGES)
            relabelled.setdefault(t, []).append(perm)
        best = min(relabelled)
        entry = out.setdefault(best, [0.0, 0.0])
        entry[0] += 1
        # the automorphisms of the canonical tuple: the same for every quad of the shape
        auto = [
            p
            for p in permutations(range(4))
            if tuple(best[EDGES.index(tuple(sorted((p[a], p[c]))))] for a, c in EDGES) == best
        ]
        if any(_odd_perm(p) for p in auto):
            continue
        perm = relabelled[best][0]
        o = [v[perm[a]] for a in range(4)]
        d = [ref.separation(pts[o[0]], pts[o[k]], box)[0] for k in (1, 2, 3)]
        vol = np.dot(d[0], np.cross(d[1], d[2]))
        scale = np.prod([np.linalg.norm(x) for x in d])
        if abs(vol) > tol * scale:
            entry[1] += np.sign(vol)
    return out


@pytest.mark.parametrize("box", [None, 12.0])
def test_parity_counts_match_brute_force(box):
    rng = np.random.default_rng(3)
    pts = ref.clustered(rng, 40, 12.0, nclumps=3, width=1.2)
    edges = [0.0, 1.2, 2.4, 3.6]
    want = brute_parity(pts, edges, box)
    for threads in (1, 2):
        qc = ag.count_quads(pts, bins=edges, boxsize=box, parity=True, num_threads=threads)
        got = {tuple(s): (qc.counts[0, k], qc.odd[0, k]) for k, s in enumerate(qc.shapes)}
        for shape, (even, odd) in want.items():
            assert got[shape] == (even, odd), shape
        assert sum(e for e, _ in got.values()) == sum(e for e, _ in want.values())
    g = ag.NeighbourGraph.build(pts, rmax=3.6, boxsize=box)
    gq = g.count_quads(edges, parity=True)
    np.testing.assert_array_equal(gq.odd, qc.odd)
    assert np.abs(qc.odd).sum() > 0  # not vacuous


def test_mirror_flips_odd_counts_and_keeps_even_ones():
    rng = np.random.default_rng(5)
    d = ref.clustered(rng, 120, 15.0, nclumps=4, width=1.5)
    r = rng.uniform(0, 15, (150, 3))
    w = rng.uniform(0.5, 1.5, len(d))
    bins = ag.Bins([0.0, 1.5, 3.0])
    a = ag.count_quads(d, r, bins=bins, data_weights=w, parity=True)
    mirror = np.array([-1.0, 1.0, 1.0])
    b = ag.count_quads(d * mirror, r * mirror, bins=bins, data_weights=w, parity=True)
    np.testing.assert_allclose(b.counts, a.counts, rtol=1e-12)  # summed in another order
    np.testing.assert_allclose(b.odd, -a.odd, rtol=1e-12, atol=1e-12)
    assert np.abs(a.odd).sum() > 0
    np.testing.assert_allclose(b.zeta_odd().filled(0), -a.zeta_odd().filled(0), atol=1e-12)


def _rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_injected_chiral_tetrahedra_are_recovered_exactly():
    """n_left copies of a chiral tetrahedron and n_right of its mirror image,
    randomly rotated and placed far apart: the odd count of that shape is
    exactly (n_left - n_right) times the handedness of the template."""
    rng = np.random.default_rng(7)
    # six sides in six different bins: a shape with a handedness
    template = np.array(
        [[0.519, 1.404, 1.945], [2.324, 2.184, 0.339], [1.98, 1.688, 1.054], [0.064, 0.42, 1.874]]
    )
    bins = ag.Bins([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    n_left, n_right = 23, 9
    pts = []
    for k in range(n_left + n_right):
        t = template * ([1, 1, 1] if k < n_left else [-1, 1, 1])
        pts.append(t @ _rotation(rng).T + np.array([k % 6, (k // 6) % 6, k // 36]) * 20.0)
    qc = ag.count_quads(np.vstack(pts), bins=bins, parity=True)
    one = ag.count_quads(template, bins=bins, parity=True)
    k = int(np.flatnonzero(one.counts[0])[0])
    assert one.chiral[k] and one.counts[0].sum() == 1
    s = one.odd[0, k]  # the template's handedness, +1 or -1
    assert abs(s) == 1
    assert qc.counts[0, k] == n_left + n_right
    assert qc.odd[0, k] == s * (n_left - n_right)


def test_isotropic_catalogue_gives_zeta_odd_consistent_with_zero():
    box = 30.0
    rng = np.random.default_rng(9)
    d = rng.uniform(0, box, (2500, 3))
    r = rng.uniform(0, box, (2500, 3))
    qc = ag.count_quads(d, r, bins=ag.Bins([1.0, 2.0, 3.0]), boxsize=box, parity=True, regions=27)
    chi2, dof, p = qc.chi2_odd()
    assert dof > 0 and p > 1e-3, (chi2, dof, p)
    std = qc.std("zeta_odd")
    assert np.all(np.isfinite(std[qc.chiral & qc.valid]))


def test_parity_needs_quads():
    with pytest.raises(errors.InputError, match="no handedness"):
        ag.count_triangles(np.ones((5, 3)), bins=[0.1, 1.0], parity=True)
    qc = ag.count_quads(np.random.default_rng(0).uniform(0, 5, (30, 3)), bins=[0.5, 2.0])
    with pytest.raises(errors.InputError, match="parity=True"):
        qc.zeta_odd()
