//! Unit-weight counts a whole cell at a time: per lane and per threshold
//! t_e, the candidates with d^2 < t_e (`avx512::cumulate`), compared only
//! with the thresholds between a cell's nearest and farthest possible d^2
//! (`Side::d2_bounds`); the thresholds above count the whole run of points
//! unseen. Bin k then holds C(t_{k+1}) - C(t_k): the comparisons of the bin
//! search against the same thresholds, so the same bins, and sums of 1 are
//! exact, so the same bits in any order.

use std::ops::Range;

#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::block::{Cumulative, Span, CUMULATIVE_MAX};
use crate::geometry::Metric;
use crate::grid::Columns;
use crate::reduce::touch;

/// The counts of the pairs of a run of primaries (all in one region) with
/// the points of one region, by (primary kind, neighbour kind).
struct Slot {
    region: u32,
    /// Per lane, the compared candidates below each threshold.
    cum: [[Cumulative; 2]; 2],
    /// Runs counted whole from threshold e on (a difference array over e).
    whole: [[[i64; CUMULATIVE_MAX + 1]; 2]; 2],
    /// The current primary's runs to compare.
    spans: Vec<Span>,
}

impl Slot {
    fn new(region: u32) -> Self {
        Self {
            region,
            cum: [[[[0; 8]; CUMULATIVE_MAX]; 2]; 2],
            whole: [[[0; CUMULATIVE_MAX + 1]; 2]; 2],
            spans: Vec::new(),
        }
    }

    /// Calls `put(table index, count)` for every bin and clears the slot.
    fn drain(
        &mut self,
        nbins: usize,
        tables: [[usize; 2]; 2],
        per: usize,
        mut put: impl FnMut(usize, f64),
    ) {
        for (ti, tj) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let off = tables[ti][tj] * per;
            let mut below = [0i64; CUMULATIVE_MAX];
            let mut run = 0;
            for (e, v) in below.iter_mut().enumerate() {
                run += self.whole[ti][tj][e];
                *v = run + self.cum[ti][tj][e].iter().sum::<i64>();
            }
            for k in 0..nbins {
                let n = below[k + 1] - below[k];
                if n != 0 {
                    put(off + k, n as f64);
                }
            }
            self.cum[ti][tj] = [[0; 8]; CUMULATIVE_MAX];
            self.whole[ti][tj] = [0; CUMULATIVE_MAX + 1];
        }
    }
}

/// The counts of a chunk of primaries: slot 0 holds the pairs within the
/// current primaries' region (every pair, without regions), the others the
/// pairs with each other region met since the primaries' region changed.
pub(crate) struct Cells {
    slots: Vec<Slot>,
}

impl Cells {
    pub fn new() -> Self {
        Self {
            slots: vec![Slot::new(0)],
        }
    }

    /// The thresholds a cell's candidates must be compared with, `lo..hi`:
    /// none of them is below t_e for e < lo, all of them are for e >= hi.
    #[inline(always)]
    pub fn between(thresholds: &[f64], (dmin, dmax): (f64, f64)) -> (usize, usize) {
        (
            thresholds.partition_point(|&t| t <= dmin),
            thresholds.partition_point(|&t| t <= dmax),
        )
    }

    /// A run of points of one kind, all in region `region` (`own`: the
    /// primary's), for the primary of kind `ti`; compared by `count`.
    #[inline(always)]
    pub fn add(
        &mut self,
        (ti, own): (usize, bool),
        (kind, region): (u8, u32),
        run: Range<usize>,
        (lo, hi): (usize, usize),
    ) {
        let slot = if own {
            &mut self.slots[0]
        } else {
            match self.slots[1..].iter().position(|s| s.region == region) {
                Some(k) => &mut self.slots[1 + k],
                None => {
                    self.slots.push(Slot::new(region));
                    self.slots.last_mut().unwrap()
                }
            }
        };
        slot.whole[ti][kind as usize][hi] += run.len() as i64;
        if lo < hi {
            slot.spans.push(Span {
                start: run.start as u32,
                end: run.end as u32,
                lo: lo as u8,
                hi: hi as u8,
                kind,
            });
        }
    }

    /// Compares the runs added since the last call with the primary at `p`
    /// (of kind `ti`).
    ///
    /// # Safety
    /// The CPU must have AVX-512F and AVX-512VL; the runs lie in `cols`.
    #[inline(always)]
    pub unsafe fn count(
        &mut self,
        metric: &Metric,
        p: [f64; 3],
        cols: &Columns,
        ti: usize,
        thresholds: &[f64],
    ) {
        for s in &mut self.slots {
            if s.spans.is_empty() {
                continue;
            }
            #[cfg(target_arch = "x86_64")]
            avx512::cumulate(metric, p, cols, &s.spans, thresholds, &mut s.cum[ti]);
            s.spans.clear();
        }
    }

    /// Adds the counts so far and clears them: the pairs within the region
    /// to `own` (the region's lanes for `reduce::flush`; None: the totals
    /// of `acc`), those with other regions to the totals and region tables
    /// of `acc` (`reduce::touch`, `region`: the primaries').
    pub fn drain(
        &mut self,
        thresholds: &[f64],
        (tables, per): ([[usize; 2]; 2], usize),
        own: Option<&mut [f64]>,
        acc: &mut [f64],
        (block, nregions): (usize, usize),
        region: u32,
    ) {
        let nbins = thresholds.len() - 1;
        let own = match own {
            Some(lanes) => lanes,
            None => &mut *acc,
        };
        self.slots[0].drain(nbins, tables, per, |idx, n| own[idx] += n);
        for s in self.slots.drain(1..) {
            let mut s = s;
            let pair = [region, s.region];
            s.drain(nbins, tables, per, |idx, n| {
                touch(acc, block, nregions, pair, idx, n);
                acc[idx] += n;
            });
        }
    }
}
