//! The pair kernel's three stages with AVX-512 instructions: the hits of a
//! cell range (distances, compress-stored), their separation bins (a
//! gathered table lookup) and their mu bins (vector division and square
//! root). Each lane does exactly the operations of the scalar code in
//! `block` and `bins` (no fused multiply-add; division, square root and
//! truncation are correctly rounded on every ISA), so the bins are the same
//! bits; only the vector width differs.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use crate::bins::{Lookup, OUT};
use crate::geometry::{Los, Metric};
use crate::grid::Columns;

use super::block::{Cumulative, MuSpec, Span};

/// Lanes per vector.
const W: usize = 8;

/// The lanes of the 8 from k that lie below len.
#[inline(always)]
fn tail(len: usize, k: usize) -> __mmask8 {
    if len - k >= W {
        0xFF
    } else {
        (1u8 << (len - k)) - 1
    }
}

// Bitwise operations on doubles with AVX-512F alone: the `_pd` forms are
// AVX-512DQ, which the kernel's variant does not enable, so they would not
// be inlined into it (perf showed them as calls: 9 % of a BAO count).
macro_rules! bitwise {
    ($($name:ident => $op:ident),*) => {$(
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn $name(a: __m512d, b: __m512d) -> __m512d {
            _mm512_castsi512_pd($op(_mm512_castpd_si512(a), _mm512_castpd_si512(b)))
        }
    )*};
}
bitwise!(and => _mm512_and_si512, andnot => _mm512_andnot_si512, or => _mm512_or_si512,
         xor => _mm512_xor_si512);

/// The lanes of x in [lo, hi).
#[inline]
#[target_feature(enable = "avx512f")]
fn within(x: __m512d, lo: __m512d, hi: __m512d) -> __mmask8 {
    _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, lo) & _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, hi)
}

/// Minimum image of 8 coordinate differences: d - l above l/2, d + l below
/// -l/2 (both tested on d, as the scalar `wrap`).
#[inline]
#[target_feature(enable = "avx512f")]
fn wrap(d: __m512d, period: Option<(f64, f64)>) -> __m512d {
    match period {
        None => d,
        Some((l, half)) => {
            let (lv, hv, nhv) = (
                _mm512_set1_pd(l),
                _mm512_set1_pd(half),
                _mm512_set1_pd(-half),
            );
            let above = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(d, hv);
            let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(d, nhv);
            let d2 = _mm512_mask_sub_pd(d, above, d, lv);
            _mm512_mask_add_pd(d2, below, d, lv)
        }
    }
}

/// The 8 points from k of three columns (lanes outside `m` zero, unread).
///
/// # Safety
/// Every lane of `m` lies within the columns.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load3(cols: [*const f64; 3], k: usize, m: __mmask8) -> [__m512d; 3] {
    cols.map(|c| _mm512_maskz_loadu_pd(m, c.add(k)))
}

/// The squared separations of 8 points from p, as the scalar code computes
/// them: (dx dx + dy dy) + dz dz of the (minimum-image) differences, no
/// fused multiply-add.
#[inline]
#[target_feature(enable = "avx512f")]
fn d2_of(q: [__m512d; 3], p: [__m512d; 3], period: Option<(f64, f64)>) -> __m512d {
    let dx = wrap(_mm512_sub_pd(q[0], p[0]), period);
    let dy = wrap(_mm512_sub_pd(q[1], p[1]), period);
    let dz = wrap(_mm512_sub_pd(q[2], p[2]), period);
    _mm512_add_pd(
        _mm512_add_pd(_mm512_mul_pd(dx, dx), _mm512_mul_pd(dy, dy)),
        _mm512_mul_pd(dz, dz),
    )
}

