//! The graph restricted to one set of bins: per node, the forward neighbours
//! whose separation is in range, each with its bin. Triangle and quad kernels
//! walk these lists, so every side length comes from an edge already binned,
//! never from a recomputed distance.

use rayon::prelude::*;

use crate::bins::{Bins, OUT};
use crate::catalogue::{validate_inputs, Merged, Sample};
use crate::control::Control;
use crate::error::Result;
use crate::geometry::Metric;
use crate::graph::{check_budget, Graph};
use crate::grid::Grid;
use crate::pairs::Sorted;
use crate::reduce::{chunk_count, chunk_range};

/// One chunk's lists: per-node degrees, neighbour ids, bins.
type Part = (Vec<usize>, Vec<u32>, Vec<u8>);

pub(crate) struct Binned {
    pub offsets: Vec<usize>,
    pub nbr: Vec<u32>,
    pub bin: Vec<u8>,
}

/// Node properties the kernels need, and the MPI ownership rule.
pub(crate) struct NodeView<'a> {
    pub weight: &'a [f64],
    pub is_random: &'a [u8],
    /// Owner keys, and the buffer flags, when any node is a buffer copy.
    owner: Option<(Vec<u64>, &'a [u8])>,
    pub all_owned: bool,
}

impl<'a> NodeView<'a> {
    pub fn of_graph(g: &'a Graph) -> Self {
        let all_owned = g.region.iter().all(|&r| r == 0);
        // A key that orders all points of a distributed catalogue the same way
        // on every rank (data and random ids may coincide).
        let owner = (!all_owned).then(|| {
            let keys = g
                .index
                .iter()
                .zip(g.is_random.iter())
                .map(|(&i, &r)| (i << 1) | u64::from(r))
                .collect();
            (keys, &g.region[..])
        });
        Self {
            weight: &g.weight,
            is_random: &g.is_random,
            owner,
            all_owned,
        }
    }

    pub fn owned(weight: &'a [f64], is_random: &'a [u8]) -> Self {
        Self {
            weight,
            is_random,
            owner: None,
            all_owned: true,
        }
    }

    /// Is the tuple made of `i` and `others` counted here? Yes when its
    /// smallest-key vertex is owned: exactly one rank owns that vertex, and
    /// it holds every other vertex (all lie within rmax of it).
    #[inline(always)]
    pub fn owns(&self, i: usize, others: &[usize]) -> bool {
        let Some((key, region)) = &self.owner else {
            return true;
        };
        // All owned here: the smallest-key vertex is owned too.
        if region[i] == 0 && others.iter().all(|&o| region[o] == 0) {
            return true;
        }
        let mut best = i;
        for &o in others {
            if key[o] < key[best] {
                best = o;
            }
        }
        region[best] == 0
    }
}

impl Binned {
    pub fn n_nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline(always)]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    fn concat(lists: Vec<Part>) -> Self {
        let total: usize = lists.iter().map(|l| l.1.len()).sum();
        let mut offsets = vec![0];
        let mut nbr = Vec::with_capacity(total);
        let mut bin = Vec::with_capacity(total);
        for (degrees, a, b) in lists {
            let base = nbr.len();
            let mut acc = base;
            for d in degrees {
                acc += d;
                offsets.push(acc);
            }
            nbr.extend_from_slice(&a);
            bin.extend_from_slice(&b);
        }
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
                let (mut deg, mut nbr, mut bin) = (Vec::new(), Vec::new(), Vec::new());
                for i in chunk_range(c, nchunks, n) {
                    let before = nbr.len();
                    for e in g.edge_range(i) {
                        let b = g.edge_bin(bins, &metric, i, e);
                        if b != OUT {
                            nbr.push(g.neighbours[e]);
                            bin.push(b);
                        }
                    }
                    deg.push(nbr.len() - before);
                }
                (deg, nbr, bin)
            })
            .collect();
        Ok(Self::concat(lists))
    }
}

/// Binned lists straight from the catalogues, with no stored graph: what
/// `count_triangles` and `count_quads` use. Node order is the grid's.
pub(crate) struct DirectBinned {
    pub lists: Binned,
    pub weight: Vec<f64>,
    pub is_random: Vec<u8>,
}

impl DirectBinned {
    pub fn build(
        data: &Sample,
        randoms: Option<&Sample>,
        bins: &Bins,
        metric: &Metric,
        max_memory: Option<u64>,
        control: &Control,
    ) -> Result<Self> {
        validate_inputs(data, randoms, metric, bins.rmax())?;
        let merged = Merged::new(data, randoms);
        let grid = Grid::build(&merged.positions(), metric, bins.rmax());
        let pts = Sorted::new(&merged, &grid);
        // A neighbour id and a bin per edge.
        let range = (bins.rmin(), bins.rmax());
        check_budget(
            &pts,
            &grid,
            metric,
            range,
            5,
            max_memory,
            "the neighbour lists",
        )?;
        let ncell = grid.ncells();
        let nchunks = chunk_count(ncell, 1 << 14).max(ncell.min(4096));
        let cut = bins.d2_cut();
        control.begin(nchunks as u64);
        let lists: Vec<Option<Part>> = (0..nchunks)
            .into_par_iter()
            .map(|c| {
                if control.is_cancelled() {
                    return None;
                }
                let (mut deg, mut nbr, mut bin) = (Vec::new(), Vec::new(), Vec::new());
                let (mut near, mut found) = (Vec::new(), Vec::new());
                for a in chunk_range(c, nchunks, ncell) {
                    grid.neighbours(a, &mut near);
                    for i in grid.range(a) {
                        grid.forward(&pts.cols, metric, i, a, &near, cut, &mut found);
                        let before = nbr.len();
                        for &(j, d2) in &found {
                            let k = bins.bin_d2(d2);
                            if k != OUT {
                                nbr.push(j);
                                bin.push(k);
                            }
                        }
                        deg.push(nbr.len() - before);
                    }
                }
                nbr.shrink_to_fit(); // see graph::build_parts
                bin.shrink_to_fit();
                control.tick();
                Some((deg, nbr, bin))
            })
            .collect();
        control.check()?;
        Ok(Self {
            lists: Binned::concat(lists.into_iter().flatten().collect()),
            weight: pts.w,
            is_random: pts.t,
        })
    }

    pub fn nodes(&self) -> NodeView<'_> {
        NodeView::owned(&self.weight, &self.is_random)
    }
}
