//! The neighbour-graph database: nodes (data and randoms) and every pair
//! closer than rmax as a forward adjacency list (CSR, neighbour ids ascending,
//! each undirected edge stored once at its lower-id end).
//!
//! Nodes are numbered in cell order, so neighbours are close in memory; the
//! `index` column maps a node back to its row in the input catalogue.
//! Columns are Arrow buffers: they cross to Python and to IPC files without
//! copies, and a memory-mapped file can be wrapped back without copies.

use arrow_buffer::ScalarBuffer;
use half::f16;
use rayon::prelude::*;

use crate::binned::{Binned, NodeView};
use crate::bins::Bins;
use crate::catalogue::Sample;
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::{Los, Metric};
use crate::pairs::{two_point_on_graph, PairCounts};
use crate::quads::{quads_on, QuadCounts, QuadShapes};
use crate::search::{EdgeColumns, Lists, Regions, Search};
use crate::triangles::{triangles_on, TriangleCounts};
use crate::twopoint::{Binning, TwoPointCounts};

pub use crate::search::{EdgeEstimate, NODE_BYTES};

/// Scalars that describe how a graph was built.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphMeta {
    pub rmin: f64,
    pub rmax: f64,
    pub boxsize: Option<f64>,
    pub los: Los,
    pub n_data: u64,
    pub n_random: u64,
    /// Jackknife regions of the nodes (0: none).
    pub n_regions: u32,
}

impl GraphMeta {
    pub fn metric(&self) -> Result<Metric> {
        Metric::new(self.boxsize, self.los)
    }
}

/// Node and edge columns of a graph.
#[derive(Clone, Debug)]
pub struct Graph {
    pub meta: GraphMeta,
    pub x: ScalarBuffer<f64>,
    pub y: ScalarBuffer<f64>,
    pub z: ScalarBuffer<f64>,
    pub weight: ScalarBuffer<f64>,
    pub is_random: ScalarBuffer<u8>,
    /// Row in the input catalogue (data and randoms numbered separately),
    /// or the global id under MPI.
    pub index: ScalarBuffer<u64>,
    /// 0: owned by this process; 1: buffer copy of a point owned elsewhere.
    pub buffer: ScalarBuffer<u8>,
    /// Jackknife region (below `meta.n_regions`; all 0 without regions).
    pub region: ScalarBuffer<u32>,
    pub degree: ScalarBuffer<u32>,
    /// The tracer of each node (0 or 1) in a graph of two tracers (for
    /// cross-correlations); None for one tracer.
    pub tracer: Option<ScalarBuffer<u8>>,
    pub offsets: ScalarBuffer<i64>,
    pub neighbours: ScalarBuffer<u32>,
    pub separation: ScalarBuffer<f32>,
    pub mu: Option<ScalarBuffer<f16>>,
}

/// How to build a graph.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub rmin: f64,
    pub rmax: f64,
    pub store_mu: bool,
    /// Refuse to build when the estimate exceeds this many bytes.
    pub max_memory: Option<u64>,
    /// Global ids and buffer flags (data then randoms), for MPI domains.
    pub ids: Option<Vec<u64>>,
    pub buffer: Option<Vec<u8>>,
    /// Jackknife regions (data then randoms) and their number.
    pub regions: Option<(Vec<u32>, usize)>,
    /// The tracer (0 or 1) of each point (data then randoms), for a graph
    /// of two tracers.
    pub tracer: Option<Vec<u8>>,
}

impl BuildOptions {
    pub fn new(rmin: f64, rmax: f64) -> Self {
        Self {
            rmin,
            rmax,
            store_mu: true,
            max_memory: None,
            ids: None,
            buffer: None,
            regions: None,
            tracer: None,
        }
    }

    fn regions(&self) -> Option<Regions<'_>> {
        self.regions
            .as_ref()
            .map(|(labels, n)| Regions { labels, n: *n })
    }

    pub fn bytes_per_edge(&self) -> u64 {
        if self.store_mu {
            10
        } else {
            8
        }
    }
}

