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
    /// With regions, per region the counts with it deleted (every quad with
    /// a vertex in it removed): the field, at the random scale of the points
    /// left, then the randoms, flat (nregions, 2, triples, triplets); empty
    /// without regions.
    pub jackknife: Vec<f64>,
    /// With regions, the field's random scale with each region deleted.
    pub region_scales: Vec<f64>,
    /// With `disconnected`, the sums its estimator needs (`Disconnected`),
    /// complex values as (re, im): per bin and (l, m) (m = -l..=l), the
    /// field about every point weighted as in the field (NN) and the
    /// randoms about the randoms (RR); then per bin pair b2 < b3 and (l, m),
    /// (l', m'), the products a_lm(b2) a_l'm'(b3) of the field about the
    /// randoms (RNN) and of the randoms about the randoms (RRR). Empty
    /// otherwise.
    pub disconnected: Vec<f64>,
}

/// The sums of the disconnected 4-point estimator, per primary: its
/// coefficients expanded to every m, bin-major, and where they add.
struct Disconnected {
    nb: usize,
    nx: usize,
    /// Expanded coefficients of the field and of the randoms, (bin, lm).
    f: (Vec<f64>, Vec<f64>),
    r: (Vec<f64>, Vec<f64>),
    /// The same as `Isotropic::expand` lays them out.
    scratch: (Vec<f64>, Vec<f64>),
}

impl Disconnected {
    fn new(lmax: usize, nb: usize) -> Self {
        let nx = expanded_len(lmax);
        let z = || (vec![0.0; nb * nx], vec![0.0; nb * nx]);
        Self {
            nb,
            nx,
            f: z(),
            r: z(),
            scratch: z(),
        }
    }

    /// Entries of the accumulator: NN, RR, RNN, RRR.
    fn len(lmax: usize, nb: usize) -> usize {
        let nx = expanded_len(lmax);
        let pairs = nb * (nb - 1) / 2;
        2 * (2 * nb * nx + 2 * pairs * nx * nx)
    }

    /// `coeffs` (c_lm per bin, m-major) expanded into `to`, (bin, lm).
    fn expand(&mut self, iso: &Isotropic, coeffs: (&[f64], &[f64]), field: bool) {
        let (nb, nx) = (self.nb, self.nx);
        let nlm = Harmonics::len(iso.lmax);
        let (sr, si) = (&mut self.scratch.0, &mut self.scratch.1);
        for b in 0..nb {
            let c = (
                &coeffs.0[b * nlm..(b + 1) * nlm],
                &coeffs.1[b * nlm..(b + 1) * nlm],
            );
            iso.expand(c, b, nb, (sr, si));
        }
        let to = if field { &mut self.f } else { &mut self.r };
        for b in 0..nb {
            for k in 0..nx {
                to.0[b * nx + k] = sr[k * nb + b];
                to.1[b * nx + k] = si[k * nb + b];
            }
        }
    }

    /// Adds primary i's terms: `wf` times the field's coefficients to NN
    /// (every primary); for a random primary, `wi` times the randoms' to RR
    /// and times the products to RNN and RRR.
    fn add(&self, wf: f64, random: Option<f64>, acc: &mut [f64]) {
        let (nb, nx) = (self.nb, self.nx);
        let one = 2 * nb * nx;
        for (e, (re, im)) in self.f.0.iter().zip(&self.f.1).enumerate() {
            acc[2 * e] += wf * re;
            acc[2 * e + 1] += wf * im;
        }
        let Some(wi) = random else {
            return;
        };
        for (e, (re, im)) in self.r.0.iter().zip(&self.r.1).enumerate() {
            acc[one + 2 * e] += wi * re;
            acc[one + 2 * e + 1] += wi * im;
        }
        let pairs = nb * (nb - 1) / 2;
        let block = 2 * nx * nx;
        for (t, a) in [&self.f, &self.r].into_iter().enumerate() {
            let base = 2 * one + t * pairs * block;
            let mut p = 0;
            for b2 in 0..nb {
                for b3 in b2 + 1..nb {
                    let to = &mut acc[base + p * block..base + (p + 1) * block];
                    let (x, y) = (b2 * nx, b3 * nx);
                    for k in 0..nx {
                        let (xr, xi) = (wi * a.0[x + k], wi * a.1[x + k]);
                        let row = &mut to[2 * k * nx..2 * (k + 1) * nx];
                        for q in 0..nx {
                            let (yr, yi) = (a.0[y + q], a.1[y + q]);
                            row[2 * q] += xr * yr - xi * yi;
                            row[2 * q + 1] += xr * yi + xi * yr;
                        }
                    }
                    p += 1;
                }
            }
        }
    }
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

/// One coupling pass over up to two fields (0 and 1): the stage-1 sums, each
/// over its pairs (x, y) of the products of field x at b1 and field y at b2,
/// and the stage-2 closures (stage-1 sum, field at b3, output table).
pub(crate) struct Plan {
    sums: &'static [&'static [(usize, usize)]],
    closes: &'static [(usize, usize, usize)],
}

