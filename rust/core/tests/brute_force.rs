//! Seeded differential tests: every kernel against plain O(N^k) loops.

use astrograph_core::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

struct Cat {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    w: Vec<f64>,
}

impl Cat {
    fn sample(&self, weighted: bool) -> Sample<'_> {
        Sample::new(
            Positions::new(&self.x, &self.y, &self.z).unwrap(),
            weighted.then_some(&self.w[..]),
        )
    }
    fn p(&self, i: usize) -> [f64; 3] {
        [self.x[i], self.y[i], self.z[i]]
    }
}

/// Uniform points, or clumps, with duplicates and points on a lattice so
/// that separations fall exactly on bin edges.
fn catalogue(seed: u64, n: usize, size: f64, clustered: bool) -> Cat {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut c = Cat {
        x: vec![],
        y: vec![],
        z: vec![],
        w: vec![],
    };
    let centres: Vec<[f64; 3]> = (0..4)
        .map(|_| {
            [
                rng.random::<f64>() * size,
                rng.random::<f64>() * size,
                rng.random::<f64>() * size,
            ]
        })
        .collect();
    for i in 0..n {
        let p = if i % 10 == 9 && i > 0 {
            c.p(i - 1) // duplicate
        } else if i % 10 == 8 {
            [(i % 5) as f64, ((i / 5) % 5) as f64, 2.0] // lattice: exact edges
        } else if clustered {
            let m = centres[i % 4];
            [
                (m[0] + rng.random::<f64>() * 3.0).clamp(0.0, size),
                (m[1] + rng.random::<f64>() * 3.0).clamp(0.0, size),
                (m[2] + rng.random::<f64>() * 3.0).clamp(0.0, size),
            ]
        } else {
            [
                rng.random::<f64>() * size,
                rng.random::<f64>() * size,
                rng.random::<f64>() * size,
            ]
        };
        c.x.push(p[0]);
        c.y.push(p[1]);
        c.z.push(p[2]);
        c.w.push(0.5 + rng.random::<f64>());
    }
    c
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{x} != {y}");
    }
}

fn all_points(d: &Cat, r: &Cat) -> (Vec<[f64; 3]>, Vec<f64>, Vec<usize>) {
    let mut p = vec![];
    let mut w = vec![];
    let mut t = vec![];
    for (cat, ty) in [(d, 0), (r, 1)] {
        for i in 0..cat.x.len() {
            p.push(cat.p(i));
            w.push(cat.w[i]);
            t.push(ty);
        }
    }
    (p, w, t)
}

fn brute_pairs(d: &Cat, r: &Cat, bins: &Bins, m: &Metric, weighted: bool) -> Vec<f64> {
    let (p, w, t) = all_points(d, r);
    let per = bins.nbins() * bins.nmu();
    let mut acc = vec![0.0; 3 * per];
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            let (s, mu) = m.sep_mu(p[i], p[j]);
            let b = bins.bin(s);
            if b == bins::OUT {
                continue;
            }
            let ww = if weighted { w[i] * w[j] } else { 1.0 };
            acc[(t[i] + t[j]) * per + b as usize * bins.nmu() + bins.mu_bin(mu)] += ww;
        }
    }
    acc
}

fn sort3(mut v: [u8; 3]) -> [usize; 3] {
    v.sort();
    v.map(|b| b as usize)
}

/// Calls `f(i, j, k, entry, weight)` for every triangle i < j < k of the
/// points of `d` then `r` with all three sides in the bins: `entry` in
/// (number of randoms, b1, b2, b3) with b1 <= b2 <= b3.
fn each_triangle(
    d: &Cat,
    r: &Cat,
    bins: &Bins,
    m: &Metric,
    mut f: impl FnMut([usize; 3], usize, f64),
) {
    let (p, w, t) = all_points(d, r);
    let nb = bins.nbins();
    let per = nb * nb * nb;
    let n = p.len();
    let bin = |a: usize, b: usize| bins.bin(m.d2(p[a], p[b]).sqrt());
    for i in 0..n {
        for j in i + 1..n {
            let bij = bin(i, j);
            if bij == bins::OUT {
                continue;
            }
            for k in j + 1..n {
                let (bik, bjk) = (bin(i, k), bin(j, k));
                if bik == bins::OUT || bjk == bins::OUT {
                    continue;
                }
                let [b1, b2, b3] = sort3([bij, bik, bjk]);
                let e = (t[i] + t[j] + t[k]) * per + (b1 * nb + b2) * nb + b3;
                f([i, j, k], e, w[i] * w[j] * w[k]);
            }
        }
    }
}

fn brute_triangles(d: &Cat, r: &Cat, bins: &Bins, m: &Metric, weighted: bool) -> Vec<f64> {
    let nb = bins.nbins();
    let mut acc = vec![0.0; 4 * nb * nb * nb];
    each_triangle(d, r, bins, m, |_, e, w| {
        acc[e] += if weighted { w } else { 1.0 };
    });
    acc
}

