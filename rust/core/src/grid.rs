//! A uniform cell grid for fixed-radius neighbour search.
//!
//! Cells of about rmax/2 (the refinement Corrfunc uses) searched over their
//! +-2 neighbours: every pair closer than rmax is found, and points of one
//! cell are contiguous after sorting, so inner loops stream through memory.
//! See benchmarks/README.md for the comparison with a kd-tree (kiddo).

use crate::geometry::{Metric, Positions};

/// Cells per rmax along an axis.
const REFINE: f64 = 2.0;

pub struct Grid {
    pub dims: [usize; 3],
    /// Point indices sorted by cell.
    pub order: Vec<u32>,
    /// `order[start[c]..start[c + 1]]` are the points of cell c.
    pub start: Vec<u32>,
    /// Per axis and cell coordinate: the neighbouring coordinates, ascending, unique.
    near: [Vec<Vec<u32>>; 3],
}

impl Grid {
    pub fn build(pos: &Positions, metric: &Metric, rmax: f64) -> Self {
        let n = pos.len();
        let cols = [pos.x, pos.y, pos.z];
        let mut lo = [0.0; 3];
        let mut width = [1.0; 3];
        let mut dims = [1usize; 3];
        // Too many cells for the points only costs empty-cell visits: cap them.
        let max_cells = (8 * n).max(64) as f64;
        let per_axis_cap = max_cells.cbrt().floor().max(1.0) as usize;
        for a in 0..3 {
            let (l0, extent) = match metric.boxsize {
                Some(l) => (0.0, l),
                None => {
                    let (mn, mx) = cols[a]
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(mn, mx), &v| {
                            (mn.min(v), mx.max(v))
                        });
                    if n == 0 {
                        (0.0, 1.0)
                    } else {
                        (mn, (mx - mn).max(f64::MIN_POSITIVE))
                    }
                }
            };
            let target = if rmax > 0.0 { rmax / REFINE } else { extent };
            let mut k = ((extent / target).floor() as usize).clamp(1, per_axis_cap);
            if metric.boxsize.is_none() {
                k = k.min(n.max(1));
            }
            lo[a] = l0;
            dims[a] = k;
            width[a] = extent / k as f64;
        }
        let ncell = dims[0] * dims[1] * dims[2];
        let cell_of = |i: usize| -> usize {
            let mut c = 0;
            for a in 0..3 {
                let t = ((cols[a][i] - lo[a]) / width[a]).floor();
                let ia = if t < 0.0 {
                    0
                } else {
                    (t as usize).min(dims[a] - 1)
                };
                c = c * dims[a] + ia;
            }
            c
        };
        let cells: Vec<u32> = (0..n).map(|i| cell_of(i) as u32).collect();
        let mut start = vec![0u32; ncell + 1];
        for &c in &cells {
            start[c as usize + 1] += 1;
        }
        for c in 0..ncell {
            start[c + 1] += start[c];
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; n];
        for (i, &c) in cells.iter().enumerate() {
            order[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
        // The slack (1e-6 of a cell) covers rounding in the cell assignment.
        let near = std::array::from_fn(|a| {
            let reach = if rmax > 0.0 {
                (rmax / width[a] + 1e-6).ceil() as i64
            } else {
                1
            };
            (0..dims[a] as i64)
                .map(|c| {
                    let mut v: Vec<u32> = (c - reach..=c + reach)
                        .filter_map(|t| {
                            let d = dims[a] as i64;
                            if metric.boxsize.is_some() {
                                Some(t.rem_euclid(d) as u32)
                            } else if (0..d).contains(&t) {
                                Some(t as u32)
                            } else {
                                None
                            }
                        })
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                })
                .collect()
        });
        Self {
            dims,
            order,
            start,
            near,
        }
    }

    pub fn ncells(&self) -> usize {
        self.start.len() - 1
    }

    /// Neighbouring cells of `c` (itself included), in ascending order.
    pub fn neighbours(&self, c: usize, out: &mut Vec<usize>) {
        out.clear();
        let [_, d1, d2] = self.dims;
        let (ix, iy, iz) = (c / (d1 * d2), (c / d2) % d1, c % d2);
        for &x in &self.near[0][ix] {
            for &y in &self.near[1][iy] {
                for &z in &self.near[2][iz] {
                    out.push((x as usize * d1 + y as usize) * d2 + z as usize);
                }
            }
        }
    }

    /// The cell of every point, in sorted order.
    pub fn cell_of_sorted(&self) -> Vec<u32> {
        let mut c = vec![0; self.order.len()];
        for cell in 0..self.ncells() {
            c[self.range(cell)].fill(cell as u32);
        }
        c
    }

    pub fn range(&self, c: usize) -> std::ops::Range<usize> {
        self.start[c] as usize..self.start[c + 1] as usize
    }
}
