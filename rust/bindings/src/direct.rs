//! The core's direct counts (`astrograph_core::direct`: no stored graph) as
//! Python functions: borrow the catalogues, count through `run` (GIL
//! released), wrap the result.

use astrograph_core::{direct, CountOptions, MultipoleOptions, Parity, QuadShapes, Regions};
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::counts::{self, MultipoleArrays, QuadArrays, QuadMultipoleArrays, TriangleArrays};
use crate::inputs::{bins, catalogues, metric};
use crate::run::{run, to_pyerr};

/// The options of a direct count: memory budget and jackknife regions (one
/// label per point, data then randoms, all below `nregions`).
fn options<'a>(
    max_memory: Option<u64>,
    regions: &'a Option<PyReadonlyArray1<'_, u32>>,
    nregions: usize,
    parity: bool,
) -> PyResult<CountOptions<'a>> {
    let regions = match regions {
        Some(r) => Some(Regions {
            labels: r.as_slice()?,
            n: nregions,
        }),
        None => None,
    };
    Ok(CountOptions {
        max_memory,
        regions,
        parity,
    })
}

/// The multipole options: which points are primaries (under MPI), the
/// random weights' factor in the field, and that factor with each region
/// deleted.
fn multipole_options<'a>(
    primaries: &'a Option<PyReadonlyArray1<'_, bool>>,
    random_scale: Option<f64>,
    region_scales: &'a Option<PyReadonlyArray1<'_, f64>>,
    disconnected: bool,
) -> PyResult<MultipoleOptions<'a>> {
    Ok(MultipoleOptions {
        primaries: primaries.as_ref().map(|p| p.as_slice()).transpose()?,
        random_scale,
        region_scales: region_scales.as_ref().map(|p| p.as_slice()).transpose()?,
        disconnected,
    })
}

/// "even", "odd" or "both" as the core's `Parity`.
fn parity_of(parity: &str) -> PyResult<Parity> {
    match parity {
        "even" => Ok(Parity::Even),
        "odd" => Ok(Parity::Odd),
        "both" => Ok(Parity::Both),
        other => Err(PyValueError::new_err(format!(
            "parity must be 'even', 'odd' or 'both', got {other:?}"
        ))),
    }
}

/// Defines the direct N-point count `direct::$name`: triangles and quads take
/// the same arguments (separation bins only, a memory budget, regions; parity
/// is read by quads only) and differ only in their result.
macro_rules! npoint_count {
    ($(#[$doc:meta])* $name:ident -> $out:ident, $wrap:path) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (data, data_weights, randoms, random_weights, edges, boxsize, max_memory=None, regions=None, nregions=0, parity=false, num_threads=None, progress=None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $name<'py>(
            py: Python<'py>,
            data: PyReadonlyArray2<'py, f64>,
            data_weights: Option<PyReadonlyArray1<'py, f64>>,
            randoms: Option<PyReadonlyArray2<'py, f64>>,
            random_weights: Option<PyReadonlyArray1<'py, f64>>,
            edges: Vec<f64>,
            boxsize: Option<f64>,
            max_memory: Option<u64>,
            regions: Option<PyReadonlyArray1<'py, u32>>,
            nregions: usize,
            parity: bool,
            num_threads: Option<usize>,
            progress: Option<Bound<'py, PyAny>>,
        ) -> PyResult<$out<'py>> {
            // No mu here: los only has to be valid in a periodic box.
            let (m, b) = (metric(py, boxsize, "z")?, bins(py, edges, 1)?);
            let (d, r) = catalogues(&data, &data_weights, &randoms, &random_weights)?;
            let opts = options(max_memory, &regions, nregions, parity)?;
            let c = run(py, num_threads, progress.as_ref(), |ctl| {
                direct::$name(&d, r.as_ref(), &b, &m, opts, ctl)
            })?;
            Ok($wrap(py, c))
        }
    };
}

npoint_count!(
    /// DDD, DDR, DRR, RRR straight from the catalogues, as flat (nbins^3) arrays.
    count_triangles -> TriangleArrays, counts::triangles
);

npoint_count!(
    /// Quad counts straight from the catalogues: shapes (n, 6), 5 count arrays.
    count_quads -> QuadArrays, counts::quads
);

