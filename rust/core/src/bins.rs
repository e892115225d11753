//! Separation and mu bins with one inclusion rule: edges[b] <= d < edges[b+1].

use crate::error::{CoreError, Result};

#[derive(Clone, Debug)]
pub struct Bins {
    edges: Vec<f64>,
    nmu: usize,
    /// thresholds[b] = the smallest double x with sqrt(x) >= edges[b], so that
    /// binning d^2 against them is exactly binning sqrt(d^2) against the edges.
    thresholds: Vec<f64>,
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
        let thresholds = edges.iter().map(|&e| sqrt_threshold(e)).collect();
        Ok(Self {
            edges,
            nmu,
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
        let t = &self.thresholds;
        if !(d2 >= t[0] && d2 < t[t.len() - 1]) {
            return OUT;
        }
        // Branch-free count of the interior thresholds passed.
        t[1..t.len() - 1].iter().map(|&x| u8::from(x <= d2)).sum()
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
