//! A uniform cell grid for fixed-radius neighbour search.
//!
//! Cells of about rmax/2 (the refinement Corrfunc uses) searched over their
//! +-2 neighbours: every pair closer than rmax is found, and points of one
//! cell are contiguous after sorting, so inner loops stream through memory.
//! See benchmarks/README.md for the comparison with a kd-tree (kiddo).

use crate::geometry::{Metric, Positions};

/// Cells per rmax along an axis.
const REFINE: f64 = 2.0;

/// The cells of a search: per axis the origin, width and count of cells
/// and, per cell coordinate, the neighbouring coordinates. Point sets sorted
/// on one lattice can be searched against each other (cross pairs).
#[derive(Clone, Debug)]
pub struct Lattice {
    pub dims: [usize; 3],
    lo: [f64; 3],
    width: [f64; 3],
    /// The box size of a periodic metric.
    period: Option<f64>,
    /// Per axis and cell coordinate: the neighbouring coordinates, ascending, unique.
    near: [Vec<Vec<u32>>; 3],
}

impl Lattice {
    /// Cells of about rmax / REFINE over the extent of all `parts` (the box
    /// in a periodic metric), at most ~ a quarter as many as their points.
    pub fn new(parts: &[Positions], metric: &Metric, rmax: f64) -> Self {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        let mut lo = [0.0; 3];
        let mut width = [1.0; 3];
        let mut dims = [1usize; 3];
        // Visiting a cell costs about as much as a few distance tests, so
        // cells holding fewer than ~4 points on average are not worth it.
        let max_cells = (n / 4).max(64) as f64;
        let per_axis_cap = max_cells.cbrt().floor().max(1.0) as usize;
        for a in 0..3 {
            let (l0, extent) = match metric.boxsize {
                Some(l) => (0.0, l),
                None => {
                    let (mn, mx) = parts
                        .iter()
                        .flat_map(|p| [p.x, p.y, p.z][a].iter())
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
            // Cells a hair wider than rmax/REFINE, so that the +-REFINE cells
            // always cover rmax (see the slack below).
            let mut k =
                ((extent / (target * (1.0 + 1e-5))).floor() as usize).clamp(1, per_axis_cap);
            if metric.boxsize.is_none() {
                k = k.min(n.max(1));
            }
            lo[a] = l0;
            dims[a] = k;
            width[a] = extent / k as f64;
        }
        // The slack (1e-6 of a cell) covers rounding in the cell assignment.
        let near = std::array::from_fn(|a| {
            // More than the whole axis is never needed (and a degenerate
            // extent would otherwise ask for an astronomical reach).
            let reach = if rmax > 0.0 {
                ((rmax / width[a] + 1e-6).ceil()).min(dims[a] as f64) as i64
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
            lo,
            width,
            period: metric.boxsize,
            near,
        }
    }

    pub fn ncells(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// The cell of a point (points outside the extent go to the border cells).
    #[inline(always)]
    pub fn cell_of(&self, p: [f64; 3]) -> usize {
        let mut c = 0;
        for (a, &v) in p.iter().enumerate() {
            let t = ((v - self.lo[a]) / self.width[a]).floor();
            let ia = if t < 0.0 {
                0
            } else {
                (t as usize).min(self.dims[a] - 1)
            };
            c = c * self.dims[a] + ia;
        }
        c
    }

    /// The neighbouring cells of `c` that may hold a point closer than
    /// sqrt(cut) to `p` (a point of cell c), in ascending order: each cell's
    /// distance to p, from the distances along each axis to its slab, made
    /// a hair smaller (1e-9 relative) so that rounding never drops a cell
    /// that holds a pair.
    pub fn near_cells(&self, c: usize, p: [f64; 3], cut: f64, out: &mut Vec<usize>) {
        out.clear();
        let [_, d1, d2] = self.dims;
        let (ix, iy, iz) = (c / (d1 * d2), (c / d2) % d1, c % d2);
        let mut gap = [[0.0f64; 16]; 3];
        let own = [ix, iy, iz];
        for a in 0..3 {
            let near = &self.near[a][own[a]];
            if near.len() > 16 {
                // more than 16 cells per axis in reach: no pruning on this axis
                gap[a] = [0.0; 16];
                continue;
            }
            for (k, &cx) in near.iter().enumerate() {
                let w = self.width[a];
                let start = self.lo[a] + cx as f64 * w;
                let t = p[a] - start;
                let g = match self.period {
                    Some(l) => {
                        let t = t.rem_euclid(l);
                        if t < w {
                            0.0
                        } else {
                            (t - w).min(l - t)
                        }
                    }
                    None => {
                        if t < 0.0 {
                            -t
                        } else if t > w {
                            t - w
                        } else {
                            0.0
                        }
                    }
                };
                let g = (g * (1.0 - 1e-9)).max(0.0);
                gap[a][k] = g * g;
            }
        }
        let (nx, ny, nz) = (&self.near[0][ix], &self.near[1][iy], &self.near[2][iz]);
        let small = |a: usize| self.near[a][own[a]].len() <= 16;
        let (sx, sy, sz) = (small(0), small(1), small(2));
        for (kx, &x) in nx.iter().enumerate() {
            let gx = if sx { gap[0][kx] } else { 0.0 };
            if gx >= cut {
                continue;
            }
            for (ky, &y) in ny.iter().enumerate() {
                let gy = gx + if sy { gap[1][ky] } else { 0.0 };
                if gy >= cut {
                    continue;
                }
                for (kz, &z) in nz.iter().enumerate() {
                    let gz = gy + if sz { gap[2][kz] } else { 0.0 };
                    if gz < cut {
                        out.push((x as usize * d1 + y as usize) * d2 + z as usize);
                    }
                }
            }
        }
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
}

pub struct Grid {
    pub lattice: Lattice,
    /// Point indices sorted by cell.
    pub order: Vec<u32>,
    /// `order[start[c]..start[c + 1]]` are the points of cell c.
    pub start: Vec<u32>,
}

impl Grid {
    pub fn build(pos: &Positions, metric: &Metric, rmax: f64) -> Self {
        Self::on(Lattice::new(&[*pos], metric, rmax), pos)
    }

    /// The points of `pos` sorted into the cells of `lattice`.
    pub fn on(lattice: Lattice, pos: &Positions) -> Self {
        let n = pos.len();
        let ncell = lattice.ncells();
        let cells: Vec<u32> = (0..n).map(|i| lattice.cell_of(pos.get(i)) as u32).collect();
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
        Self {
            lattice,
            order,
            start,
        }
    }

    pub fn dims(&self) -> [usize; 3] {
        self.lattice.dims
    }

    /// Neighbouring cells of `c` (itself included), in ascending order.
    pub fn neighbours(&self, c: usize, out: &mut Vec<usize>) {
        self.lattice.neighbours(c, out)
    }

    pub fn ncells(&self) -> usize {
        self.start.len() - 1
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

    /// Room in `out` for every point of the cells `near`.
    #[inline(always)]
    fn reserve_for(&self, near: &[usize], out: &mut Vec<(u32, f64)>) {
        let total: usize = near.iter().map(|&b| self.range(b).len()).sum();
        out.reserve(total);
    }
}

/// Positions in cell order as three columns, for loops the compiler can vectorise.
pub(crate) struct Columns {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
}

#[inline(always)]
fn wrap<const PERIODIC: bool>(d: f64, l: f64, half: f64) -> f64 {
    if !PERIODIC {
        d
    } else if d > half {
        d - l
    } else if d < -half {
        d + l
    } else {
        d
    }
}

/// Points scanned per block: the distance pass over a block is straight-line
/// arithmetic the compiler vectorises; the compaction pass then keeps the hits.
const BLOCK: usize = 64;

/// Pushes (j, d^2) for the points j of `range` closer than `cut` in d^2, with
/// d^2 computed exactly as `Metric::d2(p_i, p_j)` does (no fused multiply-add).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn scan<const PERIODIC: bool>(
    p: [f64; 3],
    c: &Columns,
    range: std::ops::Range<usize>,
    l: f64,
    half: f64,
    cut: f64,
    d2: &mut [f64; BLOCK],
    out: &mut Vec<(u32, f64)>,
) {
    let mut start = range.start;
    while start < range.end {
        let end = (start + BLOCK).min(range.end);
        let (xs, ys, zs) = (&c.x[start..end], &c.y[start..end], &c.z[start..end]);
        let d2 = &mut d2[..end - start];
        for k in 0..d2.len() {
            let dx = wrap::<PERIODIC>(xs[k] - p[0], l, half);
            let dy = wrap::<PERIODIC>(ys[k] - p[1], l, half);
            let dz = wrap::<PERIODIC>(zs[k] - p[2], l, half);
            d2[k] = dx * dx + dy * dy + dz * dz;
        }
        // Branch-free compaction: write every candidate, advance on a hit.
        // The callers reserve room for every candidate of their ranges once
        // (`reserve_for`), so no block checks capacity.
        debug_assert!(out.capacity() - out.len() >= d2.len());
        let base = out.len();
        let mut n = 0;
        let dst = out.as_mut_ptr();
        for (k, &v) in d2.iter().enumerate() {
            // SAFETY: base + n <= base + k < capacity (room for every candidate).
            unsafe { dst.add(base + n).write(((start + k) as u32, v)) };
            n += usize::from(v < cut);
        }
        // SAFETY: the first n slots past base were written above.
        unsafe { out.set_len(base + n) };
        start = end;
    }
}

impl Grid {
    /// Calls `visit(i, a, first)` for the nodes i of `nodes` in ascending
    /// order, with `a` the cell of i and `first` set for the first node of
    /// each cell (to fetch the cell's neighbours once).
    #[inline(always)]
    pub(crate) fn walk(
        &self,
        nodes: std::ops::Range<usize>,
        mut visit: impl FnMut(usize, usize, bool),
    ) {
        // The cell holding the first node: the last one starting at or before it.
        let mut a = self.start.partition_point(|&s| s as usize <= nodes.start) - 1;
        while a < self.ncells() && (self.start[a] as usize) < nodes.end {
            let here = self.range(a);
            let (lo, hi) = (here.start.max(nodes.start), here.end.min(nodes.end));
            for i in lo..hi {
                visit(i, a, i == lo);
            }
            a += 1;
        }
    }

    /// (j, d^2) for every point j of this grid (with columns `cols`) in the
    /// cells `near` whose d^2 to `p` is below `cut`, j ascending: the points
    /// of another set sorted on the same lattice, searched from a point of
    /// the first (cross pairs, each found once).
    #[inline(always)]
    pub(crate) fn scan_cells(
        &self,
        cols: &Columns,
        metric: &Metric,
        p: [f64; 3],
        near: &[usize],
        cut: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        out.clear();
        self.reserve_for(near, out);
        let mut d2 = [0.0f64; BLOCK];
        for &b in near {
            let r = self.range(b);
            match metric.boxsize {
                None => scan::<false>(p, cols, r, 0.0, 0.0, cut, &mut d2, out),
                Some(l) => scan::<true>(p, cols, r, l, 0.5 * l, cut, &mut d2, out),
            }
        }
    }

    /// (j, d^2) for every j > i (`ALL`: every j != i) in the cells `near` of
    /// i's cell `a` (ascending cell order, so j comes out ascending) with
    /// d^2 < cut.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn scan_near<const ALL: bool>(
        &self,
        cols: &Columns,
        metric: &Metric,
        i: usize,
        a: usize,
        near: &[usize],
        cut: f64,
        out: &mut Vec<(u32, f64)>,
    ) {
        out.clear();
        self.reserve_for(near, out);
        let mut d2 = [0.0f64; BLOCK];
        let p = [cols.x[i], cols.y[i], cols.z[i]];
        let (l, half) = metric.boxsize.map_or((0.0, 0.0), |l| (l, 0.5 * l));
        let periodic = metric.boxsize.is_some();
        for &b in near {
            if !ALL && b < a {
                continue;
            }
            let r = self.range(b);
            // No closure here: the scan must be inlined into the callers'
            // vector-instruction variants.
            let (first, second) = if a == b {
                (if ALL { r.start..i } else { 0..0 }, i + 1..r.end)
            } else {
                (0..0, r)
            };
            for r in [first, second] {
                if r.is_empty() {
                    continue;
                }
                if periodic {
                    scan::<true>(p, cols, r, l, half, cut, &mut d2, out);
                } else {
                    scan::<false>(p, cols, r, 0.0, 0.0, cut, &mut d2, out);
                }
            }
        }
    }
}
