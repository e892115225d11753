//! Sky patches: k-means on the directions of a sample (`sky_centres`), and
//! the nearest of the centres for every direction (`nearest_centres`), the
//! step of k-means that also labels every point of a catalogue.

use rayon::prelude::*;

use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::Positions;
use crate::simd::Simd;

/// Points per parallel block (a cancellation check each): a k-means sample
/// of 20,000 directions still spreads over the threads.
const BLOCK: usize = 1 << 11;
/// Directions compared with the centres at once (one AVX-512 register).
const LANES: usize = 8;

/// For every direction of `pos` (unit vectors), the index of the centre
/// (unit vectors) with the largest dot product, the first of equals;
/// dot products as (x cx + y cy) + z cz, the same bits on every ISA.
pub fn nearest_centres(
    pos: &Positions,
    centres: &[[f64; 3]],
    control: &Control,
) -> Result<Vec<u32>> {
    if centres.is_empty() || centres.len() > u32::MAX as usize {
        return Err(CoreError::InvalidInput(format!(
            "patch labels need 1 to 2^32 - 1 centres, got {}",
            centres.len()
        )));
    }
    let simd = Simd::detect();
    let mut out = vec![0u32; pos.len()];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .try_for_each(|(b, chunk)| {
            control.check()?;
            nearest_block(simd, pos, b * BLOCK, centres, chunk);
            Ok(())
        })?;
    Ok(out)
}

fn nearest_block(simd: Simd, pos: &Positions, start: usize, centres: &[[f64; 3]], out: &mut [u32]) {
    match simd {
        // SAFETY: the features were detected at run time.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { nearest_avx512(pos, start, centres, out) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { nearest_avx2(pos, start, centres, out) },
        Simd::Baseline => nearest_lanes(pos, start, centres, out),
    }
}

/// `nearest_lanes` in intrinsics, four registers of directions side by
/// side: the generic form kept its best dot products in memory (perf: a
/// masked store and a reload per centre, 1.7 cycles per dot product).
/// The same products, sums and comparisons, so the same labels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn nearest_avx512(pos: &Positions, start: usize, centres: &[[f64; 3]], out: &mut [u32]) {
    use std::arch::x86_64::*;
    const R: usize = 4;
    let n = out.len();
    // indices as doubles, converted to 32-bit integers
    if centres.len() > i32::MAX as usize {
        return nearest_lanes(pos, start, centres, out);
    }
    assert!(start + n <= pos.x.len().min(pos.y.len()).min(pos.z.len()));
    let full = n / (R * LANES) * (R * LANES);
    let (px, py, pz) = (pos.x.as_ptr(), pos.y.as_ptr(), pos.z.as_ptr());
    let mut g = 0;
    while g < full {
        let at = start + g;
        let x: [__m512d; R] = std::array::from_fn(|r| _mm512_loadu_pd(px.add(at + r * LANES)));
        let y: [__m512d; R] = std::array::from_fn(|r| _mm512_loadu_pd(py.add(at + r * LANES)));
        let z: [__m512d; R] = std::array::from_fn(|r| _mm512_loadu_pd(pz.add(at + r * LANES)));
        let mut best = [_mm512_set1_pd(f64::NEG_INFINITY); R];
        let mut arg = [_mm512_setzero_pd(); R];
        for (c, q) in centres.iter().enumerate() {
            let (qx, qy, qz) = (
                _mm512_set1_pd(q[0]),
                _mm512_set1_pd(q[1]),
                _mm512_set1_pd(q[2]),
            );
            let cf = _mm512_set1_pd(c as f64);
            for r in 0..R {
                let xy = _mm512_add_pd(_mm512_mul_pd(x[r], qx), _mm512_mul_pd(y[r], qy));
                let dot = _mm512_add_pd(xy, _mm512_mul_pd(z[r], qz));
                // dot > best ? dot : best, as max_pd (a shorter chain than
                // a masked move after the compare)
                let gt = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(dot, best[r]);
                best[r] = _mm512_max_pd(dot, best[r]);
                arg[r] = _mm512_mask_mov_pd(arg[r], gt, cf);
            }
        }
        for (r, a) in arg.iter().enumerate() {
            let o = out.as_mut_ptr().add(g + r * LANES) as *mut __m256i;
            _mm256_storeu_si256(o, _mm512_cvttpd_epi32(*a));
        }
        g += R * LANES;
    }
    nearest_lanes(pos, start + full, centres, &mut out[full..])
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn nearest_avx2(pos: &Positions, start: usize, centres: &[[f64; 3]], out: &mut [u32]) {
    nearest_lanes(pos, start, centres, out)
}