fn brute_quads(d: &Cat, r: &Cat, bins: &Bins, m: &Metric, shapes: &QuadShapes) -> Vec<f64> {
    let (p, _, t) = all_points(d, r);
    let ns = shapes.shapes.len();
    let mut acc = vec![0.0; 5 * ns];
    let n = p.len();
    let bin = |a: usize, b: usize| bins.bin(m.d2(p[a], p[b]).sqrt());
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                for l in k + 1..n {
                    let v = [i, j, k, l];
                    let s: [u8; 6] = std::array::from_fn(|e| {
                        let (a, b) = quads::QUAD_EDGES[e];
                        bin(v[a], v[b])
                    });
                    if s.contains(&bins::OUT) {
                        continue;
                    }
                    acc[(t[i] + t[j] + t[k] + t[l]) * ns + shapes.id(s)] += 1.0;
                }
            }
        }
    }
    acc
}

fn cases() -> Vec<(Cat, Cat, Option<f64>, Los)> {
    let mut v = vec![];
    for (seed, clustered) in [(1, false), (2, true)] {
        for boxsize in [None, Some(20.0)] {
            let los = if boxsize.is_some() {
                Los::Z
            } else {
                Los::Midpoint
            };
            v.push((
                catalogue(seed, 150, 20.0, clustered),
                catalogue(seed + 100, 120, 20.0, false),
                boxsize,
                los,
            ));
        }
    }
    v
}

#[test]
fn pair_counts_match_brute_force_on_every_path() {
    for (d, r, boxsize, los) in cases() {
        let m = Metric::new(boxsize, los).unwrap();
        for (edges, nmu) in [
            (vec![0.0, 1.0, 2.0, 3.0, 5.0, 8.0], 1),
            (vec![1.0, 2.0, 4.0, 6.0], 4),
        ] {
            let bins = Bins::new(edges, nmu).unwrap();
            for weighted in [false, true] {
                let want = brute_pairs(&d, &r, &bins, &m, weighted);
                let per = bins.nbins() * nmu;
                for threads in [1, 2, 3] {
                    let c = Control::new();
                    let got = with_threads(Some(threads), || {
                        count_pairs(
                            &d.sample(weighted),
                            Some(&r.sample(weighted)),
                            &bins,
                            &m,
                            Default::default(),
                            &c,
                        )
                    })
                    .unwrap()
                    .unwrap();
                    let flat: Vec<f64> = [got.dd.clone(), got.dr.clone(), got.rr.clone()].concat();
                    if weighted {
                        close(&flat, &want);
                    } else {
                        assert_eq!(flat, want);
                    }
                    let g = with_threads(Some(threads), || {
                        Graph::build(
                            &d.sample(weighted),
                            Some(&r.sample(weighted)),
                            &m,
                            &BuildOptions::new(0.0, 8.0),
                            &c,
                        )
                    })
                    .unwrap()
                    .unwrap();
                    g.validate().unwrap();
                    let from_graph = g.count_pairs(&bins, Default::default(), &c).unwrap();
                    let gflat = [from_graph.dd, from_graph.dr, from_graph.rr].concat();
                    if weighted {
                        close(&gflat, &flat);
                    } else {
                        assert_eq!(gflat, flat, "graph and direct counts differ");
                    }
                    assert_eq!(got.dd.len(), per);
                }
            }
        }
    }
}

#[test]
fn graph_without_stored_mu_counts_the_same() {
    let (d, r, _, _) = cases().remove(1);
    let m = Metric::new(None, Los::Midpoint).unwrap();
    let bins = Bins::new(vec![0.5, 2.0, 4.0], 5).unwrap();
    let c = Control::new();
    let mut opts = BuildOptions::new(0.0, 4.0);
    let a = Graph::build(&d.sample(true), Some(&r.sample(true)), &m, &opts, &c).unwrap();
    opts.store_mu = false;
    let b = Graph::build(&d.sample(true), Some(&r.sample(true)), &m, &opts, &c).unwrap();
    assert!(b.mu.is_none());
    assert_eq!(
        a.count_pairs(&bins, Default::default(), &c).unwrap(),
        b.count_pairs(&bins, Default::default(), &c).unwrap()
    );
}

