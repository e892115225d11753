//! One side of a pass: the points of one or more catalogues sorted into the
//! cells of a lattice, with what the kernel reads of each point.

use crate::error::{CoreError, Result};
use crate::geometry::{validate_weights, Metric};
use crate::grid::{Columns, Grid, Lattice};

use super::Catalogue;

/// Points in cell order, laid out for the inner loop.
pub(crate) struct Side {
    pub grid: Grid,
    pub cols: Columns,
    /// Individual weights.
    pub w: Vec<f64>,
    /// Weights in pairs of a galaxy with a random (the IIP weights of
    /// galaxies with bitwise weights); None: the individual weights.
    pub wx: Option<Vec<f64>>,
    /// 0 for a galaxy, 1 for a random.
    pub t: Vec<u8>,
    /// Bitwise weights, `nwords` per point (zeros for randoms); empty without.
    pub bits: Vec<u64>,
    pub nwords: usize,
    /// Jackknife region of each point; empty without regions.
    pub region: Vec<u32>,
    /// MPI owner keys (empty without) and buffer flags (empty when every
    /// point of the side is owned).
    pub key: Vec<u64>,
    pub buffer: Vec<u8>,
    /// Per cell: does it hold an owned point? (empty when every point is owned)
    pub owned_cells: Vec<bool>,
    /// Per cell: are all its points owned? (empty when every point is owned)
    pub pure_cells: Vec<bool>,
    /// |p| of each point (for angular upweights); empty without.
    pub norm: Vec<f64>,
    /// The kind of every point, when they are all of one kind.
    pub kind: Option<u8>,
    /// Every weight is 1 (a product of two is then exactly 1).
    pub unit: bool,
    /// Per cell the bounding box of its points (lower x, y, z, upper x, y,
    /// z); an empty cell's box is inverted.
    pub bounds: Vec<[f64; 6]>,
    /// Per cell the index of its first random: the catalogues come galaxies
    /// first and the cell sort is stable (and with regions sorts by kind
    /// first), so each cell holds its galaxies, then its randoms.
    pub split: Vec<u32>,
    /// Mean points per occupied cell.
    pub occupancy: f64,
    /// With regions: each cell's points sorted by kind, then region, in
    /// runs of one kind and region, (end, region) each; the runs of cell c
    /// are `runs[run_start[c]..run_start[c + 1]]`.
    pub runs: Vec<(u32, u32)>,
    pub run_start: Vec<u32>,
}