fn check_radii(rmin: f64, rmax: f64) -> Result<()> {
    if !(rmin.is_finite() && rmax.is_finite() && rmin >= 0.0) {
        return Err(CoreError::InvalidBins(format!(
            "rmin and rmax must be finite and >= 0, got rmin = {rmin}, rmax = {rmax}"
        )));
    }
    if rmin >= rmax {
        return Err(CoreError::InvalidBins(format!(
            "rmin ({rmin}) must be smaller than rmax ({rmax})"
        )));
    }
    Ok(())
}

/// What every graph count takes besides the bins.
#[derive(Clone, Copy, Debug, Default)]
pub struct GraphCountOptions {
    /// Refuse, before allocating, count tables over this many bytes.
    pub max_memory: Option<u64>,
    /// Fill per-region jackknife tables from the graph's region column.
    pub jackknife: bool,
    /// Quads only: also the parity-odd counts.
    pub parity: bool,
}

/// What the build keeps per edge besides the neighbour id.
#[derive(Default)]
struct EdgeParts {
    separation: Vec<f32>,
    mu: Vec<f16>,
}

impl EdgeColumns for EdgeParts {
    fn shrink_to_fit(&mut self) {
        self.separation.shrink_to_fit();
        self.mu.shrink_to_fit();
    }
}

impl Graph {
    /// Estimates the edge count of the graph `build` would make.
    pub fn estimate(
        data: &Sample,
        randoms: Option<&Sample>,
        metric: &Metric,
        opts: &BuildOptions,
    ) -> Result<EdgeEstimate> {
        check_radii(opts.rmin, opts.rmax)?;
        let s = Search::new(data, randoms, metric, opts.rmax, None)?;
        Ok(s.estimate((opts.rmin, opts.rmax), opts.bytes_per_edge()))
    }

    pub fn build(
        data: &Sample,
        randoms: Option<&Sample>,
        metric: &Metric,
        opts: &BuildOptions,
        control: &Control,
    ) -> Result<Self> {
        check_radii(opts.rmin, opts.rmax)?;
        let s = Search::new(data, randoms, metric, opts.rmax, opts.regions())?;
        let n = s.len();
        if !metric.los.is_symmetric() {
            return Err(CoreError::InvalidInput(format!(
                "a graph stores mu for the midpoint or an axis line of sight; build it with one \
                 of those and count with los='{}' from it",
                metric.los.name()
            )));
        }
        if let Some(t) = &opts.tracer {
            if t.iter().any(|&v| v > 1) {
                return Err(CoreError::InvalidInput(
                    "tracer labels must be 0 or 1".into(),
                ));
            }
        }
        for (what, len) in [
            ("ids", opts.ids.as_ref().map(Vec::len)),
            ("buffer flags", opts.buffer.as_ref().map(Vec::len)),
            ("tracer labels", opts.tracer.as_ref().map(Vec::len)),
        ] {
            if let Some(len) = len.filter(|&l| l != n) {
                return Err(CoreError::InvalidInput(format!(
                    "{what} have length {len} but there are {n} points"
                )));
            }
        }
        s.check_budget(
            (opts.rmin, opts.rmax),
            opts.bytes_per_edge(),
            opts.max_memory,
            "the neighbour graph",
        )?;
        control.check()?;
        // The [rmin, rmax) test on d^2, exactly as on sqrt(d^2).
        let range = Bins::new(vec![opts.rmin, opts.rmax], 1)?;
        let (rmin2, cut) = (range.d2_threshold(0), range.d2_cut());
        let (pts, metric) = (&s.pts, &s.metric);
        let parts = s.forward_lists(cut, control, |part: &mut Lists<EdgeParts>, i, found| {
            let pi = pts.p[i];
            for &(j, d2) in found {
                if d2 < rmin2 {
                    continue;
                }
                let d = d2.sqrt();
                part.neighbours.push(j);
                part.edges.separation.push(d as f32);
                if opts.store_mu {
                    let pj = pts.p[j as usize];
                    let mu = metric.mu(pi, pj, metric.diff(pi, pj), d2);
                    part.edges.mu.push(f16::from_f64(mu));
                }
            }
        })?;
        Ok(assemble(parts, s, opts))
    }

