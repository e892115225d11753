//! Multipoles of the 4-point counts in the isotropic basis (Cahn & Slepian
//! 2020), in O(N m): for every primary i, the harmonic coefficients a_lm(b)
//! of its neighbours in each radial bin (as for the 3-point multipoles) are
//! coupled by Wigner 3j symbols into
//!
//!   N_l1l2l3(b1, b2, b3) = sum_i w_i sum_{j, k, l} w_j w_k w_l
//!                          P_l1l2l3(r_ij, r_ik, r_il),  r_ij in b1, r_ik in b2, r_il in b3,
//!
//! for b1 < b2 < b3, without enumerating quads (`harmonics::isotropic`).
//! With the bins distinct, j, k and l are distinct points: there is no self
//! term to remove. Parity-odd triples (odd l1 + l2 + l3) are imaginary in
//! this basis; their imaginary part is what is stored.
//!
//! As for the 3-point multipoles, one pass gives the data minus the randoms
//! scaled to zero total weight (the field) and the randoms alone.

use crate::bins::Bins;
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::harmonics::isotropic::{expanded_len, Isotropic, BL};
use crate::harmonics::{Harmonics, LANES};
use crate::multipoles::{coincident, field_scale, primary_flags, Dims, MultipoleOptions, Scratch};
use crate::reduce::{check_tables, chunked_sum_with};
use crate::search::Search;
use crate::simd::Simd;

pub use crate::harmonics::isotropic::Parity;

/// Highest l of a 4-point multipole count (l1 + l2 + l3 stays within the
/// exact 3j sums, and the coupling tables stay small).
pub const MAX_QUAD_LMAX: usize = 10;

/// N_l1l2l3(b1, b2, b3) of the field and of the randoms.
#[derive(Clone, Debug, PartialEq)]
pub struct QuadMultipoleCounts {
    pub lmax: usize,
    pub nbins: usize,
    /// (l1, l2, l3) of each row, lexicographic.
    pub triples: Vec<[usize; 3]>,
    /// Bin triplets b1 < b2 < b3 of each column, lexicographic.
    pub triplets: Vec<[usize; 3]>,
    /// Of the data minus the scaled randoms (the data alone without
    /// randoms): flat (triples, triplets); the imaginary part for odd triples.
    pub field: Vec<f64>,
    /// Of the randoms alone; empty without randoms.
    pub randoms: Vec<f64>,
    /// The factor the random weights were scaled by in the field.
    pub random_scale: f64,
}

/// Bin triplets b1 < b2 < b3 in lexicographic order.
pub fn bin_triplets(nb: usize) -> Vec<[usize; 3]> {
    let mut out = Vec::new();
    for b1 in 0..nb {
        for b2 in b1 + 1..nb {
            for b3 in b2 + 1..nb {
                out.push([b1, b2, b3]);
            }
        }
    }
    out
}

/// Per-thread scratch of the coupling for one primary and table, each laid
/// out (index, bin) with `stride` bins per index (the bins and BL - 1 of
/// zero padding, so that any BL bins from a bin can be read as lanes): the
/// expanded coefficients, those gathered per entry for the third bin, and
/// the stage-1 sums.
struct Coupled {
    stride: usize,
    a: (Vec<f64>, Vec<f64>),
    a3: (Vec<f64>, Vec<f64>),
    t: (Vec<f64>, Vec<f64>),
    /// T of one bin b2, per entry.
    tb: (Vec<f64>, Vec<f64>),
    /// The table's layout (`Groups`).
    groups: Groups,
    simd: Simd,
}

/// The count tables are summed as (triple, group, lane): a group is BL
/// triplets (b1, b2, b3..b3 + BL), so that each primary adds whole vectors
/// (`Groups::compact` gives the (triples, triplets) table).
struct Groups {
    nb: usize,
    /// (b1, b2, first b3) of each group.
    list: Vec<[usize; 3]>,
    /// Index of the first group of (b1, b2), per (b1, b2).
    first: Vec<usize>,
}

impl Groups {
    fn new(nb: usize) -> Self {
        let (mut list, mut first) = (Vec::new(), vec![0; nb * nb]);
        for b1 in 0..nb {
            for b2 in b1 + 1..nb {
                first[b1 * nb + b2] = list.len();
                list.extend((b2 + 1..nb).step_by(BL).map(|g| [b1, b2, g]));
            }
        }
        Self { nb, list, first }
    }

    /// Entries of one table of `ntri` triples.
    fn len(&self, ntri: usize) -> usize {
        ntri * self.list.len() * BL
    }

