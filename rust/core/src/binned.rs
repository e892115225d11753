//! The graph restricted to one set of bins: per node, the forward neighbours
//! whose separation is in range, each with its bin. Triangle and quad kernels
//! intersect these lists, so every side length comes from an edge already
//! binned, never from a recomputed distance.

use rayon::prelude::*;

use crate::bins::{Bins, OUT};
use crate::error::Result;
use crate::graph::Graph;

pub(crate) struct Binned {
    pub offsets: Vec<usize>,
    pub nbr: Vec<u32>,
    pub bin: Vec<u8>,
}

impl Binned {
    pub fn new(g: &Graph, bins: &Bins) -> Result<Self> {
        g.check_bins(bins)?;
        let metric = g.meta.metric()?;
        let n = g.n_nodes();
        let lists: Vec<(Vec<u32>, Vec<u8>)> = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let mut nbr = Vec::new();
                let mut bin = Vec::new();
                for e in g.edge_range(i) {
                    let b = g.edge_bin(bins, &metric, i, e);
                    if b != OUT {
                        nbr.push(g.neighbours[e]);
                        bin.push(b);
                    }
                }
                (nbr, bin)
            })
            .collect();
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let total: usize = lists.iter().map(|l| l.0.len()).sum();
        let mut nbr = Vec::with_capacity(total);
        let mut bin = Vec::with_capacity(total);
        for (a, b) in lists {
            nbr.extend_from_slice(&a);
            bin.extend_from_slice(&b);
            offsets.push(nbr.len());
        }
        Ok(Self { offsets, nbr, bin })
    }

    #[inline(always)]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }
}