/// `block::hits`: appends (j, d^2) of the points of `range` with d^2 < cut.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512VL.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn hits(
    metric: &Metric,
    p: [f64; 3],
    cols: &Columns,
    range: std::ops::Range<usize>,
    cut: f64,
    js: &mut Vec<u32>,
    ds: &mut Vec<f64>,
    qs: Option<&mut [Vec<f64>; 3]>,
) {
    match (metric.boxsize, qs) {
        (None, None) => hits_in::<false, false>(0.0, p, cols, range, cut, js, ds, None),
        (Some(l), None) => hits_in::<true, false>(l, p, cols, range, cut, js, ds, None),
        (None, q) => hits_in::<false, true>(0.0, p, cols, range, cut, js, ds, q),
        (Some(l), q) => hits_in::<true, true>(l, p, cols, range, cut, js, ds, q),
    }
}

/// `hits` with the minimum image (PERIODIC, box size `l`) or without. The
/// hits of 8 candidates are compressed in a register and stored whole (the
/// compress-to-memory form is slow on AMD Zen cores: 6 % of an angular
/// count here, benchmarks/README.md): up to 8
/// entries past the new length are scratch, hence the reserve. COORDS:
/// the hits' coordinates are appended to `qs` too (for their mu bins,
/// instead of gathering them again).
#[inline]
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn hits_in<const PERIODIC: bool, const COORDS: bool>(
    l: f64,
    p: [f64; 3],
    cols: &Columns,
    range: std::ops::Range<usize>,
    cut: f64,
    js: &mut Vec<u32>,
    ds: &mut Vec<f64>,
    mut qs: Option<&mut [Vec<f64>; 3]>,
) {
    let period = PERIODIC.then_some((l, 0.5 * l));
    js.reserve(range.len() + W);
    ds.reserve(range.len() + W);
    let mut qp = [std::ptr::null_mut::<f64>(); 3];
    if let (true, Some(q)) = (COORDS, qs.as_deref_mut()) {
        for (a, v) in q.iter_mut().enumerate() {
            debug_assert_eq!(v.len(), js.len());
            v.reserve(range.len() + W);
            qp[a] = v.as_mut_ptr();
        }
    }
    let (px, py, pz) = (
        _mm512_set1_pd(p[0]),
        _mm512_set1_pd(p[1]),
        _mm512_set1_pd(p[2]),
    );
    let cutv = _mm512_set1_pd(cut);
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let (xs, ys, zs) = (cols.x.as_ptr(), cols.y.as_ptr(), cols.z.as_ptr());
    let (jp, dp) = (js.as_mut_ptr(), ds.as_mut_ptr());
    let mut len = js.len();
    let mut k = range.start;
    while k < range.end {
        let m = tail(range.end, k);
        // SAFETY (loads): masked-off lanes are not read; k + lane < range.end
        // <= len of the columns for the others.
        let [x, y, z] = load3([xs, ys, zs], k, m);
        let d2 = d2_of([x, y, z], [px, py, pz], period);
        let hit = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(m, d2, cutv);
        let j = _mm256_add_epi32(lane, _mm256_set1_epi32(k as i32));
        // SAFETY (stores): len + 8 <= the capacity reserved above (len grows
        // by at most the candidates of `range`).
        _mm512_storeu_pd(dp.add(len), _mm512_maskz_compress_pd(hit, d2));
        _mm256_storeu_si256(jp.add(len).cast(), _mm256_maskz_compress_epi32(hit, j));
        if COORDS && !qp[0].is_null() {
            // SAFETY: as above, each of qs was reserved alike.
            _mm512_storeu_pd(qp[0].add(len), _mm512_maskz_compress_pd(hit, x));
            _mm512_storeu_pd(qp[1].add(len), _mm512_maskz_compress_pd(hit, y));
            _mm512_storeu_pd(qp[2].add(len), _mm512_maskz_compress_pd(hit, z));
        }
        len += hit.count_ones() as usize;
        k += W;
    }
    js.set_len(len);
    ds.set_len(len);
    if let (true, Some(q)) = (COORDS, qs) {
        for v in q.iter_mut() {
            v.set_len(len);
        }
    }
}

