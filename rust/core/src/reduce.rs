//! Deterministic parallel sums.
//!
//! Work is cut into chunks that depend only on the problem size, each chunk
//! fills its own accumulator, and the accumulators are added in chunk order.
//! Weighted sums are therefore bit-identical for every thread count.

use std::ops::Range;

use rayon::prelude::*;

use crate::control::Control;
use crate::error::{CoreError, Result};

const MAX_CHUNKS: usize = 512;
const MIN_CHUNKS: usize = 16;
/// Items a chunk holds at least, when there are enough for `MIN_CHUNKS`:
/// each chunk sets up its scratch and zeroes and adds its table, which
/// cost as much as a few hundred light items (pairs with regions: 1.26x the
/// plain count with 512 chunks of 200 primaries, 1.17x with 97).
const MIN_ITEMS_PER_CHUNK: usize = 1024;
/// Total bytes the chunk accumulators of a wave may take together (more
/// when the threads need more).
const ACC_BUDGET: usize = 32 << 20;

pub(crate) fn chunk_count(nitems: usize, acc_len: usize) -> usize {
    // Chunks depend on the problem only (never on the threads), so the sums
    // are the same bits on any machine. Large tables still get up to
    // MIN_CHUNKS chunks where there are items enough to share among threads
    // (each chunk zeroes and adds one table): the chunks are summed in waves
    // (`chunked_sum_with`), not all held.
    // With tables this large the work per item is heavy too (4-point
    // multipoles with regions: ~10^6 cycles a point), so MIN_CHUNKS chunks
    // from MIN_CHUNKS * MIN_ITEMS_PER_CHUNK items: with one chunk per thread
    // the slowest chunk kept a thread idle for a fifth of the run.
    let shared = (nitems / MIN_ITEMS_PER_CHUNK).min(MIN_CHUNKS);
    let by_memory = (ACC_BUDGET / (8 * acc_len.max(1))).max(shared).max(1);
    let by_items = (nitems / MIN_ITEMS_PER_CHUNK).max(MIN_CHUNKS);
    nitems.clamp(1, MAX_CHUNKS.min(by_memory).min(by_items))
}

/// Chunk accumulators alive at once: the budget's worth, and at least two
/// per thread so that no thread waits long for the slowest of a wave.
pub(crate) fn wave_len(nchunks: usize, acc_len: usize) -> usize {
    let by_memory = ACC_BUDGET / (8 * acc_len.max(1));
    by_memory
        .max(2 * rayon::current_num_threads())
        .min(nchunks)
        .max(1)
}

pub(crate) fn chunk_range(c: usize, nchunks: usize, nitems: usize) -> Range<usize> {
    (c * nitems / nchunks)..((c + 1) * nitems / nchunks)
}

/// Sums `f(range, acc)` over chunks of `0..nitems` into one `acc_len` vector.
pub(crate) fn chunked_sum<F>(
    nitems: usize,
    acc_len: usize,
    control: &Control,
    f: F,
) -> Result<Vec<f64>>
where
    F: Fn(Range<usize>, &mut [f64]) + Sync,
{
    chunked_sum_with(nitems, acc_len, control, || (), |_, r, acc| f(r, acc))
}

/// As `chunked_sum`, with a scratch value made by `init` and reused by the
/// chunks one worker runs (its contents must not leak between chunks).
pub(crate) fn chunked_sum_with<S, I, F>(
    nitems: usize,
    acc_len: usize,
    control: &Control,
    init: I,
    f: F,
) -> Result<Vec<f64>>
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, Range<usize>, &mut [f64]) + Sync,
{
    let nchunks = chunk_count(nitems, acc_len);
    let wave = wave_len(nchunks, acc_len);
    control.begin(nchunks as u64);
    let mut total = vec![0.0; acc_len];
    for first in (0..nchunks).step_by(wave) {
        // A wave of chunks in parallel, then added to the total in chunk order.
        let parts: Vec<Option<Vec<f64>>> = (first..(first + wave).min(nchunks))
            .into_par_iter()
            .map_init(&init, |scratch, c| {
                if control.is_cancelled() {
                    return None;
                }
                let mut acc = vec![0.0; acc_len];
                f(scratch, chunk_range(c, nchunks, nitems), &mut acc);
                control.tick();
                Some(acc)
            })
            .collect();
        control.check()?;
        for part in parts.into_iter().flatten() {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
    }
    Ok(total)
}

/// Runs `f(scratch, c)` for the chunks c in 0..nchunks in parallel, as one
/// progress stage that stops early once cancelled; results in chunk order.
pub(crate) fn chunked<S, P, I, F>(
    nchunks: usize,
    control: &Control,
    init: I,
    f: F,
) -> Result<Vec<P>>
where
    P: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, usize) -> P + Sync,
{
    control.begin(nchunks as u64);
    let parts: Vec<Option<P>> = (0..nchunks)
        .into_par_iter()
        .map_init(init, |scratch, c| {
            if control.is_cancelled() {
                return None;
            }
            let part = f(scratch, c);
            control.tick();
            Some(part)
        })
        .collect();
    control.check()?;
    Ok(parts.into_iter().flatten().collect())
}

