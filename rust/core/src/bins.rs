//! Separation and mu bins with one inclusion rule: edges[b] <= d < edges[b+1].

use crate::error::{CoreError, Result};

#[derive(Clone, Debug)]
pub struct Bins {
    edges: Vec<f64>,
    nmu: usize,
    /// thresholds[b] = the smallest double x with sqrt(x) >= edges[b], so that
    /// binning d^2 against them is exactly binning sqrt(d^2) against the edges.
    thresholds: Vec<f64>,
    lookup: Lookup,
}

/// Slots of a `Lookup` table: 4 KiB, so it stays in L1 beside the counts.
const SLOTS: usize = 4096;

/// The bin of a value among increasing thresholds in O(1), exactly: the
/// bit patterns of non-negative doubles are ordered as the values, so the
/// top bits of (bits(x) - bits(t_1)) index a table holding the bin of the
/// smallest value of each slot; the few thresholds a slot may hold are
/// then passed one by one. The same answer as counting thresholds <= x.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub(crate) thresholds: Vec<f64>,
    pub(crate) base: u64,
    pub(crate) shift: u32,
    table: Vec<u8>,
    /// The table as 32-bit entries (for vector gathers), and the most
    /// thresholds any slot holds past its first value.
    pub(crate) table32: Vec<u32>,
    pub(crate) extra: usize,
    /// The interior range of the table, [t_1, t_{n-1}), clamped to.
    pub(crate) clamp: (f64, f64),
}

impl Lookup {
    /// `thresholds`: t_0 < t_1 < ... < t_n, non-negative (n >= 1, n < 255).
    pub fn new(thresholds: Vec<f64>) -> Self {
        let n = thresholds.len() - 1;
        // The table spans the interior thresholds t_1 .. t_{n-1}.
        let (lo, hi) = if n >= 2 {
            (thresholds[1].to_bits(), thresholds[n - 1].to_bits())
        } else {
            (0, 0)
        };
        let span = hi - lo + 1;
        let mut shift = 0u32;
        while (span >> shift) >= SLOTS as u64 {
            shift += 1;
        }
        let slots = (span >> shift) as usize + 1;
        let table: Vec<u8> = (0..slots)
            .map(|k| {
                let low = f64::from_bits(lo + ((k as u64) << shift));
                // bin of `low`: thresholds t_1.. passed, at least 1 (low >= t_1)
                thresholds[1..n].iter().filter(|&&t| t <= low).count() as u8
            })
            .collect();
        // Thresholds a slot holds past its first value (the corrections a
        // lookup may need): those t_k with low(slot) < t_k <= high(slot).
        let extra = (0..slots)
            .map(|k| {
                let low = f64::from_bits(lo + ((k as u64) << shift));
                let high = f64::from_bits((lo + (((k + 1) as u64) << shift)).saturating_sub(1));
                thresholds[1..n]
                    .iter()
                    .filter(|&&t| t > low && t <= high)
                    .count()
            })
            .max()
            .unwrap_or(0);
        let table32 = table.iter().map(|&b| u32::from(b)).collect();
        let clamp = if n >= 2 {
            (thresholds[1], thresholds[n - 1].next_down())
        } else {
            (0.0, 0.0)
        };
        Self {
            thresholds,
            base: lo,
            shift,
            table,
            table32,
            extra,
            clamp,
        }
    }

    /// `bin` of every x of `xs` into `out` (`OUT` outside the bins),
    /// branch-free: one loop the compiler vectorises (gathers from the
    /// table and the thresholds), the same bins as `bin`.
    #[inline(always)]
    pub fn bins(&self, xs: &[f64], out: &mut [u32]) {
        let t = &self.thresholds[..];
        let n = t.len() - 1;
        let (t0, t1, tn, tlast) = (t[0], t[1.min(n)], t[n], t[n - 1]);
        let (lo, hi) = self.clamp;
        let (base, shift, extra) = (self.base, self.shift, self.extra);
        let out = &mut out[..xs.len()];
        for (o, &x) in out.iter_mut().zip(xs) {
            let inside = x >= t0 && x < tn;
            let b = if n >= 3 {
                // within the table's range; the clamp keeps every index valid
                let xc = x.max(lo).min(hi);
                let slot = ((xc.to_bits().wrapping_sub(base)) >> shift) as usize;
                // SAFETY: xc lies in [t_1, t_{n-1}), whose slots the table spans.
                let mut b = unsafe { *self.table32.get_unchecked(slot) };
                for _ in 0..extra {
                    // SAFETY: b <= n - 2 here (xc < t_{n-1}), so b + 1 <= n - 1.
                    let next = unsafe { *t.get_unchecked(b as usize + 1) };
                    b += u32::from(xc >= next);
                }
                if x < t1 {
                    0
                } else if x >= tlast {
                    (n - 1) as u32
                } else {
                    b
                }
            } else {
                u32::from(n == 2 && x >= t1)
            };
            *o = if inside { b } else { u32::from(OUT) };
        }
    }