/// `Lookup::bins` of `xs` into `out`.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512VL; `out` holds `xs.len()` entries.
#[target_feature(enable = "avx512f,avx512vl")]
pub(crate) unsafe fn bins(l: &Lookup, xs: &[f64], out: &mut [u32]) {
    let (t, table, base, shift, extra) =
        (&l.thresholds[..], &l.table32[..], l.base, l.shift, l.extra);
    let (lo, hi) = l.clamp;
    let n = t.len() - 1;
    if n < 3 {
        return l.bins(xs, out);
    }
    if n <= 16 {
        return bins_by_search(t, xs, out);
    }
    let (t0, t1, tn, tlast) = (
        _mm512_set1_pd(t[0]),
        _mm512_set1_pd(t[1]),
        _mm512_set1_pd(t[n]),
        _mm512_set1_pd(t[n - 1]),
    );
    let (lov, hiv) = (_mm512_set1_pd(lo), _mm512_set1_pd(hi));
    let basev = _mm512_set1_epi64(base as i64);
    let outside = _mm256_set1_epi32(i32::from(OUT));
    let last = _mm256_set1_epi32((n - 1) as i32);
    let one = _mm256_set1_epi32(1);
    let zero = _mm256_setzero_si256();
    let mut k = 0;
    while k < xs.len() {
        let m = tail(xs.len(), k);
        let x = _mm512_maskz_loadu_pd(m, xs.as_ptr().add(k));
        let inside = within(x, t0, tn);
        // Rust's f64::max / min of non-NaN values, as the scalar clamp
        let xc = _mm512_min_pd(_mm512_max_pd(x, lov), hiv);
        let slot = _mm512_srlv_epi64(
            _mm512_sub_epi64(_mm512_castpd_si512(xc), basev),
            _mm512_set1_epi64(i64::from(shift)),
        );
        let mut b = _mm512_i64gather_epi32::<4>(slot, table.as_ptr().cast());
        for _ in 0..extra {
            let next = _mm512_i32gather_pd::<8>(_mm256_add_epi32(b, one), t.as_ptr().cast());
            let pass = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(xc, next);
            b = _mm256_mask_add_epi32(b, pass, b, one);
        }
        let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, t1);
        let above = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, tlast);
        b = _mm256_mask_mov_epi32(b, below, zero);
        b = _mm256_mask_mov_epi32(b, above & !below, last);
        b = _mm256_mask_mov_epi32(b, !inside, outside);
        _mm256_mask_storeu_epi32(out.as_mut_ptr().add(k).cast(), m, b);
        k += W;
    }
}

/// `Lookup::bins` for at most 16 bins: t_1 .. t_n held in two registers
/// (padded with +inf) and a branch-free binary search by permutes, four
/// compares per 8 values and no memory lookups. The bin is the count of
/// t_1 .. t_n <= x, as the table gives it.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512VL; `out` holds `xs.len()` entries;
/// 3 <= t.len() - 1 <= 16.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn bins_by_search(t: &[f64], xs: &[f64], out: &mut [u32]) {
    let n = t.len() - 1;
    let mut pad = [f64::INFINITY; 16];
    pad[..n].copy_from_slice(&t[1..]);
    let (lo, hi) = (
        _mm512_loadu_pd(pad.as_ptr()),
        _mm512_loadu_pd(pad.as_ptr().add(8)),
    );
    let (t0, tn) = (_mm512_set1_pd(t[0]), _mm512_set1_pd(t[n]));
    let outside = _mm256_set1_epi32(i32::from(OUT));
    let steps = [8i64, 4, 2, 1].map(|s| (_mm512_set1_epi64(s - 1), _mm512_set1_epi64(s)));
    let mut k = 0;
    while k < xs.len() {
        let m = tail(xs.len(), k);
        let x = _mm512_maskz_loadu_pd(m, xs.as_ptr().add(k));
        let inside = within(x, t0, tn);
        let mut b = _mm512_setzero_si512();
        for &(back, step) in &steps {
            let probe = _mm512_permutex2var_pd(lo, _mm512_add_epi64(b, back), hi);
            let ge = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, probe);
            b = _mm512_mask_add_epi64(b, ge, b, step);
        }
        let b = _mm256_mask_mov_epi32(outside, inside, _mm512_cvtepi64_epi32(b));
        _mm256_mask_storeu_epi32(out.as_mut_ptr().add(k).cast(), m, b);
        k += W;
    }
}

