//! Counts straight from the catalogues, with no stored graph: one neighbour
//! search (`search::Search`), then the kernel of `pairs`, `triangles` or
//! `quads`. The same counts of a stored graph are `Graph` methods; both give
//! identical results.

use crate::binned::DirectBinned;
use crate::bins::Bins;
use crate::catalogue::Sample;
use crate::control::Control;
use crate::error::Result;
use crate::geometry::Metric;
use crate::pairs::{pairs_on_grid, PairCounts};
use crate::quads::{quads_on, QuadCounts, QuadShapes};
use crate::search::Search;
use crate::triangles::{triangles_on, TriangleCounts};

/// DD, DR and RR in one pass over the cell grid.
pub fn count_pairs(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    control: &Control,
) -> Result<PairCounts> {
    let s = Search::new(data, randoms, metric, bins.rmax())?;
    pairs_on_grid(&s, bins, control)
}

/// Triangles (DDD, DDR, DRR, RRR); `max_memory` bounds the neighbour lists
/// (checked on a sampled estimate).
pub fn count_triangles(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<TriangleCounts> {
    let s = Search::new(data, randoms, metric, bins.rmax())?;
    let db = DirectBinned::build(s, bins, max_memory, control)?;
    triangles_on(&db.lists, &db.nodes(), bins.nbins(), control)
}

/// Quads by canonical shape and number of randoms; `max_memory` bounds the
/// shape table, the accumulators and the neighbour lists.
pub fn count_quads(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<QuadCounts> {
    let n = data.len() + randoms.map_or(0, |r| r.len());
    let shapes = QuadShapes::for_count(bins.nbins(), n, max_memory)?;
    let s = Search::new(data, randoms, metric, bins.rmax())?;
    let db = DirectBinned::build(s, bins, max_memory, control)?;
    quads_on(&db.lists, &db.nodes(), shapes, control)
}
