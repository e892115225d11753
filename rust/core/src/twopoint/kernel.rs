//! The passes of a two-point count and the pair kernel they share.

use crate::bins::OUT;
use std::ops::Range;

use crate::control::Control;
use crate::error::Result;
use crate::geometry::{Metric, Positions};
use crate::grid::Lattice;
use crate::reduce::{check_tables, chunked_sum, flush, flush_tables, touch, Lanes, LANES};
use crate::simd::Simd;

#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::binning::Binning;
use super::block::{hits, mu_bins, Mode, MuSpec, CUMULATIVE_MAX};
use super::cumulative::Cells;
use super::side::Side;
use super::weights::{AngularWeights, Pip, PipTable};
use super::{Catalogue, Job, Options, TwoPointCounts};

/// One pass: every unordered pair of one set, or every pair between two.
enum Pass<'j, 'a> {
    Auto(Vec<&'j Catalogue<'a>>),
    Cross(Vec<&'j Catalogue<'a>>, Vec<&'j Catalogue<'a>>),
}

/// The passes of a job: the first holds every catalogue's first split; each
/// further random split adds its pairs with the data and within itself.
/// `later`: every split given is a further one (the count continues
/// earlier splits', whose first pass counted the data pairs).
fn plan<'j, 'a>(job: &'j Job<'a>, later: bool) -> Vec<Pass<'j, 'a>> {
    let mut passes = Vec::new();
    let (r1, r2) = (&job.randoms1, &job.randoms2);
    let first = usize::from(!later);
    match &job.data2 {
        None => {
            if !later {
                passes.push(Pass::Auto(
                    std::iter::once(&job.data1).chain(r1.first()).collect(),
                ));
            }
            for r in r1.iter().skip(first) {
                passes.push(Pass::Cross(vec![&job.data1], vec![r]));
                passes.push(Pass::Auto(vec![r]));
            }
        }
        Some(d2) => {
            if !later {
                passes.push(Pass::Cross(
                    std::iter::once(&job.data1).chain(r1.first()).collect(),
                    std::iter::once(d2).chain(r2.first()).collect(),
                ));
            }
            let n = r1.len().max(r2.len());
            for k in first..n {
                let mut a = vec![&job.data1];
                a.extend(r1.get(k));
                if let Some(r) = r2.get(k) {
                    passes.push(Pass::Cross(a, vec![r]));
                }
                if let Some(r) = r1.get(k) {
                    passes.push(Pass::Cross(vec![r], vec![d2]));
                }
            }
        }
    }
    passes
}

/// Bytes a point of a side takes (positions, weights, kind, grid order and
/// the optional columns), for the memory budget.
fn side_bytes(n: usize, opts: &Options, job: &Job) -> u64 {
    // columns, w, t, order, merge scratch, and per cell (at most n / 4 of
    // them) its bounds and first random
    let mut per = 3 * 8 + 8 + 1 + 4 + 3 * 8 + (6 * 8 + 4) / 4;
    per += 8 * opts.pip.map_or(0, |p| p.nwords);
    if opts.nregions > 0 {
        per += 4;
    }
    if opts.has_angular() {
        per += 8;
    }
    let all = std::iter::once(&job.data1)
        .chain(&job.randoms1)
        .chain(&job.data2)
        .chain(&job.randoms2);
    let mut any_wx = false;
    let mut any_owner = false;
    for c in all {
        any_wx |= c.cross_weights.is_some();
        any_owner |= c.buffer.is_some();
    }
    per += 8 * usize::from(any_wx) + 9 * usize::from(any_owner);
    (n * per) as u64
}

pub(super) fn run(
    job: &Job,
    binning: &Binning,
    metric: &Metric,
    opts: &Options,
    control: &Control,
) -> Result<TwoPointCounts> {
    let names = job.names();
    let ntables = names.len();
    let per = binning.per();
    let block = ntables * per;
    let len = block * (1 + 3 * opts.nregions);
    let passes = plan(job, !opts.carry.is_empty());
    // The largest pass holds its sides while the tables are summed.
    let biggest = passes
        .iter()
        .map(|p| match p {
            Pass::Auto(a) => a.iter().map(|c| c.len()).sum::<usize>(),
            Pass::Cross(a, b) => a.iter().chain(b).map(|c| c.len()).sum(),
        })
        .max()
        .unwrap_or(0);
    check_tables(
        biggest,
        len,
        0,
        side_bytes(biggest, opts, job),
        opts.max_memory,
        "the pair-count tables and sorted catalogues",
    )?;
    let cross_job = job.is_cross();
    let nwords = opts.pip.map_or(0, |p| p.nwords);
    let norms = opts.has_angular();
    let k = Kernel {
        binning,
        metric,
        per,
        block,
        nregions: opts.nregions,
        cross_job,
        cut: binning.cut(),
    };
    let mut total = if opts.carry.is_empty() {
        vec![0.0; len]
    } else {
        opts.carry.clone()
    };
    for pass in &passes {
        control.check()?;
        let part = match pass {
            Pass::Auto(parts) => {
                let s = sorted(parts, &[], metric, binning, nwords, norms);
                k.dispatch(opts, &s, None, control)?
            }
            Pass::Cross(a, b) => {
                let lattice = lattice_of(a, b, metric, binning);
                let sa = Side::new(a, lattice.clone(), nwords, norms);
                let sb = Side::new(b, lattice, nwords, norms);
                k.dispatch(opts, &sa, Some(&sb), control)?
            }
        };
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
        }
    }
    let regions = total.split_off(block);
    let counts = (0..ntables)
        .map(|t| total[t * per..(t + 1) * per].to_vec())
        .collect();
    Ok(TwoPointCounts {
        names,
        counts,
        regions,
    })
}

