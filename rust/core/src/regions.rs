//! Sky patches: the nearest of a few centres for every direction, the step
//! of k-means that labels every point of a catalogue.

use rayon::prelude::*;

use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::Positions;

/// Points per parallel block (a cancellation check each).
const BLOCK: usize = 1 << 16;

/// For every direction of `pos` (unit vectors), the index of the centre
/// (unit vectors) with the largest dot product, the first of equals;
/// dot products as (x cx + y cy) + z cz.
pub fn nearest_centres(
    pos: &Positions,
    centres: &[[f64; 3]],
    control: &Control,
) -> Result<Vec<u32>> {
    if centres.is_empty() || centres.len() > u32::MAX as usize {
        return Err(CoreError::InvalidInput(format!(
            "patch labels need 1 to 2^32 - 1 centres, got {}",
            centres.len()
        )));
    }
    let n = pos.len();
    let mut out = vec![0u32; n];
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .try_for_each(|(b, chunk)| {
            control.check()?;
            let start = b * BLOCK;
            for (k, o) in chunk.iter_mut().enumerate() {
                let i = start + k;
                let (x, y, z) = (pos.x[i], pos.y[i], pos.z[i]);
                let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
                for (c, q) in centres.iter().enumerate() {
                    let dot = (x * q[0] + y * q[1]) + z * q[2];
                    if dot > best {
                        (best, arg) = (dot, c);
                    }
                }
                *o = arg as u32;
            }
            Ok(())
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equals a brute-force argmax, first of equals, on random directions
    /// and on centres repeated (ties).
    #[test]
    fn nearest_is_the_first_largest_dot_product() {
        let mut s = 12345u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let unit = |v: [f64; 3]| {
            let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            [v[0] / r, v[1] / r, v[2] / r]
        };
        let pts: Vec<[f64; 3]> = (0..200_000)
            .map(|_| unit([next(), next(), next()]))
            .collect();
        let mut centres: Vec<[f64; 3]> = (0..20).map(|_| unit([next(), next(), next()])).collect();
        centres.push(centres[3]);
        let (x, y, z): (Vec<f64>, Vec<f64>, Vec<f64>) = (
            pts.iter().map(|p| p[0]).collect(),
            pts.iter().map(|p| p[1]).collect(),
            pts.iter().map(|p| p[2]).collect(),
        );
        let pos = Positions {
            x: &x,
            y: &y,
            z: &z,
        };
        let got = nearest_centres(&pos, &centres, &Control::new()).unwrap();
        for (p, &g) in pts.iter().zip(&got) {
            let dots: Vec<f64> = centres
                .iter()
                .map(|q| (p[0] * q[0] + p[1] * q[1]) + p[2] * q[2])
                .collect();
            let max = dots.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(g as usize, dots.iter().position(|&d| d == max).unwrap());
        }
        assert!(
            !got.contains(&20),
            "a repeated centre never wins over its first copy"
        );
        assert!(nearest_centres(&pos, &[], &Control::new()).is_err());
    }
}