impl Side {
    /// Sorts `parts` into the cells of `lattice`. `nwords`: bitwise words
    /// kept per point (0: none); `norms`: keep |p| of every point.
    pub fn new(parts: &[&Catalogue], lattice: Lattice, nwords: usize, norms: bool) -> Self {
        let n: usize = parts.iter().map(|c| c.len()).sum();
        // Where each merged row comes from: (part, row).
        let mut from = Vec::with_capacity(n);
        for (k, c) in parts.iter().enumerate() {
            from.extend((0..c.len()).map(|i| (k as u32, i as u32)));
        }
        let get = |m: usize| {
            let (k, i) = from[m];
            (parts[k as usize], i as usize)
        };
        let x: Vec<f64> = parts
            .iter()
            .flat_map(|c| c.sample.pos.x.iter().copied())
            .collect();
        let y: Vec<f64> = parts
            .iter()
            .flat_map(|c| c.sample.pos.y.iter().copied())
            .collect();
        let z: Vec<f64> = parts
            .iter()
            .flat_map(|c| c.sample.pos.z.iter().copied())
            .collect();
        let mut grid = Grid::on(
            lattice,
            &crate::geometry::Positions {
                x: &x,
                y: &y,
                z: &z,
            },
        );
        drop((x, y, z));
        let labelled = parts.iter().any(|c| c.regions.is_some());
        if labelled {
            // Each cell's points by kind, then region (stably): runs of one
            // kind and region, which whole-cell counts take as they are.
            let key = |m: u32| {
                let (c, i) = get(m as usize);
                (u8::from(c.is_random), c.regions.map_or(0, |r| r[i]))
            };
            for c in 0..grid.ncells() {
                let r = grid.range(c);
                grid.order[r].sort_by_key(|&m| key(m));
            }
        }
        let order = &grid.order;
        let map = |f: &dyn Fn(&Catalogue, usize) -> f64| -> Vec<f64> {
            order
                .iter()
                .map(|&m| {
                    let (c, i) = get(m as usize);
                    f(c, i)
                })
                .collect()
        };
        let cols = Columns {
            x: map(&|c, i| c.sample.pos.x[i]),
            y: map(&|c, i| c.sample.pos.y[i]),
            z: map(&|c, i| c.sample.pos.z[i]),
        };
        let w = map(&|c, i| c.sample.weight(i));
        let wx = parts
            .iter()
            .any(|c| c.cross_weights.is_some())
            .then(|| map(&|c, i| c.cross_weights.map_or(c.sample.weight(i), |v| v[i])));
        let t: Vec<u8> = order
            .iter()
            .map(|&m| u8::from(get(m as usize).0.is_random))
            .collect();
        let mut bits = Vec::new();
        if nwords > 0 {
            bits.reserve(n * nwords);
            for &m in order {
                let (c, i) = get(m as usize);
                match c.bits {
                    Some(b) => bits.extend_from_slice(&b[i * nwords..(i + 1) * nwords]),
                    None => bits.extend(std::iter::repeat_n(0, nwords)),
                }
            }
        }
        let region = if parts.iter().any(|c| c.regions.is_some()) {
            order
                .iter()
                .map(|&m| {
                    let (c, i) = get(m as usize);
                    c.regions.map_or(0, |r| r[i])
                })
                .collect()
        } else {
            Vec::new()
        };
        // Keys travel whenever the catalogues carry them (MPI): a side whose
        // points are all owned still meets buffer copies on the other side
        // of a cross pass, and the smaller key decides who counts the pair.
        let key = if parts.iter().any(|c| c.keys.is_some()) {
            order
                .iter()
                .map(|&m| {
                    let (c, i) = get(m as usize);
                    c.keys.map_or(0, |k| k[i])
                })
                .collect()
        } else {
            Vec::new()
        };
        let owned = parts
            .iter()
            .all(|c| c.buffer.is_none_or(|b| b.iter().all(|&f| f == 0)));
        let buffer = if owned {
            Vec::new()
        } else {
            order
                .iter()
                .map(|&m| {
                    let (c, i) = get(m as usize);
                    c.buffer.map_or(0, |b| b[i])
                })
                .collect()
        };
        let norm = if norms {
            (0..n)
                .map(|i| {
                    let (a, b, c) = (cols.x[i], cols.y[i], cols.z[i]);
                    (a * a + b * b + c * c).sqrt()
                })
                .collect()
        } else {
            Vec::new()
        };
        let (owned_cells, pure_cells) = if buffer.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            (0..grid.ncells())
                .map(|c| {
                    let r = grid.range(c);
                    let owned = r.clone().filter(|&i| buffer[i] == 0).count();
                    (owned > 0, owned == r.len())
                })
                .unzip()
        };
        let kind = match t.first() {
            Some(&k) if t.iter().all(|&v| v == k) => Some(k),
            _ => None,
        };
        let unit = w.iter().all(|&v| v == 1.0);
        let bounds = (0..grid.ncells())
            .map(|c| {
                let mut b = [
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ];
                for i in grid.range(c) {
                    for (a, col) in [&cols.x, &cols.y, &cols.z].into_iter().enumerate() {
                        b[a] = b[a].min(col[i]);
                        b[a + 3] = b[a + 3].max(col[i]);
                    }
                }
                b
            })
            .collect();
        let split = (0..grid.ncells())
            .map(|c| {
                let r = grid.range(c);
                let g = t[r.clone()].iter().take_while(|&&k| k == 0).count();
                debug_assert!(t[r.start + g..r.end].iter().all(|&k| k == 1));
                (r.start + g) as u32
            })
            .collect();
        let occupied = (0..grid.ncells())
            .filter(|&c| !grid.range(c).is_empty())
            .count();
        let occupancy = n as f64 / occupied.max(1) as f64;
        let (mut runs, mut run_start) = (Vec::new(), Vec::new());
        if labelled {
            run_start.push(0);
            for c in 0..grid.ncells() {
                let r = grid.range(c);
                let mut k = r.start;
                while k < r.end {
                    let mut e = k + 1;
                    while e < r.end && t[e] == t[k] && region[e] == region[k] {
                        e += 1;
                    }
                    runs.push((e as u32, region[k]));
                    k = e;
                }
                run_start.push(runs.len() as u32);
            }
        }
        Self {
            runs,
            run_start,
            occupancy,
            split,
            bounds,
            owned_cells,
            pure_cells,
            kind,
            unit,
            grid,
            cols,
            w,
            wx,
            t,
            bits,
            nwords,
            region,
            key,
            buffer,
            norm,
        }
    }

    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Bounds on the squared distance from `p` of every point of cell c,
    /// as `block::hits` computes it (`period`: the box size and its half,
    /// for the minimum image): the same operations on the box's corners,
    /// and rounding is monotonic, so no point's d^2 falls outside.
    #[inline(always)]
    pub fn d2_bounds(&self, c: usize, p: [f64; 3], period: Option<(f64, f64)>) -> (f64, f64) {
        let b = &self.bounds[c];
        let (mut near, mut far) = ([0.0; 3], [0.0; 3]);
        for a in 0..3 {
            // every coordinate difference lies in [u, v]
            let (mut u, mut v) = (b[a] - p[a], b[a + 3] - p[a]);
            if let Some((l, half)) = period {
                if u > half {
                    (u, v) = (u - l, v - l);
                } else if v < -half {
                    (u, v) = (u + l, v + l);
                } else if u < -half || v > half {
                    // some differences wrap, some not: |d| only shrinks
                    far[a] = u.abs().max(v.abs());
                    continue;
                }
            }
            near[a] = if u > 0.0 {
                u
            } else if v < 0.0 {
                -v
            } else {
                0.0
            };
            far[a] = u.abs().max(v.abs());
        }
        let sq = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1]) + v[2] * v[2];
        (sq(near), sq(far))
    }

    #[inline(always)]
    pub fn pos(&self, i: usize) -> [f64; 3] {
        [self.cols.x[i], self.cols.y[i], self.cols.z[i]]
    }

    /// The weight of point i in a pair with a point of the other kind.
    #[inline(always)]
    pub fn wx(&self, i: usize) -> f64 {
        self.wx.as_ref().map_or(self.w[i], |v| v[i])
    }

    #[inline(always)]
    pub fn words(&self, i: usize) -> &[u64] {
        &self.bits[i * self.nwords..(i + 1) * self.nwords]
    }

    pub fn owned(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Does cell c hold an owned point (or none at all)?
    #[inline(always)]
    pub fn has_owned(&self, c: usize) -> bool {
        self.owned_cells.get(c).copied().unwrap_or(true)
    }

    /// Are all the points of cell c owned?
    #[inline(always)]
    pub fn all_owned(&self, c: usize) -> bool {
        self.pure_cells.get(c).copied().unwrap_or(true)
    }
}