/// S of one field.
const ONE: Plan = Plan {
    sums: &[&[(0, 0)]],
    closes: &[(0, 0, 0)],
};

/// With field 0 the D - R field f and field 1 the randoms r: the terms M_p of
/// S(f + delta r) = sum_p delta^p M_p, p = 0..=3 (M_0 = S(f), M_3 = S(r)), so
/// that S can be had at the random scale of any deleted region.
const EXPANDED: Plan = Plan {
    sums: &[&[(0, 0)], &[(0, 1), (1, 0)], &[(1, 1)]],
    closes: &[
        (0, 0, 0),
        (0, 1, 1),
        (1, 0, 1),
        (1, 1, 2),
        (2, 0, 2),
        (2, 1, 3),
    ],
};

/// Per-thread scratch of the coupling for one primary, each array laid out
/// (index, bin) with `stride` bins per index (the bins and BL - 1 of zero
/// padding, so that any BL bins from a bin can be read as lanes): per field
/// the expanded coefficients and those gathered per entry for the third bin,
/// per stage-1 sum its values.
struct Coupled {
    stride: usize,
    a: Vec<(Vec<f64>, Vec<f64>)>,
    a3: Vec<(Vec<f64>, Vec<f64>)>,
    t: Vec<(Vec<f64>, Vec<f64>)>,
    /// T of one bin b2, per entry, per stage-1 sum.
    tb: Vec<(Vec<f64>, Vec<f64>)>,
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

    /// Scratch for plans of up to `fields` fields and `sums` stage-1 sums.
    fn new(iso: &Isotropic, nb: usize, fields: usize, sums: usize) -> Self {
        let stride = Self::stride(nb);
        let (nx, ne) = (expanded_len(iso.lmax), iso.entries());
        let pair = |n: usize| (vec![0.0; n], vec![0.0; n]);
        Self {
            stride,
            a: (0..fields).map(|_| pair(nx * stride)).collect(),
            a3: (0..fields).map(|_| pair(ne * stride)).collect(),
            t: (0..sums).map(|_| pair(ne * stride)).collect(),
            tb: (0..sums).map(|_| pair(ne)).collect(),
            groups: Groups::new(nb),
            simd: Simd::detect(),
        }
    }

    /// Bytes of scratch for `fields` fields and `sums` stage-1 sums.
    fn bytes(iso: &Isotropic, nb: usize, fields: usize, sums: usize) -> u64 {
        let stride = Self::stride(nb);
        let (nx, ne) = (expanded_len(iso.lmax), iso.entries());
        (16 * (fields * (nx + ne) * stride + sums * (ne * stride + ne)) + nb * nb) as u64
    }