    pub fn n_nodes(&self) -> usize {
        self.x.len()
    }

    pub fn n_edges(&self) -> usize {
        self.neighbours.len()
    }

    #[inline(always)]
    pub fn pos(&self, i: usize) -> [f64; 3] {
        [self.x[i], self.y[i], self.z[i]]
    }

    #[inline(always)]
    pub fn edge_range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    pub fn check_bins(&self, bins: &Bins) -> Result<()> {
        if bins.rmin() < self.meta.rmin || bins.rmax() > self.meta.rmax {
            return Err(CoreError::InvalidBins(format!(
                "bins span [{}, {}) but the graph holds separations in [{}, {}); rebuild the graph with a wider range",
                bins.rmin(),
                bins.rmax(),
                self.meta.rmin,
                self.meta.rmax
            )));
        }
        Ok(())
    }

    /// The separation bin of edge `e` (from node `i`), exact: the stored f32
    /// decides unless it lies within its rounding error of a bin edge, in
    /// which case the f64 separation is recomputed from the positions.
    #[inline(always)]
    pub fn edge_bin(&self, bins: &Bins, metric: &Metric, i: usize, e: usize) -> u8 {
        const TOL: f64 = 1.0 / (1u64 << 23) as f64;
        let s = self.separation[e] as f64;
        let b = bins.bin(s * (1.0 - TOL));
        if s > 1e-30 && b == bins.bin(s * (1.0 + TOL)) {
            return b;
        }
        let j = self.neighbours[e] as usize;
        bins.bin(metric.d2(self.pos(i), self.pos(j)).sqrt())
    }

    /// The mu bin of edge `e`, exact in the same way as `edge_bin`.
    #[inline(always)]
    pub fn edge_mu_bin(&self, bins: &Bins, metric: &Metric, i: usize, e: usize) -> usize {
        const TOL: f64 = 1.0 / 1024.0;
        if let Some(mu) = &self.mu {
            let m = mu[e].to_f64();
            let b = bins.mu_bin((m - TOL).max(0.0));
            if b == bins.mu_bin((m + TOL).min(1.0)) {
                return b;
            }
        }
        let j = self.neighbours[e] as usize;
        bins.mu_bin(metric.sep_mu(self.pos(i), self.pos(j)).1)
    }

    /// Pair counts of the stored edges in any binning and line of sight:
    /// DD, DR, RR, or D1D2, D1R2, R1D2, R1R2 in a graph of two tracers;
    /// with `opts.jackknife`, also the tables of the graph's regions.
    /// `max_memory` bounds the tables.
    pub fn count_two_point(
        &self,
        binning: &Binning,
        los: Los,
        opts: GraphCountOptions,
        control: &Control,
    ) -> Result<TwoPointCounts> {
        two_point_on_graph(self, binning, los, opts.jackknife, opts.max_memory, control)
    }

    /// DD, DR, RR in (s, |mu|) bins about the graph's line of sight.
    pub fn count_pairs(
        &self,
        bins: &Bins,
        opts: GraphCountOptions,
        control: &Control,
    ) -> Result<PairCounts> {
        let binning = Binning::SMu {
            bins: bins.clone(),
            signed: false,
        };
        self.count_two_point(&binning, self.meta.los, opts, control)
            .map(PairCounts::from)
    }

    /// Refuses the N-point counts of a graph of two tracers.
    fn one_tracer(&self, what: &str) -> Result<()> {
        if self.tracer.is_some() {
            return Err(CoreError::InvalidInput(format!(
                "{what} of a graph of two tracers are not supported: build a graph of one tracer"
            )));
        }
        Ok(())
    }