    /// The bin of x (edges t_b <= x < t_{b+1}), or OUT outside [t_0, t_n).
    #[inline(always)]
    pub fn bin(&self, x: f64) -> u8 {
        let t = &self.thresholds[..];
        let n = t.len() - 1;
        // SAFETY (every get_unchecked below): n >= 1 indexes t; between t_1
        // and t_{n-1} the slot is below table.len() (it spans those bits),
        // and b + 1 <= n - 1 while x < t_{n-1}.
        unsafe {
            if !(x >= *t.get_unchecked(0) && x < *t.get_unchecked(n)) {
                return OUT;
            }
            if n == 1 || x < *t.get_unchecked(1) {
                return 0;
            }
            if x >= *t.get_unchecked(n - 1) {
                return (n - 1) as u8;
            }
            let slot = ((x.to_bits() - self.base) >> self.shift) as usize;
            let mut b = *self.table.get_unchecked(slot) as usize;
            while x >= *t.get_unchecked(b + 1) {
                b += 1;
            }
            b as u8
        }
    }
}

/// The smallest x >= 0 with sqrt(x) >= e (sqrt is correctly rounded and monotone).
fn sqrt_threshold(e: f64) -> f64 {
    let mut x = e * e;
    while x > 0.0 && x.sqrt() >= e {
        x = x.next_down();
    }
    while x.sqrt() < e {
        x = x.next_up();
    }
    x
}

/// Marks a separation outside the binned range.
pub const OUT: u8 = u8::MAX;

impl Bins {
    pub fn new(edges: Vec<f64>, nmu: usize) -> Result<Self> {
        if edges.len() < 2 {
            return Err(CoreError::InvalidBins(format!(
                "need at least two bin edges, got {}",
                edges.len()
            )));
        }
        if edges.len() > OUT as usize {
            return Err(CoreError::InvalidBins(format!(
                "at most {} separation bins are supported, got {}",
                OUT as usize - 1,
                edges.len() - 1
            )));
        }
        if let Some(e) = edges.iter().find(|e| !e.is_finite()) {
            return Err(CoreError::InvalidBins(format!(
                "bin edges must be finite, got {e}"
            )));
        }
        if edges[0] < 0.0 {
            return Err(CoreError::InvalidBins(format!(
                "bin edges must be >= 0, got {}",
                edges[0]
            )));
        }
        if let Some(w) = edges.windows(2).find(|w| w[1] <= w[0]) {
            return Err(CoreError::InvalidBins(format!(
                "bin edges must be strictly increasing, got {} then {}",
                w[0], w[1]
            )));
        }
        if nmu == 0 {
            return Err(CoreError::InvalidBins("nmu must be >= 1".into()));
        }
        let thresholds: Vec<f64> = edges.iter().map(|&e| sqrt_threshold(e)).collect();
        Ok(Self {
            edges,
            nmu,
            lookup: Lookup::new(thresholds.clone()),
            thresholds,
        })
    }

    pub fn edges(&self) -> &[f64] {
        &self.edges
    }
    pub fn nbins(&self) -> usize {
        self.edges.len() - 1
    }
    pub fn nmu(&self) -> usize {
        self.nmu
    }
    pub fn rmin(&self) -> f64 {
        self.edges[0]
    }
    pub fn rmax(&self) -> f64 {
        self.edges[self.edges.len() - 1]
    }

