//! The isotropic basis of three directions (Cahn & Slepian 2020):
//!
//!   P_l1l2l3(u1, u2, u3) = (-1)^(l1+l2+l3) sum_{m1 m2 m3} (l1 l2 l3; m1 m2 m3)
//!                          Y_l1m1(u1) Y_l2m2(u2) Y_l3m3(u3),
//!
//! real for even l1 + l2 + l3 (parity-even) and imaginary for odd (parity-
//! odd). Summed over neighbours j, k, l of a primary in bins b1, b2, b3 it
//! factorises into the primary's harmonic coefficients a_lm(b) =
//! sum_j w_j Y_lm(r_ij / |r_ij|): S(b1, b2, b3) = (-1)^J sum_m (3j)
//! a_l1m1(b1) a_l2m2(b2) a_l3m3(b3), computed in two stages (`Isotropic`).
//!
//! The coefficients come from `Harmonics` as c_lm (m >= 0), which lack
//! Condon-Shortley's (-1)^m and the factor N_l = sqrt((2l + 1) / 4 pi):
//! Y_lm = (-1)^m N_l c_lm, Y_l-m = N_l conj(c_lm). The phase drops out of
//! every term since m1 + m2 + m3 = 0, so a_l-m = (-1)^m conj(a_lm) with
//! a_lm = N_l c_lm is used throughout.

use super::wigner::three_j;
use super::Harmonics;

/// Which multipoles a count computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    /// Even l1 + l2 + l3.
    Even,
    /// Odd l1 + l2 + l3.
    Odd,
    Both,
}

impl Parity {
    fn admits(self, l: [usize; 3]) -> bool {
        let odd = (l[0] + l[1] + l[2]) % 2 == 1;
        match self {
            Parity::Even => !odd,
            Parity::Odd => odd,
            Parity::Both => true,
        }
    }
}

/// (l1, l2, l3) with li <= lmax and the triangle rule, in lexicographic
/// order, of the requested parity.
pub(crate) fn multipole_triples(lmax: usize, parity: Parity) -> Vec<[usize; 3]> {
    let mut out = Vec::new();
    for l1 in 0..=lmax {
        for l2 in 0..=lmax {
            for l3 in l1.abs_diff(l2)..=(l1 + l2).min(lmax) {
                if parity.admits([l1, l2, l3]) {
                    out.push([l1, l2, l3]);
                }
            }
        }
    }
    out
}

/// Index of (l, m), -l <= m <= l, in a primary's expanded coefficients.
#[inline(always)]
fn lm(l: usize, m: i64) -> usize {
    l * l + (l as i64 + m) as usize
}

/// Expanded coefficients of one bin: (lmax + 1)^2 complex a_lm, m = -l..=l.
pub(crate) fn expanded_len(lmax: usize) -> usize {
    (lmax + 1) * (lmax + 1)
}

/// The coupling of a primary's coefficients into S_l1l2l3(b1, b2, b3).
///
/// Stage 1, per bin pair (b1, b2): T(e) = sum_m1 C a_l1m1(b1) a_l2m2(b2)
/// for every entry e = (triple, m3 >= 0), m2 = -m1 - m3. Stage 2, per b3:
/// S = sum over the triple's entries of Re[T(e) a_l3m3(b3)]. The entries with
/// m3 < 0 are the complex conjugates of those with -m3 (times (-1)^J), so
/// they are folded into m3 > 0 with a factor 2; for odd triples T is turned
/// by -i, so that the real part taken is the imaginary part of S.
pub(crate) struct Isotropic {
    pub lmax: usize,
    pub triples: Vec<[usize; 3]>,
    /// sqrt((2l + 1) / 4 pi) per l: Y_lm's factor over c_lm.
    norm: Vec<f64>,
    /// Entries of each triple: `starts[t]..starts[t + 1]`.
    pub starts: Vec<usize>,
    /// Per entry: index of (l3, m3) in the expanded coefficients, and
    /// whether the triple is odd.
    pub l3m3: Vec<usize>,
    odd: Vec<bool>,
    /// Stage-1 terms of each entry, `terms[term_starts[e]..term_starts[e + 1]]`:
    /// (C, index of (l1, m1), index of (l2, m2)).
    term_starts: Vec<usize>,
    terms: Vec<(f64, u32, u32)>,
}

impl Isotropic {
    pub(crate) fn new(lmax: usize, parity: Parity) -> Self {
        let triples = multipole_triples(lmax, parity);
        let (mut starts, mut l3m3, mut odd) = (vec![0], Vec::new(), Vec::new());
        let (mut term_starts, mut terms) = (vec![0], Vec::new());
        for &[l1, l2, l3] in &triples {
            let j = l1 + l2 + l3;
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            for m3 in 0..=l3 as i64 {
                let fold = if m3 == 0 { 1.0 } else { 2.0 };
                for m1 in -(l1 as i64)..=l1 as i64 {
                    let m2 = -m1 - m3;
                    if m2.abs() > l2 as i64 {
                        continue;
                    }
                    let c = three_j([l1, l2, l3], [m1, m2, m3]);
                    if c == 0.0 {
                        continue;
                    }
                    let c = sign * fold * c;
                    terms.push((c, lm(l1, m1) as u32, lm(l2, m2) as u32));
                }
                term_starts.push(terms.len());
                l3m3.push(lm(l3, m3));
                odd.push(j % 2 == 1);
            }
            starts.push(l3m3.len());
        }
        let norm = (0..=lmax)
            .map(|l| ((2 * l + 1) as f64 / (4.0 * std::f64::consts::PI)).sqrt())
            .collect();
        Self {
            lmax,
            triples,
            norm,
            starts,
            l3m3,
            odd,
            term_starts,
            terms,
        }
    }

