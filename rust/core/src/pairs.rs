//! Exact weighted pair counts: the kernel over a graph's stored edges and
//! the kernel straight over the cell grid (no stored graph). Both visit the
//! nodes in the same chunks and order, so even weighted sums agree to the
//! last bit.

use crate::binned::NodeView;
use crate::bins::{Bins, OUT};
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::graph::Graph;
use crate::projected::RpPiBins;
use crate::reduce::{check_tables, chunked_sum, flush, touch};
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
    /// smallest region is r, then for each r those of the pairs within r (flat,
    /// (3, nregions, 3, nbins, nmu)); empty
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

/// The pair kernel over a graph's stored edges, for any binning: `bin(i, e,
/// j)` gives the flat bin of edge `e` from node i to j, or None.
fn on_graph(
    g: &Graph,
    per: usize,
    jackknife: bool,
    max_memory: Option<u64>,
    control: &Control,
    bin: impl Fn(usize, usize, usize) -> Option<usize> + Sync,
) -> Result<PairCounts> {
    let view = NodeView::of_graph(g, jackknife);
    let (block, len) = (3 * per, view.table_len(3 * per));
    check_tables(g.n_nodes(), len, 0, 0, max_memory, "the pair-count tables")?;
    let jk = view.nregions > 0;
    let flat = chunked_sum(g.n_nodes(), len, control, |nodes, acc| {
        for i in nodes {
            let (wi, ti) = (g.weight[i], g.is_random[i]);
            for e in g.edge_range(i) {
                let j = g.neighbours[e] as usize;
                if !view.owns(i, &[j]) {
                    continue;
                }
                let Some(b) = bin(i, e, j) else {
                    continue;
                };
                let k = (ti + g.is_random[j]) as usize * per + b;
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

/// The pair kernel straight over the cell grid, node-major as `on_graph`:
/// `bin(i, j, d2)` gives the flat bin of the pair, or None.
fn on_grid(
    s: &Search,
    per: usize,
    cut: f64,
    max_memory: Option<u64>,
    control: &Control,
    bin: impl Fn(usize, usize, f64) -> Option<usize> + Sync,
) -> Result<PairCounts> {
    let pts = &s.pts;
    let (block, len) = (3 * per, 3 * per * (1 + 3 * s.nregions));
    check_tables(s.len(), len, 0, 0, max_memory, "the pair-count tables")?;
    let jk = s.nregions > 0;
    let flat = chunked_sum(s.len(), len, control, |nodes, acc| {
        // With regions, pairs within the region of their primary are summed
        // here and added to the region's tables in bulk (`reduce::flush`).
        let mut within = vec![0.0; if jk { block } else { 0 }];
        let mut current = None;
        s.forward(nodes, cut, |i, found| {
            let (wi, ti) = (pts.w[i], pts.t[i]);
            let ri = if jk { pts.region[i] } else { 0 };
            if jk && current != Some(ri) {
                flush(&mut within, acc, block, s.nregions, current);
                current = Some(ri);
            }
            for &(j, d2) in found {
                let j = j as usize;
                let Some(b) = bin(i, j, d2) else {
                    continue;
                };
                let k = (ti + pts.t[j]) as usize * per + b;
                let w = wi * pts.w[j];
                if jk {
                    let rj = pts.region[j];
                    if rj == ri {
                        within[k] += w;
                        continue;
                    }
                    touch(acc, block, s.nregions, [ri, rj], k, w);
                }
                acc[k] += w;
            }
        });
        flush(&mut within, acc, block, s.nregions, current);
    })?;
    Ok(PairCounts::from_flat(flat, per))
}

/// DD, DR, RR from the stored edges of a graph (with resampling tables when
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
    on_graph(g, per, jackknife, max_memory, control, |i, e, _| {
        let b = g.edge_bin(bins, &metric, i, e);
        if b == OUT {
            return None;
        }
        let m = if nmu == 1 {
            0
        } else {
            g.edge_mu_bin(bins, &metric, i, e)
        };
        Some(b as usize * nmu + m)
    })
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
    on_grid(s, per, bins.d2_cut(), max_memory, control, |i, j, d2| {
        let b = bins.bin_d2(d2);
        if b == OUT {
            return None;
        }
        let m = if nmu == 1 {
            0
        } else {
            let (pi, pj) = (pts.p[i], pts.p[j]);
            bins.mu_bin(metric.mu(pi, pj, metric.diff(pi, pj), d2.sqrt()))
        };
        Some(b as usize * nmu + m)
    })
}

/// DD, DR, RR in (rp, pi) bins from the stored edges; the graph must hold
/// every pair with s < sqrt(rp_max^2 + pi_max^2).
pub(crate) fn rppi_on_graph(
    g: &Graph,
    bins: &RpPiBins,
    jackknife: bool,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<PairCounts> {
    if bins.smax() > g.meta.rmax.next_up().next_up() || g.meta.rmin > 0.0 {
        return Err(CoreError::InvalidBins(format!(
            "(rp, pi) counts up to rp = {} and pi = {} need every pair with s < sqrt(rp^2 + \
             pi^2) = {}, but the graph holds separations in [{}, {}); rebuild it with \
             rmin = 0 and rmax >= {}",
            bins.rp.rmax(),
            bins.pimax,
            bins.smax(),
            g.meta.rmin,
            g.meta.rmax,
            bins.smax()
        )));
    }
    let metric = g.meta.metric()?;
    on_graph(g, bins.per(), jackknife, max_memory, control, |i, _, j| {
        bins.bin(&metric, g.pos(i), g.pos(j))
    })
}

/// DD, DR, RR in (rp, pi) bins straight over the cell grid.
pub(crate) fn rppi_on_grid(
    s: &Search,
    bins: &RpPiBins,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<PairCounts> {
    let (pts, metric) = (&s.pts, &s.metric);
    on_grid(
        s,
        bins.per(),
        bins.d2_cut(),
        max_memory,
        control,
        |i, j, _| bins.bin(metric, pts.p[i], pts.p[j]),
    )
}