/// `LANES` directions against every centre at once: a compare and two
/// blends per centre in vector registers, no branch; four such groups side
/// by side, so that each centre's blends do not wait for the previous ones.
#[inline(always)]
fn nearest_lanes(pos: &Positions, start: usize, centres: &[[f64; 3]], out: &mut [u32]) {
    let mut wide = out.chunks_exact_mut(4 * LANES);
    let mut i = start;
    for group in &mut wide {
        nearest_group::<{ 4 * LANES }>(pos, i, centres, group);
        i += 4 * LANES;
    }
    let mut narrow = wide.into_remainder().chunks_exact_mut(LANES);
    for group in &mut narrow {
        nearest_group::<LANES>(pos, i, centres, group);
        i += LANES;
    }
    for o in narrow.into_remainder() {
        let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
        for (c, q) in centres.iter().enumerate() {
            let dot = (pos.x[i] * q[0] + pos.y[i] * q[1]) + pos.z[i] * q[2];
            if dot > best {
                (best, arg) = (dot, c);
            }
        }
        *o = arg as u32;
        i += 1;
    }
}

/// The nearest centre of the `G` directions from `i` on.
#[inline(always)]
fn nearest_group<const G: usize>(pos: &Positions, i: usize, centres: &[[f64; 3]], out: &mut [u32]) {
    let lane = |v: &[f64]| -> [f64; G] { v[i..i + G].try_into().unwrap() };
    let (x, y, z) = (lane(pos.x), lane(pos.y), lane(pos.z));
    let mut best = [f64::NEG_INFINITY; G];
    let mut arg = [0.0f64; G];
    for (c, q) in centres.iter().enumerate() {
        let cf = c as f64;
        for l in 0..G {
            let dot = (x[l] * q[0] + y[l] * q[1]) + z[l] * q[2];
            let gt = dot > best[l];
            best[l] = if gt { dot } else { best[l] };
            arg[l] = if gt { cf } else { arg[l] };
        }
    }
    for (o, a) in out.iter_mut().zip(arg) {
        *o = a as u32;
    }
}

/// Points per partial sum of the k-means++ distances: the draw finds its
/// block from the partial sums, then its point within the block.
const SEED_BLOCK: usize = 256;
/// Lloyd steps stop when the centres' rms shift is below this fraction of
/// the field's size (TreeCorr's default tolerance).
const SHIFT_TOL: f64 = 1e-5;

