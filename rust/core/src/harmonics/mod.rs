//! Spherical harmonics of unit vectors as polynomials, summed over blocks of
//! neighbours: c_lm(x, y, z) = q_lm(z) (x + i y)^m with q_lm = sqrt((l-m)!/
//! (l+m)!) P_l^m(z) / (1 - z^2)^(m/2), by recurrence in l (no trigonometric
//! call), normalised so that the Legendre addition theorem reads
//! P_l(u . v) = sum_{m=0..l} g_m Re[c_lm(u) conj(c_lm(v))], g_0 = 1, g_m = 2.

use crate::simd::Simd;

pub(crate) mod isotropic;
pub(crate) mod wigner;

/// Coefficients of the recurrences of q_lm in l at fixed m.
pub(crate) struct Harmonics {
    pub(crate) lmax: usize,
    /// q_mm for each m.
    diag: Vec<f64>,
    /// (alpha, beta) of q_lm = alpha z q_{l-1,m} - beta q_{l-2,m}, by index.
    rec: Vec<(f64, f64)>,
    simd: Simd,
}

impl Harmonics {
    /// Entries (l, m), m <= l <= lmax, ordered m-major: for m, l = m..=lmax.
    pub(crate) fn len(lmax: usize) -> usize {
        (lmax + 1) * (lmax + 2) / 2
    }

    pub(crate) fn new(lmax: usize) -> Self {
        // s(l, m) = sqrt((l-m)!/(l+m)!) as a product, to stay in range.
        let s = |l: usize, m: usize| -> f64 {
            ((l - m + 1)..=(l + m)).fold(1.0, |acc, k| acc / (k as f64).sqrt())
        };
        let diag = (0..=lmax)
            .map(|m| {
                // Q_mm = (2m - 1)!!, up to the sign (-1)^m, which cancels.
                let dfact = (1..=m).fold(1.0, |acc, k| acc * (2 * k - 1) as f64);
                dfact * s(m, m)
            })
            .collect();
        let mut rec = Vec::with_capacity(Self::len(lmax));
        for m in 0..=lmax {
            for l in m..=lmax {
                let (a, b) = if l == m {
                    (0.0, 0.0)
                } else if l == m + 1 {
                    ((2 * m + 1) as f64 * s(l, m) / s(m, m), 0.0)
                } else {
                    let (lf, mf) = (l as f64, m as f64);
                    (
                        (2.0 * lf - 1.0) / (lf - mf) * s(l, m) / s(l - 1, m),
                        (lf + mf - 1.0) / (lf - mf) * s(l, m) / s(l - 2, m),
                    )
                };
                rec.push((a, b));
            }
        }
        Self {
            lmax,
            diag,
            rec,
            simd: Simd::detect(),
        }
    }

    /// Adds sum_t w_t c_lm(u_t) over a block of LANES unit vectors to `acc`
    /// (per entry (l, m), LANES partial sums of re, then of im): straight-line
    /// arithmetic over the lanes, which the compiler vectorises.
    #[inline(always)]
    pub(crate) fn block(&self, b: &Block, acc: &mut [[f64; LANES]]) {
        let (x, y, z) = (&b.x, &b.y, &b.z);
        let (mut er, mut ei) = (b.w, [0.0; LANES]); // w (x + i y)^m
        let mut q1 = [0.0; LANES];
        let mut q2 = [0.0; LANES];
        let mut k = 0;
        for m in 0..=self.lmax {
            q1.fill(self.diag[m]);
            q2.fill(0.0);
            for l in m..=self.lmax {
                if l > m {
                    let (a, c) = self.rec[k];
                    for t in 0..LANES {
                        let q = a * z[t] * q1[t] - c * q2[t];
                        q2[t] = q1[t];
                        q1[t] = q;
                    }
                }
                let e = &mut acc[2 * k..2 * k + 2];
                for t in 0..LANES {
                    e[0][t] += q1[t] * er[t];
                    e[1][t] += q1[t] * ei[t];
                }
                k += 1;
            }
            for t in 0..LANES {
                (er[t], ei[t]) = (er[t] * x[t] - ei[t] * y[t], er[t] * y[t] + ei[t] * x[t]);
            }
        }
    }
}

