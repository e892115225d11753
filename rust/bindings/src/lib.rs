//! Thin PyO3 layer over astrograph-core, one file per concept of the core:
//! `direct` (the direct count functions), `graph` (the `Graph` class) and
//! `arrow` (its file format), with `inputs` borrowing numpy arrays, `counts`
//! wrapping results and `run` releasing the GIL. Each function borrows its
//! inputs, calls one core function through `run` and wraps the result.

mod arrow;
mod counts;
mod direct;
mod graph;
mod inputs;
mod intersect;
mod regions;
mod run;
mod twopoint;

use pyo3::prelude::*;

#[pymodule]
fn _lib(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(direct::quad_shapes, m)?)?;
    m.add_function(wrap_pyfunction!(direct::count_triangles, m)?)?;
    m.add_function(wrap_pyfunction!(direct::count_quads, m)?)?;
    m.add_function(wrap_pyfunction!(direct::count_multipoles, m)?)?;
    m.add_function(wrap_pyfunction!(direct::count_quad_multipoles, m)?)?;
    m.add_function(wrap_pyfunction!(intersect::intersect_sorted, m)?)?;
    m.add_function(wrap_pyfunction!(regions::nearest_centres, m)?)?;
    m.add_function(wrap_pyfunction!(regions::sky_centres, m)?)?;
    m.add_function(wrap_pyfunction!(twopoint::count_two_point, m)?)?;
    m.add_class::<graph::PyGraph>()?;
    m.add("GRAPH_FORMAT", arrow::FORMAT)?;
    m.add("GRAPH_FORMAT_VERSION", arrow::VERSION)?;
    Ok(())
}
