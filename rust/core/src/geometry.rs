//! Pair separations and line-of-sight cosines, defined once.
//!
//! Every path (direct counts, graph build, graph counts, recomputation of a
//! stored edge) calls these functions, so a pair gets the same f64 separation
//! and mu everywhere: that is what makes the counts of different paths equal
//! to the last bit. The Python brute-force references spell out the same
//! operations in the same order.

use crate::error::{CoreError, Result};

/// Which direction is the line of sight for mu and pi (pycorr's names).
///
/// For a pair from point 1 at p to point 2 at q (separation s = q - p):
/// `Midpoint` l = p + q, `FirstPoint` l = p, `EndPoint` l = q (surveys, an
/// observer at the origin), or a fixed axis (plane-parallel, boxes); the
/// signed cosine is mu = s.l / (|s| |l|).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Los {
    Midpoint,
    FirstPoint,
    EndPoint,
    X,
    Y,
    Z,
}

impl Los {
    /// The axis of a plane-parallel line of sight.
    #[inline(always)]
    pub fn axis(self) -> Option<usize> {
        match self {
            Los::X => Some(0),
            Los::Y => Some(1),
            Los::Z => Some(2),
            _ => None,
        }
    }

    /// Whether the two orientations of a pair have opposite mu (midpoint
    /// and axes), so that |mu| is a property of the unordered pair.
    #[inline(always)]
    pub fn is_symmetric(self) -> bool {
        !matches!(self, Los::FirstPoint | Los::EndPoint)
    }

    pub fn name(self) -> &'static str {
        match self {
            Los::Midpoint => "midpoint",
            Los::FirstPoint => "firstpoint",
            Los::EndPoint => "endpoint",
            Los::X => "x",
            Los::Y => "y",
            Los::Z => "z",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "midpoint" => Los::Midpoint,
            "firstpoint" => Los::FirstPoint,
            "endpoint" => Los::EndPoint,
            "x" => Los::X,
            "y" => Los::Y,
            "z" => Los::Z,
            other => {
                return Err(CoreError::InvalidInput(format!(
                    "los must be one of 'midpoint', 'firstpoint', 'endpoint', 'x', 'y', 'z'; got {other:?}"
                )))
            }
        })
    }
}

/// Separation rules: open space or a periodic box (minimum image).
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub boxsize: Option<f64>,
    half: f64,
    pub los: Los,
}

impl Metric {
    pub fn new(boxsize: Option<f64>, los: Los) -> Result<Self> {
        if let Some(l) = boxsize {
            if !(l.is_finite() && l > 0.0) {
                return Err(CoreError::InvalidBox(format!(
                    "box size must be a positive finite number, got {l}"
                )));
            }
            if los.axis().is_none() {
                return Err(CoreError::InvalidBox(format!(
                    "los='{}' needs an observer at the origin; in a periodic box use los='x', 'y' or 'z'",
                    los.name()
                )));
            }
        }
        Ok(Self {
            boxsize,
            half: boxsize.map_or(f64::INFINITY, |l| 0.5 * l),
            los,
        })
    }

    /// Checks the search radius against the box (minimum image needs rmax < L/2).
    pub fn check_rmax(&self, rmax: f64) -> Result<()> {
        if let Some(l) = self.boxsize {
            if rmax >= 0.5 * l {
                return Err(CoreError::InvalidBox(format!(
                    "rmax = {rmax} must be smaller than half the box size ({}) for minimum-image separations",
                    0.5 * l
                )));
            }
        }
        Ok(())
    }

    #[inline(always)]
    pub fn delta(&self, a: f64, b: f64) -> f64 {
        let mut d = b - a;
        if let Some(l) = self.boxsize {
            if d > self.half {
                d -= l;
            } else if d < -self.half {
                d += l;
            }
        }
        d
    }

    #[inline(always)]
    pub fn diff(&self, p: [f64; 3], q: [f64; 3]) -> [f64; 3] {
        [
            self.delta(p[0], q[0]),
            self.delta(p[1], q[1]),
            self.delta(p[2], q[2]),
        ]
    }

    #[inline(always)]
    pub fn d2(&self, p: [f64; 3], q: [f64; 3]) -> f64 {
        let s = self.diff(p, q);
        s[0] * s[0] + s[1] * s[1] + s[2] * s[2]
    }

