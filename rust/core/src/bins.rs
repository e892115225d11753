//! Separation and mu bins with one inclusion rule: edges[b] <= d < edges[b+1].

use crate::error::{CoreError, Result};

#[derive(Clone, Debug)]
pub struct Bins {
    edges: Vec<f64>,
    nmu: usize,
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
        Ok(Self { edges, nmu })
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

    /// A loose upper bound on d^2 for a quick reject before the sqrt.
    pub fn d2_cut(&self) -> f64 {
        let r = self.rmax();
        r * r * (1.0 + 1e-12)
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