#[test]
fn triangle_counts_match_brute_force() {
    for (d, r, boxsize, los) in cases() {
        let m = Metric::new(boxsize, los).unwrap();
        let bins = Bins::new(vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0], 1).unwrap();
        for weighted in [false, true] {
            let want = brute_triangles(&d, &r, &bins, &m, weighted);
            for threads in [1, 2] {
                let c = Control::new();
                let got = with_threads(Some(threads), || {
                    let g = Graph::build(
                        &d.sample(weighted),
                        Some(&r.sample(weighted)),
                        &m,
                        &BuildOptions::new(0.0, 6.0),
                        &c,
                    )
                    .unwrap();
                    g.count_triangles(&bins, Default::default(), &c).unwrap()
                })
                .unwrap();
                let flat = got.counts.concat();
                let direct = with_threads(Some(threads), || {
                    count_triangles(
                        &d.sample(weighted),
                        Some(&r.sample(weighted)),
                        &bins,
                        &m,
                        Default::default(),
                        &c,
                    )
                })
                .unwrap()
                .unwrap()
                .counts
                .concat();
                if weighted {
                    close(&flat, &want);
                    close(&direct, &want);
                } else {
                    assert_eq!(flat, want);
                    assert_eq!(direct, want);
                }
            }
        }
    }
}

#[test]
fn quad_counts_match_brute_force() {
    // Fewer points than the other cases: the reference is O(N^4).
    let small = |seed, n, clustered| catalogue(seed, n, 12.0, clustered);
    for (d, r, boxsize, los) in [
        (
            small(3, 60, true),
            small(103, 40, false),
            None,
            Los::Midpoint,
        ),
        (
            small(4, 60, false),
            small(104, 40, false),
            Some(12.0),
            Los::Z,
        ),
    ] {
        let m = Metric::new(boxsize, los).unwrap();
        let bins = Bins::new(vec![0.0, 1.5, 3.0, 4.5], 1).unwrap();
        let shapes = QuadShapes::new(3, None).unwrap();
        let want = brute_quads(&d, &r, &bins, &m, &shapes);
        let c = Control::new();
        let g = Graph::build(
            &d.sample(false),
            Some(&r.sample(false)),
            &m,
            &BuildOptions::new(0.0, 4.5),
            &c,
        )
        .unwrap();
        let got = g.count_quads(&bins, Default::default(), &c).unwrap();
        assert_eq!(got.counts.concat(), want);
        let direct = count_quads(
            &d.sample(false),
            Some(&r.sample(false)),
            &bins,
            &m,
            Default::default(),
            &c,
        )
        .unwrap();
        assert_eq!(direct.counts.concat(), want);
        assert!(
            want.iter().sum::<f64>() > 0.0,
            "test catalogue has no quads"
        );
    }
}

#[test]
fn quad_shapes_are_invariant_under_relabelling() {
    let s = QuadShapes::new(4, None).unwrap();
    // A tetrahedron with sides (01,02,03,12,13,23) and the same one with vertices 0 and 3 swapped.
    let a = [0, 1, 2, 3, 0, 1];
    let swapped = [1, 0, 2, 3, 1, 0].map(|x| [a[5], a[4], a[2], a[3], a[1], a[0]][x] as u8);
    let _ = swapped;
    let t = [0u8, 1, 2, 3, 0, 1];
    // relabel 0<->3: new (01)=old(31)=t[4], (02)=old(32)=t[5], (03)=t[2], (12)=old(12)=t[3], (13)=old(10)=t[0], (23)=old(20)=t[1]
    let r = [t[4], t[5], t[2], t[3], t[0], t[1]];
    assert_eq!(s.id(t), s.id(r));
    // 4 bins: number of distinct edge-labelled K4 shapes (Burnside count)
    let expected = (4usize.pow(6) + 9 * 4usize.pow(4) + 8 * 4usize.pow(2) + 6 * 4usize.pow(2)) / 24;
    assert_eq!(s.shapes.len(), expected);
}

#[test]
fn bad_input_is_refused() {
    let c = Control::new();
    let d = catalogue(5, 20, 10.0, false);
    let m = Metric::new(Some(10.0), Los::Z).unwrap();
    let bins = Bins::new(vec![1.0, 6.0], 1).unwrap();
    assert!(matches!(
        count_pairs(&d.sample(false), None, &bins, &m, Default::default(), &c),
        Err(CoreError::InvalidBox(_))
    ));
    assert!(matches!(
        Bins::new(vec![2.0, 1.0], 1),
        Err(CoreError::InvalidBins(_))
    ));
    assert!(matches!(
        Bins::new(vec![0.0, f64::NAN], 1),
        Err(CoreError::InvalidBins(_))
    ));
    let mut bad = catalogue(5, 20, 10.0, false);
    bad.y[3] = f64::NAN;
    let open = Metric::new(None, Los::Midpoint).unwrap();
    let e = count_pairs(
        &bad.sample(false),
        None,
        &Bins::new(vec![1.0, 2.0], 1).unwrap(),
        &open,
        Default::default(),
        &c,
    );
    assert!(matches!(e, Err(CoreError::InvalidInput(ref s)) if s.contains("position 3")));
    let w = vec![1.0; 5];
    let s = Sample::new(Positions::new(&d.x, &d.y, &d.z).unwrap(), Some(&w));
    assert!(count_pairs(
        &s,
        None,
        &Bins::new(vec![1.0, 2.0], 1).unwrap(),
        &open,
        Default::default(),
        &c
    )
    .is_err());
    let mut opts = BuildOptions::new(0.0, 9.0);
    opts.max_memory = Some(1000);
    let e = Graph::build(&d.sample(false), None, &open, &opts, &c);
    assert!(matches!(e, Err(CoreError::MemoryBudget { .. })));
    assert!(matches!(
        QuadShapes::new(40, None),
        Err(CoreError::MemoryBudget { .. })
    ));
    c.cancel();
    let e = count_pairs(
        &d.sample(false),
        None,
        &Bins::new(vec![1.0, 2.0], 1).unwrap(),
        &open,
        Default::default(),
        &c,
    );
    assert!(matches!(e, Err(CoreError::Cancelled)));
}