    /// The (triples, triplets) table of lexicographic triplets b1 < b2 < b3.
    fn compact(&self, table: &[f64], ntri: usize) -> Vec<f64> {
        let nb = self.nb;
        let ntrip = nb * (nb - 1) * (nb - 2) / 6;
        let mut out = vec![0.0; ntri * ntrip];
        let mut col = 0;
        for (gi, &[_, _, g]) in self.list.iter().enumerate() {
            let n = (nb - g).min(BL);
            for k in 0..ntri {
                let from = (k * self.list.len() + gi) * BL;
                out[k * ntrip + col..k * ntrip + col + n].copy_from_slice(&table[from..from + n]);
            }
            col += n;
        }
        out
    }
}

impl Coupled {
    /// Bins per index of the scratch arrays: the bins and BL - 1 of padding.
    fn stride(nb: usize) -> usize {
        nb + BL - 1
    }

    fn new(iso: &Isotropic, nb: usize) -> Self {
        let stride = Self::stride(nb);
        let (nx, ne) = (expanded_len(iso.lmax), iso.entries());
        Self {
            stride,
            a: (vec![0.0; nx * stride], vec![0.0; nx * stride]),
            a3: (vec![0.0; ne * stride], vec![0.0; ne * stride]),
            t: (vec![0.0; ne * stride], vec![0.0; ne * stride]),
            tb: (vec![0.0; ne], vec![0.0; ne]),
            groups: Groups::new(nb),
            simd: Simd::detect(),
        }
    }