    /// Triangles of the stored edges.
    pub fn count_triangles(
        &self,
        bins: &Bins,
        opts: GraphCountOptions,
        control: &Control,
    ) -> Result<TriangleCounts> {
        self.one_tracer("triangle counts")?;
        let mut bl = Binned::from_graph(self, bins)?;
        let view = NodeView::of_graph(self, opts.jackknife);
        triangles_on(&mut bl, &view, bins.nbins(), opts.max_memory, control)
    }

    /// Quads of the stored edges; `max_memory` bounds the shape table and
    /// the count tables.
    pub fn count_quads(
        &self,
        bins: &Bins,
        opts: GraphCountOptions,
        control: &Control,
    ) -> Result<QuadCounts> {
        self.one_tracer("quad counts")?;
        let shapes = QuadShapes::new(bins.nbins(), opts.max_memory)?;
        let bl = Binned::from_graph(self, bins)?;
        let view = NodeView::of_graph(self, opts.jackknife);
        let metric = self.meta.metric()?;
        let parity = opts.parity.then_some(&metric);
        quads_on(&bl, &view, shapes, parity, opts.max_memory, control)
    }

    /// Checks that the columns describe a valid graph (after loading a file).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(CoreError::CorruptGraph(m));
        let n = self.n_nodes();
        for (name, len) in [
            ("y", self.y.len()),
            ("z", self.z.len()),
            ("weight", self.weight.len()),
            ("is_random", self.is_random.len()),
            ("index", self.index.len()),
            ("buffer", self.buffer.len()),
            ("region", self.region.len()),
            ("degree", self.degree.len()),
            ("tracer", self.tracer.as_ref().map_or(n, |t| t.len())),
        ] {
            if len != n {
                return bad(format!("node column {name} has {len} rows, x has {n}"));
            }
        }
        if n > u32::MAX as usize {
            return bad(format!("{n} nodes exceed the 2^32 - 1 a graph can hold"));
        }
        if self.offsets.len() != n + 1 {
            return bad(format!(
                "adjacency has {} lists for {n} nodes",
                self.offsets.len().saturating_sub(1)
            ));
        }
        let m = self.n_edges();
        if self.offsets[0] != 0 || self.offsets[n] as usize != m {
            return bad(format!(
                "adjacency offsets run from {} to {} but there are {m} edges",
                self.offsets[0], self.offsets[n]
            ));
        }
        if self.separation.len() != m || self.mu.as_ref().is_some_and(|mu| mu.len() != m) {
            return bad("edge columns have different lengths".into());
        }
        let n_random = self.is_random.iter().filter(|&&r| r == 1).count() as u64;
        if self.is_random.iter().any(|&r| r > 1)
            || self.buffer.iter().any(|&r| r > 1)
            || self
                .tracer
                .as_ref()
                .is_some_and(|t| t.iter().any(|&r| r > 1))
        {
            return bad("node flags must be 0 or 1".into());
        }
        let nreg = self.meta.n_regions.max(1);
        if let Some(r) = self.region.iter().find(|&&r| r >= nreg) {
            return bad(format!(
                "region {r} is not below the {} regions the metadata names",
                self.meta.n_regions
            ));
        }
        if n_random != self.meta.n_random || n as u64 - n_random != self.meta.n_data {
            return bad(format!(
                "metadata says {} data and {} random nodes, the node table has {} and {n_random}",
                self.meta.n_data,
                self.meta.n_random,
                n as u64 - n_random
            ));
        }
        let finite = |c: &[f64]| c.iter().all(|v| v.is_finite());
        if !(finite(&self.x) && finite(&self.y) && finite(&self.z)) {
            return bad("node positions contain non-finite values".into());
        }
        if self.weight.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return bad("node weights must be finite and >= 0".into());
        }
        let rmax = self.meta.rmax as f32;
        let rmin = self.meta.rmin as f32;
        let problem = (0..n).into_par_iter().find_map_any(|i| {
            let (a, b) = (self.offsets[i], self.offsets[i + 1]);
            if b < a {
                return Some(format!("adjacency offsets decrease at node {i}"));
            }
            let mut prev = i as u64;
            for e in a as usize..b as usize {
                let j = self.neighbours[e] as u64;
                if j <= prev || j >= n as u64 {
                    return Some(format!(
                        "neighbour list of node {i} is not ascending above {i} and below {n} (entry {e} = {j})"
                    ));
                }
                prev = j;
                let s = self.separation[e];
                if !(s >= rmin && s <= rmax) {
                    return Some(format!("edge {e} has separation {s} outside [{rmin}, {rmax}]"));
                }
                if let Some(mu) = &self.mu {
                    let v = mu[e].to_f32();
                    if !(0.0..=1.0).contains(&v) {
                        return Some(format!("edge {e} has mu {v} outside [0, 1]"));
                    }
                }
            }
            None
        });
        if let Some(p) = problem {
            return bad(p);
        }
        // The degree column counts both directions of every edge.
        let mut degree: Vec<u32> = (0..n)
            .map(|i| (self.offsets[i + 1] - self.offsets[i]) as u32)
            .collect();
        for &j in self.neighbours.iter() {
            degree[j as usize] += 1;
        }
        if let Some(i) = (0..n).find(|&i| degree[i] != self.degree[i]) {
            return bad(format!(
                "node {i} has degree {} in the degree column but {} edges",
                self.degree[i], degree[i]
            ));
        }
        Ok(())
    }
}