/// `draws.len()` patch centres from k-means on the directions of `pos`
/// (nonzero vectors, normalised here): k-means++ seeding (the first centre
/// at `draws[0]` of the way through the points; centre m at the point where
/// the running sum of squared distances to the nearest centre so far, taken
/// block by block, first exceeds `draws[m]` times their total), then up to
/// `iterations` Lloyd steps on the sphere (centres renormalised; an empty
/// patch keeps its centre), stopped when the patches no longer change or,
/// as TreeCorr's `run_kmeans` (tol 1e-5), the rms shift of the centres falls
/// below `SHIFT_TOL` times the size of the field of directions. Every sum
/// runs in point order, so the centres do not depend on the thread count.
pub fn sky_centres(
    pos: &Positions,
    draws: &[f64],
    iterations: usize,
    control: &Control,
) -> Result<Vec<[f64; 3]>> {
    let (n, k) = (pos.len(), draws.len());
    if k == 0 || k > n || k > u32::MAX as usize {
        return Err(CoreError::InvalidInput(format!(
            "cannot make {k} patches from {n} points"
        )));
    }
    if let Some(u) = draws.iter().find(|u| !(0.0..1.0).contains(*u)) {
        return Err(CoreError::InvalidInput(format!(
            "k-means draws lie in [0, 1), got {u}"
        )));
    }
    let (mut x, mut y, mut z) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let (a, b, c) = (pos.x[i], pos.y[i], pos.z[i]);
        let r = ((a * a + b * b) + c * c).sqrt();
        if r.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(CoreError::InvalidInput(format!(
                "sky patches need every point away from the observer at the origin (point {i} \
                 is at it); pass regions as labels instead"
            )));
        }
        x.push(a / r);
        y.push(b / r);
        z.push(c / r);
    }
    let unit = Positions {
        x: &x,
        y: &y,
        z: &z,
    };
    let centres = seed(&unit, draws, control)?;
    lloyd(&unit, centres, iterations, control)
}

/// k-means++ seeding of `sky_centres`.
fn seed(pos: &Positions, draws: &[f64], control: &Control) -> Result<Vec<[f64; 3]>> {
    let n = pos.len();
    let index = |u: f64| ((u * n as f64) as usize).min(n - 1);
    let at = |i: usize| [pos.x[i], pos.y[i], pos.z[i]];
    let mut near = vec![f64::INFINITY; n];
    let mut blocks = vec![0.0; n.div_ceil(SEED_BLOCK)];
    let mut centres = Vec::with_capacity(draws.len());
    let mut c = at(index(draws[0]));
    for (m, &u) in draws.iter().enumerate() {
        control.check()?;
        if m > 0 {
            let total: f64 = blocks.iter().sum();
            let i = if total > 0.0 {
                let target = u * total;
                let mut run = 0.0;
                let b = blocks
                    .iter()
                    .position(|&s| {
                        run += s;
                        run > target
                    })
                    .unwrap_or(blocks.len() - 1);
                run -= blocks[b];
                let span = b * SEED_BLOCK..((b + 1) * SEED_BLOCK).min(n);
                let within = near[span.clone()].iter().position(|&d| {
                    run += d;
                    run > target
                });
                // rounding can leave the target past the block's last point
                span.start + within.unwrap_or(span.len() - 1)
            } else {
                index(u)
            };
            c = at(i);
        }
        centres.push(c);
        nearer(Simd::detect(), pos, c, &mut near, &mut blocks);
    }
    Ok(centres)
}

/// Lowers `near` to the squared distances to `c` where smaller, and sums
/// each block of `SEED_BLOCK` into `blocks`.
fn nearer(simd: Simd, pos: &Positions, c: [f64; 3], near: &mut [f64], blocks: &mut [f64]) {
    match simd {
        // SAFETY: the features were detected at run time.
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 => unsafe { nearer_avx512(pos, c, near, blocks) },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 => unsafe { nearer_avx2(pos, c, near, blocks) },
        Simd::Baseline => nearer_lanes(pos, c, near, blocks),
    }
}

