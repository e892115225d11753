//! Exact weighted pair counts: the kernel over a graph's stored edges and
//! the kernel straight over the cell grid (no stored graph). Both visit the
//! nodes in the same chunks and order, so even weighted sums agree to the
//! last bit.

use crate::binned::NodeView;
use crate::bins::{Bins, OUT};
use crate::control::Control;
use crate::error::Result;
use crate::graph::Graph;
use crate::reduce::chunked_sum;
use crate::search::Search;

/// Weighted pair counts over unordered pairs {i, j}, i != j, each of shape
/// (nbins, nmu) in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCounts {
    pub dd: Vec<f64>,
    pub dr: Vec<f64>,
    pub rr: Vec<f64>,
}

impl PairCounts {
    fn from_flat(flat: Vec<f64>, per: usize) -> Self {
        Self {
            dd: flat[..per].to_vec(),
            dr: flat[per..2 * per].to_vec(),
            rr: flat[2 * per..].to_vec(),
        }
    }
}

/// DD, DR, RR from the stored edges of a graph.
pub(crate) fn pairs_on_graph(g: &Graph, bins: &Bins, control: &Control) -> Result<PairCounts> {
    g.check_bins(bins)?;
    let metric = g.meta.metric()?;
    let (nmu, per) = (bins.nmu(), bins.nbins() * bins.nmu());
    let view = NodeView::of_graph(g);
    let flat = chunked_sum(g.n_nodes(), 3 * per, control, |nodes, acc| {
        for i in nodes {
            let (wi, ti) = (g.weight[i], g.is_random[i]);
            for e in g.edge_range(i) {
                let j = g.neighbours[e] as usize;
                if !view.owns(i, &[j]) {
                    continue;
                }
                let b = g.edge_bin(bins, &metric, i, e);
                if b == OUT {
                    continue;
                }
                let m = if nmu == 1 {
                    0
                } else {
                    g.edge_mu_bin(bins, &metric, i, e)
                };
                let k = (ti + g.is_random[j]) as usize * per + b as usize * nmu + m;
                acc[k] += wi * g.weight[j];
            }
        }
    })?;
    Ok(PairCounts::from_flat(flat, per))
}

/// DD, DR, RR in one pass over the cell grid, node-major as in
/// `pairs_on_graph`: both paths add the same terms in the same order.
pub(crate) fn pairs_on_grid(s: &Search, bins: &Bins, control: &Control) -> Result<PairCounts> {
    let (pts, metric) = (&s.pts, &s.metric);
    let (nmu, per) = (bins.nmu(), bins.nbins() * bins.nmu());
    let cut = bins.d2_cut();
    let flat = chunked_sum(s.len(), 3 * per, control, |nodes, acc| {
        s.forward(nodes, cut, |i, found| {
            let (wi, ti) = (pts.w[i], pts.t[i]);
            for &(j, d2) in found {
                let j = j as usize;
                let bin = bins.bin_d2(d2);
                if bin == OUT {
                    continue;
                }
                let m = if nmu == 1 {
                    0
                } else {
                    let (pi, pj) = (pts.p[i], pts.p[j]);
                    bins.mu_bin(metric.mu(pi, pj, metric.diff(pi, pj), d2.sqrt()))
                };
                let k = (ti + pts.t[j]) as usize * per + bin as usize * nmu + m;
                acc[k] += wi * pts.w[j];
            }
        });
    })?;
    Ok(PairCounts::from_flat(flat, per))
}