fn lattice_of(a: &[&Catalogue], b: &[&Catalogue], metric: &Metric, binning: &Binning) -> Lattice {
    let pos: Vec<Positions> = a.iter().chain(b).map(|c| c.sample.pos).collect();
    Lattice::new(&pos, metric, binning.rmax())
}

fn sorted(
    a: &[&Catalogue],
    b: &[&Catalogue],
    metric: &Metric,
    binning: &Binning,
    nwords: usize,
    norms: bool,
) -> Side {
    Side::new(a, lattice_of(a, b, metric, binning), nwords, norms)
}

/// Mean points per occupied cell from which whole-cell cumulative counts
/// beat the hits (measured in 3-D: 8 points 1.8x slower, 26 1.1x faster,
/// 64 1.9x faster; benchmarks/README.md).
const CUMULATIVE_OCCUPANCY: f64 = 24.0;

/// The weight of a pair (i of side a, j of side b) counted into `table`.
trait Weigher: Sync {
    /// The weight is always w_i * w_j.
    const PRODUCT: bool = false;
    fn weight(&self, a: &Side, i: usize, b: &Side, j: usize, table: usize) -> f64;
}

/// Products of individual weights (no PIP, IIP or angular weights).
struct Product;

impl Weigher for Product {
    const PRODUCT: bool = true;
    #[inline(always)]
    fn weight(&self, a: &Side, i: usize, b: &Side, j: usize, _: usize) -> f64 {
        a.w[i] * b.w[j]
    }
}

/// PIP weights of galaxy pairs, IIP weights in pairs with a random, angular
/// upweights of every pair but random-random ones, in pycorr's order:
/// (pip * (w_i * w_j)) * upweight.
struct Full<'o> {
    pip: Option<PipTable>,
    /// The angular upweights of each table (None: not upweighted).
    angular: &'o [Option<AngularWeights>],
}

impl Weigher for Full<'_> {
    #[inline(always)]
    fn weight(&self, a: &Side, i: usize, b: &Side, j: usize, table: usize) -> f64 {
        let mut w = if a.t[i] == 0 && b.t[j] == 0 {
            let base = a.w[i] * b.w[j];
            match &self.pip {
                Some(p) => p.weight(a.words(i), b.words(j)) * base,
                None => base,
            }
        } else {
            a.wx(i) * b.wx(j)
        };
        if let Some(Some(ang)) = self.angular.get(table) {
            w *= ang.of(a.pos(i), b.pos(j), a.norm[i], b.norm[j]);
        }
        w
    }
}

struct Kernel<'k> {
    binning: &'k Binning,
    metric: &'k Metric,
    per: usize,
    block: usize,
    nregions: usize,
    cross_job: bool,
    cut: f64,
}

