//! Borrowing numpy inputs as core types.

use astrograph_core::{Bins, Los, Metric, Positions, Sample};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Positions arrive as a C-contiguous (3, N) float64 array: one row per axis.
pub fn positions<'a>(arr: &'a PyReadonlyArray2<'_, f64>) -> PyResult<Positions<'a>> {
    let a = arr.as_array();
    if a.shape()[0] != 3 {
        return Err(PyValueError::new_err(
            "positions must be passed as a (3, N) array",
        ));
    }
    let all = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err("positions must be C-contiguous"))?;
    let n = a.shape()[1];
    Ok(Positions {
        x: &all[..n],
        y: &all[n..2 * n],
        z: &all[2 * n..],
    })
}

pub fn weights<'a>(w: &'a Option<PyReadonlyArray1<'_, f64>>) -> PyResult<Option<&'a [f64]>> {
    w.as_ref()
        .map(|w| {
            w.as_slice()
                .map_err(|_| PyValueError::new_err("weights must be contiguous"))
        })
        .transpose()
}

pub fn sample<'a>(
    pos: &'a PyReadonlyArray2<'_, f64>,
    w: &'a Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<Sample<'a>> {
    Ok(Sample::new(positions(pos)?, weights(w)?))
}

/// Data and optional randoms, each with optional weights.
pub fn catalogues<'a>(
    data: &'a PyReadonlyArray2<'_, f64>,
    data_weights: &'a Option<PyReadonlyArray1<'_, f64>>,
    randoms: &'a Option<PyReadonlyArray2<'_, f64>>,
    random_weights: &'a Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<(Sample<'a>, Option<Sample<'a>>)> {
    let d = sample(data, data_weights)?;
    let r = randoms
        .as_ref()
        .map(|r| sample(r, random_weights))
        .transpose()?;
    Ok((d, r))
}

pub fn los(name: &str) -> PyResult<Los> {
    Los::from_name(name).map_err(|e| PyValueError::new_err(e.to_string()))
}

pub fn los_name(los: Los) -> &'static str {
    los.name()
}

pub fn metric(py: Python<'_>, boxsize: Option<f64>, los_: &str) -> PyResult<Metric> {
    Metric::new(boxsize, los(los_)?).map_err(|e| crate::run::to_pyerr(py, e))
}

pub fn bins(py: Python<'_>, edges: Vec<f64>, nmu: usize) -> PyResult<Bins> {
    Bins::new(edges, nmu).map_err(|e| crate::run::to_pyerr(py, e))
}