/// Checks one catalogue of a two-point count: positions (and the box),
/// weights, bitwise words, regions, MPI keys.
pub(crate) fn validate(
    c: &Catalogue,
    what: &str,
    metric: &Metric,
    nwords: usize,
    nregions: usize,
) -> Result<()> {
    // An empty catalogue adds nothing (a rank may own no point of one);
    // the Python layer refuses empty user catalogues.
    let n = c.len();
    if n > 0 {
        c.sample.validate(what, metric)?;
    }
    if let Some(w) = c.cross_weights {
        validate_weights(what, w, n)?;
    }
    if let Some(b) = c.bits {
        if b.len() != n * nwords {
            return Err(CoreError::InvalidInput(format!(
                "{what} bitwise weights hold {} words, expected {nwords} per point for {n} points",
                b.len()
            )));
        }
    }
    if let Some(r) = c.regions {
        if r.len() != n {
            return Err(CoreError::InvalidInput(format!(
                "{what} region labels have length {} but there are {n} points",
                r.len()
            )));
        }
        if let Some(v) = r.iter().find(|&&v| v as usize >= nregions.max(1)) {
            return Err(CoreError::InvalidInput(format!(
                "{what} region label {v} is not below the number of regions {nregions}"
            )));
        }
    }
    for (name, len) in [
        ("owner keys", c.keys.map(|k| k.len())),
        ("buffer flags", c.buffer.map(|b| b.len())),
    ] {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(CoreError::InvalidInput(format!(
                "{what} {name} have length {len} but there are {n} points"
            )));
        }
    }
    Ok(())
}
