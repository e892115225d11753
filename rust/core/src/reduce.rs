//! Deterministic parallel sums.
//!
//! Work is cut into chunks that depend only on the problem size, each chunk
//! fills its own accumulator, and the accumulators are added in chunk order.
//! Weighted sums are therefore bit-identical for every thread count.

use std::ops::Range;

use rayon::prelude::*;

use crate::control::Control;
use crate::error::Result;

const MAX_CHUNKS: usize = 512;
/// Total bytes all chunk accumulators may take together.
const ACC_BUDGET: usize = 256 << 20;

pub(crate) fn chunk_count(nitems: usize, acc_len: usize) -> usize {
    let by_memory = (ACC_BUDGET / (8 * acc_len.max(1))).max(1);
    nitems.clamp(1, MAX_CHUNKS.min(by_memory))
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
    let parts = chunked(nchunks, control, init, |scratch, c| {
        let mut acc = vec![0.0; acc_len];
        f(scratch, chunk_range(c, nchunks, nitems), &mut acc);
        acc
    })?;
    let mut total = vec![0.0; acc_len];
    for part in parts {
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
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
