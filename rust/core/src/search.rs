//! The neighbour search every count starts from, written once: both
//! catalogues validated and merged, sorted into the cell grid (`Search::new`),
//! the sampled edge estimate and memory check, and the forward scan, node by
//! node (`Search::forward`) or as per-chunk adjacency lists
//! (`Search::forward_lists`, for the graph build and the direct binned lists).

use std::ops::Range;

use rayon::prelude::*;

use crate::catalogue::{validate_inputs, Merged, Sample};
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::Metric;
use crate::grid::{Columns, Grid};
use crate::reduce::{chunk_count, chunk_range, chunked};

/// Bytes a graph node takes: x, y, z, weight, index (8 each), degree (4), flags (2).
pub const NODE_BYTES: u64 = 5 * 8 + 4 + 2;

/// Nodes sampled by the edge estimate.
const SAMPLE_NODES: usize = 4096;
/// Candidates (points of the neighbouring cells) tested per sampled node:
/// the estimate costs at most SAMPLE_NODES * SAMPLE_CANDIDATES distances,
/// milliseconds whatever the catalogue and radius.
const SAMPLE_CANDIDATES: usize = 256;

/// Points in cell order, laid out for the inner loop.
pub(crate) struct Sorted {
    pub p: Vec<[f64; 3]>,
    pub cols: Columns,
    pub w: Vec<f64>,
    pub t: Vec<u8>,
    /// Jackknife region of each point (all 0 without regions).
    pub region: Vec<u32>,
}

impl Sorted {
    fn new(m: &Merged, grid: &Grid, regions: Option<&[u32]>) -> Self {
        let p: Vec<[f64; 3]> = grid
            .order
            .iter()
            .map(|&i| [m.x[i as usize], m.y[i as usize], m.z[i as usize]])
            .collect();
        let cols = Columns {
            x: p.iter().map(|q| q[0]).collect(),
            y: p.iter().map(|q| q[1]).collect(),
            z: p.iter().map(|q| q[2]).collect(),
        };
        let w = grid.order.iter().map(|&i| m.w[i as usize]).collect();
        let t = grid
            .order
            .iter()
            .map(|&i| u8::from(i as usize >= m.n_data))
            .collect();
        let region = match regions {
            Some(r) => grid.order.iter().map(|&i| r[i as usize]).collect(),
            None => vec![0; grid.order.len()],
        };
        Self {
            p,
            cols,
            w,
            t,
            region,
        }
    }
}

/// Data and randoms merged and sorted into a cell grid for one search radius.
/// Node i is the i-th point in cell order; `grid.order[i]` is its row in
/// data-then-randoms.
pub(crate) struct Search {
    pub metric: Metric,
    pub grid: Grid,
    pub pts: Sorted,
    pub n_data: usize,
    /// Jackknife regions counted (0: none).
    pub nregions: usize,
}

/// Jackknife regions of the points (data then randoms), all below `n`.
#[derive(Clone, Copy, Debug)]
pub struct Regions<'a> {
    pub labels: &'a [u32],
    pub n: usize,
}

impl Regions<'_> {
    /// Most regions a count accepts.
    pub const MAX: usize = 10_000;

    pub(crate) fn validate(&self, npoints: usize) -> Result<()> {
        if self.labels.len() != npoints {
            return Err(CoreError::InvalidInput(format!(
                "region labels have length {} but there are {npoints} points",
                self.labels.len()
            )));
        }
        if !(1..=Self::MAX).contains(&self.n) {
            return Err(CoreError::InvalidInput(format!(
                "the number of regions must be between 1 and {}, got {}",
                Self::MAX,
                self.n
            )));
        }
        if let Some(r) = self.labels.iter().find(|&&r| r as usize >= self.n) {
            return Err(CoreError::InvalidInput(format!(
                "region label {r} is not below the number of regions {}",
                self.n
            )));
        }
        Ok(())
    }
}

/// Sampled estimate of the number of edges before anything is allocated.
#[derive(Clone, Copy, Debug)]
pub struct EdgeEstimate {
    pub edges: f64,
    pub mean_degree: f64,
    pub sampled_nodes: usize,
    pub bytes: u64,
}

/// One chunk of forward adjacency lists: the degree of each node, and per
/// edge the neighbour id and the columns `E` the caller keeps of it.
pub(crate) struct Lists<E> {
    pub degree: Vec<u32>,
    pub neighbours: Vec<u32>,
    pub edges: E,
}

/// What a forward scan keeps per edge besides the neighbour id.
pub(crate) trait EdgeColumns: Default + Send {
    fn shrink_to_fit(&mut self);
}