    pub(crate) fn entries(&self) -> usize {
        self.l3m3.len()
    }

    /// The expanded coefficients a_lm (m = -l..=l) of bin b from its m-major
    /// c_lm (m >= 0, as `Harmonics` gives them), into `out` laid out
    /// (index, bin) with `stride` bins per index.
    pub(crate) fn expand(
        &self,
        (re, im): (&[f64], &[f64]),
        b: usize,
        stride: usize,
        out: (&mut [f64], &mut [f64]),
    ) {
        let lmax = self.lmax;
        let (or, oi) = out;
        let mut k = 0;
        for m in 0..=lmax {
            for l in m..=lmax {
                let (r, i) = (self.norm[l] * re[k], self.norm[l] * im[k]);
                let (p, q) = (
                    lm(l, m as i64) * stride + b,
                    lm(l, -(m as i64)) * stride + b,
                );
                (or[p], oi[p]) = (r, i);
                let s = if m % 2 == 0 { 1.0 } else { -1.0 };
                (or[q], oi[q]) = (s * r, -s * i);
                k += 1;
            }
        }
        debug_assert_eq!(k, Harmonics::len(lmax));
    }

    /// The expanded coefficients (index, bin) gathered per entry as a_l3m3:
    /// (entry, bin), the same stride.
    pub(crate) fn third(&self, a: (&[f64], &[f64]), stride: usize, out: (&mut [f64], &mut [f64])) {
        for (e, &k) in self.l3m3.iter().enumerate() {
            let (from, to) = (k * stride..(k + 1) * stride, e * stride..(e + 1) * stride);
            out.0[to.clone()].copy_from_slice(&a.0[from.clone()]);
            out.1[to].copy_from_slice(&a.1[from]);
        }
    }

    /// Stage 1 for bin b1 of field `x` and the BL bins b2 from `g` of field
    /// `y`: T(e, b2) into `t` (entry, bin), or added to it with `add`. Each
    /// entry is summed in registers, the bins side by side in vector lanes.
    #[inline(always)]
    pub(crate) fn pairs(
        &self,
        x: (&[f64], &[f64]),
        y: (&[f64], &[f64]),
        stride: usize,
        (b1, g): (usize, usize),
        t: (&mut [f64], &mut [f64]),
        add: bool,
    ) {
        for e in 0..self.l3m3.len() {
            let (mut sr, mut si) = ([0.0; BL], [0.0; BL]);
            for &(c, i1, i2) in &self.terms[self.term_starts[e]..self.term_starts[e + 1]] {
                let (i1, i2) = (i1 as usize * stride, i2 as usize * stride + g);
                let (cx, cy) = (c * x.0[i1 + b1], c * x.1[i1 + b1]);
                let (u, v) = (&y.0[i2..i2 + BL], &y.1[i2..i2 + BL]);
                for q in 0..BL {
                    sr[q] += cx * u[q] - cy * v[q];
                    si[q] += cx * v[q] + cy * u[q];
                }
            }
            let at = e * stride + g;
            // Odd triples turned by -i: the real part taken is then Im S.
            let (tr, ti) = (&mut t.0[at..at + BL], &mut t.1[at..at + BL]);
            for q in 0..BL {
                let (r, i) = if self.odd[e] {
                    (si[q], -sr[q])
                } else {
                    (sr[q], si[q])
                };
                if add {
                    (tr[q], ti[q]) = (tr[q] + r, ti[q] + i);
                } else {
                    (tr[q], ti[q]) = (r, i);
                }
            }
        }
    }

    /// Stage 2 for bins b1, b2 (`t`: T of bin b2 per entry) and the BL bins
    /// b3 from `g`: per triple, the sums S(b3) in lanes, handed to
    /// `add(triple, lanes)`.
    #[inline(always)]
    pub(crate) fn close(
        &self,
        t: (&[f64], &[f64]),
        a3: (&[f64], &[f64]),
        stride: usize,
        g: usize,
        mut add: impl FnMut(usize, &[f64; BL]),
    ) {
        for k in 0..self.triples.len() {
            let mut s = [0.0; BL];
            for e in self.starts[k]..self.starts[k + 1] {
                let (tr, ti) = (t.0[e], t.1[e]);
                let at = e * stride + g;
                let (u, v) = (&a3.0[at..at + BL], &a3.1[at..at + BL]);
                for q in 0..BL {
                    s[q] += tr * u[q] - ti * v[q];
                }
            }
            add(k, &s);
        }
    }
}

/// Bins handled side by side in the coupling's vector lanes.
pub(crate) const BL: usize = 8;