/// `block::mu_bins` with AVX-512: the mu bins of the hits (coordinates
/// `qs`, squared separations `ds`), the same operations on the same values
/// (the coordinates stored by `hits` rather than gathered).
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512VL; `qs` hold `ds.len()` entries.
#[target_feature(enable = "avx512f,avx512vl")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn mu_bins(
    spec: &MuSpec,
    metric: &Metric,
    p: [f64; 3],
    qs: &[Vec<f64>; 3],
    ds: &[f64],
    m1: &mut Vec<u32>,
    m2: &mut Vec<u32>,
) {
    let n = ds.len();
    assert!(qs.iter().all(|q| q.len() == n));
    m1.resize(n, 0);
    m2.resize(n, 0);
    let period = metric.boxsize.map(|l| (l, 0.5 * l));
    let sign = _mm512_set1_pd(-0.0);
    let onev = _mm512_set1_pd(1.0);
    let zerov = _mm512_setzero_pd();
    let nf = _mm512_set1_pd(spec.n as f64);
    let half_n = _mm512_set1_pd(0.5 * spec.n as f64);
    let top = _mm256_set1_epi32((spec.n - 1) as i32);
    // |mu| or mu at most 1 with the sign of `sgn`, 0 where den is 0, then its bin
    let bin = |num: __m512d, den: __m512d, sgn: __m512d| -> __m256i {
        let mu = _mm512_min_pd(_mm512_sqrt_pd(_mm512_div_pd(num, den)), onev);
        let mu = or(andnot(sign, mu), and(sign, sgn));
        let mu = _mm512_mask_mov_pd(mu, _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(den, zerov), zerov);
        let tv = if spec.signed {
            _mm512_mul_pd(_mm512_add_pd(mu, onev), half_n)
        } else {
            _mm512_mul_pd(andnot(sign, mu), nf)
        };
        _mm256_min_epu32(_mm512_cvttpd_epu32(tv), top)
    };
    let (xs, ys, zs) = (qs[0].as_ptr(), qs[1].as_ptr(), qs[2].as_ptr());
    let (px, py, pz) = (
        _mm512_set1_pd(p[0]),
        _mm512_set1_pd(p[1]),
        _mm512_set1_pd(p[2]),
    );
    let axis = spec.los.axis();
    let first = spec.los == Los::FirstPoint;
    let end = spec.los == Los::EndPoint;
    let mut k = 0;
    while k < n {
        let m = tail(n, k);
        let dd = _mm512_maskz_loadu_pd(m, ds.as_ptr().add(k));
        let (b1, b2) = match axis {
            Some(a) => {
                let (ca, pa) = match a {
                    0 => (xs, px),
                    1 => (ys, py),
                    _ => (zs, pz),
                };
                let q = _mm512_maskz_loadu_pd(m, ca.add(k));
                let sa = wrap(_mm512_sub_pd(q, pa), period);
                let num = _mm512_mul_pd(sa, sa);
                let nsa = xor(sa, sign);
                (bin(num, dd, sa), bin(num, dd, nsa))
            }
            None => {
                let qx = _mm512_maskz_loadu_pd(m, xs.add(k));
                let qy = _mm512_maskz_loadu_pd(m, ys.add(k));
                let qz = _mm512_maskz_loadu_pd(m, zs.add(k));
                let (sx, sy, sz) = (
                    _mm512_sub_pd(qx, px),
                    _mm512_sub_pd(qy, py),
                    _mm512_sub_pd(qz, pz),
                );
                let (lx, ly, lz) = if first {
                    (px, py, pz)
                } else if end {
                    (qx, qy, qz)
                } else {
                    (
                        _mm512_add_pd(px, qx),
                        _mm512_add_pd(py, qy),
                        _mm512_add_pd(pz, qz),
                    )
                };
                let dot = dot3(sx, sy, sz, lx, ly, lz);
                let ll = dot3(lx, ly, lz, lx, ly, lz);
                let b1 = bin(_mm512_mul_pd(dot, dot), _mm512_mul_pd(ll, dd), dot);
                let b2 = if first || end {
                    let (mx, my, mz) = if first { (qx, qy, qz) } else { (px, py, pz) };
                    let (nx, ny, nz) = (xor(sx, sign), xor(sy, sign), xor(sz, sign));
                    let dot2 = dot3(nx, ny, nz, mx, my, mz);
                    let ll2 = dot3(mx, my, mz, mx, my, mz);
                    bin(_mm512_mul_pd(dot2, dot2), _mm512_mul_pd(ll2, dd), dot2)
                } else {
                    // the reverse orientation has mu exactly negated
                    let mneg = xor(dot, sign);
                    bin(_mm512_mul_pd(dot, dot), _mm512_mul_pd(ll, dd), mneg)
                };
                (b1, b2)
            }
        };
        _mm256_mask_storeu_epi32(m1.as_mut_ptr().add(k).cast(), m, b1);
        _mm256_mask_storeu_epi32(m2.as_mut_ptr().add(k).cast(), m, b2);
        k += W;
    }
}