    /// Adds one primary's w S(b1, b2, b3) for every triple and triplet of
    /// each closure of `plan` to its output table in `tables` (each laid out
    /// by `Groups`, one after the other), from the fields' c_lm per bin
    /// (m-major); bins in which `filled` is false add nothing and are skipped.
    fn couple(
        &mut self,
        iso: &Isotropic,
        plan: &Plan,
        fields: &[(&[f64], &[f64])],
        filled: &[bool],
        w: f64,
        tables: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if self.simd == Simd::Avx512 {
                // SAFETY: the CPU has AVX-512F (detected in `new`).
                return unsafe { self.couple_avx512(iso, plan, fields, filled, w, tables) };
            }
            if self.simd == Simd::Avx2 {
                // SAFETY: the CPU has AVX2 (detected in `new`).
                return unsafe { self.couple_avx2(iso, plan, fields, filled, w, tables) };
            }
        }
        self.run(iso, plan, fields, filled, w, tables)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn couple_avx2(
        &mut self,
        iso: &Isotropic,
        plan: &Plan,
        fields: &[(&[f64], &[f64])],
        filled: &[bool],
        w: f64,
        tables: &mut [f64],
    ) {
        self.run(iso, plan, fields, filled, w, tables)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn couple_avx512(
        &mut self,
        iso: &Isotropic,
        plan: &Plan,
        fields: &[(&[f64], &[f64])],
        filled: &[bool],
        w: f64,
        tables: &mut [f64],
    ) {
        self.run(iso, plan, fields, filled, w, tables)
    }

    #[inline(always)]
    fn run(
        &mut self,
        iso: &Isotropic,
        plan: &Plan,
        fields: &[(&[f64], &[f64])],
        filled: &[bool],
        w: f64,
        tables: &mut [f64],
    ) {
        let (nb, stride) = (filled.len(), self.stride);
        let nlm = Harmonics::len(iso.lmax);
        let ngroups = self.groups.list.len();
        let per = self.groups.len(iso.triples.len());
        for (f, coeffs) in fields.iter().enumerate() {
            let (ar, ai) = &mut self.a[f];
            for b in 0..nb {
                let c = (
                    &coeffs.0[b * nlm..(b + 1) * nlm],
                    &coeffs.1[b * nlm..(b + 1) * nlm],
                );
                iso.expand(c, b, stride, (ar, ai));
            }
            let (tr, ti) = &mut self.a3[f];
            iso.third((ar, ai), stride, (tr, ti));
        }
        // b2 < nb - 1 and b1 < nb - 2: a third bin must follow.
        for b1 in (0..nb - 2).filter(|&b| filled[b]) {
            for g in (b1 + 1..nb - 1).step_by(BL) {
                for (s, pairs) in plan.sums.iter().enumerate() {
                    let (tr, ti) = &mut self.t[s];
                    for (n, &(x, y)) in pairs.iter().enumerate() {
                        let (x, y) = (&self.a[x], &self.a[y]);
                        let (x, y) = ((&x.0[..], &x.1[..]), (&y.0[..], &y.1[..]));
                        iso.pairs(x, y, stride, (b1, g), (tr, ti), n > 0);
                    }
                }
            }
            for b2 in (b1 + 1..nb - 1).filter(|&b| filled[b]) {
                // T of bin b2, contiguous for stage 2.
                for (t, tb) in self.t.iter().zip(self.tb.iter_mut()).take(plan.sums.len()) {
                    for (e, (r, i)) in tb.0.iter_mut().zip(tb.1.iter_mut()).enumerate() {
                        (*r, *i) = (t.0[e * stride + b2], t.1[e * stride + b2]);
                    }
                }
                let first = self.groups.first[b1 * nb + b2];
                for (gi, g) in (b2 + 1..nb).step_by(BL).enumerate() {
                    for &(s, z, out) in plan.closes {
                        let t = (&self.tb[s].0[..], &self.tb[s].1[..]);
                        let a3 = (&self.a3[z].0[..], &self.a3[z].1[..]);
                        let table = &mut tables[out * per..(out + 1) * per];
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
}

/// The field's random scale with each region deleted: `given`, else minus
/// the data weight over the random weight of the points left (0 without
/// randoms).
fn region_scales(s: &Search, given: Option<&[f64]>) -> Result<Vec<f64>> {
    let nk = s.nregions;
    if let Some(a) = given {
        if a.len() != nk {
            return Err(CoreError::InvalidInput(format!(
                "{} region scales for {nk} regions",
                a.len()
            )));
        }
        return Ok(a.to_vec());
    }
    if s.n_data == s.len() {
        return Ok(vec![0.0; nk]);
    }
    let pts = &s.pts;
    let (mut wd, mut wr) = (vec![0.0; nk], vec![0.0; nk]);
    for i in 0..s.len() {
        let k = pts.region[i] as usize;
        if pts.t[i] == 0 {
            wd[k] += pts.w[i];
        } else {
            wr[k] += pts.w[i];
        }
    }
    let (td, tr): (f64, f64) = (wd.iter().sum(), wr.iter().sum());
    (0..nk)
        .map(|k| {
            let left = tr - wr[k];
            if left == 0.0 {
                return Err(CoreError::InvalidInput(format!(
                    "deleting region {k} leaves no random weight: the field of the \
                     other regions cannot be normalised; use fewer or other regions"
                )));
            }
            Ok(-(td - wd[k]) / left)
        })
        .collect()
}

/// Where the tables of a count with regions sit in its accumulator.
#[derive(Clone, Copy)]
struct JackLayout {
    per: usize,
    /// Sums of w_i M_p over the primaries of each kind (data 0, random 1),
    /// table (kind * 4 + p).
    expanded: usize,
    /// Per region k: the field's correction (table 2k) and the randoms'
    /// (table 2k + 1), added to what the expanded sums give.
    regions: usize,
}

impl JackLayout {
    fn at(self, table: usize) -> std::ops::Range<usize> {
        self.per * table..self.per * (table + 1)
    }
}

/// The delete-one terms of one primary i (its M_p in `m`): all of them taken
/// from its own region's counts; for a region holding some of its
/// neighbours, its terms replaced by those without them. With the expanded
/// sums, per region k
///
///   field_k = sum_p delta_k^p (E_data,p + alpha_k E_random,p) + correction_k,
///
/// delta_k = alpha_k - alpha: exact, the field at the random scale alpha_k
/// of the points left.
#[allow(clippy::too_many_arguments)]
fn resample(
    sc: &mut Scratch,
    cp: &mut Coupled,
    iso: &Isotropic,
    m: &[f64],
    (i, s): (usize, &Search),
    (scale, scales): (f64, &[f64]),
    filled: &mut [bool],
    lay: JackLayout,
    acc: &mut [f64],
) {
    let pts = &s.pts;
    let (ri, random, wi) = (pts.region[i] as usize, pts.t[i] != 0, pts.w[i]);
    let with_randoms = s.n_data < s.len();
    let kind = usize::from(random);
    for p in 0..4 {
        let to = &mut acc[lay.expanded..][lay.at(kind * 4 + p)];
        for (t, v) in to.iter_mut().zip(&m[lay.at(p)]) {
            *t += wi * v;
        }
    }
    // What the expanded sums give region k for this primary, taken out.
    let take_out = |k: usize, acc: &mut [f64]| {
        let (ak, dk) = (scales[k], scales[k] - scale);
        let w = if random { ak * wi } else { wi };
        let c = [w, w * dk, w * dk * dk, w * dk * dk * dk];
        let to = &mut acc[lay.regions..][lay.at(2 * k)];
        for (e, t) in to.iter_mut().enumerate() {
            *t -= c[0] * m[e]
                + c[1] * m[lay.per + e]
                + c[2] * m[2 * lay.per + e]
                + c[3] * m[3 * lay.per + e];
        }
        if random && with_randoms {
            let to = &mut acc[lay.regions..][lay.at(2 * k + 1)];
            for (t, v) in to.iter_mut().zip(&m[lay.at(3)]) {
                *t -= wi * v;
            }
        }
    };
    take_out(ri, acc);
    for slot in 0..sc.slots.len() {
        let k = sc.slots[slot] as usize;
        if k == ri {
            continue;
        }
        take_out(k, acc);
        let ak = scales[k];
        sc.without(slot, ak);
        let (ld, lr) = (&sc.less_sq[0], &sc.less_sq[1]);
        for (f, (d, r)) in filled.iter_mut().zip(ld.iter().zip(lr)) {
            *f = d + r > 0.0;
        }
        let w = if random { ak * wi } else { wi };
        let field = [(&sc.less[0].0[..], &sc.less[0].1[..])];
        let to = &mut acc[lay.regions..][lay.at(2 * k)];
        cp.couple(iso, &ONE, &field, filled, w, to);
        if random && with_randoms {
            for (f, r) in filled.iter_mut().zip(lr) {
                *f = *r > 0.0;
            }
            let rand = [(&sc.less[1].0[..], &sc.less[1].1[..])];
            let to = &mut acc[lay.regions..][lay.at(2 * k + 1)];
            cp.couple(iso, &ONE, &rand, filled, wi, to);
        }
    }
}

/// 4-point multipoles for l <= `lmax` of the requested parity over the bins
/// of `bins`, from every primary's neighbours in the cell grid; with
/// regions, also every delete-one count.
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
    let (jk, nk) = (s.nregions > 0, s.nregions);
    let scales = if jk {
        region_scales(s, opts.region_scales)?
    } else {
        Vec::new()
    };
    let iso = Isotropic::new(lmax, parity);
    let triplets = bin_triplets(nb);
    let ntri = iso.triples.len();
    let groups = Groups::new(nb);
    let per = groups.len(ntri);
    // Layout: field, randoms (each by groups), the coincident-pair flag;
    // with regions the expanded sums and the regions' corrections.
    let lay = JackLayout {
        per,
        expanded: 2 * per + 1,
        regions: 10 * per + 1,
    };
    let mut len = if jk {
        lay.regions + 2 * nk * per
    } else {
        2 * per + 1
    };
    // The disconnected estimator's sums, last.
    let disc_at = len;
    let disc = opts.disconnected;
    if disc {
        // (without randoms here, as on an MPI rank holding none, only NN adds)
        len += Disconnected::len(lmax, nb);
    }
    let nlm = Harmonics::len(lmax);
    let dims = Dims {
        nb,
        nlm,
        lmax,
        per: 0,
    };
    let degree = s.estimate((bins.rmin(), bins.rmax()), 0).mean_degree;
    // Per thread: the gathered coefficients (`Scratch`), the coupling's
    // arrays (`Coupled`), with regions the primary's M_p, and the
    // neighbours, counted at twice the mean degree, 40 bytes each.
    let (fields, sums) = if jk { (2, 3) } else { (1, 1) };
    let own = if jk { 4 * per } else { 0 };
    let scratch = (8 * (16 * nb * nlm + 8 * nb + 2 * nlm * LANES + own)) as u64
        + Coupled::bytes(&iso, nb, fields, sums)
        + if opts.disconnected {
            (48 * nb * expanded_len(lmax)) as u64
        } else {
            0
        }
        + (2.0 * degree * 40.0) as u64;
    check_tables(
        s.len(),
        len,
        scratch,
        (8 * (per + 2 * nk * per)) as u64,
        max_memory,
        "the 4-point multipole tables",
    )?;
    let h = Harmonics::new(lmax);
    let cut = bins.d2_cut();
    let flat = chunked_sum_with(
        s.len(),
        len,
        control,
        || {
            let cp = Coupled::new(&iso, nb, fields, sums);
            let dc = Disconnected::new(if disc { lmax } else { 0 }, if disc { nb } else { 1 });
            (Scratch::new(dims), cp, vec![false; nb], vec![0.0; own], dc)
        },
        |(sc, cp, filled, m, dc), nodes, acc| {
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
                if jk {
                    // M_p of S(f + delta r): the count and the randoms'
                    // among them, and every deleted region's from them.
                    m.fill(0.0);
                    let rand = (&sc.total[1].0[..], &sc.total[1].1[..]);
                    cp.couple(&iso, &EXPANDED, &[field, rand], filled, 1.0, m);
                    for (t, v) in acc[..per].iter_mut().zip(&m[..per]) {
                        *t += wf * v;
                    }
                    if random && with_randoms {
                        let to = &mut acc[per..2 * per];
                        for (t, v) in to.iter_mut().zip(&m[3 * per..]) {
                            *t += wi * v;
                        }
                    }
                    let at = (i, s);
                    let sc_ = (scale, &scales[..]);
                    resample(sc, cp, &iso, m, at, sc_, filled, lay, acc);
                } else {
                    cp.couple(&iso, &ONE, &[field], filled, wf, &mut acc[..per]);
                    if random && with_randoms {
                        for (f, r) in filled.iter_mut().zip(sr) {
                            *f = *r > 0.0;
                        }
                        let rand = (&sc.total[1].0[..], &sc.total[1].1[..]);
                        cp.couple(&iso, &ONE, &[rand], filled, wi, &mut acc[per..2 * per]);
                    }
                }
                if disc {
                    dc.expand(&iso, (&sc.field.0, &sc.field.1), true);
                    if random {
                        dc.expand(&iso, (&sc.total[1].0, &sc.total[1].1), false);
                    }
                    dc.add(wf, random.then_some(wi), &mut acc[disc_at..]);
                }
                sc.reset();
            });
        },
    )?;
    if flat[2 * per] > 0.0 {
        return Err(coincident(flat[2 * per]));
    }
    let mut jackknife = Vec::new();
    for (k, &ak) in scales.iter().enumerate() {
        let dk = ak - scale;
        let e = &flat[lay.expanded..];
        let corr = &flat[lay.regions..];
        let field: Vec<f64> = (0..per)
            .map(|x| {
                let mut v = corr[lay.at(2 * k)][x];
                let mut pow = 1.0;
                for p in 0..4 {
                    v += pow * (e[lay.at(p)][x] + ak * e[lay.at(4 + p)][x]);
                    pow *= dk;
                }
                v
            })
            .collect();
        jackknife.extend(groups.compact(&field, ntri));
        let randoms: Vec<f64> = if with_randoms {
            let c = &corr[lay.at(2 * k + 1)];
            flat[per..2 * per]
                .iter()
                .zip(c)
                .map(|(a, b)| a + b)
                .collect()
        } else {
            vec![0.0; per]
        };
        jackknife.extend(groups.compact(&randoms, ntri));
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
        jackknife,
        region_scales: scales,
        disconnected: if disc {
            flat[disc_at..].to_vec()
        } else {
            Vec::new()
        },
    })
}