#[test]
fn corrupt_graph_is_refused() {
    let c = Control::new();
    let d = catalogue(7, 60, 10.0, false);
    let m = Metric::new(None, Los::Midpoint).unwrap();
    let g = Graph::build(&d.sample(false), None, &m, &BuildOptions::new(0.0, 3.0), &c).unwrap();
    g.validate().unwrap();
    assert!(g.n_edges() > 0);
    let mut bad = g.clone();
    let mut nbr = bad.neighbours.to_vec();
    nbr[0] = 0;
    bad.neighbours = nbr.into();
    assert!(matches!(bad.validate(), Err(CoreError::CorruptGraph(_))));
    let mut bad = g.clone();
    let mut off = bad.offsets.to_vec();
    off.pop();
    bad.offsets = off.into();
    assert!(matches!(bad.validate(), Err(CoreError::CorruptGraph(_))));
}

#[test]
fn tiny_and_degenerate_catalogues_finish() {
    let c = Control::new();
    let m = Metric::new(None, Los::Midpoint).unwrap();
    let one = ([1.0], [2.0], [3.0]);
    let s = Sample::new(Positions::new(&one.0, &one.1, &one.2).unwrap(), None);
    let g = Graph::build(&s, None, &m, &BuildOptions::new(0.0, 5.0), &c).unwrap();
    assert_eq!((g.n_nodes(), g.n_edges()), (1, 0));
    let same = ([1.0; 4], [1.0; 4], [1.0; 4]);
    let s = Sample::new(Positions::new(&same.0, &same.1, &same.2).unwrap(), None);
    let bins = Bins::new(vec![0.0, 1.0], 1).unwrap();
    assert_eq!(
        count_pairs(&s, None, &bins, &m, Default::default(), &c)
            .unwrap()
            .dd,
        vec![6.0]
    );
    let t = count_triangles(&s, None, &bins, &m, Default::default(), &c).unwrap();
    assert_eq!(t.counts[0][0], 4.0);
}

#[test]
fn buffer_nodes_never_own_a_tuple_so_domains_add_up() {
    // Two "ranks" that each hold every point but own only one half: the
    // owned counts of the two must add up to the undivided counts.
    let c = Control::new();
    let m = Metric::new(Some(20.0), Los::Z).unwrap();
    let (d, r) = (
        catalogue(8, 150, 20.0, true),
        catalogue(108, 120, 20.0, false),
    );
    let pbins = Bins::new(vec![0.0, 1.0, 2.5, 4.0], 2).unwrap();
    let tbins = Bins::new(vec![0.0, 1.5, 3.0, 4.0], 1).unwrap();
    let full = Graph::build(
        &d.sample(true),
        Some(&r.sample(true)),
        &m,
        &BuildOptions::new(0.0, 4.0),
        &c,
    )
    .unwrap();
    let whole = (
        full.count_pairs(&pbins, Default::default(), &c).unwrap(),
        full.count_triangles(&tbins, Default::default(), &c)
            .unwrap(),
        full.count_quads(&tbins, Default::default(), &c)
            .unwrap()
            .counts,
    );
    let n = d.x.len() + r.x.len();
    let xs: Vec<f64> = d.x.iter().chain(&r.x).copied().collect();
    let ids: Vec<u64> = (0..d.x.len() as u64).chain(0..r.x.len() as u64).collect();
    let mut sums = (
        vec![0.0; 3 * 6],
        vec![0.0; 4 * 27],
        vec![0.0; 5 * whole.2[0].len()],
    );
    for rank in 0..2 {
        let mut opts = BuildOptions::new(0.0, 4.0);
        opts.ids = Some(ids.clone());
        opts.buffer = Some(
            (0..n)
                .map(|i| u8::from((xs[i] < 10.0) != (rank == 0)))
                .collect(),
        );
        let g = Graph::build(&d.sample(true), Some(&r.sample(true)), &m, &opts, &c).unwrap();
        let p = g.count_pairs(&pbins, Default::default(), &c).unwrap();
        for (s, v) in sums.0.iter_mut().zip([p.dd, p.dr, p.rr].concat()) {
            *s += v;
        }
        for (s, v) in sums.1.iter_mut().zip(
            g.count_triangles(&tbins, Default::default(), &c)
                .unwrap()
                .counts
                .concat(),
        ) {
            *s += v;
        }
        for (s, v) in sums.2.iter_mut().zip(
            g.count_quads(&tbins, Default::default(), &c)
                .unwrap()
                .counts
                .concat(),
        ) {
            *s += v;
        }
    }
    close(&sums.0, &[whole.0.dd, whole.0.dr, whole.0.rr].concat());
    close(&sums.1, &whole.1.counts.concat());
    close(&sums.2, &whole.2.concat());
}

