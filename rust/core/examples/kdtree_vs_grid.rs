//! Fixed-radius search: astrograph's cell grid (`grid::Grid`) against the
//! kiddo kd-tree, on the same points, single-threaded and with rayon.
//!
//! Counts every unordered pair i < j with |p_i - p_j| < rmax (open space, no
//! periodic wrap: kiddo has none) and checks that both structures agree.
//! Times include building the structure (and, for the grid, sorting the
//! points by cell, which is what the library does).
//!
//! ```text
//! cargo run --release -p astrograph-core --example kdtree_vs_grid [-- N REPEATS ORDER]
//! ```
//!
//! Defaults: N = 100_000 points in a 250 box, rmax in {10, 20}, best of 5.
//! ORDER is `raw` (default: generation order, random for the uniform set,
//! parent by parent for the Thomas set) or `morton` (the points are first put
//! in Morton order, so that consecutive kd-tree queries touch nearby leaves;
//! the grid sorts by cell anyway). On the 2-core test machine the order made
//! no consistent difference to kiddo (see benchmarks/perf.md).

use std::time::Instant;

use astrograph_core::grid::Grid;
use astrograph_core::{Los, Metric, Positions};
use kiddo::immutable::float::kdtree::ImmutableKdTree;
use kiddo::{KdTree, SquaredEuclidean};
use rayon::prelude::*;

const BOX: f64 = 250.0;

/// splitmix64: a tiny seeded generator, enough for test catalogues.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn uniform(n: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut r = Rng(seed);
    (0..n)
        .map(|_| [r.uniform() * BOX, r.uniform() * BOX, r.uniform() * BOX])
        .collect()
}

/// Thomas-like process: n / 8 uniform parents, 8 Gaussian children each
/// (sigma = 3), wrapped into the box.
fn thomas(n: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut r = Rng(seed);
    let per = 8;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let c = [r.uniform() * BOX, r.uniform() * BOX, r.uniform() * BOX];
        for _ in 0..per.min(n - out.len()) {
            out.push(std::array::from_fn(|a| {
                (c[a] + 3.0 * r.normal()).rem_euclid(BOX)
            }));
        }
    }
    out
}

/// Sorts points along a Morton (z-order) curve of 2^10 cells per axis.
fn morton_sort(pts: &mut [[f64; 3]]) {
    fn spread(v: u64) -> u64 {
        // 10 bits -> every third bit
        let mut x = v & 0x3ff;
        x = (x | (x << 16)) & 0x0300_00ff;
        x = (x | (x << 8)) & 0x0300_f00f;
        x = (x | (x << 4)) & 0x030c_30c3;
        (x | (x << 2)) & 0x0924_9249
    }
    let key = |p: &[f64; 3]| -> u64 {
        let c = |v: f64| ((v / BOX * 1024.0) as u64).min(1023);
        spread(c(p[0])) << 2 | spread(c(p[1])) << 1 | spread(c(p[2]))
    };
    pts.sort_by_key(key);
}

/// All pairs closer than rmax through the grid, parallel over cells.
fn count_grid(pts: &[[f64; 3]], rmax: f64) -> u64 {
    let (x, y, z): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        pts.iter().map(|p| p[0]).collect(),
        pts.iter().map(|p| p[1]).collect(),
        pts.iter().map(|p| p[2]).collect(),
    );
    let pos = Positions::new(&x, &y, &z).unwrap();
    let metric = Metric::new(None, Los::Z).unwrap();
    let grid = Grid::build(&pos, &metric, rmax);
    let sorted: Vec<[f64; 3]> = grid.order.iter().map(|&i| pts[i as usize]).collect();
    let r2 = rmax * rmax;
    (0..grid.ncells())
        .into_par_iter()
        .map_init(Vec::new, |near, a| {
            grid.neighbours(a, near);
            let mut n = 0u64;
            for i in grid.range(a) {
                let p = sorted[i];
                for &b in near.iter().filter(|&&b| b >= a) {
                    let js = if a == b {
                        i + 1
                    } else {
                        grid.start[b] as usize
                    };
                    for q in &sorted[js..grid.start[b + 1] as usize] {
                        let (dx, dy, dz) = (q[0] - p[0], q[1] - p[1], q[2] - p[2]);
                        n += u64::from(dx * dx + dy * dy + dz * dz < r2);
                    }
                }
            }
            n
        })
        .sum()
}

