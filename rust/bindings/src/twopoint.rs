//! The core's two-point counts (`astrograph_core::twopoint`) as one Python
//! function: borrow the catalogues, count through `run` (GIL released),
//! return the tables.

use astrograph_core::twopoint::{self, AngularBins, AngularWeights, Binning, Catalogue, Job, Pip};
use astrograph_core::{Bins, RpPiBins, Sample};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::counts::{self, TwoPointArrays};
use crate::inputs::{metric, positions};
use crate::run::{run, to_pyerr};

/// One catalogue as Python passes it: positions (3, N), weights, weights
/// with randoms, bitwise words (N, nwords), region labels, MPI keys, buffer flags.
#[derive(FromPyObject)]
pub struct CatalogueArgs<'py>(
    PyReadonlyArray2<'py, f64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray2<'py, u64>>,
    Option<PyReadonlyArray1<'py, u32>>,
    Option<PyReadonlyArray1<'py, u64>>,
    Option<PyReadonlyArray1<'py, u8>>,
);

fn slice<'a, T: numpy::Element>(
    a: &'a Option<PyReadonlyArray1<'_, T>>,
) -> PyResult<Option<&'a [T]>> {
    a.as_ref()
        .map(|v| {
            v.as_slice()
                .map_err(|_| PyValueError::new_err("arrays must be contiguous"))
        })
        .transpose()
}

impl CatalogueArgs<'_> {
    fn borrow(&self, is_random: bool) -> PyResult<Catalogue<'_>> {
        let sample = Sample::new(positions(&self.0)?, slice(&self.1)?);
        Ok(Catalogue {
            sample,
            is_random,
            cross_weights: slice(&self.2)?,
            bits: self
                .3
                .as_ref()
                .map(|b| {
                    b.as_slice()
                        .map_err(|_| PyValueError::new_err("bitwise weights must be C-contiguous"))
                })
                .transpose()?,
            regions: slice(&self.4)?,
            keys: slice(&self.5)?,
            buffer: slice(&self.6)?,
        })
    }
}

/// The binning as Python passes it, (kind, edges, pimax, n, signed):
/// ("smu", s edges, _, nmu, signed mu), ("rppi", rp edges, pimax, npi,
/// signed pi) or ("theta", edges in degrees, _, _, _).
pub type BinningArgs = (String, Vec<f64>, f64, usize, bool);

pub fn binning((kind, edges, pimax, n, signed): BinningArgs) -> astrograph_core::Result<Binning> {
    Ok(match kind.as_str() {
        "smu" => Binning::SMu {
            bins: Bins::new(edges, n)?,
            signed,
        },
        "rppi" => Binning::RpPi(RpPiBins::with_sign(edges, pimax, n, signed)?),
        "theta" => Binning::Theta(AngularBins::new(edges)?),
        other => {
            return Err(astrograph_core::CoreError::InvalidBins(format!(
                "unknown binning {other:?}"
            )))
        }
    })
}

/// Two-point counts of one tracer (data1, random splits) or two; returns
/// the table names, the flat tables and the resampling tables. `carry`:
/// the totals of earlier random splits (tables then resampling tables,
/// flat), which this count of later splits continues.
#[pyfunction]
#[pyo3(signature = (data1, randoms1, data2, randoms2, binning_args, boxsize, los, nregions=0, pip=None, angular=Vec::new(), max_memory=None, num_threads=None, progress=None, carry=None))]
#[allow(clippy::too_many_arguments)]
pub fn count_two_point<'py>(
    py: Python<'py>,
    data1: CatalogueArgs<'py>,
    randoms1: Vec<CatalogueArgs<'py>>,
    data2: Option<CatalogueArgs<'py>>,
    randoms2: Vec<CatalogueArgs<'py>>,
    binning_args: BinningArgs,
    boxsize: Option<f64>,
    los: &str,
    nregions: usize,
    pip: Option<(f64, u32, f64, usize)>,
    angular: Vec<(Vec<f64>, Vec<f64>)>,
    max_memory: Option<u64>,
    num_threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    carry: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<TwoPointArrays<'py>> {
    let m = metric(py, boxsize, los)?;
    let b = binning(binning_args).map_err(|e| to_pyerr(py, e))?;
    let pip = pip
        .map(|(n, o, d, w)| Pip::new(n, o, d, w))
        .transpose()
        .map_err(|e| to_pyerr(py, e))?;
    // One (cos theta, weight) table per count; empty: not upweighted.
    let angular = angular
        .into_iter()
        .map(|(c, w)| {
            (!c.is_empty())
                .then(|| AngularWeights::new(c, w))
                .transpose()
        })
        .collect::<astrograph_core::Result<_>>()
        .map_err(|e| to_pyerr(py, e))?;
    let job = Job {
        data1: data1.borrow(false)?,
        randoms1: randoms1
            .iter()
            .map(|r| r.borrow(true))
            .collect::<PyResult<_>>()?,
        data2: data2.as_ref().map(|d| d.borrow(false)).transpose()?,
        randoms2: randoms2
            .iter()
            .map(|r| r.borrow(true))
            .collect::<PyResult<_>>()?,
    };
    let opts = twopoint::Options {
        nregions,
        pip,
        angular,
        max_memory,
        carry: slice(&carry)?.map(<[f64]>::to_vec).unwrap_or_default(),
    };
    let c = run(py, num_threads, progress.as_ref(), |ctl| {
        twopoint::count(&job, &b, &m, &opts, ctl)
    })?;
    Ok(counts::two_point(py, c))
}
