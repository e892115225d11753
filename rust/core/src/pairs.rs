//! Exact weighted pair counts, straight from the cell grid (no stored graph).

use crate::bins::{Bins, OUT};
use crate::catalogue::{validate_inputs, Merged, Sample};
use crate::control::Control;
use crate::error::Result;
use crate::geometry::Metric;
use crate::grid::{Columns, Grid};
use crate::reduce::chunked_sum;

/// Weighted pair counts over unordered pairs {i, j}, i != j, each of shape
/// (nbins, nmu) in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCounts {
    pub dd: Vec<f64>,
    pub dr: Vec<f64>,
    pub rr: Vec<f64>,
}

impl PairCounts {
    pub(crate) fn from_flat(flat: Vec<f64>, per: usize) -> Self {
        Self {
            dd: flat[..per].to_vec(),
            dr: flat[per..2 * per].to_vec(),
            rr: flat[2 * per..].to_vec(),
        }
    }
}

/// Points in cell order, laid out for the inner loop.
pub(crate) struct Sorted {
    pub p: Vec<[f64; 3]>,
    pub cols: Columns,
    pub w: Vec<f64>,
    pub t: Vec<u8>,
}

impl Sorted {
    pub fn new(m: &Merged, grid: &Grid) -> Self {
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
        Self { p, cols, w, t }
    }
}

/// DD, DR and RR in one pass over the cell grid.
pub fn count_pairs(
    data: &Sample,
    randoms: Option<&Sample>,
    bins: &Bins,
    metric: &Metric,
    control: &Control,
) -> Result<PairCounts> {
    validate_inputs(data, randoms, metric, bins.rmax())?;
    let merged = Merged::new(data, randoms);
    let grid = Grid::build(&merged.positions(), metric, bins.rmax());
    let pts = Sorted::new(&merged, &grid);
    let (nb, nmu) = (bins.nbins(), bins.nmu());
    let per = nb * nmu;
    let d2cut = bins.d2_cut();
    let cell_of = grid.cell_of_sorted();
    // Node-major order, as in Graph::count_pairs: both paths add the same
    // terms in the same order, so even weighted sums agree to the last bit.
    let flat = chunked_sum(pts.p.len(), 3 * per, control, |nodes, acc| {
        let mut near = Vec::new();
        let mut found = Vec::new();
        let mut cell = usize::MAX;
        for i in nodes {
            let a = cell_of[i] as usize;
            if a != cell {
                grid.neighbours(a, &mut near);
                cell = a;
            }
            grid.forward(&pts.cols, metric, i, a, &near, d2cut, &mut found);
            let (wi, ti) = (pts.w[i], pts.t[i]);
            for &(j, d2) in &found {
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
        }
    })?;
    Ok(PairCounts::from_flat(flat, per))
}
