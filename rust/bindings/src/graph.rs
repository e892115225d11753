//! The core's `Graph` as the Python class `astrograph._lib.Graph`: build (or
//! estimate), Arrow import and export, and the counts as methods.

use astrograph_core::{BuildOptions, Graph, GraphCountOptions};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyRecordBatch;

use crate::arrow;
use crate::counts::{self, QuadArrays, TriangleArrays, TwoPointArrays};
use crate::inputs::{self, bins, catalogues, los_name, metric};
use crate::run::{run, to_pyerr};
use crate::twopoint::{binning, BinningArgs};

/// A neighbour graph held in Arrow buffers.
#[pyclass(name = "Graph", module = "astrograph._lib", frozen)]
pub struct PyGraph {
    g: Graph,
}

#[pymethods]
impl PyGraph {
    #[staticmethod]
    #[pyo3(signature = (data, data_weights, randoms, random_weights, rmin, rmax, boxsize, los, store_mu=true, max_memory=None, ids=None, buffer=None, regions=None, nregions=0, tracer=None, num_threads=None, progress=None, estimate_only=false))]
    #[allow(clippy::too_many_arguments)]
    fn build<'py>(
        py: Python<'py>,
        data: PyReadonlyArray2<'py, f64>,
        data_weights: Option<PyReadonlyArray1<'py, f64>>,
        randoms: Option<PyReadonlyArray2<'py, f64>>,
        random_weights: Option<PyReadonlyArray1<'py, f64>>,
        rmin: f64,
        rmax: f64,
        boxsize: Option<f64>,
        los: &str,
        store_mu: bool,
        max_memory: Option<u64>,
        ids: Option<Vec<u64>>,
        buffer: Option<Vec<u8>>,
        regions: Option<Vec<u32>>,
        nregions: usize,
        tracer: Option<Vec<u8>>,
        num_threads: Option<usize>,
        progress: Option<Bound<'py, PyAny>>,
        estimate_only: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = metric(py, boxsize, los)?;
        let (d, r) = catalogues(&data, &data_weights, &randoms, &random_weights)?;
        let opts = BuildOptions {
            rmin,
            rmax,
            store_mu,
            max_memory,
            ids,
            buffer,
            regions: regions.map(|r| (r, nregions)),
            tracer,
        };
        if estimate_only {
            let e = run(py, num_threads, None, |_| {
                Graph::estimate(&d, r.as_ref(), &m, &opts)
            })?;
            let out = PyDict::new(py);
            out.set_item("edges", e.edges)?;
            out.set_item("mean_degree", e.mean_degree)?;
            out.set_item("sampled_nodes", e.sampled_nodes)?;
            out.set_item("bytes", e.bytes)?;
            return Ok(out.into_any());
        }
        let g = run(py, num_threads, progress.as_ref(), |ctl| {
            Graph::build(&d, r.as_ref(), &m, &opts, ctl)
        })?;
        Ok(Bound::new(py, PyGraph { g })?.into_any())
    }

    /// Wraps an Arrow record batch (e.g. a memory-mapped file) after validating it.
    #[staticmethod]
    #[pyo3(signature = (batch, num_threads=None))]
    fn from_arrow(
        py: Python<'_>,
        batch: PyRecordBatch,
        num_threads: Option<usize>,
    ) -> PyResult<Self> {
        let batch = batch.into_inner();
        let g = run(py, num_threads, None, |_| {
            let g = arrow::from_batch(&batch)?;
            g.validate()?;
            Ok(g)
        })?;
        Ok(PyGraph { g })
    }

    /// The graph as a pyarrow.RecordBatch sharing this graph's buffers.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyRecordBatch::new(arrow::to_batch(&self.g)).into_pyarrow(py)
    }

    /// Pair counts of the stored edges in any binning and line of sight:
    /// table names, flat tables and jackknife tables.
    #[pyo3(signature = (binning_args, los, max_memory=None, jackknife=false, num_threads=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn count_two_point<'py>(
        &self,
        py: Python<'py>,
        binning_args: BinningArgs,
        los: &str,
        max_memory: Option<u64>,
        jackknife: bool,
        num_threads: Option<usize>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<TwoPointArrays<'py>> {
        let b = binning(binning_args).map_err(|e| to_pyerr(py, e))?;
        let los = inputs::los(los)?;
        let o = GraphCountOptions {
            max_memory,
            jackknife,
            parity: false,
        };
        let c = run(py, num_threads, progress.as_ref(), |ctl| {
            self.g.count_two_point(&b, los, o, ctl)
        })?;
        Ok(counts::two_point(py, c))
    }

    /// DDD, DDR, DRR, RRR as flat (nbins^3) arrays, and jackknife tables.
    #[pyo3(signature = (edges, max_memory=None, jackknife=false, num_threads=None, progress=None))]
    fn count_triangles<'py>(
        &self,
        py: Python<'py>,
        edges: Vec<f64>,
        max_memory: Option<u64>,
        jackknife: bool,
        num_threads: Option<usize>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<TriangleArrays<'py>> {
        let b = bins(py, edges, 1)?;
        let o = GraphCountOptions {
            max_memory,
            jackknife,
            parity: false,
        };
        let c = run(py, num_threads, progress.as_ref(), |ctl| {
            self.g.count_triangles(&b, o, ctl)
        })?;
        Ok(counts::triangles(py, c))
    }

    /// Canonical shapes (n, 6), counts by number of randoms (5 arrays of n)
    /// and jackknife tables.
    #[pyo3(signature = (edges, max_memory=None, jackknife=false, parity=false, num_threads=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn count_quads<'py>(
        &self,
        py: Python<'py>,
        edges: Vec<f64>,
        max_memory: Option<u64>,
        jackknife: bool,
        parity: bool,
        num_threads: Option<usize>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<QuadArrays<'py>> {
        let b = bins(py, edges, 1)?;
        let o = GraphCountOptions {
            max_memory,
            jackknife,
            parity,
        };
        let c = run(py, num_threads, progress.as_ref(), |ctl| {
            self.g.count_quads(&b, o, ctl)
        })?;
        Ok(counts::quads(py, c))
    }

    #[getter]
    fn n_nodes(&self) -> usize {
        self.g.n_nodes()
    }
    #[getter]
    fn n_edges(&self) -> usize {
        self.g.n_edges()
    }
    #[getter]
    fn n_data(&self) -> u64 {
        self.g.meta.n_data
    }
    #[getter]
    fn n_random(&self) -> u64 {
        self.g.meta.n_random
    }
    #[getter]
    fn rmin(&self) -> f64 {
        self.g.meta.rmin
    }
    #[getter]
    fn rmax(&self) -> f64 {
        self.g.meta.rmax
    }
    #[getter]
    fn boxsize(&self) -> Option<f64> {
        self.g.meta.boxsize
    }
    #[getter]
    fn los(&self) -> &'static str {
        los_name(self.g.meta.los)
    }
    #[getter]
    fn n_regions(&self) -> u32 {
        self.g.meta.n_regions
    }
    #[getter]
    fn n_tracers(&self) -> u8 {
        if self.g.tracer.is_some() {
            2
        } else {
            1
        }
    }
    #[getter]
    fn has_mu(&self) -> bool {
        self.g.mu.is_some()
    }

    /// Addresses of the main buffers, to check that views share memory.
    fn buffer_addresses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("x", self.g.x.as_ptr() as usize)?;
        d.set_item("offsets", self.g.offsets.as_ptr() as usize)?;
        d.set_item("neighbours", self.g.neighbours.as_ptr() as usize)?;
        d.set_item("separation", self.g.separation.as_ptr() as usize)?;
        if let Some(mu) = &self.g.mu {
            d.set_item("mu", mu.as_ptr() as usize)?;
        }
        Ok(d)
    }
}