impl Kernel<'_> {
    fn dispatch(
        &self,
        opts: &Options,
        a: &Side,
        b: Option<&Side>,
        control: &Control,
    ) -> Result<Vec<f64>> {
        let plain = opts.pip.is_none()
            && !opts.has_angular()
            && a.wx.is_none()
            && b.is_none_or(|b| b.wx.is_none());
        let oriented = self.cross_job;
        let mode = Mode::of(self.binning, self.metric, oriented);
        let full = Full {
            pip: opts.pip.as_ref().map(Pip::table),
            angular: &opts.angular,
        };
        match (mode, plain) {
            (Some(m), true) => self.pass_blocks(a, b, &Product, m, control),
            (Some(m), false) => self.pass_blocks(a, b, &full, m, control),
            (None, true) => self.pass(a, b, &Product, control),
            (None, false) => self.pass(a, b, &full, control),
        }
    }

    /// One pass by blocks of candidates (`block::fill`), for the binnings
    /// `block::Mode` handles: the same pairs, bins and sums, in the same
    /// order, as `pass`.
    fn pass_blocks<W: Weigher>(
        &self,
        a: &Side,
        b: Option<&Side>,
        weigher: &W,
        mode: Mode,
        control: &Control,
    ) -> Result<Vec<f64>> {
        let len = self.block * (1 + 3 * self.nregions);
        let simd = Simd::detect();
        chunked_sum(a.len(), len, control, |nodes, acc| match simd {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX-512F, VL and POPCNT (detected above).
            Simd::Avx512 => unsafe { self.chunk_avx512(a, b, weigher, &mode, nodes, acc) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2 and POPCNT (detected above).
            Simd::Avx2 => unsafe { self.chunk_avx2(a, b, weigher, &mode, nodes, acc) },
            Simd::Baseline => self.chunk::<W, false>(a, b, weigher, &mode, nodes, acc),
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,popcnt")]
    unsafe fn chunk_avx512<W: Weigher>(
        &self,
        a: &Side,
        b: Option<&Side>,
        weigher: &W,
        mode: &Mode,
        nodes: Range<usize>,
        acc: &mut [f64],
    ) {
        self.chunk::<W, true>(a, b, weigher, mode, nodes, acc)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt")]
    unsafe fn chunk_avx2<W: Weigher>(
        &self,
        a: &Side,
        b: Option<&Side>,
        weigher: &W,
        mode: &Mode,
        nodes: Range<usize>,
        acc: &mut [f64],
    ) {
        self.chunk::<W, false>(a, b, weigher, mode, nodes, acc)
    }

    /// The pairs of the primaries `nodes` of side `a`: per primary its hits,
    /// their separation (and mu) bins in vector loops, then the sums.
    /// `V`: the stages in AVX-512 intrinsics (only from `chunk_avx512`).
    #[inline(always)]
    fn chunk<W: Weigher, const V: bool>(
        &self,
        a: &Side,
        b: Option<&Side>,
        weigher: &W,
        mode: &Mode,
        nodes: Range<usize>,
        acc: &mut [f64],
    ) {
        let (per, block, nregions) = (self.per, self.block, self.nregions);
        let jk = nregions > 0;
        let other = b.unwrap_or(a);
        let owned = a.owned() && other.owned();
        // As `pass`: lanes only where the graph kernel uses them too.
        let use_lanes = mode.mu.is_none() && !jk && owned;
        // Pairs within the primary's region, as lanes when they are added
        // pair by pair (`add_regions`).
        let region_lanes = jk && mode.mu.is_none() && owned;
        let within_len = if region_lanes { LANES * block } else { block };
        let mut within = vec![0.0; if jk { within_len } else { 0 }];
        let mut lanes = Lanes::new(if use_lanes { block } else { 0 });
        let mut current = None;
        let mut lane = 0;
        let mut near = Vec::new();
        let (mut js, mut ds, mut sbin) = (Vec::new(), Vec::new(), Vec::new());
        // the hits' coordinates, for their mu bins (AVX-512 path)
        let mut qs: [Vec<f64>; 3] = Default::default();
        let (mut m1, mut m2) = (Vec::new(), Vec::new());
        // the hits split by region (`avx512::split_regions`)
        let mut split: [Vec<u32>; 5] = Default::default();
        // The table of each pair of kinds.
        let tables = [
            [self.table(0, 0), self.table(0, 1)],
            [self.table(1, 0), self.table(1, 1)],
        ];
        // Every weight 1, every point owned, bins of d^2 alone: whole cells
        // (`cumulative`), worth their per-cell work only in cells of a few
        // vectors of points or more. With regions, a cell within another
        // region than the primary's is counted on its own and a cell of
        // mixed regions pair by pair.
        let thresholds = &mode.lookup.thresholds[..];
        let cumulative = V
            && W::PRODUCT
            && mode.mu.is_none()
            && owned
            && a.unit
            && other.unit
            && (2..=CUMULATIVE_MAX).contains(&thresholds.len())
            && other.occupancy >= CUMULATIVE_OCCUPANCY;
        let mut cells = Cells::new();
        let period = self.metric.boxsize.map(|l| (l, 0.5 * l));
        let mut across = vec![0.0; if jk { 2 * block } else { 0 }];
        let mut sink = Sink {
            lanes: &mut lanes,
            within: &mut within,
            across: &mut across,
            use_lanes,
            jk,
            block,
            nregions,
        };
        // The cells of `nodes`, walked by hand: no closure may stand between
        // the vector-instruction variants and these loops.
        let grid = &a.grid;
        let mut cell = grid.start.partition_point(|&s| s as usize <= nodes.start) - 1;
        while cell < grid.ncells() && (grid.start[cell] as usize) < nodes.end {
            let here = grid.range(cell);
            // A cell of buffer copies whose every neighbour cell holds
            // buffer copies only has no pair counted here: skipped whole
            // (the buffer is mostly such cells).
            if !owned && !a.has_owned(cell) {
                grid.neighbours(cell, &mut near);
                if !near.iter().any(|&c| other.has_owned(c)) {
                    cell += 1;
                    continue;
                }
            }
            let (lo, hi) = (here.start.max(nodes.start), here.end.min(nodes.end));
            for i in lo..hi {
                let p = a.pos(i);
                grid.lattice.near_cells(cell, p, self.cut, &mut near);
                // A buffer copy counts pairs only with owned points (`owns`):
                // cells of buffer copies alone are not searched from it.
                let copy = !owned && a.buffer.get(i).is_some_and(|&f| f != 0);
                js.clear();
                ds.clear();
                if cumulative {
                    let ti = a.t[i] as usize;
                    let ri = if jk { a.region[i] } else { 0 };
                    if jk && current != Some(ri) {
                        let r = current.unwrap_or(0);
                        let own = Some(&mut *sink.within);
                        cells.drain(thresholds, (tables, per), own, acc, (block, nregions), r);
                        sink.flush(acc, current);
                        current = Some(ri);
                    }
                    for &c in &near {
                        let r = match b {
                            None if c < cell => continue,
                            None if c == cell => i + 1..here.end,
                            None => grid.range(c),
                            Some(b) => b.grid.range(c),
                        };
                        if r.is_empty() {
                            continue;
                        }
                        let between = Cells::between(thresholds, other.d2_bounds(c, p, period));
                        // the cell's galaxies, then its randoms; with regions
                        // each by region
                        let s = other.split[c] as usize;
                        let (cell_runs, mut from) = if jk {
                            let k = other.run_start[c] as usize..other.run_start[c + 1] as usize;
                            (&other.runs[k], other.grid.range(c).start)
                        } else {
                            (&[(s as u32, ri), (u32::MAX, ri)][..], 0)
                        };
                        for &(end, rc) in cell_runs {
                            let run = from.max(r.start)..(end as usize).min(r.end);
                            from = end as usize;
                            if run.is_empty() {
                                continue;
                            }
                            let kind = u8::from(run.start >= s);
                            cells.add((ti, rc == ri), (kind, rc), run, between);
                        }
                    }
                    // SAFETY: V only from chunk_avx512; the runs lie in `other`.
                    unsafe { cells.count(self.metric, p, &other.cols, ti, thresholds) };
                    continue;
                }
                for q in &mut qs {
                    q.clear();
                }
                for &c in &near {
                    if copy && !other.has_owned(c) {
                        continue;
                    }
                    let r = match b {
                        None if c < cell => continue,
                        None if c == cell => i + 1..here.end,
                        None => grid.range(c),
                        Some(b) => b.grid.range(c),
                    };
                    if V {
                        // SAFETY: V only from chunk_avx512 (AVX-512F/VL detected).
                        #[cfg(target_arch = "x86_64")]
                        unsafe {
                            avx512::hits(
                                self.metric,
                                p,
                                &other.cols,
                                r,
                                self.cut,
                                &mut js,
                                &mut ds,
                                mode.mu.is_some().then_some(&mut qs),
                            )
                        };
                    } else {
                        hits(self.metric, p, &other.cols, r, self.cut, &mut js, &mut ds);
                    }
                }
                let ri = if jk { a.region[i] } else { 0 };
                if jk && current != Some(ri) {
                    sink.flush(acc, current);
                    current = Some(ri);
                }
                // An owned primary whose cells hold owned points only (most
                // of a rank's domain) counts all its pairs: no owner test.
                let mine = owned || (!copy && near.iter().all(|&c| other.all_owned(c)));
                let n = js.len();
                sbin.resize(n, 0);
                if V {
                    // SAFETY: as above; sbin holds n entries, js index `other`.
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        avx512::bins(mode.lookup, &ds, &mut sbin);
                        if let Some(spec) = &mode.mu {
                            avx512::mu_bins(spec, self.metric, p, &qs, &ds, &mut m1, &mut m2);
                        }
                    }
                } else {
                    mode.lookup.bins(&ds, &mut sbin);
                    if let Some(spec) = &mode.mu {
                        mu_bins(
                            spec,
                            self.metric,
                            p,
                            &other.cols,
                            &js,
                            &ds,
                            &mut m1,
                            &mut m2,
                        );
                    }
                }
                let ti = a.t[i] as usize;
                if use_lanes {
                    // Bins from d^2 alone, no regions, every point owned: the
                    // tightest loop.
                    add_lanes(
                        weigher,
                        (a, i),
                        other,
                        (tables[ti], per, block),
                        (&sbin[..n], &js[..n]),
                        sink.lanes.data_mut(),
                        &mut lane,
                    );
                    continue;
                }
                if let Some(spec) = &mode.mu {
                    // (s, mu) bins: the sums of the loop below, in its
                    // order, in a loop of their own.
                    let hits = (&sbin[..n], &js[..n], &m1[..n], &m2[..n]);
                    let ends = (tables[ti], per, spec);
                    if jk {
                        let mut put = ByRegion {
                            sink: &mut sink,
                            acc,
                            ri,
                            region: &other.region,
                        };
                        if mine {
                            add_mu::<W, true>(weigher, (a, i), other, ends, hits, &mut put);
                        } else {
                            add_mu::<W, false>(weigher, (a, i), other, ends, hits, &mut put);
                        }
                    } else {
                        assert!(acc.len() >= block);
                        let mut put = Totals(acc.as_mut_ptr());
                        if mine {
                            add_mu::<W, true>(weigher, (a, i), other, ends, hits, &mut put);
                        } else {
                            add_mu::<W, false>(weigher, (a, i), other, ends, hits, &mut put);
                        }
                    }
                    continue;
                }
                if region_lanes && V {
                    let [ss, sj, os, oj, or] = &mut split;
                    // SAFETY: V only from chunk_avx512; js index `other`,
                    // whose regions hold one entry per point.
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        avx512::split_regions(
                            (&sbin[..n], &js[..n]),
                            &other.region,
                            ri,
                            (ss, sj),
                            (os, oj, or),
                        )
                    };
                    add_split(
                        weigher,
                        (a, i),
                        other,
                        (tables[ti], per, block),
                        (ss, sj),
                        (os, oj, or),
                        (&mut sink, acc, ri),
                        &mut lane,
                    );
                    continue;
                }
                if region_lanes {
                    add_regions(
                        weigher,
                        (a, i),
                        other,
                        (tables[ti], per, block),
                        (&sbin[..n], &js[..n]),
                        (&mut sink, acc, ri),
                        &mut lane,
                    );
                    continue;
                }
                for t in 0..n {
                    // SAFETY: sbin, js (and m1, m2) hold one entry per hit.
                    let sb = unsafe { *sbin.get_unchecked(t) };
                    if sb == u32::from(OUT) {
                        continue;
                    }
                    let j = unsafe { *js.get_unchecked(t) } as usize;
                    if !mine && !owns(a, i, other, j) {
                        continue;
                    }
                    // SAFETY: j indexes a point of `other` (a grid range of it).
                    let tj = unsafe { *other.t.get_unchecked(j) } as usize;
                    let table = tables[ti][tj];
                    let base = table * per;
                    let w = weigher.weight(a, i, other, j, table);
                    let rj = if jk { other.region[j] } else { 0 };
                    // (s, mu) bins went to `add_mu` above
                    sink.add(acc, base + sb as usize, w, ri, rj);
                }
            }
            cell += 1;
        }
        if cumulative {
            let own = if jk { Some(&mut *sink.within) } else { None };
            let r = current.unwrap_or(0);
            cells.drain(thresholds, (tables, per), own, acc, (block, nregions), r);
        }
        sink.flush(acc, current);
        if use_lanes {
            lanes.flush(acc);
        }
    }

    /// The table of a pair of kinds (0 galaxy, 1 random): DD, DR, RR of an
    /// auto-correlation, D1D2, D1R2, R1D2, R1R2 of a cross-correlation.
    #[inline(always)]
    fn table(&self, ti: u8, tj: u8) -> usize {
        if self.cross_job {
            (2 * ti + tj) as usize
        } else {
            (ti + tj) as usize
        }
    }

    /// One pass (auto over `a` when `b` is None) summed into one table set,
    /// in chunks of primaries: the same terms in the same order for every
    /// thread count. Every binning, pair by pair through `Binning::emit`
    /// (`pass_blocks` is the fast path of most).
    fn pass<W: Weigher>(
        &self,
        a: &Side,
        b: Option<&Side>,
        weigher: &W,
        control: &Control,
    ) -> Result<Vec<f64>> {
        let len = self.block * (1 + 3 * self.nregions);
        let jk = self.nregions > 0;
        let other = b.unwrap_or(a);
        let owned = a.owned() && other.owned();
        // Cross-correlation pairs are oriented, tracer 1 -> tracer 2.
        let oriented = self.cross_job;
        let (per, block, nregions) = (self.per, self.block, self.nregions);
        chunked_sum(a.len(), len, control, |nodes, acc| {
            // With regions, pairs within the region of their primary are summed
            // here and added to the region's tables in bulk (`reduce::flush`).
            let mut within = vec![0.0; if jk { block } else { 0 }];
            let mut current = None;
            let (mut near, mut found) = (Vec::new(), Vec::new());
            a.grid.walk(nodes, |i, cell, first| {
                if first {
                    a.grid.neighbours(cell, &mut near);
                }
                match b {
                    None => a.grid.scan_near::<false>(
                        &a.cols,
                        self.metric,
                        i,
                        cell,
                        &near,
                        self.cut,
                        &mut found,
                    ),
                    Some(b) => b.grid.scan_cells(
                        &b.cols,
                        self.metric,
                        a.pos(i),
                        &near,
                        self.cut,
                        &mut found,
                    ),
                }
                let ri = if jk { a.region[i] } else { 0 };
                if jk && current != Some(ri) {
                    flush(&mut within, acc, block, nregions, current);
                    current = Some(ri);
                }
                let pi = a.pos(i);
                for &(j, d2) in &found {
                    let j = j as usize;
                    if !owned && !owns(a, i, other, j) {
                        continue;
                    }
                    let table = self.table(a.t[i], other.t[j]);
                    let mut w = f64::NAN;
                    self.binning
                        .emit(self.metric, pi, other.pos(j), d2, oriented, |k, f| {
                            if w.is_nan() {
                                w = weigher.weight(a, i, other, j, table);
                            }
                            let w = if f == 1.0 { w } else { w * f };
                            let idx = table * per + k;
                            if jk {
                                let rj = other.region[j];
                                if rj == ri {
                                    within[idx] += w;
                                    return;
                                }
                                touch(acc, block, nregions, [ri, rj], idx, w);
                            }
                            acc[idx] += w;
                        });
                }
            });
            flush(&mut within, acc, block, nregions, current);
        })
    }
}

/// Gives `put(index, weight, j)` the terms of primary i's hits (separation
/// bins `sbin`, mu bins `m1` and, for a pair whose reverse orientation may
/// differ, `m2`, of points `js` of `other`, OUT skipped and, under MPI,
/// pairs counted on another rank), as `Kernel::chunk`'s general loop adds
/// them: the same terms in the same order, so the same bits. Every index is
/// below (the number of tables) * per.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn add_mu<W: Weigher, const OWNED: bool>(
    weigher: &W,
    (a, i): (&Side, usize),
    other: &Side,
    (tables, per, spec): ([usize; 2], usize, &MuSpec),
    (sbin, js, m1, m2): (&[u32], &[u32], &[u32], &[u32]),
    put: &mut impl Put,
) {
    let n = sbin.len().min(js.len()).min(m1.len()).min(m2.len());
    let nmu = spec.n;
    let (off0, off1) = (tables[0] * per, tables[1] * per);
    let unit = W::PRODUCT && a.unit && other.unit;
    let wi = a.w[i];
    let (kinds, ws) = (other.t.as_ptr(), other.w.as_ptr());
    for t in 0..n {
        // SAFETY: t < n.
        let sb = unsafe { *sbin.get_unchecked(t) };
        if sb == u32::from(OUT) {
            continue;
        }
        // SAFETY: t < n; j indexes `other` (a grid range of it).
        let j = unsafe { *js.get_unchecked(t) } as usize;
        if !OWNED && !owns(a, i, other, j) {
            continue;
        }
        // SAFETY: j indexes `other`; kinds are 0 or 1.
        let tj = unsafe { *kinds.add(j) };
        let w = if unit {
            1.0
        } else if W::PRODUCT {
            // SAFETY: as above
            wi * unsafe { *ws.add(j) }
        } else {
            weigher.weight(a, i, other, j, tables[usize::from(tj & 1)])
        };
        // sb < nbins and k1, k2 < nmu: base + k < off + per <= tables * per
        let base = if tj == 0 { off0 } else { off1 } + sb as usize * nmu;
        let (k1, k2) = unsafe { (*m1.get_unchecked(t) as usize, *m2.get_unchecked(t) as usize) };
        if !spec.halves || k1 == k2 {
            put.put(base + k1, w, j);
        } else {
            put.put(base + k1, w * 0.5, j);
            put.put(base + k2, w * 0.5, j);
        }
    }
}

/// As `add_lanes` with regions (every point owned): a pair within the
/// primary's region `ri` goes to the lanes of `sink.within` (`LANES` blocks),
/// round them from `lane`, so that an add never waits for the previous one
/// to the same bin; a pair across regions through `Sink::across`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_regions<W: Weigher>(
    weigher: &W,
    (a, i): (&Side, usize),
    other: &Side,
    (tables, per, block): ([usize; 2], usize, usize),
    (sbin, js): (&[u32], &[u32]),
    (sink, acc, ri): (&mut Sink, &mut [f64], u32),
    lane: &mut usize,
) {
    let n = sbin.len().min(js.len());
    let (off0, off1) = (tables[0] * per, tables[1] * per);
    let regions = other.region.as_ptr();
    assert!(sink.within.len() >= LANES * block && other.region.len() == other.t.len());
    let within = sink.within.as_mut_ptr();
    let mut l = *lane;
    for t in 0..n {
        // SAFETY: t < n; the hit's j indexes `other`, whose regions hold one
        // entry per point; l < LANES and off + sb < block, so the slot lies
        // in `within`.
        unsafe {
            let Some((sb, j, tj, w)) = hit(weigher, (a, i), other, tables, (sbin, js), t) else {
                continue;
            };
            let idx = if tj == 0 { off0 } else { off1 } + sb as usize;
            let rj = *regions.add(j);
            if rj == ri {
                *within.add(l * block + idx) += w;
                l = (l + 1) & (LANES - 1);
            } else {
                sink.across(acc, idx, w, ri, rj);
            }
        }
    }
    *lane = l;
}