/// Refuses, before anything is allocated, a count whose accumulators (one
/// `acc_len` table per chunk of a wave, held until they are added in order,
/// plus the total), per-thread scratch (`scratch` bytes each) and `output` bytes
/// of results exceed `max_memory`.
pub(crate) fn check_tables(
    nitems: usize,
    acc_len: usize,
    scratch: u64,
    output: u64,
    max_memory: Option<u64>,
    what: &'static str,
) -> Result<()> {
    let Some(budget) = max_memory else {
        return Ok(());
    };
    let nchunks = chunk_count(nitems, acc_len);
    let wave = wave_len(nchunks, acc_len) as u64;
    let threads = rayon::current_num_threads() as u64;
    let tables = (wave + 1).saturating_mul(acc_len as u64).saturating_mul(8);
    let bytes = tables
        .saturating_add(threads.saturating_mul(scratch))
        .saturating_add(output);
    if bytes > budget {
        return Err(CoreError::MemoryBudget {
            what,
            estimate_bytes: bytes,
            budget_bytes: budget,
            detail: format!(
                "{acc_len} table entries in each of {wave} chunk accumulators, \
                 {scratch} bytes of scratch for each of {threads} threads and {output} \
                 bytes of results"
            ),
            advice: "use fewer separation or mu bins, fewer jackknife regions or threads, \
                     or raise max_memory",
        });
    }
    Ok(())
}

/// Resampling tables: after the `block` entries of the totals come one block
/// per region r of the tuples that touch r (every tuple adds its weight once
/// to the block of each distinct region among its vertices), then one block
/// per region r of the tuples whose smallest region label is r (each tuple
/// once), then one block per region r of the tuples with every vertex in r.
/// The count with region r deleted is the total minus its first block,
/// exactly (jackknife); resampled regions weight the second blocks (the
/// marked-point bootstrap); the third split the first into tuples within r
/// and across its border, which the Mohammad & Percival correction weights
/// apart. All depend on labels only, not on the order in which tuples are
/// found, so they agree over threads and MPI ranks.
#[inline(always)]
pub(crate) fn touch<const N: usize>(
    acc: &mut [f64],
    block: usize,
    nregions: usize,
    regions: [u32; N],
    idx: usize,
    w: f64,
) {
    let mut low = regions[0];
    for a in 0..N {
        let r = regions[a];
        low = low.min(r);
        if !regions[..a].contains(&r) {
            acc[(1 + r as usize) * block + idx] += w;
        }
    }
    acc[(1 + nregions + low as usize) * block + idx] += w;
    if regions.iter().all(|&r| r == regions[0]) {
        acc[(1 + 2 * nregions + low as usize) * block + idx] += w;
    }
}

/// Adds the lanes (each `block` entries) to the totals and, given the one
/// region of all their tuples' vertices, to its three tables, exactly as `touch`
/// would have added each tuple; clears them. Counts that find tuples primary by
/// primary sum the tuples that stay in the primary's region (most of them,
/// when regions are much larger than rmax) in lanes flushed whenever the
/// primary's region changes, so those tuples cost no table update at all.
pub(crate) fn flush(
    lanes: &mut [f64],
    acc: &mut [f64],
    block: usize,
    nregions: usize,
    region: Option<u32>,
) {
    match region {
        Some(r) => flush_tables(lanes, acc, block, nregions, r, 3),
        None => flush_tables(lanes, acc, block, nregions, 0, 0),
    }
}

