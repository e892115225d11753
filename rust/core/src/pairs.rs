//! Exact weighted pair counts from a graph's stored edges, in any binning
//! and line of sight, of one tracer or two (the direct counts are in
//! `twopoint`). Nodes are visited in the same chunks and order as the direct
//! auto-correlation pass, so even weighted sums agree to the last bit when
//! the graph was built for the same search radius.

use crate::binned::NodeView;
use crate::bins::OUT;
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::{Los, Metric};
use crate::graph::Graph;
use crate::reduce::{check_tables, chunked_sum, touch, Lanes};
use crate::twopoint::{Binning, TwoPointCounts};

/// Refuses a binning the graph cannot count: one that needs pairs beyond
/// its edges' range, or angles (a graph is built on positions in space).
fn check_range(g: &Graph, binning: &Binning) -> Result<()> {
    match binning {
        Binning::SMu { bins, .. } => g.check_bins(bins),
        Binning::RpPi(bins) => {
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
            Ok(())
        }
        Binning::Theta(_) => Err(CoreError::InvalidBins(
            "angular counts come from sky positions (astrograph.count_angular), not from a graph"
                .into(),
        )),
    }
}

/// Pair counts of the stored edges (see `Graph::count_two_point`).
pub(crate) fn two_point_on_graph(
    g: &Graph,
    binning: &Binning,
    los: Los,
    jackknife: bool,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<TwoPointCounts> {
    check_range(g, binning)?;
    let metric = Metric::new(g.meta.boxsize, los)?;
    let cross = g.tracer.as_ref();
    let names: Vec<&'static str> = if cross.is_some() {
        vec!["D1D2", "D1R2", "R1D2", "R1R2"]
    } else {
        vec!["DD", "DR", "RR"]
    };
    let per = binning.per();
    let block = names.len() * per;
    let view = NodeView::of_graph(g, jackknife);
    let len = view.table_len(block);
    check_tables(g.n_nodes(), len, 0, 0, max_memory, "the pair-count tables")?;
    let jk = view.nregions > 0;
    // The stored separation and |mu| decide (exactly) when the binning is by
    // s and |mu| about the graph's own line of sight.
    let stored = match binning {
        Binning::SMu { bins, signed } => {
            (bins.nmu() == 1 || (!signed && los == g.meta.los)).then_some(bins)
        }
        _ => None,
    };
    let gmetric = g.meta.metric()?;
    // As in the direct kernel: bins from d^2 alone, no regions, all owned.
    let simple = !jk && view.all_owned && binning.d2_lookup().is_some();
    let mut flat = chunked_sum(g.n_nodes(), len, control, |nodes, acc| {
        let mut lanes = Lanes::new(if simple { block } else { 0 });
        for i in nodes {
            for e in g.edge_range(i) {
                let j = g.neighbours[e] as usize;
                if !view.owns(i, &[j]) {
                    continue;
                }
                // A pair of two tracers runs from tracer 1 to tracer 2.
                let (a, b) = match cross {
                    Some(t) if t[i] == t[j] => continue,
                    Some(t) if t[i] == 1 => (j, i),
                    _ => (i, j),
                };
                let (ta, tb) = (g.is_random[a], g.is_random[b]);
                let table = if cross.is_some() {
                    (2 * ta + tb) as usize
                } else {
                    (ta + tb) as usize
                };
                let w = g.weight[i] * g.weight[j];
                let mut add = |k: usize, f: f64| {
                    let w = if f == 1.0 { w } else { w * f };
                    let idx = table * per + k;
                    if simple {
                        lanes.add(idx, w);
                        return;
                    }
                    acc[idx] += w;
                    if jk {
                        touch(
                            acc,
                            block,
                            view.nregions,
                            [view.region[i], view.region[j]],
                            idx,
                            w,
                        );
                    }
                };
                if let Some(bins) = stored {
                    let sb = g.edge_bin(bins, &gmetric, i, e);
                    if sb == OUT {
                        continue;
                    }
                    let m = if bins.nmu() == 1 {
                        0
                    } else {
                        g.edge_mu_bin(bins, &gmetric, i, e)
                    };
                    add(sb as usize * bins.nmu() + m, 1.0);
                } else {
                    let (p, q) = (g.pos(a), g.pos(b));
                    binning.emit(&metric, p, q, metric.d2(p, q), cross.is_some(), &mut add);
                }
            }
        }
        if simple {
            lanes.flush(acc);
        }
    })?;
    let regions = flat.split_off(block);
    let counts = (0..names.len())
        .map(|t| flat[t * per..(t + 1) * per].to_vec())
        .collect();
    Ok(TwoPointCounts {
        names,
        counts,
        regions,
    })
}

/// DD, DR, RR of one tracer, each of `per` entries in row-major order, with
/// their resampling tables (flat (3, nregions, 3, per); empty without
/// regions): the auto-correlation tables of a `TwoPointCounts`.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCounts {
    pub dd: Vec<f64>,
    pub dr: Vec<f64>,
    pub rr: Vec<f64>,
    pub regions: Vec<f64>,
}

impl From<TwoPointCounts> for PairCounts {
    fn from(c: TwoPointCounts) -> Self {
        let mut it = c.counts.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Self {
            dd: next(),
            dr: next(),
            rr: next(),
            regions: c.regions,
        }
    }
}