/// Canonical 4-point shapes for `nbins` separation bins, as an (n, 6) array.
#[pyfunction]
pub fn quad_shapes(py: Python<'_>, nbins: usize) -> PyResult<Bound<'_, PyArray2<u8>>> {
    let s = QuadShapes::new(nbins, None).map_err(|e| to_pyerr(py, e))?;
    Ok(counts::shapes(py, &s.shapes))
}

/// Legendre multipoles N_l(b1, b2), l <= lmax, of the triangle counts, from
/// every primary's neighbours (no triangle enumerated): the field (data minus
/// scaled randoms) and the randoms, each flat (lmax + 1, nbins, nbins); with
/// regions also the typed sums and the delete-one tables.
#[pyfunction]
#[pyo3(signature = (data, data_weights, randoms, random_weights, edges, lmax, boxsize, max_memory=None, regions=None, nregions=0, primaries=None, random_scale=None, num_threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn count_multipoles<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    data_weights: Option<PyReadonlyArray1<'py, f64>>,
    randoms: Option<PyReadonlyArray2<'py, f64>>,
    random_weights: Option<PyReadonlyArray1<'py, f64>>,
    edges: Vec<f64>,
    lmax: usize,
    boxsize: Option<f64>,
    max_memory: Option<u64>,
    regions: Option<PyReadonlyArray1<'py, u32>>,
    nregions: usize,
    primaries: Option<PyReadonlyArray1<'py, bool>>,
    random_scale: Option<f64>,
    num_threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<MultipoleArrays<'py>> {
    let (m, b) = (metric(py, boxsize, "z")?, bins(py, edges, 1)?);
    let (d, r) = catalogues(&data, &data_weights, &randoms, &random_weights)?;
    let opts = options(max_memory, &regions, nregions, false)?;
    let mo = multipole_options(&primaries, random_scale, &None, false)?;
    let c = run(py, num_threads, progress.as_ref(), |ctl| {
        direct::count_multipoles(&d, r.as_ref(), &b, lmax, &m, opts, mo, ctl)
    })?;
    Ok(counts::multipoles(py, c))
}

/// Multipoles N_l1l2l3(b1, b2, b3) of the 4-point counts in the isotropic
/// basis, l <= lmax of the given parity ("even", "odd" or "both"), for bin
/// triplets b1 < b2 < b3: the field and the randoms, each flat (triples,
/// triplets), with the triples and triplets as (n, 3) arrays; with regions
/// also every delete-one count and the random scales they were formed at;
/// with `disconnected`, the sums of the disconnected estimator.
#[pyfunction]
#[pyo3(signature = (data, data_weights, randoms, random_weights, edges, lmax, parity, boxsize, max_memory=None, regions=None, nregions=0, primaries=None, random_scale=None, region_scales=None, disconnected=false, num_threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn count_quad_multipoles<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    data_weights: Option<PyReadonlyArray1<'py, f64>>,
    randoms: Option<PyReadonlyArray2<'py, f64>>,
    random_weights: Option<PyReadonlyArray1<'py, f64>>,
    edges: Vec<f64>,
    lmax: usize,
    parity: &str,
    boxsize: Option<f64>,
    max_memory: Option<u64>,
    regions: Option<PyReadonlyArray1<'py, u32>>,
    nregions: usize,
    primaries: Option<PyReadonlyArray1<'py, bool>>,
    random_scale: Option<f64>,
    region_scales: Option<PyReadonlyArray1<'py, f64>>,
    disconnected: bool,
    num_threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<QuadMultipoleArrays<'py>> {
    let parity = parity_of(parity)?;
    let (m, b) = (metric(py, boxsize, "z")?, bins(py, edges, 1)?);
    let (d, r) = catalogues(&data, &data_weights, &randoms, &random_weights)?;
    let opts = options(max_memory, &regions, nregions, false)?;
    let mo = multipole_options(&primaries, random_scale, &region_scales, disconnected)?;
    let c = run(py, num_threads, progress.as_ref(), |ctl| {
        direct::count_quad_multipoles(&d, r.as_ref(), &b, lmax, parity, &m, opts, mo, ctl)
    })?;
    Ok(counts::quad_multipoles(py, c))
}