    /// |cos| between the separation and the line of sight (see `mu_signed`).
    #[inline(always)]
    pub fn mu(&self, p: [f64; 3], q: [f64; 3], s: [f64; 3], d2: f64) -> f64 {
        self.mu_signed(p, q, s, d2).abs()
    }

    /// The signed cosine between s = q - p (d2 = |s|^2) and the line of
    /// sight l of the pair p -> q (see `Los`), from its square: mu^2 =
    /// (s.l)^2 / (|l|^2 d2) (s_a^2 / d2 along an axis a), mu = sqrt(mu^2) at
    /// most 1, with the sign of s.l; 0 when d2 or |l| is 0. One division
    /// and one square root per pair, in Corrfunc's order of operations;
    /// swapping p and q negates it exactly for the midpoint and the axes.
    #[inline(always)]
    pub fn mu_signed(&self, p: [f64; 3], q: [f64; 3], s: [f64; 3], d2: f64) -> f64 {
        let (num, den, sign) = match self.los.axis() {
            Some(a) => (s[a] * s[a], d2, s[a]),
            None => {
                let l = los_vector(self.los, p, q);
                let dot = s[0] * l[0] + s[1] * l[1] + s[2] * l[2];
                let ll = l[0] * l[0] + l[1] * l[1] + l[2] * l[2];
                (dot * dot, ll * d2, dot)
            }
        };
        if den == 0.0 {
            return 0.0;
        }
        (num / den).sqrt().min(1.0).copysign(sign)
    }

    /// Separation and mu of a pair.
    #[inline(always)]
    pub fn sep_mu(&self, p: [f64; 3], q: [f64; 3]) -> (f64, f64) {
        let s = self.diff(p, q);
        let d2 = s[0] * s[0] + s[1] * s[1] + s[2] * s[2];
        (d2.sqrt(), self.mu(p, q, s, d2))
    }
}

/// The (unnormalised) line-of-sight vector of the pair p -> q for the
/// survey lines of sight: p + q, p or q.
#[inline(always)]
pub fn los_vector(los: Los, p: [f64; 3], q: [f64; 3]) -> [f64; 3] {
    match los {
        Los::FirstPoint => p,
        Los::EndPoint => q,
        _ => [p[0] + q[0], p[1] + q[1], p[2] + q[2]],
    }
}

/// Positions as three columns (Arrow-friendly), with validation.
#[derive(Clone, Copy, Debug)]
pub struct Positions<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub z: &'a [f64],
}

impl<'a> Positions<'a> {
    pub fn new(x: &'a [f64], y: &'a [f64], z: &'a [f64]) -> Result<Self> {
        if x.len() != y.len() || x.len() != z.len() {
            return Err(CoreError::InvalidInput(format!(
                "position columns have different lengths ({}, {}, {})",
                x.len(),
                y.len(),
                z.len()
            )));
        }
        Ok(Self { x, y, z })
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    #[inline(always)]
    pub fn get(&self, i: usize) -> [f64; 3] {
        [self.x[i], self.y[i], self.z[i]]
    }

    /// Rejects non-finite coordinates and, in a box, coordinates outside [0, L].
    pub fn validate(&self, what: &str, boxsize: Option<f64>) -> Result<()> {
        for (axis, col) in ["x", "y", "z"].iter().zip([self.x, self.y, self.z]) {
            if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                return Err(CoreError::InvalidInput(format!(
                    "{what} position {i} has a non-finite {axis} coordinate ({})",
                    col[i]
                )));
            }
            if let Some(l) = boxsize {
                if let Some(i) = col.iter().position(|&v| !(0.0..=l).contains(&v)) {
                    return Err(CoreError::InvalidBox(format!(
                        "{what} position {i} has {axis} = {} outside the periodic box [0, {l}]",
                        col[i]
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Checks weights: same length as the points, finite, non-negative.
pub fn validate_weights(what: &str, w: &[f64], n: usize) -> Result<()> {
    if w.len() != n {
        return Err(CoreError::InvalidInput(format!(
            "{what} weights have length {} but there are {n} {what} points",
            w.len()
        )));
    }
    if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
        return Err(CoreError::InvalidInput(format!(
            "{what} weight {i} is {} (weights must be finite and >= 0)",
            w[i]
        )));
    }
    Ok(())
}