/// `add_regions` on the hits split by region (`avx512::split_regions`):
/// the same adds in the same order (within the region round the lanes,
/// across through `Sink::across`), without a branch on the region per hit.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_split<W: Weigher>(
    weigher: &W,
    (a, i): (&Side, usize),
    other: &Side,
    (tables, per, block): ([usize; 2], usize, usize),
    (ss, sj): (&[u32], &[u32]),
    (os, oj, or): (&[u32], &[u32], &[u32]),
    (sink, acc, ri): (&mut Sink, &mut [f64], u32),
    lane: &mut usize,
) {
    let offs = [tables[0] * per, tables[1] * per];
    assert!(sink.within.len() >= LANES * block);
    let within = sink.within.as_mut_ptr();
    let mut l = *lane;
    for (&sb, &j) in ss.iter().zip(sj) {
        let j = j as usize;
        // SAFETY: j indexes `other` (a hit); kinds are 0 or 1; l < LANES
        // and offs[tj] + sb < block, so the slot lies in `within`.
        unsafe {
            let tj = usize::from(*other.t.get_unchecked(j) & 1);
            let w = weight(weigher, (a, i), other, j, tables[tj]);
            *within.add(l * block + offs[tj] + sb as usize) += w;
        }
        l = (l + 1) & (LANES - 1);
    }
    *lane = l;
    for ((&sb, &j), &rj) in os.iter().zip(oj).zip(or) {
        let j = j as usize;
        // SAFETY: as above.
        let (tj, w) = unsafe {
            let tj = usize::from(*other.t.get_unchecked(j) & 1);
            (tj, weight(weigher, (a, i), other, j, tables[tj]))
        };
        sink.across(acc, offs[tj] + sb as usize, w, ri, rj);
    }
}

