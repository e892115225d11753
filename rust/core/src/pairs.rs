//! Exact weighted pair counts: the kernel over a graph's stored edges and
//! the kernel straight over the cell grid (no stored graph). Both visit the
//! nodes in the same chunks and order, so even weighted sums agree to the
//! last bit.

use crate::binned::NodeView;
use crate::bins::{Bins, OUT};
use crate::control::Control;
use crate::error::Result;
use crate::graph::Graph;
use crate::reduce::{check_tables, chunked_sum, touch};
use crate::search::Search;

/// Weighted pair counts over unordered pairs {i, j}, i != j, each of shape
/// (nbins, nmu) in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCounts {
    pub dd: Vec<f64>,
    pub dr: Vec<f64>,
    pub rr: Vec<f64>,
    /// Resampling tables (see `reduce::touch`): for each region r the DD, DR,
    /// RR of the pairs that touch r, then for each r those of the pairs whose
    /// smallest region is r (flat, (2, nregions, 3, nbins, nmu)); empty
    /// without regions.
    pub regions: Vec<f64>,
}

impl PairCounts {
    fn from_flat(mut flat: Vec<f64>, per: usize) -> Self {
        let regions = flat.split_off(3 * per);
        Self {
            dd: flat[..per].to_vec(),
            dr: flat[per..2 * per].to_vec(),
            rr: flat[2 * per..].to_vec(),
            regions,
        }
    }
}

/// DD, DR, RR from the stored edges of a graph (with jackknife tables when
/// `jackknife` and the graph has regions).
pub(crate) fn pairs_on_graph(
    g: &Graph,
    bins: &Bins,
    jackknife: bool,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<PairCounts> {
    g.check_bins(bins)?;
    let metric = g.meta.metric()?;
    let (nmu, per) = (bins.nmu(), bins.nbins() * bins.nmu());
    let view = NodeView::of_graph(g, jackknife);
    let (block, len) = (3 * per, view.table_len(3 * per));
    check_tables(g.n_nodes(), len, 0, max_memory, "the pair-count tables")?;
    let jk = view.nregions > 0;
    let flat = chunked_sum(g.n_nodes(), len, control, |nodes, acc| {
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
                let w = wi * g.weight[j];
                acc[k] += w;
                if jk {
                    touch(
                        acc,
                        block,
                        view.nregions,
                        [view.region[i], view.region[j]],
                        k,
                        w,
                    );
                }
            }
        }
    })?;
    Ok(PairCounts::from_flat(flat, per))
}

/// DD, DR, RR in one pass over the cell grid, node-major as in
/// `pairs_on_graph`: both paths add the same terms in the same order.
pub(crate) fn pairs_on_grid(
    s: &Search,
    bins: &Bins,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<PairCounts> {
    let (pts, metric) = (&s.pts, &s.metric);
    let (nmu, per) = (bins.nmu(), bins.nbins() * bins.nmu());
    let (block, len) = (3 * per, 3 * per * (1 + 2 * s.nregions));
    check_tables(s.len(), len, 0, max_memory, "the pair-count tables")?;
    let jk = s.nregions > 0;
    let cut = bins.d2_cut();
    let flat = chunked_sum(s.len(), len, control, |nodes, acc| {
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
                let w = wi * pts.w[j];
                acc[k] += w;
                if jk {
                    touch(acc, block, s.nregions, [pts.region[i], pts.region[j]], k, w);
                }
            }
        });
    })?;
    Ok(PairCounts::from_flat(flat, per))
}
