//! astrograph-core: exact N-point clustering statistics through a
//! neighbour-graph database. Pure Rust; the Python bindings live elsewhere.
//!
//! Every count starts from one neighbour search (`search`): the direct
//! counts (`direct::count_pairs`, `count_triangles`, `count_quads`) scan it
//! straight away, `Graph::build` stores it, and the `Graph` methods of the
//! same names count from the stored edges. The kernels live in `pairs`,
//! `triangles` and `quads`; `multipoles` gives the Legendre multipoles of
//! the triangle counts without enumerating triangles (large scales), and
//! `quad_multipoles` those of the 4-point counts in the isotropic basis.

pub mod bins;
pub mod catalogue;
pub mod control;
pub mod direct;
pub mod error;
pub mod geometry;
pub mod graph;
pub mod grid;
pub mod intersect;
pub mod multipoles;
pub mod pairs;
pub mod projected;
pub mod quad_multipoles;
pub mod quads;
pub mod regions;
pub mod triangles;
pub mod twopoint;

mod binned;
mod harmonics;
mod reduce;
mod search;
mod simd;

pub use bins::Bins;
pub use catalogue::Sample;
pub use control::{with_threads, Control};
pub use direct::{
    count_multipoles, count_pairs, count_pairs_rppi, count_quad_multipoles, count_quads,
    count_triangles, CountOptions,
};
pub use error::{CoreError, Result};
pub use geometry::{Los, Metric, Positions};
pub use graph::{BuildOptions, EdgeEstimate, Graph, GraphCountOptions, GraphMeta};
pub use multipoles::{MultipoleCounts, MultipoleOptions};
pub use pairs::PairCounts;
pub use projected::RpPiBins;
pub use quad_multipoles::{Parity, QuadMultipoleCounts};
pub use quads::{QuadCounts, QuadShapes};
pub use search::Regions;
pub use triangles::TriangleCounts;