/// a . b as the scalar code adds it: (ax bx + ay by) + az bz.
#[inline]
#[target_feature(enable = "avx512f")]
fn dot3(ax: __m512d, ay: __m512d, az: __m512d, bx: __m512d, by: __m512d, bz: __m512d) -> __m512d {
    _mm512_add_pd(
        _mm512_add_pd(_mm512_mul_pd(ax, bx), _mm512_mul_pd(ay, by)),
        _mm512_mul_pd(az, bz),
    )
}

/// Adds to `acc[kind][e]` the candidates of each span (points of `cols`, around
/// `p`) with d^2 < t_e, for the span's thresholds: the same d^2 as `hits`
/// (same operations, same order) against the same thresholds, so the same
/// bins. Thresholds are taken four at a time in registers.
///
/// # Safety
/// The CPU must have AVX-512F and AVX-512VL; every span lies in `cols`,
/// `hi <= t.len() <= CUMULATIVE_MAX`.
#[target_feature(enable = "avx512f,avx512vl")]
pub(crate) unsafe fn cumulate(
    metric: &Metric,
    p: [f64; 3],
    cols: &Columns,
    spans: &[Span],
    t: &[f64],
    acc: &mut [Cumulative; 2],
) {
    let period = metric.boxsize.map(|l| (l, 0.5 * l));
    for s in spans {
        let (mut e, hi) = (s.lo as usize, s.hi as usize);
        while e < hi {
            let k = (hi - e).min(4);
            let (range, th, out) = (
                s.start as usize..s.end as usize,
                &t[e..e + k],
                &mut acc[s.kind as usize & 1][e..e + k],
            );
            match (k, period) {
                (1, None) => compare::<false, 1>(0.0, p, cols, range, th, out),
                (2, None) => compare::<false, 2>(0.0, p, cols, range, th, out),
                (3, None) => compare::<false, 3>(0.0, p, cols, range, th, out),
                (_, None) => compare::<false, 4>(0.0, p, cols, range, th, out),
                (1, Some((l, _))) => compare::<true, 1>(l, p, cols, range, th, out),
                (2, Some((l, _))) => compare::<true, 2>(l, p, cols, range, th, out),
                (3, Some((l, _))) => compare::<true, 3>(l, p, cols, range, th, out),
                (_, Some((l, _))) => compare::<true, 4>(l, p, cols, range, th, out),
            }
            e += k;
        }
    }
}

