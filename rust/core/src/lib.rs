//! astrograph-core: exact N-point clustering statistics through a
//! neighbour-graph database. Pure Rust; the Python bindings live elsewhere.

pub mod bins;
pub mod catalogue;
pub mod control;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod grid;
pub mod pairs;
mod reduce;

pub use bins::Bins;
pub use catalogue::Sample;
pub use control::{with_threads, Control};
pub use error::{CoreError, Result};
pub use geometry::{Los, Metric, Positions};
pub use graph::{BuildOptions, EdgeEstimate, Graph, GraphMeta};
pub use pairs::{count_pairs, PairCounts};
mod binned;
pub mod intersect;
pub mod quads;
pub mod triangles;

pub use quads::{count_quads, count_quads_direct, QuadCounts, QuadShapes};
pub use triangles::{count_triangles, count_triangles_direct, TriangleCounts};
