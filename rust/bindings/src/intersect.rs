//! The core's sorted-list intersection (`astrograph_core::intersect`, the
//! kernel of the triangle and quad searches) as a Python function, for any
//! ascending id lists (e.g. Eclat's transaction ids).

use astrograph_core::intersect::intersect;
use astrograph_core::CoreError;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::run::to_pyerr;

/// The ids common to two strictly ascending uint32 arrays, ascending.
#[pyfunction]
pub fn intersect_sorted<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, u32>,
    b: PyReadonlyArray1<'py, u32>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let (a, b) = (a.as_slice()?, b.as_slice()?);
    for (name, v) in [("a", a), ("b", b)] {
        if v.windows(2).any(|w| w[1] <= w[0]) {
            let e = CoreError::InvalidInput(format!("{name} must be strictly ascending"));
            return Err(to_pyerr(py, e));
        }
    }
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    intersect(a, b, |p, _| out.push(a[p]));
    Ok(PyArray1::from_vec(py, out))
}