/// `cumulate` of one range for K thresholds, held with their counts in
/// registers.
#[inline]
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn compare<const PERIODIC: bool, const K: usize>(
    l: f64,
    p: [f64; 3],
    cols: &Columns,
    range: std::ops::Range<usize>,
    t: &[f64],
    acc: &mut [[i64; W]],
) {
    let period = PERIODIC.then_some((l, 0.5 * l));
    let mut sums = [_mm512_setzero_si512(); K];
    let mut tv = [_mm512_setzero_pd(); K];
    for e in 0..K {
        sums[e] = _mm512_loadu_si512(acc[e].as_ptr().cast());
        tv[e] = _mm512_set1_pd(t[e]);
    }
    let one = _mm512_set1_epi64(1);
    let (px, py, pz) = (
        _mm512_set1_pd(p[0]),
        _mm512_set1_pd(p[1]),
        _mm512_set1_pd(p[2]),
    );
    let (xs, ys, zs) = (cols.x.as_ptr(), cols.y.as_ptr(), cols.z.as_ptr());
    let mut k = range.start;
    while k < range.end {
        let m = tail(range.end, k);
        // SAFETY: masked-off lanes are not read; the others lie in the range.
        let d2 = d2_of(load3([xs, ys, zs], k, m), [px, py, pz], period);
        for e in 0..K {
            let below = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(m, d2, tv[e]);
            sums[e] = _mm512_mask_add_epi64(sums[e], below, sums[e], one);
        }
        k += W;
    }
    for e in 0..K {
        _mm512_storeu_si512(acc[e].as_mut_ptr().cast(), sums[e]);
    }
}

/// The hits of a primary of region `ri` split by their neighbour's region,
/// 16 at a time: out of the bins (`OUT`) dropped, the rest compressed, in
/// order, into the hits within the region (`same`: bins, points) and those
/// across (`other`: bins, points, regions), so that the adds that follow
/// need no branch on the region (perf: with thin slab regions that branch
/// and the region looked up per hit cost more than the adds). The buffers
/// are cleared and hold the hits after the call.
///
/// # Safety
/// The CPU must have AVX-512F; every entry of `js` indexes `region`, whose
/// length fits in an i32.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn split_regions(
    (sbin, js): (&[u32], &[u32]),
    region: &[u32],
    ri: u32,
    same: (&mut Vec<u32>, &mut Vec<u32>),
    other: (&mut Vec<u32>, &mut Vec<u32>, &mut Vec<u32>),
) {
    const L: usize = 16;
    let n = sbin.len().min(js.len());
    assert!(region.len() <= i32::MAX as usize);
    let (ss, sj) = same;
    let (os, oj, or) = other;
    for v in [&mut *ss, &mut *sj, &mut *os, &mut *oj, &mut *or] {
        v.clear();
        v.reserve(n + L);
    }
    let (out, rv) = (_mm512_set1_epi32(OUT as i32), _mm512_set1_epi32(ri as i32));
    let (mut a, mut b) = (0usize, 0usize);
    let mut t = 0;
    while t < n {
        let lanes: __mmask16 = if n - t >= L {
            0xFFFF
        } else {
            (1u16 << (n - t)) - 1
        };
        let sb = _mm512_maskz_loadu_epi32(lanes, sbin.as_ptr().add(t) as *const i32);
        let j = _mm512_maskz_loadu_epi32(lanes, js.as_ptr().add(t) as *const i32);
        let valid = _mm512_mask_cmpneq_epi32_mask(lanes, sb, out);
        let r = _mm512_mask_i32gather_epi32::<4>(
            _mm512_setzero_si512(),
            valid,
            j,
            region.as_ptr() as *const i32,
        );
        let within = _mm512_mask_cmpeq_epi32_mask(valid, r, rv);
        let across = valid & !within;
        // compressed in registers and stored whole (the buffers hold 16
        // spare entries): a compress straight to memory is slow on some CPUs
        macro_rules! store {
            ($v:expr, $at:expr, $m:expr, $x:expr) => {
                _mm512_storeu_si512(
                    $v.as_mut_ptr().add($at) as *mut _,
                    _mm512_maskz_compress_epi32($m, $x),
                )
            };
        }
        store!(ss, a, within, sb);
        store!(sj, a, within, j);
        store!(os, b, across, sb);
        store!(oj, b, across, j);
        store!(or, b, across, r);
        a += within.count_ones() as usize;
        b += across.count_ones() as usize;
        t += L;
    }
    ss.set_len(a);
    sj.set_len(a);
    os.set_len(b);
    oj.set_len(b);
    or.set_len(b);
}