/// The weight of the pair (i of a, j of b) counted into `table`.
///
/// # Safety
/// j indexes `b`.
#[inline(always)]
unsafe fn weight<W: Weigher>(
    weigher: &W,
    (a, i): (&Side, usize),
    b: &Side,
    j: usize,
    table: usize,
) -> f64 {
    if W::PRODUCT && a.unit && b.unit {
        1.0
    } else if W::PRODUCT {
        a.w[i] * *b.w.get_unchecked(j)
    } else {
        weigher.weight(a, i, b, j, table)
    }
}

/// Hit t of primary i (separation bin `sbin[t]` of point `js[t]` of
/// `other`): its bin, point, kind and pair weight; None out of the bins.
///
/// # Safety
/// t < sbin.len(), js.len(); js[t] indexes `other`, whose kinds are 0 or 1.
#[inline(always)]
unsafe fn hit<W: Weigher>(
    weigher: &W,
    (a, i): (&Side, usize),
    other: &Side,
    tables: [usize; 2],
    (sbin, js): (&[u32], &[u32]),
    t: usize,
) -> Option<(u32, usize, u8, f64)> {
    let sb = *sbin.get_unchecked(t);
    if sb == u32::from(OUT) {
        return None;
    }
    let j = *js.get_unchecked(t) as usize;
    let tj = *other.t.get_unchecked(j);
    let w = weight(weigher, (a, i), other, j, tables[usize::from(tj & 1)]);
    Some((sb, j, tj, w))
}

