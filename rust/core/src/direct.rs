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
use crate::multipoles::{multipoles_on_grid, MultipoleCounts, MultipoleOptions};
use crate::pairs::PairCounts;
use crate::projected::RpPiBins;
use crate::quad_multipoles::{quad_multipoles_on_grid, Parity, QuadMultipoleCounts};
use crate::quads::{quads_on, QuadCounts, QuadShapes};
use crate::search::{Regions, Search};
use crate::triangles::{triangles_on, TriangleCounts};
use crate::twopoint::{self, Binning, Catalogue, Job, Options};

/// What every direct count takes besides the catalogues and bins.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountOptions<'a> {
    /// Refuse, before allocating, tables and lists over this many bytes.
    pub max_memory: Option<u64>,
    /// Jackknife regions of the points (data then randoms): the counts come
    /// with per-region tables.
    pub regions: Option<Regions<'a>>,
    /// Quads only: also the parity-odd counts (handedness of each quad).
    pub parity: bool,
}

/// DD, DR and RR of one tracer in (s, |mu|) bins: `twopoint::count` of the
/// data and one random catalogue.
pub fn count_pairs(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    opts: CountOptions,
    control: &Control,
) -> Result<PairCounts> {
    let binning = Binning::SMu {
        bins: bins.clone(),
        signed: false,
    };
    auto_pairs(data, randoms, &binning, metric, opts, control)
}

/// DD, DR and RR of one tracer in (rp, pi) bins.
pub fn count_pairs_rppi(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &RpPiBins,
    metric: &Metric,
    opts: CountOptions,
    control: &Control,
) -> Result<PairCounts> {
    let binning = Binning::RpPi(bins.clone());
    auto_pairs(data, randoms, &binning, metric, opts, control)
}

fn auto_pairs(
    data: &Sample,
    randoms: Option<&Sample>,
    binning: &Binning,
    metric: &Metric,
    opts: CountOptions,
    control: &Control,
) -> Result<PairCounts> {
    crate::catalogue::validate_inputs(data, randoms, metric, binning.rmax())?;
    let nd = data.len();
    let labels = opts.regions.map(|r| r.labels);
    if let Some(r) = &opts.regions {
        r.validate(nd + randoms.map_or(0, |r| r.len()))?;
    }
    let mut d = Catalogue::new(*data, false);
    d.regions = labels.map(|l| &l[..nd]);
    let job = Job {
        data1: d,
        randoms1: randoms
            .map(|r| {
                let mut c = Catalogue::new(*r, true);
                c.regions = labels.map(|l| &l[nd..]);
                c
            })
            .into_iter()
            .collect(),
        data2: None,
        randoms2: Vec::new(),
    };
    let options = Options {
        nregions: opts.regions.map_or(0, |r| r.n),
        max_memory: opts.max_memory,
        ..Default::default()
    };
    twopoint::count(&job, binning, metric, &options, control).map(PairCounts::from)
}

/// Triangles (DDD, DDR, DRR, RRR); `max_memory` also bounds the neighbour
/// lists (checked on a sampled estimate).
pub fn count_triangles(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    opts: CountOptions,
    control: &Control,
) -> Result<TriangleCounts> {
    let s = Search::new(data, randoms, metric, bins.rmax(), opts.regions)?;
    let mut db = DirectBinned::build(s, bins, opts.max_memory, control)?;
    let (lists, nodes, _) = db.parts();
    triangles_on(lists, &nodes, bins.nbins(), opts.max_memory, control)
}

/// Quads by canonical shape and number of randoms; `max_memory` bounds the
/// shape table, the count tables and the neighbour lists.
pub fn count_quads(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    opts: CountOptions,
    control: &Control,
) -> Result<QuadCounts> {
    let shapes = QuadShapes::new(bins.nbins(), opts.max_memory)?;
    let s = Search::new(data, randoms, metric, bins.rmax(), opts.regions)?;
    let mut db = DirectBinned::build(s, bins, opts.max_memory, control)?;
    let (lists, nodes, metric) = db.parts();
    quads_on(
        lists,
        &nodes,
        shapes,
        opts.parity.then_some(metric),
        opts.max_memory,
        control,
    )
}

/// Legendre multipoles l <= `lmax` of the triangle counts by the bins of two
/// sides from a common vertex (`multipoles`), for the data minus the scaled
/// randoms and for the randoms alone, in one pass over the cell grid (with
/// regions, also the exact delete-one tables).
#[allow(clippy::too_many_arguments)]
pub fn count_multipoles(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    lmax: usize,
    metric: &Metric,
    opts: CountOptions,
    multipoles: MultipoleOptions,
    control: &Control,
) -> Result<MultipoleCounts> {
    let s = Search::new(data, randoms, metric, bins.rmax(), opts.regions)?;
    multipoles_on_grid(&s, bins, lmax, multipoles, opts.max_memory, control)
}

/// Multipoles of the 4-point counts in the isotropic basis, l <= `lmax` of
/// the given parity, for bin triplets b1 < b2 < b3 of the three sides from a
/// common vertex, for the data minus the scaled randoms and for the randoms
/// alone, in one pass over the cell grid.
#[allow(clippy::too_many_arguments)]
pub fn count_quad_multipoles(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    lmax: usize,
    parity: Parity,
    metric: &Metric,
    opts: CountOptions,
    multipoles: MultipoleOptions,
    control: &Control,
) -> Result<QuadMultipoleCounts> {
    let s = Search::new(data, randoms, metric, bins.rmax(), opts.regions)?;
    quad_multipoles_on_grid(&s, bins, lmax, parity, multipoles, opts.max_memory, control)
}