/// `nearer_lanes` in intrinsics, a register of lanes (the generic form
/// came out as partial stores and masked reloads of `near`: perf, 4.8
/// cycles per point and centre). The same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn nearer_avx512(pos: &Positions, c: [f64; 3], near: &mut [f64], blocks: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = near.len();
    assert!(n <= pos.x.len().min(pos.y.len()).min(pos.z.len()));
    let (cx, cy, cz) = (
        _mm512_set1_pd(c[0]),
        _mm512_set1_pd(c[1]),
        _mm512_set1_pd(c[2]),
    );
    let (px, py, pz, pn) = (
        pos.x.as_ptr(),
        pos.y.as_ptr(),
        pos.z.as_ptr(),
        near.as_mut_ptr(),
    );
    for (b, part) in blocks.iter_mut().enumerate() {
        let (start, end) = (b * SEED_BLOCK, ((b + 1) * SEED_BLOCK).min(n));
        let full = start + (end - start) / LANES * LANES;
        let mut sum = _mm512_setzero_pd();
        let mut j = start;
        while j < full {
            let a = _mm512_sub_pd(_mm512_loadu_pd(px.add(j)), cx);
            let e = _mm512_sub_pd(_mm512_loadu_pd(py.add(j)), cy);
            let f = _mm512_sub_pd(_mm512_loadu_pd(pz.add(j)), cz);
            let ae = _mm512_add_pd(_mm512_mul_pd(a, a), _mm512_mul_pd(e, e));
            let q = _mm512_add_pd(ae, _mm512_mul_pd(f, f));
            // q < near ? q : near, as `lower`
            let d = _mm512_min_pd(q, _mm512_loadu_pd(pn.add(j)));
            _mm512_storeu_pd(pn.add(j), d);
            sum = _mm512_add_pd(sum, d);
            j += LANES;
        }
        let mut s = [0.0; LANES];
        _mm512_storeu_pd(s.as_mut_ptr(), sum);
        for j in full..end {
            let (a, e, f) = (*px.add(j) - c[0], *py.add(j) - c[1], *pz.add(j) - c[2]);
            let d = lower(*pn.add(j), (a * a + e * e) + f * f);
            *pn.add(j) = d;
            s[j - full] += d;
        }
        *part = s.iter().sum();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn nearer_avx2(pos: &Positions, c: [f64; 3], near: &mut [f64], blocks: &mut [f64]) {
    nearer_lanes(pos, c, near, blocks)
}

/// `nearer` in `LANES` interleaved partial sums per block (no chain of
/// adds).
#[inline(always)]
fn nearer_lanes(pos: &Positions, c: [f64; 3], near: &mut [f64], blocks: &mut [f64]) {
    let parts = near
        .chunks_mut(SEED_BLOCK)
        .zip(pos.x.chunks(SEED_BLOCK))
        .zip(pos.y.chunks(SEED_BLOCK).zip(pos.z.chunks(SEED_BLOCK)));
    for (part, ((near, x), (y, z))) in blocks.iter_mut().zip(parts) {
        let mut s = [0.0; LANES];
        let m = near.len().min(x.len()).min(y.len()).min(z.len());
        let full = m / LANES * LANES;
        for g in (0..full).step_by(LANES) {
            let (nv, xv, yv, zv) = (
                &mut near[g..g + LANES],
                &x[g..g + LANES],
                &y[g..g + LANES],
                &z[g..g + LANES],
            );
            for l in 0..LANES {
                let (a, e, f) = (xv[l] - c[0], yv[l] - c[1], zv[l] - c[2]);
                let d = lower(nv[l], (a * a + e * e) + f * f);
                nv[l] = d;
                s[l] += d;
            }
        }
        for j in full..m {
            let (a, e, f) = (x[j] - c[0], y[j] - c[1], z[j] - c[2]);
            let d = lower(near[j], (a * a + e * e) + f * f);
            near[j] = d;
            s[j - full] += d;
        }
        *part = s.iter().sum();
    }
}

/// The smaller of `d` and `q`: `f64::min`, as `near` never holds a NaN (it
/// starts infinite and takes the smaller), in a form that vectorises.
#[inline(always)]
fn lower(d: f64, q: f64) -> f64 {
    if q < d {
        q
    } else {
        d
    }
}

/// Lloyd steps of `sky_centres` from `centres`.
fn lloyd(
    pos: &Positions,
    mut centres: Vec<[f64; 3]>,
    iterations: usize,
    control: &Control,
) -> Result<Vec<[f64; 3]>> {
    // the field's size: the diagonal of the directions' bounding box
    let extent = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| {
                (a.min(t), b.max(t))
            });
        hi - lo
    };
    let (ex, ey, ez) = (extent(pos.x), extent(pos.y), extent(pos.z));
    let tol = SHIFT_TOL * ((ex * ex + ey * ey) + ez * ez).sqrt();
    let mut previous: Option<Vec<u32>> = None;
    let simd = Simd::detect();
    for _ in 0..iterations {
        control.check()?;
        // One thread: a step on a sample of directions is a fraction of a
        // millisecond, and the threads of a pool that sleeps between steps
        // took longer to wake (in a count with regions, after Python's work).
        let mut labels = vec![0u32; pos.len()];
        nearest_block(simd, pos, 0, &centres, &mut labels);
        if previous.as_ref() == Some(&labels) {
            break; // the same patches give the same centres
        }
        let mut sums = vec![[0.0f64; 3]; centres.len()];
        for (i, &l) in labels.iter().enumerate() {
            let s = &mut sums[l as usize];
            s[0] += pos.x[i];
            s[1] += pos.y[i];
            s[2] += pos.z[i];
        }
        let mut shift2 = 0.0;
        for (c, s) in centres.iter_mut().zip(&sums) {
            let norm = ((s[0] * s[0] + s[1] * s[1]) + s[2] * s[2]).sqrt();
            if norm > 0.0 {
                let new = [s[0] / norm, s[1] / norm, s[2] / norm];
                shift2 += (0..3)
                    .map(|a| (new[a] - c[a]) * (new[a] - c[a]))
                    .sum::<f64>();
                *c = new;
            }
        }
        if (shift2 / centres.len() as f64).sqrt() <= tol {
            break;
        }
        previous = Some(labels);
    }
    Ok(centres)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible stream of numbers in [-1, 1) (a 64-bit LCG).
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        }
    }

    /// Equals a brute-force argmax, first of equals, on random directions
    /// and on centres repeated (ties).
    #[test]
    fn nearest_is_the_first_largest_dot_product() {
        let mut next = uniform(12345);
        let unit = |v: [f64; 3]| {
            let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            [v[0] / r, v[1] / r, v[2] / r]
        };
        // 32-wide groups, an 8-wide group and a scalar tail
        let pts: Vec<[f64; 3]> = (0..200_013)
            .map(|_| unit([next(), next(), next()]))
            .collect();
        let mut centres: Vec<[f64; 3]> = (0..20).map(|_| unit([next(), next(), next()])).collect();
        centres.push(centres[3]);
        let [x, y, z] = columns(&pts);
        let pos = Positions {
            x: &x,
            y: &y,
            z: &z,
        };
        let got = nearest_centres(&pos, &centres, &Control::new()).unwrap();
        for (p, &g) in pts.iter().zip(&got) {
            let dots: Vec<f64> = centres
                .iter()
                .map(|q| (p[0] * q[0] + p[1] * q[1]) + p[2] * q[2])
                .collect();
            let max = dots.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(g as usize, dots.iter().position(|&d| d == max).unwrap());
        }
        assert!(
            !got.contains(&20),
            "a repeated centre never wins over its first copy"
        );
        assert!(nearest_centres(&pos, &[], &Control::new()).is_err());
    }

    /// The intrinsics (AVX-512) and the generic loops (AVX2, baseline) give
    /// the same labels and the same seeding distances and block sums, bit
    /// for bit, on lengths that leave partial groups and on repeated
    /// centres (ties); a mutation of either kernel's order of operations
    /// fails this where the CPU has AVX-512.
    #[test]
    fn every_isa_gives_the_same_patches() {
        let mut next = uniform(7);
        let n = 3 * SEED_BLOCK + 77;
        let pts: Vec<[f64; 3]> = (0..n).map(|_| [next(), next(), next()]).collect();
        let [x, y, z] = columns(&pts);
        let pos = Positions {
            x: &x,
            y: &y,
            z: &z,
        };
        let mut centres: Vec<[f64; 3]> = (0..13).map(|_| [next(), next(), next()]).collect();
        centres.push(centres[5]);
        let mut isas = vec![Simd::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Simd::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                isas.push(Simd::Avx512);
            }
        }
        let run = |simd: Simd| {
            let mut labels = vec![0u32; n - 3];
            nearest_block(simd, &pos, 3, &centres, &mut labels);
            let mut near = vec![f64::INFINITY; n];
            let mut blocks = vec![0.0; n.div_ceil(SEED_BLOCK)];
            for c in &centres[..4] {
                nearer(simd, &pos, *c, &mut near, &mut blocks);
            }
            let bits = |v: &[f64]| v.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
            (labels, bits(&near), bits(&blocks))
        };
        let want = run(Simd::Baseline);
        assert!(!want.0.contains(&13), "a repeated centre never wins");
        for &simd in &isas[1..] {
            assert_eq!(run(simd), want, "{simd:?}");
        }
    }

    fn columns(pts: &[[f64; 3]]) -> [Vec<f64>; 3] {
        [0, 1, 2].map(|a| pts.iter().map(|p| p[a]).collect())
    }

    /// Two tight clumps far apart: one centre in each, unit vectors, the
    /// same bits on 1 and 2 threads and whatever the scale of the points;
    /// bad input refused.
    #[test]
    fn kmeans_centres_find_clumps_and_do_not_depend_on_threads() {
        let mut s = 99u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut pts = Vec::new();
        for k in 0..3000 {
            let (dir, r) = if k % 3 == 0 {
                ([1.0, 0.0, 0.0], 100.0)
            } else {
                ([0.0, 0.6, 0.8], 7.0)
            };
            pts.push([0, 1, 2].map(|a| r * (dir[a] + 0.01 * next())));
        }
        let [x, y, z] = columns(&pts);
        let pos = Positions {
            x: &x,
            y: &y,
            z: &z,
        };
        let draws = [0.1, 0.7];
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| sky_centres(&pos, &draws, 30, &Control::new()).unwrap())
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one, two);
        for c in &one {
            let norm = (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
        }
        let mut near: Vec<f64> = one.iter().map(|c| c[0]).collect();
        near.sort_by(f64::total_cmp);
        assert!(
            near[0] < 0.05 && near[1] > 0.99,
            "one centre per clump: {one:?}"
        );
        // scaling a direction does not move it
        let scaled: Vec<[f64; 3]> = pts.iter().map(|p| p.map(|v| 3.0 * v)).collect();
        let [sx, sy, sz] = columns(&scaled);
        let spos = Positions {
            x: &sx,
            y: &sy,
            z: &sz,
        };
        let again = sky_centres(&spos, &draws, 30, &Control::new()).unwrap();
        for (a, b) in again.iter().zip(&one) {
            assert!((0..3).all(|k| (a[k] - b[k]).abs() < 1e-12));
        }
        let ctl = Control::new();
        assert!(sky_centres(&pos, &[], 30, &ctl).is_err());
        assert!(sky_centres(&pos, &[0.5, 1.0], 30, &ctl).is_err());
        let zero = [0.0];
        let at_origin = Positions {
            x: &zero,
            y: &zero,
            z: &zero,
        };
        let err = sky_centres(&at_origin, &[0.5], 30, &ctl).unwrap_err();
        assert!(err.to_string().contains("away from the observer"));
        let few = Positions {
            x: &x[..1],
            y: &y[..1],
            z: &z[..1],
        };
        assert!(sky_centres(&few, &[0.1, 0.2], 30, &ctl).is_err());
    }
}