impl<T: Send> EdgeColumns for Vec<T> {
    fn shrink_to_fit(&mut self) {
        Vec::shrink_to_fit(self);
    }
}

impl<E> Lists<E> {
    /// The chunks' lists end to end: CSR offsets (one more than the nodes)
    /// and neighbour ids; each chunk's edge columns go to `edges`, in order.
    pub fn concat(parts: Vec<Self>, mut edges: impl FnMut(E)) -> (Vec<i64>, Vec<u32>) {
        let nodes: usize = parts.iter().map(|p| p.degree.len()).sum();
        let total: usize = parts.iter().map(|p| p.neighbours.len()).sum();
        let mut offsets = Vec::with_capacity(nodes + 1);
        offsets.push(0i64);
        let mut neighbours = Vec::with_capacity(total);
        let mut end = 0i64;
        for part in parts {
            for &d in &part.degree {
                end += i64::from(d);
                offsets.push(end);
            }
            neighbours.extend_from_slice(&part.neighbours);
            edges(part.edges);
        }
        (offsets, neighbours)
    }
}

impl Search {
    /// Validates the catalogues against the metric and `rmax`, merges them
    /// and sorts them into cells for neighbour search up to `rmax`.
    pub fn new(
        data: &Sample,
        randoms: Option<&Sample>,
        metric: &Metric,
        rmax: f64,
        regions: Option<Regions>,
    ) -> Result<Self> {
        validate_inputs(data, randoms, metric, rmax)?;
        let merged = Merged::new(data, randoms);
        if let Some(r) = &regions {
            r.validate(merged.len())?;
        }
        let grid = Grid::build(&merged.positions(), metric, rmax);
        let pts = Sorted::new(&merged, &grid, regions.map(|r| r.labels));
        Ok(Self {
            metric: *metric,
            grid,
            pts,
            n_data: merged.n_data,
            nregions: regions.map_or(0, |r| r.n),
        })
    }

    pub fn len(&self) -> usize {
        self.pts.p.len()
    }

    /// Edges with separation in [rmin, rmax), estimated on sampled nodes.
    pub fn estimate(&self, (rmin, rmax): (f64, f64), bytes_per_edge: u64) -> EdgeEstimate {
        let (pts, grid, metric) = (&self.pts, &self.grid, &self.metric);
        let n = self.len();
        let stride = n.div_ceil(SAMPLE_NODES).max(1);
        let cell_of = grid.cell_of_sorted();
        let sampled: Vec<usize> = (0..n).step_by(stride).collect();
        let total: f64 = sampled
            .par_iter()
            .map(|&i| {
                let mut near = Vec::new();
                grid.neighbours(cell_of[i] as usize, &mut near);
                // The candidates are the points of the neighbouring cells; a
                // fixed stride through them tests at most SAMPLE_CANDIDATES
                // and scales the hits up (exact when there are fewer).
                let ranges: Vec<_> = near.iter().map(|&b| grid.range(b)).collect();
                let candidates: usize = ranges.iter().map(|r| r.len()).sum();
                let stride = candidates.div_ceil(SAMPLE_CANDIDATES).max(1);
                let (mut tested, mut hits, mut at) = (0u64, 0u64, (i * 7919) % stride);
                let mut offset = 0;
                for r in &ranges {
                    while at < offset + r.len() {
                        let j = r.start + (at - offset);
                        if j != i {
                            let d = metric.d2(pts.p[i], pts.p[j]).sqrt();
                            hits += u64::from(d >= rmin && d < rmax);
                        }
                        tested += 1;
                        at += stride;
                    }
                    offset += r.len();
                }
                hits as f64 * candidates as f64 / tested.max(1) as f64
            })
            .sum::<f64>();
        let mean_degree = total / sampled.len().max(1) as f64;
        let edges = 0.5 * mean_degree * n as f64;
        // Building holds the per-chunk parts and the final columns at once.
        let bytes = (2.0 * edges * bytes_per_edge as f64) as u64 + n as u64 * (NODE_BYTES + 8 + 32);
        EdgeEstimate {
            edges,
            mean_degree,
            sampled_nodes: sampled.len(),
            bytes,
        }
    }

    /// Refuses, before anything large is allocated, adjacency lists (`what`)
    /// whose sampled estimate exceeds `max_memory`.
    pub fn check_budget(
        &self,
        range: (f64, f64),
        bytes_per_edge: u64,
        max_memory: Option<u64>,
        what: &'static str,
    ) -> Result<()> {
        let Some(budget) = max_memory else {
            return Ok(());
        };
        let est = self.estimate(range, bytes_per_edge);
        if est.bytes > budget {
            return Err(CoreError::MemoryBudget {
                what,
                estimate_bytes: est.bytes,
                budget_bytes: budget,
                detail: format!(
                    "an estimated {:.3e} edges, mean degree {:.1} from {} sampled nodes, at {} bytes per edge",
                    est.edges, est.mean_degree, est.sampled_nodes, bytes_per_edge
                ),
                advice: "use a smaller rmax, raise max_memory, or spread the catalogue over more MPI ranks",
            });
        }
        Ok(())
    }