    /// Adds one primary's w S(b1, b2, b3) for every triple and triplet to
    /// `table` (laid out by `Groups`), from its c_lm per bin (m-major);
    /// bins in which `filled` is false add nothing and are skipped.
    fn couple(
        &mut self,
        iso: &Isotropic,
        coeffs: (&[f64], &[f64]),
        filled: &[bool],
        w: f64,
        table: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if self.simd == Simd::Avx512 {
                // SAFETY: the CPU has AVX-512F (detected in `new`).
                return unsafe { self.couple_avx512(iso, coeffs, filled, w, table) };
            }
            if self.simd == Simd::Avx2 {
                // SAFETY: the CPU has AVX2 (detected in `new`).
                return unsafe { self.couple_avx2(iso, coeffs, filled, w, table) };
            }
        }
        self.run(iso, coeffs, filled, w, table)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn couple_avx2(
        &mut self,
        iso: &Isotropic,
        coeffs: (&[f64], &[f64]),
        filled: &[bool],
        w: f64,
        table: &mut [f64],
    ) {
        self.run(iso, coeffs, filled, w, table)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn couple_avx512(
        &mut self,
        iso: &Isotropic,
        coeffs: (&[f64], &[f64]),
        filled: &[bool],
        w: f64,
        table: &mut [f64],
    ) {
        self.run(iso, coeffs, filled, w, table)
    }

    #[inline(always)]
    fn run(
        &mut self,
        iso: &Isotropic,
        coeffs: (&[f64], &[f64]),
        filled: &[bool],
        w: f64,
        table: &mut [f64],
    ) {
        let (nb, stride) = (filled.len(), self.stride);
        let nlm = Harmonics::len(iso.lmax);
        let ngroups = self.groups.list.len();
        for b in 0..nb {
            let c = (
                &coeffs.0[b * nlm..(b + 1) * nlm],
                &coeffs.1[b * nlm..(b + 1) * nlm],
            );
            iso.expand(c, b, stride, (&mut self.a.0, &mut self.a.1));
        }
        let a = (&self.a.0[..], &self.a.1[..]);
        iso.third(a, stride, (&mut self.a3.0, &mut self.a3.1));
        let a3 = (&self.a3.0[..], &self.a3.1[..]);
        // b2 < nb - 1 and b1 < nb - 2: a third bin must follow.
        for b1 in (0..nb - 2).filter(|&b| filled[b]) {
            for g in (b1 + 1..nb - 1).step_by(BL) {
                iso.pairs(a, stride, (b1, g), (&mut self.t.0, &mut self.t.1));
            }
            for b2 in (b1 + 1..nb - 1).filter(|&b| filled[b]) {
                // T of bin b2, contiguous for stage 2.
                for (e, (r, i)) in self.tb.0.iter_mut().zip(self.tb.1.iter_mut()).enumerate() {
                    (*r, *i) = (self.t.0[e * stride + b2], self.t.1[e * stride + b2]);
                }
                let t = (&self.tb.0[..], &self.tb.1[..]);
                let first = self.groups.first[b1 * nb + b2];
                for (gi, g) in (b2 + 1..nb).step_by(BL).enumerate() {
                    iso.close(t, a3, stride, g, |k, s| {
                        let at = (k * ngroups + first + gi) * BL;
                        let row = &mut table[at..at + BL];
                        for q in 0..BL {
                            row[q] += w * s[q];
                        }
                    });
                }
            }
        }
    }
}

/// 4-point multipoles for l <= `lmax` of the requested parity over the bins
/// of `bins`, from every primary's neighbours in the cell grid.
pub(crate) fn quad_multipoles_on_grid(
    s: &Search,
    bins: &Bins,
    lmax: usize,
    parity: Parity,
    opts: MultipoleOptions,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<QuadMultipoleCounts> {
    if lmax > MAX_QUAD_LMAX {
        return Err(CoreError::InvalidInput(format!(
            "lmax must be at most {MAX_QUAD_LMAX} for 4-point multipoles, got {lmax}"
        )));
    }
    let nb = bins.nbins();
    if nb < 3 {
        return Err(CoreError::InvalidInput(format!(
            "4-point multipoles need at least 3 radial bins (b1 < b2 < b3), got {nb}"
        )));
    }
    let pts = &s.pts;
    let with_randoms = s.n_data < s.len();
    let scale = field_scale(s, opts.random_scale)?;
    let primary = primary_flags(s, opts.primaries)?;
    let iso = Isotropic::new(lmax, parity);
    let triplets = bin_triplets(nb);
    let ntri = iso.triples.len();
    let groups = Groups::new(nb);
    let per = groups.len(ntri);
    // Layout: field, randoms (each by groups), the coincident-pair flag.
    let len = 2 * per + 1;
    let nlm = Harmonics::len(lmax);
    let dims = Dims {
        nb,
        nlm,
        lmax,
        per: 0,
    };
    let (ne, nx) = (iso.entries(), expanded_len(lmax));
    let degree = s.estimate((bins.rmin(), bins.rmax()), 0).mean_degree;
    // Per thread: the gathered coefficients (`Scratch`), the coupling's
    // expanded, gathered and stage-1 arrays of `stride` bins each (`Coupled`)
    // and the neighbours, counted at twice the mean degree, 40 bytes each.
    let stride = Coupled::stride(nb);
    let coupled = 2 * nx * stride + 4 * ne * stride + 2 * ne + nb * nb;
    let scratch = (8 * (16 * nb * nlm + 8 * nb + 2 * nlm * LANES + coupled)) as u64
        + (2.0 * degree * 40.0) as u64;
    check_tables(
        s.len(),
        len,
        scratch,
        0,
        max_memory,
        "the 4-point multipole tables",
    )?;
    let h = Harmonics::new(lmax);
    let cut = bins.d2_cut();
    let flat = chunked_sum_with(
        s.len(),
        len,
        control,
        || (Scratch::new(dims), Coupled::new(&iso, nb), vec![false; nb]),
        |(sc, cp, filled), nodes, acc| {
            s.around(nodes, cut, |i, found| {
                if primary.as_ref().is_some_and(|p| !p[i]) {
                    return;
                }
                acc[2 * per] += sc.gather(s, i, found, bins, &h, dims);
                sc.make_field(scale);
                let random = pts.t[i] != 0;
                let wi = pts.w[i];
                let wf = if random { scale * wi } else { wi };
                let (sd, sr) = (&sc.total_sq[0], &sc.total_sq[1]);
                // Bins with neighbours of either kind (the others add nothing).
                for (f, (d, r)) in filled.iter_mut().zip(sd.iter().zip(sr)) {
                    *f = d + r > 0.0;
                }
                let field = (&sc.field.0[..], &sc.field.1[..]);
                cp.couple(&iso, field, filled, wf, &mut acc[..per]);
                if random && with_randoms {
                    for (f, r) in filled.iter_mut().zip(sr) {
                        *f = *r > 0.0;
                    }
                    let rand = (&sc.total[1].0[..], &sc.total[1].1[..]);
                    cp.couple(&iso, rand, filled, wi, &mut acc[per..2 * per]);
                }
                sc.reset();
            });
        },
    )?;
    if flat[2 * per] > 0.0 {
        return Err(coincident(flat[2 * per]));
    }
    Ok(QuadMultipoleCounts {
        lmax,
        nbins: nb,
        triples: iso.triples.clone(),
        triplets,
        field: groups.compact(&flat[..per], ntri),
        randoms: if with_randoms {
            groups.compact(&flat[per..2 * per], ntri)
        } else {
            Vec::new()
        },
        random_scale: scale,
    })
}