/// The points of `c` whose region (by `labels`) is not `k`.
fn without(c: &Cat, labels: &[u32], k: u32) -> Cat {
    pick(c, |i| labels[i] != k)
}

/// The points of `c` in region `k`.
fn only(c: &Cat, labels: &[u32], k: u32) -> Cat {
    pick(c, |i| labels[i] == k)
}

fn pick(c: &Cat, keep: impl Fn(usize) -> bool) -> Cat {
    let keep: Vec<usize> = (0..c.x.len()).filter(|&i| keep(i)).collect();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect();
    Cat {
        x: pick(&c.x),
        y: pick(&c.y),
        z: pick(&c.z),
        w: pick(&c.w),
    }
}

#[test]
fn delete_one_jackknife_equals_recounting_without_the_region() {
    // For every region k: total - (tuples touching k) is exactly the count of
    // the catalogue with region k removed, for pairs, triangles and quads,
    // direct and from a graph, weighted, periodic and not.
    let nreg = 5usize;
    for (d, r, boxsize, los) in cases() {
        let m = Metric::new(boxsize, los).unwrap();
        let label = |c: &Cat, off: usize| -> Vec<u32> {
            (0..c.x.len())
                .map(|i| ((c.x[i] * 7.0 + (i + off) as f64) as u64 % nreg as u64) as u32)
                .collect()
        };
        let (dl, rl) = (label(&d, 0), label(&r, 3));
        let all: Vec<u32> = dl.iter().chain(&rl).copied().collect();
        let regions = Regions {
            labels: &all,
            n: nreg,
        };
        let opts = CountOptions {
            max_memory: None,
            regions: Some(regions),
            parity: false,
        };
        let pbins = Bins::new(vec![0.0, 1.5, 3.0], 2).unwrap();
        let tbins = Bins::new(vec![0.0, 1.5, 3.0], 1).unwrap();
        let c = Control::new();
        let (ds, rs) = (d.sample(true), r.sample(true));
        let p = count_pairs(&ds, Some(&rs), &pbins, &m, opts, &c).unwrap();
        let t = count_triangles(&ds, Some(&rs), &tbins, &m, opts, &c).unwrap();
        let q = count_quads(&ds, Some(&rs), &tbins, &m, opts, &c).unwrap();
        let mut bo = BuildOptions::new(0.0, 3.0);
        bo.regions = Some((all.clone(), nreg));
        let g = Graph::build(&ds, Some(&rs), &m, &bo, &c).unwrap();
        let gopts = GraphCountOptions {
            max_memory: None,
            jackknife: true,
            parity: false,
        };
        let gp = g.count_pairs(&pbins, gopts, &c).unwrap();
        let gt = g.count_triangles(&tbins, gopts, &c).unwrap();
        let gq = g.count_quads(&tbins, gopts, &c).unwrap();
        close(&gp.regions, &p.regions);
        close(&gt.regions, &t.regions);
        close(&gq.regions, &q.regions);
        let (pb, tb, qb) = (3 * 4, 4 * 8, 5 * q.shapes.len());
        // Each tuple once in the block of its smallest region: they add up to the total.
        let owned_sum = |regions: &[f64], b: usize| -> Vec<f64> {
            (0..b)
                .map(|e| (0..nreg).map(|r| regions[(nreg + r) * b + e]).sum())
                .collect()
        };
        close(
            &owned_sum(&p.regions, pb),
            &[p.dd.clone(), p.dr.clone(), p.rr.clone()].concat(),
        );
        close(&owned_sum(&t.regions, tb), &t.counts.concat());
        close(&owned_sum(&q.regions, qb), &q.counts.concat());
        for k in 0..nreg {
            let (dk, rk) = (without(&d, &dl, k as u32), without(&r, &rl, k as u32));
            if dk.x.is_empty() || rk.x.is_empty() {
                continue;
            }
            let (dks, rks) = (dk.sample(true), rk.sample(true));
            let none = CountOptions::default();
            let pk = count_pairs(&dks, Some(&rks), &pbins, &m, none, &c).unwrap();
            let tk = count_triangles(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
            let qk = count_quads(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
            // total - touch is exact up to the rounding of the total's terms:
            // compared to the recount relative to the total (a bin whose
            // pairs all touch region k leaves a residue of that size)
            let minus = |total: Vec<f64>, touch: &[f64], b: usize, want: &[f64]| {
                assert_eq!(total.len(), want.len());
                for ((a, t), w) in total.iter().zip(&touch[k * b..(k + 1) * b]).zip(want) {
                    let tol = 1e-12 * a.abs().max(1.0);
                    assert!((a - t - w).abs() <= tol, "{a} - {t} != {w}");
                }
            };
            let ptot = [p.dd.clone(), p.dr.clone(), p.rr.clone()].concat();
            minus(ptot, &p.regions, pb, &[pk.dd, pk.dr, pk.rr].concat());
            minus(t.counts.concat(), &t.regions, tb, &tk.counts.concat());
            minus(q.counts.concat(), &q.regions, qb, &qk.counts.concat());
            // The third tables: the tuples with every vertex in region k are
            // the counts of region k alone.
            let (dk, rk) = (only(&d, &dl, k as u32), only(&r, &rl, k as u32));
            let (dks, rks) = (dk.sample(true), rk.sample(true));
            let within = |regions: &[f64], b: usize| regions[(2 * nreg + k) * b..][..b].to_vec();
            let pk = count_pairs(&dks, Some(&rks), &pbins, &m, none, &c).unwrap();
            let tk = count_triangles(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
            let qk = count_quads(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
            close(&within(&p.regions, pb), &[pk.dd, pk.dr, pk.rr].concat());
            close(&within(&t.regions, tb), &tk.counts.concat());
            close(&within(&q.regions, qb), &qk.counts.concat());
            // The second tables: the tuples whose smallest region is k are
            // those of regions >= k less those of regions > k.
            let from = |c: &Cat, labels: &[u32], lo: usize| pick(c, |i| labels[i] as usize >= lo);
            let counts = |lo: usize| {
                let (dk, rk) = (from(&d, &dl, lo), from(&r, &rl, lo));
                if dk.x.is_empty() || rk.x.is_empty() {
                    // Only the last region's recount can come out empty.
                    assert!(dk.x.is_empty() && rk.x.is_empty() && lo == nreg);
                    return [vec![0.0; pb], vec![0.0; tb], vec![0.0; qb]];
                }
                let (dks, rks) = (dk.sample(true), rk.sample(true));
                let pk = count_pairs(&dks, Some(&rks), &pbins, &m, none, &c).unwrap();
                let tk = count_triangles(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
                let qk = count_quads(&dks, Some(&rks), &tbins, &m, none, &c).unwrap();
                [
                    [pk.dd, pk.dr, pk.rr].concat(),
                    tk.counts.concat(),
                    qk.counts.concat(),
                ]
            };
            let (ge, gt) = (counts(k), counts(k + 1));
            let lowest = |regions: &[f64], b: usize| regions[(nreg + k) * b..][..b].to_vec();
            let diff = |a: &[f64], b: &[f64]| -> Vec<f64> {
                a.iter().zip(b).map(|(x, y)| x - y).collect()
            };
            // a difference of two counts: its rounding is relative to them
            for (table, b, g) in [
                (&p.regions, pb, 0),
                (&t.regions, tb, 1),
                (&q.regions, qb, 2),
            ] {
                let want = diff(&ge[g], &gt[g]);
                for ((x, y), scale) in lowest(table, b).iter().zip(&want).zip(&ge[g]) {
                    assert!((x - y).abs() <= 1e-12 * scale.abs().max(1.0), "{x} != {y}");
                }
            }
        }
    }
}

/// sum over quads (i; j, k, l), r_ij in b1 < r_ik in b2 < r_il in b3, of the
/// weights times (4 pi)^(-3/2) (P_000) and times P_110 = -sqrt(3) (u_ij .
/// u_ik) / (4 pi)^(3/2), of the field (data minus `scale` randoms); per
/// triplet in lexicographic order.
fn brute_quad_multipoles(
    d: &Cat,
    r: &Cat,
    bins: &Bins,
    m: &Metric,
    scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let (p, mut w, t) = all_points(d, r);
    for (wi, &ti) in w.iter_mut().zip(&t) {
        if ti == 1 {
            *wi *= scale;
        }
    }
    let nb = bins.nbins();
    let norm = (4.0 * std::f64::consts::PI).powf(-1.5);
    let triplets = quad_multipoles::bin_triplets(nb);
    let (mut p000, mut p110) = (vec![0.0; triplets.len()], vec![0.0; triplets.len()]);
    for i in 0..p.len() {
        // Neighbours of i by bin, with their unit separations.
        let mut by_bin: Vec<Vec<(f64, [f64; 3])>> = vec![vec![]; nb];
        for j in 0..p.len() {
            let s = m.diff(p[i], p[j]);
            let d2 = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
            let b = bins.bin_d2(d2);
            if j != i && b != astrograph_core::bins::OUT {
                let r = d2.sqrt();
                by_bin[b as usize].push((w[j], [s[0] / r, s[1] / r, s[2] / r]));
            }
        }
        for (n, &[b1, b2, b3]) in triplets.iter().enumerate() {
            let (s1, s3): (f64, f64) = (
                by_bin[b1].iter().map(|x| x.0).sum(),
                by_bin[b3].iter().map(|x| x.0).sum(),
            );
            let s2: f64 = by_bin[b2].iter().map(|x| x.0).sum();
            p000[n] += w[i] * s1 * s2 * s3 * norm;
            for &(wj, u) in &by_bin[b1] {
                for &(wk, v) in &by_bin[b2] {
                    let dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
                    p110[n] += w[i] * wj * wk * s3 * -(3f64.sqrt()) * dot * norm;
                }
            }
        }
    }
    (p000, p110)
}

#[test]
fn quad_multipoles_match_brute_force() {
    for (d, r, boxsize, los) in cases() {
        let m = Metric::new(boxsize, los).unwrap();
        let bins = Bins::new(vec![0.5, 1.5, 2.5, 4.0, 6.0], 1).unwrap();
        let c = Control::new();
        let run = |threads, parity| {
            with_threads(Some(threads), || {
                count_quad_multipoles(
                    &d.sample(true),
                    Some(&r.sample(true)),
                    &bins,
                    2,
                    parity,
                    &m,
                    Default::default(),
                    Default::default(),
                    &c,
                )
            })
            .unwrap()
            .unwrap()
        };
        let got = run(1, Parity::Both);
        let (p000, p110) = brute_quad_multipoles(&d, &r, &bins, &m, got.random_scale);
        let row = |l: [usize; 3]| {
            let k = got.triples.iter().position(|&t| t == l).unwrap();
            &got.field[k * got.triplets.len()..(k + 1) * got.triplets.len()]
        };
        for (want, have) in [(&p000, row([0, 0, 0])), (&p110, row([1, 1, 0]))] {
            let big = want.iter().fold(0.0f64, |a, x| a.max(x.abs()));
            for (x, y) in want.iter().zip(have) {
                assert!((x - y).abs() <= 1e-10 * big, "{x} != {y}");
            }
        }
        // The same bits on any thread count; the halves are rows of both.
        assert_eq!(run(2, Parity::Both), got);
        let even = run(2, Parity::Even);
        let keep: Vec<usize> = (0..got.triples.len())
            .filter(|&k| got.triples[k].iter().sum::<usize>() % 2 == 0)
            .collect();
        let n = got.triplets.len();
        let rows: Vec<f64> = keep
            .iter()
            .flat_map(|&k| got.field[k * n..(k + 1) * n].to_vec())
            .collect();
        assert_eq!(even.field, rows);
    }
}

#[test]
fn quad_multipole_realisations_equal_recounting_without_the_region() {
    // Every delete-one count of the 4-point multipoles (the field at the
    // random scale of the points left, and the randoms) is that of the
    // catalogue with the region removed, to the rounding of the total's
    // terms; on any thread count, the same bits.
    let nreg = 4usize;
    let bins = Bins::new(vec![0.5, 1.5, 2.5, 4.0, 6.0], 1).unwrap();
    for (d, r, boxsize, los) in cases() {
        let m = Metric::new(boxsize, los).unwrap();
        let label = |c: &Cat, off: usize| -> Vec<u32> {
            (0..c.x.len())
                .map(|i| ((c.x[i] * 5.0 + (i + off) as f64) as u64 % nreg as u64) as u32)
                .collect()
        };
        let (dl, rl) = (label(&d, 0), label(&r, 1));
        let all: Vec<u32> = dl.iter().chain(&rl).copied().collect();
        let opts = CountOptions {
            max_memory: None,
            regions: Some(Regions {
                labels: &all,
                n: nreg,
            }),
            parity: false,
        };
        let c = Control::new();
        let run = |threads| {
            with_threads(Some(threads), || {
                let (ds, rs) = (d.sample(true), r.sample(true));
                let mo = Default::default();
                count_quad_multipoles(&ds, Some(&rs), &bins, 2, Parity::Both, &m, opts, mo, &c)
            })
            .unwrap()
            .unwrap()
        };
        let got = run(1);
        assert_eq!(run(2), got);
        let per = got.field.len();
        let big = |v: &[f64]| v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let (fbig, rbig) = (big(&got.field), big(&got.randoms));
        for k in 0..nreg {
            let (dk, rk) = (without(&d, &dl, k as u32), without(&r, &rl, k as u32));
            let alone = count_quad_multipoles(
                &dk.sample(true),
                Some(&rk.sample(true)),
                &bins,
                2,
                Parity::Both,
                &m,
                CountOptions::default(),
                Default::default(),
                &c,
            )
            .unwrap();
            let a = (got.region_scales[k] - alone.random_scale).abs();
            assert!(a <= 1e-14 * alone.random_scale.abs(), "scale of region {k}");
            let at = 2 * k * per;
            let (field, randoms) = (
                &got.jackknife[at..at + per],
                &got.jackknife[at + per..at + 2 * per],
            );
            for (x, y) in field.iter().zip(&alone.field) {
                assert!(
                    (x - y).abs() <= 1e-10 * fbig,
                    "field of region {k}: {x} != {y}"
                );
            }
            for (x, y) in randoms.iter().zip(&alone.randoms) {
                assert!(
                    (x - y).abs() <= 1e-10 * rbig,
                    "randoms of region {k}: {x} != {y}"
                );
            }
        }
    }
}

/// Triangle counts and their resampling tables (3, nregions, 4, nbins^3:
/// touch, smallest region, within) by a plain loop over all triples.
fn brute_triangle_tables(
    d: &Cat,
    r: &Cat,
    labels: &[u32],
    nreg: usize,
    bins: &Bins,
    m: &Metric,
) -> (Vec<f64>, Vec<f64>) {
    let nb = bins.nbins();
    let block = 4 * nb * nb * nb;
    let (mut counts, mut tables) = (vec![0.0; block], vec![0.0; 3 * nreg * block]);
    each_triangle(d, r, bins, m, |ijk, e, w| {
        counts[e] += w;
        let mut regions = ijk.map(|v| labels[v] as usize);
        regions.sort();
        for (a, &r) in regions.iter().enumerate() {
            if a == 0 || regions[a - 1] != r {
                tables[r * block + e] += w;
            }
        }
        tables[(nreg + regions[0]) * block + e] += w;
        if regions[0] == regions[2] {
            tables[(2 * nreg + regions[0]) * block + e] += w;
        }
    });
    (counts, tables)
}

#[test]
fn triangle_tables_with_many_thin_regions_match_brute_force() {
    // Regions much thinner than rmax: most triangles span two or three, and
    // a primary's neighbours lie in more regions than get lanes of their own
    // (slabs of x; random labels), so every way a triangle is summed is
    // taken; with many bins fewer regions get lanes. Weighted, periodic and
    // not, direct and from a graph, on 1 and 3 threads.
    let size = 8.0;
    let (d, r) = (
        catalogue(31, 160, size, true),
        catalogue(131, 160, size, false),
    );
    let slabs = |c: &Cat, k: usize| -> Vec<u32> {
        c.x.iter()
            .map(|&x| ((x / size * k as f64) as usize).min(k - 1) as u32)
            .collect()
    };
    let mut rng = Pcg64::seed_from_u64(7);
    let random: Vec<u32> = (0..320).map(|_| rng.random_range(0..30)).collect();
    let few = |k: usize| Bins::new((0..=k).map(|b| 3.0 * b as f64 / k as f64).collect(), 1);
    let cases = [
        ([slabs(&d, 16), slabs(&r, 16)].concat(), 16, few(4).unwrap()),
        (random, 30, few(3).unwrap()),
        ([slabs(&d, 6), slabs(&r, 6)].concat(), 6, few(30).unwrap()),
    ];
    let c = Control::new();
    for (labels, nreg, bins) in cases {
        for boxsize in [None, Some(size)] {
            let m = Metric::new(boxsize, Los::Z).unwrap();
            let (want, tables) = brute_triangle_tables(&d, &r, &labels, nreg, &bins, &m);
            let regions = Regions {
                labels: &labels,
                n: nreg,
            };
            let opts = CountOptions {
                max_memory: None,
                regions: Some(regions),
                parity: false,
            };
            let (ds, rs) = (d.sample(true), r.sample(true));
            let mut runs = vec![];
            for threads in [1, 3] {
                runs.push(
                    with_threads(Some(threads), || {
                        count_triangles(&ds, Some(&rs), &bins, &m, opts, &c).unwrap()
                    })
                    .unwrap(),
                );
            }
            let mut bo = BuildOptions::new(0.0, 3.0);
            bo.regions = Some((labels.clone(), nreg));
            let g = Graph::build(&ds, Some(&rs), &m, &bo, &c).unwrap();
            let gopts = GraphCountOptions {
                max_memory: None,
                jackknife: true,
                parity: false,
            };
            runs.push(g.count_triangles(&bins, gopts, &c).unwrap());
            assert!(want.iter().sum::<f64>() > 0.0);
            // Most triangles span regions (else this tests little).
            let within: f64 = tables[2 * nreg * want.len()..].iter().sum();
            assert!(within < 0.5 * want.iter().sum::<f64>());
            for t in &runs {
                close(&t.counts.concat(), &want);
                close(&t.regions, &tables);
            }
            // Threads change nothing, to the bit.
            assert_eq!(runs[0].regions, runs[1].regions);
            assert_eq!(runs[0].counts, runs[1].counts);
        }
    }
}