    /// Calls `visit(i, hits)` for the nodes i of `nodes` in ascending order,
    /// `hits` holding (j, d^2) for every j > i with d^2 < `cut`, j ascending.
    #[inline(always)]
    pub fn forward(&self, nodes: Range<usize>, cut: f64, visit: impl FnMut(usize, &[(u32, f64)])) {
        self.scan::<false>(nodes, cut, visit)
    }

    /// As `forward`, with every neighbour j != i (both directions).
    #[inline(always)]
    pub fn around(&self, nodes: Range<usize>, cut: f64, visit: impl FnMut(usize, &[(u32, f64)])) {
        self.scan::<true>(nodes, cut, visit)
    }

    #[inline(always)]
    fn scan<const ALL: bool>(
        &self,
        nodes: Range<usize>,
        cut: f64,
        mut visit: impl FnMut(usize, &[(u32, f64)]),
    ) {
        let grid = &self.grid;
        let (mut near, mut found) = (Vec::new(), Vec::new());
        grid.walk(nodes, |i, a, first| {
            if first {
                grid.neighbours(a, &mut near);
            }
            grid.scan_near::<ALL>(&self.pts.cols, &self.metric, i, a, &near, cut, &mut found);
            visit(i, &found);
        });
    }

    /// Forward adjacency lists of every node, in chunks of cells scanned in
    /// parallel (one progress stage): `fill(part, i, hits)` appends to the
    /// chunk's `part` the neighbours of node i it keeps among `hits` (see
    /// `forward`), with their edge columns; the degree is counted here.
    pub fn forward_lists<E, F>(&self, cut: f64, control: &Control, fill: F) -> Result<Vec<Lists<E>>>
    where
        E: EdgeColumns,
        F: Fn(&mut Lists<E>, usize, &[(u32, f64)]) + Sync,
    {
        let ncell = self.grid.ncells();
        let nchunks = chunk_count(ncell, 1 << 14).max(ncell.min(4096));
        chunked(
            nchunks,
            control,
            || (),
            |_, c| {
                let cells = chunk_range(c, nchunks, ncell);
                let start = &self.grid.start;
                let nodes = start[cells.start] as usize..start[cells.end] as usize;
                let mut part = Lists {
                    degree: Vec::with_capacity(nodes.len()),
                    neighbours: Vec::new(),
                    edges: E::default(),
                };
                self.forward(nodes, cut, |i, found| {
                    let before = part.neighbours.len();
                    fill(&mut part, i, found);
                    part.degree.push((part.neighbours.len() - before) as u32);
                });
                // Growth by doubling leaves up to half of each part unused;
                // trim it now, while only this chunk is in flight, so that the
                // parts of all chunks together stay close to the size of the
                // final columns.
                part.neighbours.shrink_to_fit();
                part.edges.shrink_to_fit();
                part
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Los, Positions};

    #[test]
    fn forward_over_any_split_of_the_nodes_is_the_forward_over_all() {
        let mut seed = 99u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64 * 10.0
        };
        let (x, y, z): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (0..300).map(|_| (next(), next(), next())).collect();
        let data = Sample::new(Positions::new(&x, &y, &z).unwrap(), None);
        let metric = Metric::new(Some(10.0), Los::Z).unwrap();
        let s = Search::new(&data, None, &metric, 2.0, None).unwrap();
        let scan = |nodes: Range<usize>| {
            let mut out = vec![];
            s.forward(nodes, 4.0, |i, hits| out.push((i, hits.to_vec())));
            out
        };
        let all = scan(0..s.len());
        assert_eq!(all.len(), s.len());
        let brute: usize = (0..s.len())
            .map(|i| {
                (i + 1..s.len())
                    .filter(|&j| metric.d2(s.pts.p[i], s.pts.p[j]) < 4.0)
                    .count()
            })
            .sum();
        assert_eq!(all.iter().map(|(_, h)| h.len()).sum::<usize>(), brute);
        for cuts in [vec![0, 1, 2, 150, 299, 300], vec![0, 0, 37, 37, 38, 300]] {
            let split: Vec<_> = cuts.windows(2).flat_map(|w| scan(w[0]..w[1])).collect();
            assert_eq!(split, all);
        }
    }
}