/// The graph of a search from the forward lists of its chunks.
fn assemble(parts: Vec<Lists<EdgeParts>>, s: Search, opts: &BuildOptions) -> Graph {
    let n = s.len();
    let m: usize = parts.iter().map(|p| p.neighbours.len()).sum();
    let mut separation = Vec::with_capacity(m);
    let mut mu = Vec::with_capacity(if opts.store_mu { m } else { 0 });
    let (offsets, neighbours) = Lists::concat(parts, |e| {
        separation.extend_from_slice(&e.separation);
        mu.extend_from_slice(&e.mu);
    });
    let mut degree = vec![0u32; n];
    for i in 0..n {
        let fwd = (offsets[i + 1] - offsets[i]) as u32;
        degree[i] += fwd;
        for &j in &neighbours[offsets[i] as usize..offsets[i + 1] as usize] {
            degree[j as usize] += 1;
        }
    }
    let orig = |i: usize| s.grid.order[i] as usize;
    let nd = s.n_data;
    let index: Vec<u64> = match &opts.ids {
        Some(ids) => (0..n).map(|i| ids[orig(i)]).collect(),
        None => (0..n)
            .map(|i| {
                let o = orig(i);
                (if o >= nd { o - nd } else { o }) as u64
            })
            .collect(),
    };
    let buffer: Vec<u8> = match &opts.buffer {
        Some(b) => (0..n).map(|i| b[orig(i)]).collect(),
        None => vec![0; n],
    };
    let tracer = opts
        .tracer
        .as_ref()
        .map(|t| (0..n).map(|i| t[orig(i)]).collect::<Vec<u8>>().into());
    let cols = s.pts.cols;
    Graph {
        meta: GraphMeta {
            rmin: opts.rmin,
            rmax: opts.rmax,
            boxsize: s.metric.boxsize,
            los: s.metric.los,
            n_data: nd as u64,
            n_random: (n - nd) as u64,
            n_regions: s.nregions as u32,
        },
        x: cols.x.into(),
        y: cols.y.into(),
        z: cols.z.into(),
        weight: s.pts.w.into(),
        is_random: s.pts.t.into(),
        index: index.into(),
        buffer: buffer.into(),
        region: s.pts.region.into(),
        degree: degree.into(),
        tracer,
        offsets: offsets.into(),
        neighbours: neighbours.into(),
        separation: separation.into(),
        mu: opts.store_mu.then(|| mu.into()),
    }
}
