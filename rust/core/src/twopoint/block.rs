//! The mu bins of a primary's hits in one straight-line loop the compiler
//! vectorises (the kernel compiles it for AVX-512, AVX2 and the baseline,
//! chosen at run time): the same operations as `Binning::emit` in the same
//! order, so the bins are the same bits on every path.

use crate::bins::Lookup;
use crate::geometry::{Los, Metric};
use crate::grid::Columns;

use super::binning::{mu_bin, Binning};

/// How the block path bins a pair: the separation (or chord) bin by its
/// square, and for (s, mu) the mu bin of each orientation.
#[derive(Clone, Copy)]
pub(crate) struct Mode<'b> {
    pub lookup: &'b Lookup,
    pub mu: Option<MuSpec>,
}

#[derive(Clone, Copy)]
pub(crate) struct MuSpec {
    pub n: usize,
    pub signed: bool,
    pub los: Los,
    /// An unordered pair whose two orientations may fall in different mu
    /// bins: both are computed (each then counts with half the weight).
    pub halves: bool,
}

impl<'b> Mode<'b> {
    /// The block mode of a binning, or None where only `Binning::emit` applies
    /// ((rp, pi), angles past 90 degrees).
    pub fn of(binning: &'b Binning, metric: &Metric, oriented: bool) -> Option<Self> {
        match binning {
            Binning::SMu { bins, signed } => {
                let mu = (bins.nmu() > 1).then(|| MuSpec {
                    n: bins.nmu(),
                    signed: *signed,
                    los: metric.los,
                    halves: !oriented && (*signed || !metric.los.is_symmetric()),
                });
                Some(Self {
                    lookup: bins.lookup(),
                    mu,
                })
            }
            Binning::Theta(_) => binning.d2_lookup().map(|lookup| Self { lookup, mu: None }),
            Binning::RpPi(_) => None,
        }
    }
}

/// The most thresholds `cumulate` takes (16 bins).
pub(crate) const CUMULATIVE_MAX: usize = 17;

/// Per-lane (8 lanes) cumulative counts of `avx512::cumulate`, for counts with every weight 1 and one kind
/// of neighbour: `acc[e]` counts the candidates with d^2 < t_e, so that bin
/// k (t_k <= d^2 < t_{k+1}, as `Lookup::bins`) holds acc[k + 1] - acc[k].
/// No hit is stored and no bin looked up.
pub(crate) type Cumulative = [[i64; 8]; CUMULATIVE_MAX];

/// A cell range of candidates and the thresholds `lo..hi` its d^2 must be
/// compared with (the others lie below or above every candidate's d^2).
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
    pub lo: u8,
    pub hi: u8,
    /// The kind of its points (0 galaxies, 1 randoms): the counts it adds to.
    pub kind: u8,
}

#[inline(always)]
fn wrap(d: f64, period: Option<(f64, f64)>) -> f64 {
    match period {
        None => d,
        Some((l, half)) => {
            if d > half {
                d - l
            } else if d < -half {
                d + l
            } else {
                d
            }
        }
    }
}

/// `Metric::mu_signed` from (s.l)^2, |l|^2 d^2 and the sign of s.l.
#[inline(always)]
fn mu_of(num: f64, den: f64, sign: f64) -> f64 {
    let mu = (num / den).sqrt().min(1.0).copysign(sign);
    if den == 0.0 {
        0.0
    } else {
        mu
    }
}

#[inline(always)]
fn mu_bin_u32(mu: f64, spec: &MuSpec) -> u32 {
    let m = if spec.signed { mu } else { mu.abs() };
    mu_bin(m, spec.n, spec.signed) as u32
}

