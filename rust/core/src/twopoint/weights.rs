//! The weight of a pair: the product of the individual weights, times the
//! PIP weight of two galaxies' bitwise weights (Bianchi & Percival 2017, as
//! pycorr's "inverse_bitwise"), times the angular upweight of its angle
//! (Percival & Bianchi 2017), in pycorr's order of operations.

use crate::error::{CoreError, Result};

/// pycorr's inverse-bitwise conventions: the PIP weight of two galaxies is
/// nrealizations / (noffset + popcount(b_i & b_j)), or `default_value` when
/// the denominator is 0.
#[derive(Clone, Copy, Debug)]
pub struct Pip {
    pub nrealizations: f64,
    pub noffset: u32,
    pub default_value: f64,
    /// 64-bit words of bitwise weights per galaxy.
    pub nwords: usize,
}

impl Pip {
    pub fn new(
        nrealizations: f64,
        noffset: u32,
        default_value: f64,
        nwords: usize,
    ) -> Result<Self> {
        if !(nrealizations.is_finite() && nrealizations > 0.0) {
            return Err(CoreError::InvalidInput(format!(
                "nrealizations must be a positive number, got {nrealizations}"
            )));
        }
        if !default_value.is_finite() {
            return Err(CoreError::InvalidInput(format!(
                "default_value must be finite, got {default_value}"
            )));
        }
        if nwords == 0 || nwords > 64 {
            return Err(CoreError::InvalidInput(format!(
                "bitwise weights must have 1 to 64 64-bit words per galaxy, got {nwords}"
            )));
        }
        Ok(Self {
            nrealizations,
            noffset,
            default_value,
            nwords,
        })
    }

    /// The PIP weight of two galaxies sharing `c` bits.
    pub fn of_count(&self, c: u32) -> f64 {
        let denom = self.noffset + c;
        if denom == 0 {
            self.default_value
        } else {
            self.nrealizations / denom as f64
        }
    }

    /// `of_count` for every count of shared bits, 0 to 64 * nwords: looked
    /// up per pair instead of divided.
    pub fn table(&self) -> PipTable {
        PipTable {
            nwords: self.nwords,
            by_count: (0..=64 * self.nwords as u32)
                .map(|c| self.of_count(c))
                .collect(),
        }
    }
}

/// `Pip::of_count` by table.
#[derive(Clone, Debug)]
pub struct PipTable {
    nwords: usize,
    by_count: Vec<f64>,
}

impl PipTable {
    /// The PIP weight of two galaxies' words (`nwords` each).
    #[inline(always)]
    pub fn weight(&self, a: &[u64], b: &[u64]) -> f64 {
        let c: u32 = if self.nwords == 1 {
            (a[0] & b[0]).count_ones()
        } else {
            a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
        };
        // c <= 64 * nwords, the table's last entry
        self.by_count[c as usize]
    }
}

/// Angular upweights: a table of (cos theta, weight), interpolated linearly
/// in cos theta strictly above the first and up to the last node, 1 outside
/// (pycorr's `twopoint_weights` after its conversion to cos theta).
#[derive(Clone, Debug)]
pub struct AngularWeights {
    costheta: Vec<f64>,
    weight: Vec<f64>,
}

impl AngularWeights {
    /// `costheta` strictly increasing in [-1, 1], `weight` finite and >= 0.
    pub fn new(costheta: Vec<f64>, weight: Vec<f64>) -> Result<Self> {
        if costheta.len() != weight.len() || costheta.len() < 2 {
            return Err(CoreError::InvalidInput(format!(
                "angular upweights need at least 2 (angle, weight) nodes of equal count, got {} and {}",
                costheta.len(),
                weight.len()
            )));
        }
        if costheta.iter().any(|c| !(-1.0..=1.0).contains(c)) {
            return Err(CoreError::InvalidInput(
                "angular upweight angles must lie in [0, 180] degrees".into(),
            ));
        }
        if costheta.windows(2).any(|w| w[1] <= w[0]) {
            return Err(CoreError::InvalidInput(
                "angular upweight angles must be strictly increasing".into(),
            ));
        }
        if weight.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(CoreError::InvalidInput(
                "angular upweights must be finite and >= 0".into(),
            ));
        }
        Ok(Self { costheta, weight })
    }

    /// The upweight of two points (not necessarily unit vectors) with
    /// norms `np`, `nq`: cos theta = min(p.q / (|p| |q|), 1), 1 for equal points.
    #[inline(always)]
    pub fn of(&self, p: [f64; 3], q: [f64; 3], np: f64, nq: f64) -> f64 {
        let c = if p == q {
            1.0
        } else {
            ((p[0] * q[0] + p[1] * q[1] + p[2] * q[2]) / (np * nq)).min(1.0)
        };
        self.at(c)
    }

    #[inline(always)]
    pub fn at(&self, c: f64) -> f64 {
        let (x, w) = (&self.costheta, &self.weight);
        if !(x[0] < c && c <= x[x.len() - 1]) {
            return 1.0;
        }
        // searchsorted(x, c, side="left") - 1
        let k = x.partition_point(|&v| v < c) - 1;
        let frac = (c - x[k]) / (x[k + 1] - x[k]);
        (1.0 - frac) * w[k] + frac * w[k + 1]
    }
}
