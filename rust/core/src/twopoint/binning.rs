//! How a pair is binned: by separation and mu, by (rp, pi), or by angle.
//!
//! Each binning hands the kernel the flat bins of a pair with a factor:
//! once with factor 1, or — for an unordered pair whose two orientations
//! fall in different bins (a signed mu or pi, a first- or end-point line of
//! sight) — each orientation with factor 1/2, as pycorr's ordered counts
//! halved.

use crate::bins::{Bins, Lookup, OUT};
use crate::error::{CoreError, Result};
use crate::geometry::Metric;
use crate::projected::RpPiBins;

/// Degrees per radian.
const DEG: f64 = 180.0 / std::f64::consts::PI;

/// Angular separation bins (degrees), exact from arcseconds to 180 degrees.
///
/// Points are unit vectors. An edge up to 90 degrees is compared with the
/// squared chord c^2 = |u - v|^2, one beyond with the squared anti-chord
/// a^2 = |u + v|^2 (both well conditioned there; the angle is
/// 2 asin(c / 2) = pi - 2 asin(a / 2)). The thresholds are the exact
/// preimages of the edges under those angle functions in f64, so binning
/// c^2 or a^2 against them is binning the angle itself.
#[derive(Clone, Debug)]
pub struct AngularBins {
    edges: Vec<f64>,
    /// Edges (index) whose threshold is on the chord; the rest on the anti-chord.
    nchord: usize,
    thresholds: Vec<f64>,
    /// The chord thresholds, for an O(1) bin when every edge is on the chord.
    chord: Option<Lookup>,
}

/// The angle (degrees) of a squared chord c2 of unit vectors.
#[inline(always)]
pub fn chord_angle(c2: f64) -> f64 {
    2.0 * (c2.sqrt() * 0.5).min(1.0).asin() * DEG
}

/// The angle (degrees) of a squared anti-chord a2 = |u + v|^2.
#[inline(always)]
pub fn antichord_angle(a2: f64) -> f64 {
    180.0 - 2.0 * (a2.sqrt() * 0.5).min(1.0).asin() * DEG
}