    /// The exact O(1) bin of d^2.
    pub fn lookup(&self) -> &Lookup {
        &self.lookup
    }

    /// The smallest d^2 whose separation reaches edge `b`.
    pub fn d2_threshold(&self, b: usize) -> f64 {
        self.thresholds[b]
    }

    /// d^2 at and above which a separation is past the last edge.
    pub fn d2_cut(&self) -> f64 {
        self.thresholds[self.thresholds.len() - 1]
    }

    /// The bin of a squared separation: the same as `bin(d2.sqrt())`, without the sqrt.
    #[inline(always)]
    pub fn bin_d2(&self, d2: f64) -> u8 {
        self.lookup.bin(d2)
    }

    /// The bin of separation `d`, or OUT.
    #[inline(always)]
    pub fn bin(&self, d: f64) -> u8 {
        let e = &self.edges;
        if !(d >= e[0] && d < e[e.len() - 1]) {
            return OUT;
        }
        (e.partition_point(|&x| x <= d) - 1) as u8
    }

    /// The mu bin: floor(mu * nmu), with mu = 1 in the last bin.
    #[inline(always)]
    pub fn mu_bin(&self, mu: f64) -> usize {
        ((mu * self.nmu as f64) as usize).min(self.nmu - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_equals_counting_thresholds() {
        let mut seed = 3u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let cases: Vec<Vec<f64>> = vec![
            vec![0.0, 1.0],
            vec![0.0, 1e-300, 1.0],
            vec![0.5, 0.6, 0.7],
            (0..41).map(|k| (5.0 * k as f64).powi(2)).collect(),
            (0..30).map(|k| 1e-8 * 1.5f64.powi(k)).collect(),
            vec![0.0, 1e-20, 1e-19, 1e-10, 3.0, 3.0000000001, 1e10],
        ];
        for t in cases {
            let l = Lookup::new(t.clone());
            let n = t.len() - 1;
            let brute = |x: f64| {
                if !(x >= t[0] && x < t[n]) {
                    OUT
                } else {
                    t[1..n].iter().filter(|&&v| v <= x).count() as u8
                }
            };
            let hi = t[n] * 1.5 + 1.0;
            for _ in 0..20_000 {
                let x = next() * hi;
                assert_eq!(l.bin(x), brute(x), "{x} in {t:?}");
                let y = (next() * 60.0 - 50.0).exp2() * t[n];
                assert_eq!(l.bin(y), brute(y), "{y} in {t:?}");
            }
            for &e in &t {
                for x in [e, e.next_up(), e.next_down().max(0.0)] {
                    assert_eq!(l.bin(x), brute(x), "{x} at an edge of {t:?}");
                }
            }
            // the vector form agrees with the scalar one
            let xs: Vec<f64> = (0..5000)
                .map(|k| {
                    if k % 2 == 0 {
                        next() * hi
                    } else {
                        (next() * 60.0 - 50.0).exp2() * t[n]
                    }
                })
                .chain(
                    t.iter()
                        .flat_map(|&e| [e, e.next_up(), e.next_down().max(0.0)]),
                )
                .collect();
            let mut out = vec![0u32; xs.len()];
            l.bins(&xs, &mut out);
            for (&x, &b) in xs.iter().zip(&out) {
                assert_eq!(b, u32::from(brute(x)), "vector bin of {x} in {t:?}");
            }
        }
    }

    #[test]
    fn binning_squared_separations_equals_binning_separations() {
        let bins = Bins::new(vec![0.0, 0.1, 1.0, 1.5, 2.0, 3.0, 7.3, 20.0], 1).unwrap();
        let mut seed = 7u64;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let d = (seed >> 11) as f64 / (1u64 << 53) as f64 * 25.0;
            for d2 in [d * d, (d * d).next_up(), (d * d).next_down()] {
                assert_eq!(bins.bin_d2(d2), bins.bin(d2.sqrt()), "d2 = {d2}");
            }
        }
        for &e in bins.edges() {
            for d2 in [e * e, (e * e).next_up(), (e * e).next_down()] {
                assert_eq!(bins.bin_d2(d2), bins.bin(d2.sqrt()), "edge {e}");
            }
        }
    }
}