impl Harmonics {
    /// `block` over blocks, with the widest vector instructions the CPU has
    /// (checked at run time: wheels are built for any x86-64). No fused
    /// multiply-add is formed, so every path gives the same bits.
    #[inline(always)]
    pub(crate) fn blocks(&self, blocks: &[Block], acc: &mut [[f64; LANES]]) {
        #[cfg(target_arch = "x86_64")]
        {
            if self.simd == Simd::Avx512 {
                // SAFETY: the CPU has AVX-512F (detected in `new`).
                return unsafe { self.blocks_avx512(blocks, acc) };
            }
            if self.simd == Simd::Avx2 {
                // SAFETY: the CPU has AVX2 (detected in `new`).
                return unsafe { self.blocks_avx2(blocks, acc) };
            }
        }
        for b in blocks {
            self.block(b, acc);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn blocks_avx2(&self, blocks: &[Block], acc: &mut [[f64; LANES]]) {
        for b in blocks {
            self.block(b, acc);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn blocks_avx512(&self, blocks: &[Block], acc: &mut [[f64; LANES]]) {
        for b in blocks {
            self.block(b, acc);
        }
    }
}

/// Pairs handled together by `Harmonics::block`.
pub(crate) const LANES: usize = 8;

/// LANES neighbours of a point in one bin: unit vectors and weights; unused
/// lanes have zero weights.
#[derive(Clone, Copy, Default)]
pub(crate) struct Block {
    pub x: [f64; LANES],
    pub y: [f64; LANES],
    pub z: [f64; LANES],
    pub w: [f64; LANES],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multipoles::MAX_LMAX;

    fn legendre(l: usize, x: f64) -> f64 {
        let (mut p0, mut p1) = (1.0, x);
        if l == 0 {
            return p0;
        }
        for n in 2..=l {
            let p = ((2 * n - 1) as f64 * x * p1 - (n - 1) as f64 * p0) / n as f64;
            (p0, p1) = (p1, p);
        }
        p1
    }

    fn unit(seed: &mut u64) -> [f64; 3] {
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let v = [next(), next(), next()];
        let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        [v[0] / n, v[1] / n, v[2] / n]
    }

    /// Coefficients of one unit vector, by `block` with a single used lane.
    fn coefficients(h: &Harmonics, u: [f64; 3]) -> (Vec<f64>, Vec<f64>) {
        let mut b = Block::default();
        (b.x[0], b.y[0], b.z[0], b.w[0]) = (u[0], u[1], u[2], 1.0);
        let mut acc = vec![[0.0; LANES]; 2 * Harmonics::len(h.lmax)];
        h.block(&b, &mut acc);
        let re = (0..acc.len() / 2).map(|k| acc[2 * k][0]).collect();
        let im = (0..acc.len() / 2).map(|k| acc[2 * k + 1][0]).collect();
        (re, im)
    }

    #[test]
    fn addition_theorem_gives_legendre_polynomials() {
        let lmax = MAX_LMAX;
        let h = Harmonics::new(lmax);
        let mut seed = 7;
        for _ in 0..200 {
            let (u, v) = (unit(&mut seed), unit(&mut seed));
            let ((ur, ui), (vr, vi)) = (coefficients(&h, u), coefficients(&h, v));
            let mut sums = vec![0.0; lmax + 1];
            let mut k = 0;
            for m in 0..=lmax {
                let g = if m == 0 { 1.0 } else { 2.0 };
                for s in sums.iter_mut().skip(m) {
                    *s += g * (ur[k] * vr[k] + ui[k] * vi[k]);
                    k += 1;
                }
            }
            let x = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
            for (l, s) in sums.iter().enumerate() {
                assert!(
                    (s - legendre(l, x)).abs() < 1e-12,
                    "l {l}: {s} vs {}",
                    legendre(l, x)
                );
            }
        }
    }

    #[test]
    fn every_vector_path_gives_the_same_bits() {
        let mut h = Harmonics::new(10);
        let mut seed = 3;
        let blocks: Vec<Block> = (0..5)
            .map(|_| {
                let mut b = Block::default();
                for t in 0..LANES {
                    let u = unit(&mut seed);
                    (b.x[t], b.y[t], b.z[t]) = (u[0], u[1], u[2]);
                    b.w[t] = 0.5 + t as f64 - 1.0 / (1.0 + t as f64);
                }
                b
            })
            .collect();
        let run = |h: &Harmonics| {
            let mut acc = vec![[0.0; LANES]; 2 * Harmonics::len(10)];
            h.blocks(&blocks, &mut acc);
            acc
        };
        let fast = run(&h);
        h.simd = Simd::Baseline;
        assert_eq!(fast, run(&h));
    }
}
