//! The core's count results (`twopoint`, `triangles`, `quads`, `multipoles`) as numpy arrays.

use astrograph_core::twopoint::TwoPointCounts;
use astrograph_core::{MultipoleCounts, QuadCounts, QuadMultipoleCounts, TriangleCounts};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;

type F64<'py> = Bound<'py, PyArray1<f64>>;

/// DDD, DDR, DRR, RRR, each a flat (nbins^3) array, and the jackknife tables
/// (flat (nregions, 4, nbins^3)).
pub type TriangleArrays<'py> = (Vec<F64<'py>>, F64<'py>);
/// Canonical shapes (n, 6), counts by number of randoms (5 arrays of n), the
/// resampling tables, the parity-odd counts (flat (5, n); empty without
/// parity) and which shapes are chiral.
pub type QuadArrays<'py> = (
    Bound<'py, PyArray2<u8>>,
    Vec<F64<'py>>,
    F64<'py>,
    F64<'py>,
    Bound<'py, PyArray1<bool>>,
);

/// N_l(b1, b2) of the field and of the randoms (each flat (lmax + 1,
/// nbins, nbins); the second empty without randoms), the random scale, and
/// with regions the typed sums and delete-one tables (else empty).
pub type MultipoleArrays<'py> = (F64<'py>, F64<'py>, f64, F64<'py>, F64<'py>);

fn arrays<const N: usize>(py: Python<'_>, counts: [Vec<f64>; N]) -> Vec<F64<'_>> {
    counts
        .into_iter()
        .map(|v| PyArray1::from_vec(py, v))
        .collect()
}

pub fn triangles(py: Python<'_>, c: TriangleCounts) -> TriangleArrays<'_> {
    (arrays(py, c.counts), PyArray1::from_vec(py, c.regions))
}

pub fn quads(py: Python<'_>, c: QuadCounts) -> QuadArrays<'_> {
    (
        shapes(py, &c.shapes),
        arrays(py, c.counts),
        PyArray1::from_vec(py, c.regions),
        PyArray1::from_vec(py, c.odd),
        PyArray1::from_vec(py, c.chiral),
    )
}

/// Quad shapes (six side bins each) as an (n, 6) array.
pub fn shapes<'py>(py: Python<'py>, shapes: &[[u8; 6]]) -> Bound<'py, PyArray2<u8>> {
    let rows: Vec<Vec<u8>> = shapes.iter().map(|t| t.to_vec()).collect();
    PyArray2::from_vec2(py, &rows).expect("rows of six")
}

pub fn multipoles(py: Python<'_>, c: MultipoleCounts) -> MultipoleArrays<'_> {
    (
        PyArray1::from_vec(py, c.field),
        PyArray1::from_vec(py, c.randoms),
        c.random_scale,
        PyArray1::from_vec(py, c.typed),
        PyArray1::from_vec(py, c.regions),
    )
}

/// N_l1l2l3(b1, b2, b3) of the field and of the randoms (flat (triples,
/// triplets); the second empty without randoms), the random scale, the
/// triples (l1, l2, l3) and the bin triplets, each (n, 3), the delete-one
/// counts (flat (nregions, 2, triples, triplets)) and their random scales
/// (both empty without regions), and the disconnected estimator's sums.
pub type QuadMultipoleArrays<'py> = (
    F64<'py>,
    F64<'py>,
    f64,
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyArray2<u8>>,
    F64<'py>,
    F64<'py>,
    F64<'py>,
);

pub fn quad_multipoles(py: Python<'_>, c: QuadMultipoleCounts) -> QuadMultipoleArrays<'_> {
    let rows = |v: &[[usize; 3]]| {
        let rows: Vec<Vec<u8>> = v.iter().map(|t| t.map(|x| x as u8).to_vec()).collect();
        if rows.is_empty() {
            return numpy::PyArray2::zeros(py, [0, 3], false);
        }
        PyArray2::from_vec2(py, &rows).expect("rows of three")
    };
    (
        PyArray1::from_vec(py, c.field),
        PyArray1::from_vec(py, c.randoms),
        c.random_scale,
        rows(&c.triples),
        rows(&c.triplets),
        PyArray1::from_vec(py, c.jackknife),
        PyArray1::from_vec(py, c.region_scales),
        PyArray1::from_vec(py, c.disconnected),
    )
}

/// Table names, flat tables and resampling tables of a two-point count.
pub type TwoPointArrays<'py> = (Vec<&'static str>, Vec<F64<'py>>, F64<'py>);

pub fn two_point(py: Python<'_>, c: TwoPointCounts) -> TwoPointArrays<'_> {
    (
        c.names,
        c.counts
            .into_iter()
            .map(|v| PyArray1::from_vec(py, v))
            .collect(),
        PyArray1::from_vec(py, c.regions),
    )
}