/// The smallest x in [0, 4.5] with f(x) >= e for an increasing f, or the
/// largest with f(x) >= e for a decreasing one (bisection over the ordered
/// bit patterns of non-negative doubles).
fn preimage(e: f64, f: impl Fn(f64) -> f64, increasing: bool) -> f64 {
    let (mut lo, mut hi) = (0u64, 4.5f64.to_bits());
    if increasing {
        // first x with f(x) >= e
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if f(f64::from_bits(mid)) >= e {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        f64::from_bits(lo)
    } else {
        // last x with f(x) >= e
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if f(f64::from_bits(mid)) >= e {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        f64::from_bits(lo)
    }
}

impl AngularBins {
    pub fn new(edges: Vec<f64>) -> Result<Self> {
        let check = Bins::new(edges.clone(), 1)?;
        let last = check.rmax();
        if last > 180.0 {
            return Err(CoreError::InvalidBins(format!(
                "angular bin edges are degrees in [0, 180], got {last}"
            )));
        }
        let nchord = edges.iter().filter(|&&e| e <= 90.0).count();
        let thresholds: Vec<f64> = edges
            .iter()
            .enumerate()
            .map(|(k, &e)| {
                if k < nchord {
                    preimage(e, chord_angle, true)
                } else {
                    preimage(e, antichord_angle, false)
                }
            })
            .collect();
        let chord = (nchord == edges.len()).then(|| Lookup::new(thresholds[..nchord].to_vec()));
        Ok(Self {
            edges,
            nchord,
            thresholds,
            chord,
        })
    }

    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    pub fn nbins(&self) -> usize {
        self.edges.len() - 1
    }

    /// The squared chord at and above which no pair is counted (a search
    /// cut; the exact test is in `bin`).
    pub fn cut(&self) -> f64 {
        if self.nchord == self.edges.len() {
            self.thresholds[self.nchord - 1]
        } else {
            // Past 90 degrees: every pair up to the antipode, the last edge
            // decided by the anti-chord.
            4.0 * (1.0 + 1e-12)
        }
    }

    /// The bin of a pair of unit vectors u, v with squared chord c2, or OUT.
    #[inline(always)]
    pub fn bin(&self, u: [f64; 3], v: [f64; 3], c2: f64) -> u8 {
        if let Some(l) = &self.chord {
            return l.bin(c2);
        }
        let t = &self.thresholds;
        let mut passed: usize = t[..self.nchord].iter().map(|&x| usize::from(x <= c2)).sum();
        if self.nchord < t.len() && c2 >= 1.0 {
            let s = [u[0] + v[0], u[1] + v[1], u[2] + v[2]];
            let a2 = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
            passed += t[self.nchord..]
                .iter()
                .map(|&x| usize::from(a2 <= x))
                .sum::<usize>();
        }
        if passed == 0 || passed == t.len() {
            return OUT;
        }
        (passed - 1) as u8
    }
}

/// A pair binning with its line of sight (in the metric).
#[derive(Clone, Debug)]
pub enum Binning {
    /// Separation bins, each split in `nmu` bins of |mu| over [0, 1] or of
    /// the signed mu over [-1, 1] (`signed`).
    SMu { bins: Bins, signed: bool },
    /// (rp, pi) bins.
    RpPi(RpPiBins),
    /// Angular bins (points are unit vectors).
    Theta(AngularBins),
}

/// The mu bin: floor(mu n) over [0, 1] or floor((mu + 1) n / 2) over
/// [-1, 1], with mu = 1 in the last bin.
#[inline(always)]
pub fn mu_bin(mu: f64, n: usize, signed: bool) -> usize {
    let t = if signed {
        (mu + 1.0) * (0.5 * n as f64)
    } else {
        mu * n as f64
    };
    (t as usize).min(n - 1)
}

impl Binning {
    /// Entries of one count table.
    pub fn per(&self) -> usize {
        match self {
            Binning::SMu { bins, .. } => bins.nbins() * bins.nmu(),
            Binning::RpPi(b) => b.per(),
            Binning::Theta(b) => b.nbins(),
        }
    }

    /// d^2 at and above which no pair is counted: the search cut.
    pub fn cut(&self) -> f64 {
        match self {
            Binning::SMu { bins, .. } => bins.d2_cut(),
            Binning::RpPi(b) => b.d2_cut(),
            Binning::Theta(b) => b.cut(),
        }
    }

    /// The search radius (for the cell size).
    pub fn rmax(&self) -> f64 {
        self.cut().sqrt()
    }

    /// The O(1) bin of a pair from its squared separation alone, when the
    /// binning needs nothing else (s bins without mu, angles up to 90 degrees).
    pub fn d2_lookup(&self) -> Option<&Lookup> {
        match self {
            Binning::SMu { bins, .. } if bins.nmu() == 1 => Some(bins.lookup()),
            Binning::Theta(b) => b.chord.as_ref(),
            _ => None,
        }
    }

    /// Whether the unordered pairs of an auto-correlation fall into one bin
    /// whatever their orientation (so each is counted once, factor 1).
    pub fn orientation_free(&self, metric: &Metric) -> bool {
        match self {
            Binning::SMu { bins, signed } => {
                bins.nmu() == 1 || (!signed && metric.los.is_symmetric())
            }
            Binning::RpPi(b) => !b.signed && metric.los.is_symmetric(),
            Binning::Theta(_) => true,
        }
    }

    /// Calls `emit(flat bin, factor)` for the pair p -> q (d2 = |q - p|^2
    /// as the search computed it): once for an oriented pair (`oriented`,
    /// cross-correlations), or for an unordered pair once with factor 1 when
    /// its orientations agree, else each orientation with factor 1/2.
    #[inline(always)]
    pub fn emit(
        &self,
        metric: &Metric,
        p: [f64; 3],
        q: [f64; 3],
        d2: f64,
        oriented: bool,
        mut emit: impl FnMut(usize, f64),
    ) {
        match self {
            Binning::SMu { bins, signed } => {
                let b = bins.bin_d2(d2);
                if b == OUT {
                    return;
                }
                let (nmu, base) = (bins.nmu(), b as usize * bins.nmu());
                if nmu == 1 {
                    emit(base, 1.0);
                    return;
                }
                let s = metric.diff(p, q);
                let mu = metric.mu_signed(p, q, s, d2);
                let fold = |m: f64| if *signed { m } else { m.abs() };
                if oriented {
                    emit(base + mu_bin(fold(mu), nmu, *signed), 1.0);
                    return;
                }
                // The reverse orientation q -> p: s -> -s, and for the first
                // or end point the line of sight moves to the other point.
                let back = if metric.los.is_symmetric() {
                    -mu
                } else {
                    metric.mu_signed(q, p, [-s[0], -s[1], -s[2]], d2)
                };
                let (m1, m2) = (
                    mu_bin(fold(mu), nmu, *signed),
                    mu_bin(fold(back), nmu, *signed),
                );
                if m1 == m2 {
                    emit(base + m1, 1.0);
                } else {
                    emit(base + m1, 0.5);
                    emit(base + m2, 0.5);
                }
            }
            Binning::RpPi(b) => {
                let s = metric.diff(p, q);
                let (pi, rp2) = RpPiBins::pi_rp2(metric, p, q, s, d2);
                let k1 = b.bin_of(pi, rp2);
                if oriented {
                    if let Some(k) = k1 {
                        emit(k, 1.0);
                    }
                    return;
                }
                let k2 = if metric.los.is_symmetric() {
                    b.bin_of(-pi, rp2)
                } else {
                    let (pi2, rp22) = RpPiBins::pi_rp2(metric, q, p, [-s[0], -s[1], -s[2]], d2);
                    b.bin_of(pi2, rp22)
                };
                match (k1, k2) {
                    (Some(a), Some(c)) if a == c => emit(a, 1.0),
                    _ => {
                        if let Some(a) = k1 {
                            emit(a, 0.5);
                        }
                        if let Some(c) = k2 {
                            emit(c, 0.5);
                        }
                    }
                }
            }
            Binning::Theta(b) => {
                let k = b.bin(p, q, d2);
                if k != OUT {
                    emit(k as usize, 1.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angular_thresholds_bin_the_angle_exactly() {
        let edges = vec![
            0.0,
            1.0 / 3600.0,
            0.01,
            1.0,
            45.0,
            89.999,
            90.0,
            90.001,
            135.0,
            179.9999,
            180.0,
        ];
        let b = AngularBins::new(edges.clone()).unwrap();
        // Pairs of unit vectors at angles just below and above every edge.
        for (k, &e) in edges.iter().enumerate() {
            for (f, want_above) in [(1.0 - 1e-9, false), (1.0 + 1e-9, true)] {
                let t = (e * f).min(180.0);
                if t == e || !(0.0..=180.0).contains(&t) || (e == 0.0 && !want_above) {
                    continue;
                }
                let r = t.to_radians();
                let (u, v) = ([1.0, 0.0, 0.0], [r.cos(), r.sin(), 0.0]);
                let c2 = (u[0] - v[0]).powi(2) + (u[1] - v[1]).powi(2);
                let got = b.bin(u, v, c2);
                let want = if want_above { k } else { k.wrapping_sub(1) };
                if want >= b.nbins() {
                    assert_eq!(got, OUT, "angle {t} near edge {e}");
                } else {
                    assert_eq!(got as usize, want, "angle {t} near edge {e}");
                }
            }
        }
    }

    #[test]
    fn thresholds_are_the_first_doubles_past_the_edge() {
        let b = AngularBins::new(vec![0.5, 30.0, 100.0, 170.0]).unwrap();
        for k in 0..2 {
            let x = b.thresholds[k];
            assert!(chord_angle(x) >= b.edges[k]);
            assert!(chord_angle(x.next_down()) < b.edges[k]);
        }
        for k in 2..4 {
            let x = b.thresholds[k];
            assert!(antichord_angle(x) >= b.edges[k]);
            assert!(antichord_angle(x.next_up()) < b.edges[k]);
        }
    }
}
