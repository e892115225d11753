//! Data and randoms merged into one point set, as the graph and the direct
//! counters see it.

use crate::error::{CoreError, Result};
use crate::geometry::{validate_weights, Metric, Positions};

/// One input catalogue: positions and optional weights.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    pub pos: Positions<'a>,
    pub weights: Option<&'a [f64]>,
}

impl<'a> Sample<'a> {
    pub fn new(pos: Positions<'a>, weights: Option<&'a [f64]>) -> Self {
        Self { pos, weights }
    }

    pub fn len(&self) -> usize {
        self.pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    pub fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }

    pub fn validate(&self, what: &str, metric: &Metric) -> Result<()> {
        if self.is_empty() {
            return Err(CoreError::InvalidInput(format!(
                "the {what} catalogue is empty"
            )));
        }
        self.pos.validate(what, metric.boxsize)?;
        if let Some(w) = self.weights {
            validate_weights(what, w, self.len())?;
        }
        Ok(())
    }
}

/// Data followed by randoms: index i < n_data is a galaxy.
pub struct Merged {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub w: Vec<f64>,
    pub n_data: usize,
}

impl Merged {
    pub fn new(data: &Sample, randoms: Option<&Sample>) -> Self {
        let parts: Vec<&Sample> = std::iter::once(data).chain(randoms).collect();
        let cat = |f: &dyn Fn(&Sample) -> Vec<f64>| parts.iter().flat_map(|s| f(s)).collect();
        Self {
            x: cat(&|s| s.pos.x.to_vec()),
            y: cat(&|s| s.pos.y.to_vec()),
            z: cat(&|s| s.pos.z.to_vec()),
            w: cat(&|s| (0..s.len()).map(|i| s.weight(i)).collect()),
            n_data: data.len(),
        }
    }

    pub fn positions(&self) -> Positions<'_> {
        Positions {
            x: &self.x,
            y: &self.y,
            z: &self.z,
        }
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// Validates both catalogues and the search radius together.
pub fn validate_inputs(
    data: &Sample,
    randoms: Option<&Sample>,
    metric: &Metric,
    rmax: f64,
) -> Result<()> {
    data.validate("data", metric)?;
    if let Some(r) = randoms {
        r.validate("random", metric)?;
    }
    if data.len() + randoms.map_or(0, |r| r.len()) > u32::MAX as usize {
        return Err(CoreError::InvalidInput(
            "more than 2^32 - 1 points on one process; spread the catalogue over MPI ranks".into(),
        ));
    }
    metric.check_rmax(rmax)
}
