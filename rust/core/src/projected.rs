//! Projected pair binning, (rp, pi): the separation split along the line of
//! sight (pi) and across it (rp), as for wp(rp) (Corrfunc's DDrppi).

use crate::bins::{Bins, OUT};
use crate::error::{CoreError, Result};
use crate::geometry::{los_vector, Metric};

/// rp bins (exact on rp^2, like separations on d^2) and `npi` linear pi
/// bins over [0, pimax) of |pi|, or over [-pimax, pimax) of the signed pi
/// (`signed`, pycorr's convention for a first- or end-point line of sight).
#[derive(Clone, Debug)]
pub struct RpPiBins {
    pub rp: Bins,
    pub pimax: f64,
    pub npi: usize,
    pub signed: bool,
    /// Every pair in range has s below this: the search radius.
    search: Bins,
}

impl RpPiBins {
    pub fn new(rp_edges: Vec<f64>, pimax: f64, npi: usize) -> Result<Self> {
        Self::with_sign(rp_edges, pimax, npi, false)
    }

    pub fn with_sign(rp_edges: Vec<f64>, pimax: f64, npi: usize, signed: bool) -> Result<Self> {
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
            signed,
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

    /// The signed pi and rp^2 of the pair p -> q (s = q - p, d^2 = |s|^2).
    /// Along an axis: pi = s_axis, rp^2 = the sum of the other two squares
    /// (Corrfunc's convention); otherwise pi = s.l / |l| with l the line of
    /// sight of the pair (see `Los`), rp^2 = d^2 - pi^2.
    #[inline(always)]
    pub fn pi_rp2(metric: &Metric, p: [f64; 3], q: [f64; 3], s: [f64; 3], d2: f64) -> (f64, f64) {
        if let Some(a) = metric.los.axis() {
            let (u, v) = ((a + 1) % 3, (a + 2) % 3);
            let (u, v) = (u.min(v), u.max(v));
            return (s[a], s[u] * s[u] + s[v] * s[v]);
        }
        let l = los_vector(metric.los, p, q);
        let ln = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
        let pi = if ln == 0.0 {
            0.0
        } else {
            (s[0] * l[0] + s[1] * l[1] + s[2] * l[2]) / ln
        };
        (pi, (d2 - pi * pi).max(0.0))
    }

    /// The flat (rp, pi) bin of a pair's signed pi and rp^2, or None.
    #[inline(always)]
    pub fn bin_of(&self, pi: f64, rp2: f64) -> Option<usize> {
        let k = if self.signed {
            if !(pi >= -self.pimax && pi < self.pimax) {
                return None;
            }
            ((pi + self.pimax) * self.npi as f64 / (2.0 * self.pimax)) as usize
        } else {
            let pi = pi.abs();
            if pi >= self.pimax {
                return None;
            }
            (pi * self.npi as f64 / self.pimax) as usize
        };
        let b = self.rp.bin_d2(rp2);
        if b == OUT {
            return None;
        }
        Some(b as usize * self.npi + k.min(self.npi - 1))
    }

    /// The flat (rp, pi) bin of the pair p -> q, or None.
    #[inline(always)]
    pub fn bin(&self, metric: &Metric, p: [f64; 3], q: [f64; 3]) -> Option<usize> {
        let s = metric.diff(p, q);
        let d2 = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
        let (pi, rp2) = Self::pi_rp2(metric, p, q, s, d2);
        self.bin_of(pi, rp2)
    }
}