/// All pairs closer than rmax through kiddo's immutable kd-tree.
fn count_kiddo_immutable(pts: &[[f64; 3]], rmax: f64) -> u64 {
    let tree: ImmutableKdTree<f64, u64, 3, 32> = ImmutableKdTree::new_from_slice(pts);
    let r2 = rmax * rmax;
    pts.par_iter()
        .enumerate()
        .map(|(i, p)| {
            tree.within_unsorted_exclusive::<SquaredEuclidean>(p, r2, false)
                .iter()
                .filter(|nb| nb.item as usize > i)
                .count() as u64
        })
        .sum()
}

/// All pairs closer than rmax through kiddo's mutable kd-tree.
fn count_kiddo_mutable(pts: &[[f64; 3]], rmax: f64) -> u64 {
    let mut tree: KdTree<f64, 3> = KdTree::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        tree.add(p, i as u64);
    }
    let r2 = rmax * rmax;
    pts.par_iter()
        .enumerate()
        .map(|(i, p)| {
            tree.within_unsorted_exclusive::<SquaredEuclidean>(p, r2, false)
                .iter()
                .filter(|nb| nb.item as usize > i)
                .count() as u64
        })
        .sum()
}

fn best_of<F: FnMut() -> u64>(repeats: usize, mut f: F) -> (u64, f64) {
    let mut best = f64::INFINITY;
    let mut n = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (n, best)
}

type Counter = fn(&[[f64; 3]], f64) -> u64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(100_000, |s| s.parse().unwrap());
    let repeats: usize = args.get(2).map_or(5, |s| s.parse().unwrap());
    let order = args.get(3).map_or("raw", |s| s.as_str());
    assert!(
        order == "morton" || order == "raw",
        "ORDER is morton or raw"
    );
    let methods: [(&str, Counter); 3] = [
        ("grid", count_grid),
        ("kiddo ImmutableKdTree", count_kiddo_immutable),
        ("kiddo KdTree", count_kiddo_mutable),
    ];
    println!(
        "N = {n}, box = {BOX}, best of {repeats}, point order {order}; times include building the structure"
    );
    println!(
        "{:<10} {:>5} {:>7} {:<22} {:>13} {:>10} {:>10}",
        "points", "rmax", "threads", "method", "pairs", "seconds", "vs grid"
    );
    let mut all_agree = true;
    for (name, mut pts) in [("uniform", uniform(n, 42)), ("thomas", thomas(n, 43))] {
        if order == "morton" {
            morton_sort(&mut pts);
        }
        for rmax in [10.0, 20.0] {
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut grid_time = f64::NAN;
                let mut grid_pairs = 0;
                for (method, f) in methods {
                    let (pairs, secs) = pool.install(|| best_of(repeats, || f(&pts, rmax)));
                    if method == "grid" {
                        grid_time = secs;
                        grid_pairs = pairs;
                    }
                    let agree = pairs == grid_pairs;
                    all_agree &= agree;
                    println!(
                        "{name:<10} {rmax:>5} {threads:>7} {method:<22} {pairs:>13} {secs:>10.3} {:>9.2}x{}",
                        secs / grid_time,
                        if agree { "" } else { "  COUNTS DIFFER" }
                    );
                }
            }
        }
    }
    println!(
        "counts agree: {}",
        if all_agree {
            "yes (all methods, all cases)"
        } else {
            "NO"
        }
    );
    assert!(all_agree, "pair counts differ between grid and kiddo");
}