/// Adds the weights of primary i's hits (separation bins `sbin` of points
/// `js` of `other`, OUT skipped) to the lanes `data` (`LANES` blocks of
/// `block`), going round them from `lane`. `tables`: the tables (of `per`
/// bins) of a pair with a galaxy and with a random neighbour. A loop of its own, so that its few
/// values stay in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_lanes<W: Weigher>(
    weigher: &W,
    (a, i): (&Side, usize),
    other: &Side,
    (tables, per, block): ([usize; 2], usize, usize),
    (sbin, js): (&[u32], &[u32]),
    data: &mut [f64],
    lane: &mut usize,
) {
    let n = sbin.len().min(js.len());
    let (off0, off1) = (tables[0] * per, tables[1] * per);
    assert!(data.len() >= LANES * block);
    let data = data.as_mut_ptr();
    let mut l = *lane;
    if let (true, Some(k), true) = (W::PRODUCT, other.kind, a.unit && other.unit) {
        // Unit weights, one kind of neighbour: only the bins are read.
        let off = if k == 0 { off0 } else { off1 };
        for &sb in &sbin[..n] {
            if sb == u32::from(OUT) {
                continue;
            }
            // SAFETY: as below.
            unsafe { *data.add(l * block + off + sb as usize) += 1.0 };
            l = (l + 1) & (LANES - 1);
        }
        *lane = l;
        return;
    }
    for t in 0..n {
        // SAFETY: t < n; j indexes `other` (a grid range of it); kinds are
        // 0 or 1; l < LANES and off[tj] + sb < block, so the slot lies in
        // data (LANES * block entries).
        unsafe {
            let Some((sb, _, tj, w)) = hit(weigher, (a, i), other, tables, (sbin, js), t) else {
                continue;
            };
            let off = if tj == 0 { off0 } else { off1 };
            *data.add(l * block + off + sb as usize) += w;
        }
        l = (l + 1) & (LANES - 1);
    }
    *lane = l;
}

