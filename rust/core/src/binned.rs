//! The graph restricted to one set of bins: per node, the forward neighbours
//! whose separation is in range, each with its bin. Triangle and quad kernels
//! walk these lists, so every side length comes from an edge already binned,
//! never from a recomputed distance.

use rayon::prelude::*;

use crate::bins::{Bins, OUT};
use crate::control::Control;
use crate::error::Result;
use crate::geometry::Metric;
use crate::graph::Graph;
use crate::grid::Columns;
use crate::reduce::{chunk_count, chunk_range};
use crate::search::{Lists, Search};

/// One chunk's lists: per-node degrees, neighbour ids, bins.
type Part = Lists<Vec<u8>>;

pub(crate) struct Binned {
    pub offsets: Vec<i64>,
    pub nbr: Vec<u32>,
    pub bin: Vec<u8>,
}

/// Node properties the kernels need, the MPI ownership rule and the
/// jackknife regions.
pub(crate) struct NodeView<'a> {
    pub weight: &'a [f64],
    pub is_random: &'a [u8],
    /// Owner keys, and the buffer flags, when any node is a buffer copy.
    owner: Option<(Vec<u64>, &'a [u8])>,
    pub all_owned: bool,
    /// Jackknife region of each node, and how many regions are counted
    /// (0: no jackknife tables).
    pub region: &'a [u32],
    pub nregions: usize,
    /// Positions (for the handedness of quads).
    x: &'a [f64],
    y: &'a [f64],
    z: &'a [f64],
}

impl<'a> NodeView<'a> {
    /// The nodes of a graph; `jackknife`: fill per-region tables from its
    /// region column.
    pub fn of_graph(g: &'a Graph, jackknife: bool) -> Self {
        let all_owned = g.buffer.iter().all(|&r| r == 0);
        // A key that orders all points of a distributed catalogue the same way
        // on every rank (data and random ids may coincide).
        let owner = (!all_owned).then(|| {
            let keys = g
                .index
                .iter()
                .zip(g.is_random.iter())
                .map(|(&i, &r)| (i << 1) | u64::from(r))
                .collect();
            (keys, &g.buffer[..])
        });
        Self {
            weight: &g.weight,
            is_random: &g.is_random,
            owner,
            all_owned,
            region: &g.region,
            nregions: if jackknife {
                g.meta.n_regions as usize
            } else {
                0
            },
            x: &g.x,
            y: &g.y,
            z: &g.z,
        }
    }

    #[inline(always)]
    pub fn pos(&self, i: usize) -> [f64; 3] {
        [self.x[i], self.y[i], self.z[i]]
    }

    pub fn owned(
        weight: &'a [f64],
        is_random: &'a [u8],
        region: &'a [u32],
        nregions: usize,
        cols: &'a Columns,
    ) -> Self {
        Self {
            weight,
            is_random,
            owner: None,
            all_owned: true,
            region,
            nregions,
            x: &cols.x,
            y: &cols.y,
            z: &cols.z,
        }
    }

    /// Entries of one count table with its resampling tables.
    pub fn table_len(&self, block: usize) -> usize {
        block * (1 + 3 * self.nregions)
    }

    /// Is the tuple made of `i` and `others` counted here? Yes when its
    /// smallest-key vertex is owned: exactly one rank owns that vertex, and
    /// it holds every other vertex (all lie within rmax of it).
    #[inline(always)]
    pub fn owns(&self, i: usize, others: &[usize]) -> bool {
        let Some((key, buffer)) = &self.owner else {
            return true;
        };
        // All owned here: the smallest-key vertex is owned too.
        if buffer[i] == 0 && others.iter().all(|&o| buffer[o] == 0) {
            return true;
        }
        let mut best = i;
        for &o in others {
            if key[o] < key[best] {
                best = o;
            }
        }
        buffer[best] == 0
    }
}

