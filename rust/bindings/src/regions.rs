//! Sky patches (`astrograph_core::regions`): centres and labels.

use astrograph_core::regions::{nearest_centres as core_nearest, sky_centres as core_centres};
use numpy::{PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::inputs::positions;
use crate::run::run;

/// The index of the nearest centre ((K, 3) unit vectors) of every
/// direction ((3, N) unit vectors): the largest dot product, first of equals.
#[pyfunction]
pub fn nearest_centres<'py>(
    py: Python<'py>,
    pos: PyReadonlyArray2<'py, f64>,
    centres: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let p = positions(&pos)?;
    let c = centres.as_array();
    if c.ncols() != 3 {
        return Err(PyValueError::new_err("centres must be a (K, 3) array"));
    }
    let c: Vec<[f64; 3]> = c.rows().into_iter().map(|r| [r[0], r[1], r[2]]).collect();
    let out = run(py, None, None, |control| core_nearest(&p, &c, control))?;
    Ok(PyArray1::from_vec(py, out))
}

/// `len(draws)` patch centres ((K, 3) unit vectors) by k-means on the
/// directions ((3, N) unit vectors), seeded k-means++ with the uniform
/// `draws`, at most `iterations` Lloyd steps.
#[pyfunction]
pub fn sky_centres<'py>(
    py: Python<'py>,
    pos: PyReadonlyArray2<'py, f64>,
    draws: Vec<f64>,
    iterations: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let p = positions(&pos)?;
    let c = run(py, None, None, |control| {
        core_centres(&p, &draws, iterations, control)
    })?;
    let rows: Vec<Vec<f64>> = c.iter().map(|r| r.to_vec()).collect();
    Ok(PyArray2::from_vec2(py, &rows)?)
}