/// As `flush`, into the totals and the first `depth` tables of `region`
/// (touch, then smallest region, then within): lanes of tuples that touch
/// the region, or also have it as their smallest one.
pub(crate) fn flush_tables(
    lanes: &mut [f64],
    acc: &mut [f64],
    block: usize,
    nregions: usize,
    region: u32,
    depth: usize,
) {
    // Whole blocks, table by table, in vector registers: each entry gets the
    // same adds in the same order as entry by entry (an empty entry adds 0,
    // which changes nothing), without a branch per entry (perf: 6 % of a
    // pair count with thin-slab regions, whose primaries change region
    // often, was in these flushes).
    for lane in lanes.chunks_exact_mut(block) {
        add_block(&mut acc[..block], lane);
        for table in 0..depth {
            let at = (1 + table * nregions + region as usize) * block;
            add_block(&mut acc[at..at + block], lane);
        }
        lane.fill(0.0);
    }
}

/// As `flush_tables` for lanes of tuples whose vertices lie in exactly the
/// distinct `regions`: into the totals, the touch table of each and the
/// smallest-region table of the lowest.
pub(crate) fn flush_spanning(
    lanes: &mut [f64],
    acc: &mut [f64],
    block: usize,
    nregions: usize,
    regions: &[u32],
) {
    let low = regions.iter().min().map_or(0, |&r| r as usize);
    for lane in lanes.chunks_exact_mut(block) {
        add_block(&mut acc[..block], lane);
        for &r in regions {
            let at = (1 + r as usize) * block;
            add_block(&mut acc[at..at + block], lane);
        }
        let at = (1 + nregions + low) * block;
        add_block(&mut acc[at..at + block], lane);
        lane.fill(0.0);
    }
}

#[inline(always)]
fn add_block(to: &mut [f64], from: &[f64]) {
    for (t, v) in to.iter_mut().zip(from) {
        *t += v;
    }
}

/// Interleaved copies of a small count table: consecutive pairs add to
/// different copies, so an add never waits for the previous one to the
/// same bin (a histogram's store-to-load dependency). The copies are summed
/// in a fixed order; any path that adds the same terms in the same order
/// (the direct and graph pair kernels) gets the same bits.
pub(crate) struct Lanes {
    data: Vec<f64>,
    block: usize,
    next: usize,
}

/// Copies in `Lanes`.
pub(crate) const LANES: usize = 8;

impl Lanes {
    pub fn new(block: usize) -> Self {
        Self {
            data: vec![0.0; LANES * block],
            block,
            next: 0,
        }
    }

    /// The copies, lane after lane (`LANES` blocks), for a caller that
    /// keeps the lane index itself: it must go round the lanes in order from
    /// 0, one add each, as `add` does.
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    #[inline(always)]
    pub fn add(&mut self, idx: usize, w: f64) {
        assert!(idx < self.block);
        // SAFETY: next < LANES and idx < block.
        unsafe { *self.data.get_unchecked_mut(self.next * self.block + idx) += w };
        self.next = (self.next + 1) & (LANES - 1);
    }

    /// Adds the copies to `acc` (lane 0 first) and clears them.
    pub fn flush(&mut self, acc: &mut [f64]) {
        let b = self.block;
        for (k, a) in acc[..b].iter_mut().enumerate() {
            let mut s = 0.0;
            for l in 0..LANES {
                s += std::mem::take(&mut self.data[l * b + k]);
            }
            *a += s;
        }
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large tables are summed in waves; the bits are the same for every
    /// thread count and equal the sum taken chunk after chunk in one loop.
    #[test]
    fn waves_of_large_tables_sum_in_chunk_order() {
        let (nitems, acc_len) = (1 << 18, 3 << 20);
        let nchunks = chunk_count(nitems, acc_len);
        assert_eq!(nchunks, MIN_CHUNKS); // more than the 32 MiB budget holds at once
        let fill = |r: Range<usize>, acc: &mut [f64]| {
            for i in r {
                acc[(i * 7919) % acc_len] += 1.0 / (1.0 + i as f64);
            }
        };
        let mut serial = vec![0.0; acc_len];
        for c in 0..nchunks {
            let mut part = vec![0.0; acc_len];
            fill(chunk_range(c, nchunks, nitems), &mut part);
            for (t, v) in serial.iter_mut().zip(part) {
                *t += v;
            }
        }
        for threads in [1, 2, 3] {
            let got = crate::control::with_threads(Some(threads), || {
                assert!(wave_len(nchunks, acc_len) < nchunks || threads > 1);
                chunked_sum(nitems, acc_len, &Control::new(), fill)
            })
            .unwrap()
            .unwrap();
            assert!(got
                .iter()
                .zip(&serial)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }
}