/// Fills `m1`, `m2` with the mu bins of the hits (points `js` of `cols` at
/// squared separations `ds` from the primary at `p`), in one straight-line
/// loop over the hits: the only divisions and square roots of the pair loop,
/// so the ones worth vector units.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn mu_bins(
    spec: &MuSpec,
    metric: &Metric,
    p: [f64; 3],
    cols: &Columns,
    js: &[u32],
    ds: &[f64],
    m1: &mut Vec<u32>,
    m2: &mut Vec<u32>,
) {
    let n = js.len();
    m1.resize(n, 0);
    m2.resize(n, 0);
    let (m1, m2) = (&mut m1[..n], &mut m2[..n]);
    let (xs, ys, zs) = (&cols.x[..], &cols.y[..], &cols.z[..]);
    if let Some(a) = spec.los.axis() {
        let period = metric.boxsize.map(|l| (l, 0.5 * l));
        let (pa, ca) = (p[a], [xs, ys, zs][a]);
        for t in 0..n {
            let (j, dd) = (js[t], ds[t]);
            let sa = wrap(ca[j as usize] - pa, period);
            let mu = mu_of(sa * sa, dd, sa);
            m1[t] = mu_bin_u32(mu, spec);
            m2[t] = mu_bin_u32(-mu, spec);
        }
        return;
    }
    // Survey lines of sight: l = p + q, p or q; the reverse orientation
    // (q -> p, s -> -s) has l = q + p, q or p.
    let first = spec.los == Los::FirstPoint;
    let end = spec.los == Los::EndPoint;
    for t in 0..n {
        let (j, dd) = (js[t] as usize, ds[t]);
        let q = [xs[j], ys[j], zs[j]];
        let s = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
        let l = if first {
            p
        } else if end {
            q
        } else {
            [p[0] + q[0], p[1] + q[1], p[2] + q[2]]
        };
        let dot = s[0] * l[0] + s[1] * l[1] + s[2] * l[2];
        let ll = l[0] * l[0] + l[1] * l[1] + l[2] * l[2];
        let mu = mu_of(dot * dot, ll * dd, dot);
        m1[t] = mu_bin_u32(mu, spec);
        // The reverse orientation: midpoint -mu exactly; first (end) point
        // moves to q (p), with s -> -s.
        let back = if first || end {
            let l2 = if first { q } else { p };
            let ns = [-s[0], -s[1], -s[2]];
            let dot2 = ns[0] * l2[0] + ns[1] * l2[1] + ns[2] * l2[2];
            let ll2 = l2[0] * l2[0] + l2[1] * l2[1] + l2[2] * l2[2];
            mu_of(dot2 * dot2, ll2 * dd, dot2)
        } else {
            -mu
        };
        m2[t] = mu_bin_u32(back, spec);
    }
}

/// Candidates scanned at once: a straight-line distance loop, then a
/// branch-free compaction of the hits.
const SCAN: usize = 64;

/// Appends to `js`, `ds` every point j of `range` of `cols` with d^2 < cut
/// from `p` (computed as `Metric::d2` does), j ascending.
#[inline(always)]
pub(crate) fn hits(
    metric: &Metric,
    p: [f64; 3],
    cols: &Columns,
    range: std::ops::Range<usize>,
    cut: f64,
    js: &mut Vec<u32>,
    ds: &mut Vec<f64>,
) {
    let period = metric.boxsize.map(|l| (l, 0.5 * l));
    let mut d2 = [0.0f64; SCAN];
    let mut start = range.start;
    js.reserve(range.len());
    ds.reserve(range.len());
    while start < range.end {
        let len = (range.end - start).min(SCAN);
        let (xs, ys, zs) = (
            &cols.x[start..start + len],
            &cols.y[start..start + len],
            &cols.z[start..start + len],
        );
        let d2 = &mut d2[..len];
        for k in 0..len {
            let dx = wrap(xs[k] - p[0], period);
            let dy = wrap(ys[k] - p[1], period);
            let dz = wrap(zs[k] - p[2], period);
            d2[k] = dx * dx + dy * dy + dz * dz;
        }
        let base = js.len();
        let (jp, dp) = (js.as_mut_ptr(), ds.as_mut_ptr());
        let mut n = 0;
        for (k, &v) in d2.iter().enumerate() {
            // SAFETY: room for every candidate of `range` was reserved, and
            // base + n <= base + k.
            unsafe {
                jp.add(base + n).write((start + k) as u32);
                dp.add(base + n).write(v);
            }
            n += usize::from(v < cut);
        }
        // SAFETY: the first n slots past base were written above.
        unsafe {
            js.set_len(base + n);
            ds.set_len(base + n);
        }
        start += len;
    }
}
