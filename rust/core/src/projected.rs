//! Projected pair binning, (rp, pi): the separation split along the line of
//! sight (pi) and across it (rp), as for wp(rp) (Corrfunc's DDrppi).

use crate::bins::{Bins, OUT};
use crate::error::{CoreError, Result};
use crate::geometry::{Los, Metric};

/// rp bins (exact on rp^2, like separations on d^2) and `npi` linear pi bins
/// over [0, pimax).
#[derive(Clone, Debug)]
pub struct RpPiBins {
    pub rp: Bins,
    pub pimax: f64,
    pub npi: usize,
    /// Every pair in range has s below this: the search radius.
    search: Bins,
}

impl RpPiBins {
    pub fn new(rp_edges: Vec<f64>, pimax: f64, npi: usize) -> Result<Self> {
        let rp = Bins::new(rp_edges, 1)?;
        if !(pimax.is_finite() && pimax > 0.0) {
            return Err(CoreError::InvalidBins(format!(
                "pimax must be a positive finite length, got {pimax}"
            )));
        }
        if npi == 0 {
            return Err(CoreError::InvalidBins("npi must be >= 1".into()));
        }
        // The largest s of a counted pair is below sqrt(rpmax^2 + pimax^2);
        // a hair above it covers the rounding of the square root.
        let smax = (rp.rmax() * rp.rmax() + pimax * pimax)
            .sqrt()
            .next_up()
            .next_up();
        let search = Bins::new(vec![0.0, smax], 1)?;
        Ok(Self {
            rp,
            pimax,
            npi,
            search,
        })
    }

    /// The search radius: every pair in range is closer than this.
    pub fn smax(&self) -> f64 {
        self.search.rmax()
    }

    /// d^2 at and above which no pair is counted (the search cut).
    pub fn d2_cut(&self) -> f64 {
        self.search.d2_cut()
    }

    /// Entries of one count table: nrp * npi.
    pub fn per(&self) -> usize {
        self.rp.nbins() * self.npi
    }

    /// The flat (rp, pi) bin of the pair (p, q), or None. Along z: pi = |sz|,
    /// rp^2 = sx^2 + sy^2 (Corrfunc's convention); along the midpoint m:
    /// pi = |s.m| / |m|, rp^2 = d^2 - pi^2.
    #[inline(always)]
    pub fn bin(&self, metric: &Metric, p: [f64; 3], q: [f64; 3]) -> Option<usize> {
        let s = metric.diff(p, q);
        let (pi, rp2) = match metric.los {
            Los::Z => (s[2].abs(), s[0] * s[0] + s[1] * s[1]),
            Los::Midpoint => {
                let m = [
                    0.5 * (p[0] + q[0]),
                    0.5 * (p[1] + q[1]),
                    0.5 * (p[2] + q[2]),
                ];
                let mn = (m[0] * m[0] + m[1] * m[1] + m[2] * m[2]).sqrt();
                let d2 = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
                let pi = if mn == 0.0 {
                    0.0
                } else {
                    (s[0] * m[0] + s[1] * m[1] + s[2] * m[2]).abs() / mn
                };
                (pi, (d2 - pi * pi).max(0.0))
            }
        };
        if pi >= self.pimax {
            return None;
        }
        let b = self.rp.bin_d2(rp2);
        if b == OUT {
            return None;
        }
        let k = ((pi * self.npi as f64 / self.pimax) as usize).min(self.npi - 1);
        Some(b as usize * self.npi + k)
    }
}