/// Where `add_mu` puts a pair's weight: `put(index, weight, j)` (j: the
/// neighbour). Structs with inlined methods rather than closures: a closure
/// is compiled apart from the kernel's vector variant and may stay a call
/// per pair (perf: 42 % of an (s, mu) count with regions in the closure).
trait Put {
    fn put(&mut self, idx: usize, w: f64, j: usize);
}

/// Into the totals (of `block` entries, which every index lies below).
struct Totals(*mut f64);

impl Put for Totals {
    #[inline(always)]
    fn put(&mut self, idx: usize, w: f64, _: usize) {
        // SAFETY: add_mu's indices lie in the totals (see `Totals`).
        unsafe { *self.0.add(idx) += w };
    }
}

/// Through the sink, by the regions of the primary and the neighbour.
struct ByRegion<'p, 's> {
    sink: &'p mut Sink<'s>,
    acc: &'p mut [f64],
    ri: u32,
    region: &'p [u32],
}

impl Put for ByRegion<'_, '_> {
    #[inline(always)]
    fn put(&mut self, idx: usize, w: f64, j: usize) {
        self.sink.add(self.acc, idx, w, self.ri, self.region[j]);
    }
}

/// Where a pair's weight goes: the interleaved lanes, the lanes of pairs
/// within the primary's region, or the totals and the region tables.
struct Sink<'s> {
    lanes: &'s mut Lanes,
    within: &'s mut [f64],
    /// Pairs from the primary's region to a larger region, then to a
    /// smaller one (2 blocks): their share of the primary's region's tables
    /// (touch and low, touch only), added in bulk like `within`.
    across: &'s mut [f64],
    use_lanes: bool,
    jk: bool,
    block: usize,
    nregions: usize,
}