impl Binned {
    pub fn n_nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline(always)]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    /// Reorders every list so that the neighbours in the node's own region
    /// come first (each part keeps its order), and returns where each
    /// node's own-region part ends (an index into `nbr`). Only kernels that
    /// look neighbours up by mark, not by merging sorted lists, may use it.
    pub fn split_by_region(&mut self, region: &[u32]) -> Vec<usize> {
        let n = self.n_nodes();
        let nchunks = chunk_count(n, 1 << 14).max(n.min(1024));
        // Disjoint slices of the lists, one per chunk of nodes.
        let mut parts = Vec::with_capacity(nchunks);
        let (mut nbr, mut bin) = (&mut self.nbr[..], &mut self.bin[..]);
        for c in 0..nchunks {
            let nodes = chunk_range(c, nchunks, n);
            let len = (self.offsets[nodes.end] - self.offsets[nodes.start]) as usize;
            let (head, tail) = std::mem::take(&mut nbr).split_at_mut(len);
            let (bhead, btail) = std::mem::take(&mut bin).split_at_mut(len);
            parts.push((nodes, head, bhead));
            (nbr, bin) = (tail, btail);
        }
        let offsets = &self.offsets;
        parts
            .into_par_iter()
            .flat_map_iter(|(nodes, nbr, bin)| {
                let base = offsets[nodes.start] as usize;
                let mut other: Vec<(u32, u8)> = Vec::new();
                nodes
                    .map(move |i| {
                        let range = offsets[i] as usize - base..offsets[i + 1] as usize - base;
                        let mut own = range.start;
                        other.clear();
                        for e in range.clone() {
                            if region[nbr[e] as usize] == region[i] {
                                (nbr[own], bin[own]) = (nbr[e], bin[e]);
                                own += 1;
                            } else {
                                other.push((nbr[e], bin[e]));
                            }
                        }
                        for (e, &(k, b)) in (own..range.end).zip(other.iter()) {
                            (nbr[e], bin[e]) = (k, b);
                        }
                        base + own
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn concat(parts: Vec<Part>) -> Self {
        let total: usize = parts.iter().map(|p| p.edges.len()).sum();
        let mut bin = Vec::with_capacity(total);
        let (offsets, nbr) = Lists::concat(parts, |b| bin.extend_from_slice(&b));
        Self { offsets, nbr, bin }
    }

    pub fn from_graph(g: &Graph, bins: &Bins) -> Result<Self> {
        g.check_bins(bins)?;
        let metric = g.meta.metric()?;
        let n = g.n_nodes();
        let nchunks = chunk_count(n, 1 << 14).max(n.min(1024));
        let lists = (0..nchunks)
            .into_par_iter()
            .map(|c| {
                let nodes = chunk_range(c, nchunks, n);
                let mut part = Part {
                    degree: Vec::with_capacity(nodes.len()),
                    neighbours: Vec::new(),
                    edges: Vec::new(),
                };
                for i in nodes {
                    let before = part.neighbours.len();
                    for e in g.edge_range(i) {
                        let b = g.edge_bin(bins, &metric, i, e);
                        if b != OUT {
                            part.neighbours.push(g.neighbours[e]);
                            part.edges.push(b);
                        }
                    }
                    part.degree.push((part.neighbours.len() - before) as u32);
                }
                part
            })
            .collect();
        Ok(Self::concat(lists))
    }
}

/// Binned lists straight from the catalogues, with no stored graph: what the
/// direct triangle and quad counts use. Node order is the grid's.
pub(crate) struct DirectBinned {
    pub lists: Binned,
    pub weight: Vec<f64>,
    pub is_random: Vec<u8>,
    pub region: Vec<u32>,
    pub nregions: usize,
    pub cols: Columns,
    pub metric: Metric,
}

impl DirectBinned {
    /// The lists of a search; `max_memory` bounds them (checked on a sampled
    /// estimate before they are built).
    pub fn build(
        s: Search,
        bins: &Bins,
        max_memory: Option<u64>,
        control: &Control,
    ) -> Result<Self> {
        // A neighbour id and a bin per edge.
        let range = (bins.rmin(), bins.rmax());
        s.check_budget(range, 5, max_memory, "the neighbour lists")?;
        let parts = s.forward_lists(bins.d2_cut(), control, |part: &mut Part, _, found| {
            for &(j, d2) in found {
                let k = bins.bin_d2(d2);
                if k != OUT {
                    part.neighbours.push(j);
                    part.edges.push(k);
                }
            }
        })?;
        Ok(Self {
            lists: Binned::concat(parts),
            weight: s.pts.w,
            is_random: s.pts.t,
            region: s.pts.region,
            nregions: s.nregions,
            cols: s.pts.cols,
            metric: s.metric,
        })
    }

    /// The lists (mutable: the triangle count may reorder them), the view of
    /// the nodes and the metric, borrowed at once.
    pub fn parts(&mut self) -> (&mut Binned, NodeView<'_>, &Metric) {
        let nodes = NodeView::owned(
            &self.weight,
            &self.is_random,
            &self.region,
            self.nregions,
            &self.cols,
        );
        (&mut self.lists, nodes, &self.metric)
    }
}