impl Sink<'_> {
    #[inline(always)]
    fn add(&mut self, acc: &mut [f64], idx: usize, w: f64, ri: u32, rj: u32) {
        if self.use_lanes {
            self.lanes.add(idx, w);
            return;
        }
        if self.jk {
            if rj == ri {
                self.within[idx] += w;
            } else {
                self.across(acc, idx, w, ri, rj);
            }
            return;
        }
        acc[idx] += w;
    }

    /// A pair across regions: as `touch(acc, .., [ri, rj], idx, w)` and the
    /// total, the primary's region's part in bulk (`flush`), rj's here.
    #[inline(always)]
    fn across(&mut self, acc: &mut [f64], idx: usize, w: f64, ri: u32, rj: u32) {
        let (b, r) = (self.block, rj as usize);
        acc[(1 + r) * b + idx] += w;
        if ri < rj {
            self.across[idx] += w;
        } else {
            self.across[b + idx] += w;
            acc[(1 + self.nregions + r) * b + idx] += w;
        }
    }

    /// Adds the pairs of the primaries of region `current` held in bulk to
    /// the totals and the region's tables (when the primaries' region
    /// changes, and at the end).
    fn flush(&mut self, acc: &mut [f64], current: Option<u32>) {
        let first = fold_lanes(self.within, self.block);
        flush(first, acc, self.block, self.nregions, current);
        if let Some(r) = current {
            let (lower, higher) = self.across.split_at_mut(self.block);
            flush_tables(lower, acc, self.block, self.nregions, r, 2);
            flush_tables(higher, acc, self.block, self.nregions, r, 1);
        }
    }
}

/// Adds the lanes of `lanes` (blocks of `block`) to the first, in lane
/// order, and clears them: one vector pass, so that flushing the lanes of a
/// region costs little when the primaries' region changes often (cells
/// across region borders hold several regions). Returns the first block.
#[inline(always)]
fn fold_lanes(lanes: &mut [f64], block: usize) -> &mut [f64] {
    let (first, rest) = lanes.split_at_mut(block.min(lanes.len()));
    for lane in rest.chunks_exact_mut(block) {
        for (f, v) in first.iter_mut().zip(lane) {
            *f += std::mem::take(v);
        }
    }
    first
}

/// Is the pair counted on this rank? Yes when its smaller-key point is
/// owned here (exactly one rank owns it, and holds the other point, which
/// lies within the search radius of it).
#[inline(always)]
fn owns(a: &Side, i: usize, b: &Side, j: usize) -> bool {
    let (bi, bj) = (
        a.buffer.get(i).copied().unwrap_or(0),
        b.buffer.get(j).copied().unwrap_or(0),
    );
    if bi == 0 && bj == 0 {
        return true;
    }
    let ki = a.key.get(i).copied().unwrap_or(0);
    let kj = b.key.get(j).copied().unwrap_or(0);
    if ki < kj {
        bi == 0
    } else {
        bj == 0
    }
}
