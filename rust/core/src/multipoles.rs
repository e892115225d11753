//! Legendre multipoles of the 3-point counts in O(N m) (Slepian & Eisenstein
//! 2015): for every primary i, the harmonic coefficients of its neighbours in
//! each radial bin, a_lm(b) = sum_j w_j c_lm(r_ij / |r_ij|), are combined by
//! the addition theorem into
//!
//!   N_l(b1, b2) = sum_i w_i sum_{j != k, r_ij in b1, r_ik in b2} w_j w_k P_l(cos)
//!
//! without enumerating triangles. Here c_lm(x, y, z) = q_lm(z) (x + i y)^m
//! with q_lm = sqrt((l-m)!/(l+m)!) P_l^m(z) / (1 - z^2)^(m/2), a polynomial
//! (no trigonometric call), so that the Legendre addition theorem reads
//! P_l(u . v) = sum_{m=0..l} g_m Re[c_lm(u) conj(c_lm(v))], g_0 = 1, g_m = 2.
//! The j = k terms (P_l(1) = 1) are taken out of the diagonal b1 = b2.
//!
//! Two fields are summed in one pass, each pair's harmonics computed once:
//! the data minus the randoms scaled to zero total weight (the field of the
//! Szapudi-Szalay / Slepian-Eisenstein estimator) and the randoms alone.

use crate::bins::{Bins, OUT};
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::harmonics::{Block, Harmonics, LANES};
use crate::reduce::{check_tables, chunked_sum_with};
use crate::search::Search;

/// Most multipoles a count accepts (the recurrences stay accurate well past it).
pub const MAX_LMAX: usize = 20;

/// N_l(b1, b2) of the field and of the randoms.
#[derive(Clone, Debug, PartialEq)]
pub struct MultipoleCounts {
    pub lmax: usize,
    pub nbins: usize,
    /// Of the data minus the randoms scaled to zero total weight (the data
    /// alone without randoms); flat (lmax + 1, nbins, nbins), symmetric.
    pub field: Vec<f64>,
    /// Of the randoms alone; empty without randoms.
    pub randoms: Vec<f64>,
    /// The factor the random weights were scaled by in the field (minus the
    /// data weight over the random weight; 0 without randoms).
    pub random_scale: f64,
    /// With regions: the sums by number of random vertices (0..=3), flat
    /// (4, lmax + 1, nbins, nbins), of which the field and the randoms are
    /// combinations; empty without regions.
    pub typed: Vec<f64>,
    /// With regions, per region the typed sums lost when it is deleted (the
    /// delete-one jackknife: total minus table), then per region those of the
    /// triplets with all three points in it, flat (2, nregions, 4, lmax + 1,
    /// nbins, nbins).
    pub regions: Vec<f64>,
}

/// The coefficients of one primary: per bin, `nlm` entries each of re and im.
type Coeffs = (Vec<f64>, Vec<f64>);

/// Per-thread scratch for one primary: its neighbours gathered into blocks by
/// (slot, kind, bin) (slot: the region of the neighbour, in order of first
/// sight, always 0 without regions; kind: data 0, random 1), the lane sums,
/// the coefficients of every slot and kind, and their sums over slots.
pub(crate) struct Scratch {
    blocks: Vec<Vec<Block>>,
    fill: Vec<usize>,
    lanes: Vec<[f64; LANES]>,
    /// Region of each slot in use.
    pub(crate) slots: Vec<u32>,
    /// Per (slot, kind): coefficients and sums of squared weights per bin.
    parts: Vec<Coeffs>,
    squares: Vec<Vec<f64>>,
    /// Sums over slots, per kind; the field; and scratch for the delete-one terms.
    pub(crate) total: [Coeffs; 2],
    pub(crate) total_sq: [Vec<f64>; 2],
    pub(crate) field: Coeffs,
    field_sq: Vec<f64>,
    pub(crate) less: [Coeffs; 2],
    pub(crate) less_sq: [Vec<f64>; 2],
    /// The typed sums of the primary, and of it with one region deleted.
    typed: Vec<f64>,
    typed_less: Vec<f64>,
}

/// Sizes every per-primary array shares.
#[derive(Clone, Copy)]
pub(crate) struct Dims {
    pub nb: usize,
    pub nlm: usize,
    pub lmax: usize,
    /// Entries of one count table (the typed scratch holds three).
    pub per: usize,
}

impl Scratch {
    pub(crate) fn new(d: Dims) -> Self {
        let coeffs = || (vec![0.0; d.nb * d.nlm], vec![0.0; d.nb * d.nlm]);
        Self {
            blocks: Vec::new(),
            fill: Vec::new(),
            lanes: vec![[0.0; LANES]; 2 * d.nlm],
            slots: Vec::new(),
            parts: Vec::new(),
            squares: Vec::new(),
            total: [coeffs(), coeffs()],
            total_sq: [vec![0.0; d.nb], vec![0.0; d.nb]],
            field: coeffs(),
            field_sq: vec![0.0; d.nb],
            less: [coeffs(), coeffs()],
            less_sq: [vec![0.0; d.nb], vec![0.0; d.nb]],
            typed: vec![0.0; 3 * d.per],
            typed_less: vec![0.0; 3 * d.per],
        }
    }

    /// The slot of region r, opened on first sight (with its blocks).
    #[inline(always)]
    fn slot(&mut self, r: u32, d: Dims) -> usize {
        if let Some(s) = self.slots.iter().position(|&x| x == r) {
            return s;
        }
        self.slots.push(r);
        let s = self.slots.len() - 1;
        if self.parts.len() < 2 * (s + 1) {
            for _ in 0..2 {
                self.parts
                    .push((vec![0.0; d.nb * d.nlm], vec![0.0; d.nb * d.nlm]));
                self.squares.push(vec![0.0; d.nb]);
            }
            self.blocks.resize_with(2 * (s + 1) * d.nb, Vec::new);
            self.fill.resize(2 * (s + 1) * d.nb, 0);
        }
        s
    }

    /// Adds a neighbour (unit vector u, weight w) to the blocks of `part`
    /// (slot and kind) and bin b.
    #[inline(always)]
    fn push(&mut self, part: usize, b: usize, nb: usize, u: [f64; 3], w: f64) {
        let key = part * nb + b;
        let n = self.fill[key];
        let (blk, t) = (n / LANES, n % LANES);
        if blk == self.blocks[key].len() {
            self.blocks[key].push(Block::default());
        }
        let e = &mut self.blocks[key][blk];
        (e.x[t], e.y[t], e.z[t], e.w[t]) = (u[0], u[1], u[2], w);
        self.fill[key] = n + 1;
        self.squares[part][b] += w * w;
    }

    /// The coefficients of every part in use from its blocks, their sums
    /// over slots (slot order: the same on any thread count), and the blocks
    /// emptied.
    fn coefficients(&mut self, h: &Harmonics, d: Dims) {
        let nparts = 2 * self.slots.len();
        for part in 0..nparts {
            let (re, im) = &mut self.parts[part];
            re.fill(0.0);
            im.fill(0.0);
            for b in 0..d.nb {
                let key = part * d.nb + b;
                let n = self.fill[key];
                if n == 0 {
                    continue;
                }
                let last = &mut self.blocks[key][(n - 1) / LANES];
                for t in (n - 1) % LANES + 1..LANES {
                    last.w[t] = 0.0;
                }
                for a in self.lanes.iter_mut() {
                    *a = [0.0; LANES];
                }
                h.blocks(&self.blocks[key][..n.div_ceil(LANES)], &mut self.lanes);
                for k in 0..d.nlm {
                    re[b * d.nlm + k] = self.lanes[2 * k].iter().sum::<f64>();
                    im[b * d.nlm + k] = self.lanes[2 * k + 1].iter().sum::<f64>();
                }
                self.fill[key] = 0;
            }
        }
        for kind in 0..2 {
            let (tr, ti) = &mut self.total[kind];
            tr.fill(0.0);
            ti.fill(0.0);
            self.total_sq[kind].fill(0.0);
            for s in 0..self.slots.len() {
                let (pr, pi) = &self.parts[2 * s + kind];
                add(tr, pr, 1.0);
                add(ti, pi, 1.0);
                add(&mut self.total_sq[kind], &self.squares[2 * s + kind], 1.0);
            }
        }
    }

    /// Gathers primary i's neighbours in `found` (by slot, kind and bin) and
    /// computes their coefficients; returns how many coincide with i (no
    /// direction: flagged, not gathered).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn gather(
        &mut self,
        s: &Search,
        i: usize,
        found: &[(u32, f64)],
        bins: &Bins,
        h: &Harmonics,
        d: Dims,
    ) -> f64 {
        let (pts, jk) = (&s.pts, s.nregions > 0);
        let pi = pts.p[i];
        let mut coincident = 0.0;
        for &(j, d2) in found {
            let j = j as usize;
            let b = bins.bin_d2(d2);
            if b == OUT {
                continue;
            }
            if d2 == 0.0 {
                coincident += 1.0;
                continue;
            }
            let v = s.metric.diff(pi, pts.p[j]);
            let r = d2.sqrt();
            let u = [v[0] / r, v[1] / r, v[2] / r];
            let slot = self.slot(if jk { pts.region[j] } else { 0 }, d);
            let part = 2 * slot + usize::from(pts.t[j] != 0);
            self.push(part, b as usize, d.nb, u, pts.w[j]);
        }
        self.coefficients(h, d);
        coincident
    }

    /// The field's coefficients and squares: data minus the randoms times
    /// `scale`.
    pub(crate) fn make_field(&mut self, scale: f64) {
        let ((dr, di), (rr, ri)) = (&self.total[0], &self.total[1]);
        let (fr, fi) = &mut self.field;
        for (f, (a, b)) in fr.iter_mut().zip(dr.iter().zip(rr)) {
            *f = a + scale * b;
        }
        for (f, (a, b)) in fi.iter_mut().zip(di.iter().zip(ri)) {
            *f = a + scale * b;
        }
        let (sd, sr) = (&self.total_sq[0], &self.total_sq[1]);
        for (f, (a, b)) in self.field_sq.iter_mut().zip(sd.iter().zip(sr)) {
            *f = a + scale * scale * b;
        }
    }

    /// Without the neighbours of `slot`: into `less[0]` the field (data
    /// minus the randoms times `scale`), into `less[1]` the randoms, with
    /// their squared weights per bin.
    pub(crate) fn without(&mut self, slot: usize, scale: f64) {
        for kind in 0..2 {
            let (lr, li) = &mut self.less[kind];
            let (pr, pi) = &self.parts[2 * slot + kind];
            let (tr, ti) = &self.total[kind];
            for (l, (t, p)) in lr.iter_mut().zip(tr.iter().zip(pr)) {
                *l = t - p;
            }
            for (l, (t, p)) in li.iter_mut().zip(ti.iter().zip(pi)) {
                *l = t - p;
            }
            let sq = &self.squares[2 * slot + kind];
            for (l, (t, p)) in self.less_sq[kind]
                .iter_mut()
                .zip(self.total_sq[kind].iter().zip(sq))
            {
                *l = t - p;
            }
        }
        let [(dr, di), (rr, ri)] = &mut self.less;
        for (d, r) in dr.iter_mut().zip(rr.iter()) {
            *d += scale * r;
        }
        for (d, r) in di.iter_mut().zip(ri.iter()) {
            *d += scale * r;
        }
    }

    /// Clears the slots and squared weights for the next primary.
    pub(crate) fn reset(&mut self) {
        for sq in &mut self.squares[..2 * self.slots.len()] {
            sq.fill(0.0);
        }
        self.slots.clear();
    }
}

fn add(to: &mut [f64], from: &[f64], scale: f64) {
    for (t, f) in to.iter_mut().zip(from) {
        *t += scale * f;
    }
}

/// What a multipole count takes besides the catalogues, bins and memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct MultipoleOptions<'a> {
    /// Which points (data then randoms) are primaries (None: all): under
    /// MPI, a rank's own points, its buffer points being neighbours only.
    pub primaries: Option<&'a [bool]>,
    /// The random weights' factor in the field (None: minus the data weight
    /// over the random weight of these catalogues; under MPI, of all ranks').
    pub random_scale: Option<f64>,
    /// With regions, the field's random factor once each region is deleted
    /// (None: from these catalogues; under MPI, of all ranks'). Read by the
    /// 4-point multipoles, whose delete-one counts are formed at it.
    pub region_scales: Option<&'a [f64]>,
    /// Also the sums of the Gaussian (disconnected) part of the 4-point
    /// function (read by the 4-point multipoles).
    pub disconnected: bool,
}

/// The random weights' factor in the field: `given`, else minus the data
/// weight over the random weight (0 without randoms).
pub(crate) fn field_scale(s: &Search, given: Option<f64>) -> Result<f64> {
    if let Some(a) = given {
        return Ok(a);
    }
    if s.n_data == s.len() {
        return Ok(0.0);
    }
    let (wd, wr) =
        s.pts.w.iter().zip(&s.pts.t).fold(
            (0.0, 0.0),
            |(d, r), (&w, &t)| {
                if t == 0 {
                    (d + w, r)
                } else {
                    (d, r + w)
                }
            },
        );
    if wr == 0.0 {
        return Err(CoreError::InvalidInput(
            "the random weights sum to zero: the field cannot be normalised".into(),
        ));
    }
    Ok(-wd / wr)
}

/// The primary flags (data then randoms) in the grid's order.
pub(crate) fn primary_flags(s: &Search, given: Option<&[bool]>) -> Result<Option<Vec<bool>>> {
    match given {
        Some(p) if p.len() != s.len() => Err(CoreError::InvalidInput(format!(
            "{} primary flags for {} points",
            p.len(),
            s.len()
        ))),
        Some(p) => Ok(Some(s.grid.order.iter().map(|&i| p[i as usize]).collect())),
        None => Ok(None),
    }
}

/// The error for pairs of coincident points in the bins (no direction).
pub(crate) fn coincident(n: f64) -> CoreError {
    CoreError::InvalidInput(format!(
        "{} pairs of coincident points fall in the first bin: a pair at zero separation \
         has no direction; set the smallest bin edge above 0 or remove duplicate points",
        n as u64
    ))
}

/// N_l(b1, b2) for l <= `lmax` over the bins of `bins`, from every primary's
/// neighbours in the cell grid.
pub(crate) fn multipoles_on_grid(
    s: &Search,
    bins: &Bins,
    lmax: usize,
    opts: MultipoleOptions,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<MultipoleCounts> {
    if lmax > MAX_LMAX {
        return Err(CoreError::InvalidInput(format!(
            "lmax must be at most {MAX_LMAX}, got {lmax}"
        )));
    }
    let pts = &s.pts;
    let with_randoms = s.n_data < s.len();
    let scale = field_scale(s, opts.random_scale)?;
    let primary = primary_flags(s, opts.primaries)?;
    let (nb, nlm, nk) = (bins.nbins(), Harmonics::len(lmax), s.nregions);
    let dims = Dims {
        nb,
        nlm,
        lmax,
        per: (lmax + 1) * nb * nb,
    };
    let per = dims.per;
    let jk = nk > 0;
    // Layout: field, randoms, the coincident-pair flag; with regions the
    // typed sums (by random vertices, 0..=3), per region those lost when it
    // is deleted, and per region those within it.
    let (typed_at, touch_at) = (2 * per + 1, 6 * per + 1);
    let len = if jk {
        touch_at + 8 * nk * per
    } else {
        2 * per + 1
    };
    let h = Harmonics::new(lmax);
    // Gathered neighbours grow with the densest neighbourhood: counted at
    // twice the mean degree (sampled), 40 bytes each.
    let degree = s.estimate((bins.rmin(), bins.rmax()), 0).mean_degree;
    let scratch = (8 * (16 * nb * nlm + 8 * nb + 2 * nlm * LANES + 6 * per)) as u64
        + (2.0 * degree * 40.0) as u64;
    check_tables(s.len(), len, scratch, 0, max_memory, "the multipole tables")?;
    let cut = bins.d2_cut();
    let flat = chunked_sum_with(
        s.len(),
        len,
        control,
        || Scratch::new(dims),
        |sc, nodes, acc| {
            s.around(nodes, cut, |i, found| {
                if primary.as_ref().is_some_and(|p| !p[i]) {
                    return;
                }
                acc[2 * per] += sc.gather(s, i, found, bins, &h, dims);
                sc.make_field(scale);
                let random = pts.t[i] != 0;
                let wi = pts.w[i];
                let wf = if random { scale * wi } else { wi };
                let field = (&sc.field.0[..], &sc.field.1[..]);
                combine(
                    field,
                    field,
                    false,
                    wf,
                    Some(&sc.field_sq),
                    dims,
                    &mut acc[..per],
                );
                if random && with_randoms {
                    let rand = (&sc.total[1].0[..], &sc.total[1].1[..]);
                    let sq = Some(&sc.total_sq[1][..]);
                    combine(rand, rand, false, wi, sq, dims, &mut acc[per..2 * per]);
                }
                if jk {
                    resample(sc, i, s, dims, acc, typed_at, (touch_at, nk));
                }
                sc.reset();
            });
        },
    )?;
    if flat[2 * per] > 0.0 {
        return Err(coincident(flat[2 * per]));
    }
    Ok(MultipoleCounts {
        lmax,
        nbins: nb,
        field: flat[..per].to_vec(),
        randoms: if with_randoms {
            flat[per..2 * per].to_vec()
        } else {
            Vec::new()
        },
        random_scale: scale,
        typed: if jk {
            flat[typed_at..touch_at].to_vec()
        } else {
            Vec::new()
        },
        regions: if jk {
            flat[touch_at..].to_vec()
        } else {
            Vec::new()
        },
    })
}

/// The primary's sums by number of random vertices (its own kind plus the
/// kinds of j and k: data-data, data-random both ways, random-random) into
/// `out` (3 tables of `per`), from per-kind coefficients and squares.
fn typed(c: &[Coeffs; 2], sq: &[Vec<f64>; 2], wi: f64, d: Dims, out: &mut [f64]) {
    out.fill(0.0);
    let dd = (&c[0].0[..], &c[0].1[..]);
    let rr = (&c[1].0[..], &c[1].1[..]);
    let per = d.per;
    combine(dd, dd, false, wi, Some(&sq[0]), d, &mut out[..per]);
    combine(dd, rr, true, wi, None, d, &mut out[per..2 * per]);
    combine(rr, rr, false, wi, Some(&sq[1]), d, &mut out[2 * per..]);
}

/// The jackknife terms of primary i: its typed sums, and for every region
/// what deleting it removes: all of them for i's own region; for a region
/// holding some of i's neighbours, the sums less those without them. Exact:
/// the count with region k deleted is the total minus its table. Also the
/// sums of its neighbours in its own region alone: the triplets within it.
fn resample(
    sc: &mut Scratch,
    i: usize,
    s: &Search,
    d: Dims,
    acc: &mut [f64],
    typed_at: usize,
    (touch_at, nk): (usize, usize),
) {
    let pts = &s.pts;
    let (per, ri) = (d.per, pts.region[i] as usize);
    let t0 = usize::from(pts.t[i] != 0);
    let wi = pts.w[i];
    typed(&sc.total, &sc.total_sq, wi, d, &mut sc.typed);
    let at = typed_at + t0 * per;
    add(&mut acc[at..at + 3 * per], &sc.typed, 1.0);
    let own = touch_at + (ri * 4 + t0) * per;
    add(&mut acc[own..own + 3 * per], &sc.typed, 1.0);
    for slot in 0..sc.slots.len() {
        let k = sc.slots[slot] as usize;
        if k == ri {
            for kind in 0..2 {
                let (lr, li) = &mut sc.less[kind];
                lr.copy_from_slice(&sc.parts[2 * slot + kind].0);
                li.copy_from_slice(&sc.parts[2 * slot + kind].1);
                sc.less_sq[kind].copy_from_slice(&sc.squares[2 * slot + kind]);
            }
            typed(&sc.less, &sc.less_sq, wi, d, &mut sc.typed_less);
            let at = touch_at + ((nk + ri) * 4 + t0) * per;
            add(&mut acc[at..at + 3 * per], &sc.typed_less, 1.0);
            continue;
        }
        for kind in 0..2 {
            let (lr, li) = &mut sc.less[kind];
            lr.copy_from_slice(&sc.total[kind].0);
            li.copy_from_slice(&sc.total[kind].1);
            add(lr, &sc.parts[2 * slot + kind].0, -1.0);
            add(li, &sc.parts[2 * slot + kind].1, -1.0);
            sc.less_sq[kind].copy_from_slice(&sc.total_sq[kind]);
            add(&mut sc.less_sq[kind], &sc.squares[2 * slot + kind], -1.0);
        }
        typed(&sc.less, &sc.less_sq, wi, d, &mut sc.typed_less);
        let at = touch_at + (k * 4 + t0) * per;
        let table = &mut acc[at..at + 3 * per];
        for ((t, full), less) in table.iter_mut().zip(&sc.typed).zip(&sc.typed_less) {
            *t += full - less;
        }
    }
}

/// Adds wi sum_m g_m Re[x_lm(b1) conj(y_lm(b2))] (`cross`: plus the same
/// with x and y swapped) to `out` (lmax + 1, nbins, nbins) for b1 <= b2,
/// mirrored; `self_terms` (per bin) are the j = k terms taken out of the
/// diagonal.
fn combine(
    x: (&[f64], &[f64]),
    y: (&[f64], &[f64]),
    cross: bool,
    wi: f64,
    self_terms: Option<&[f64]>,
    d: Dims,
    out: &mut [f64],
) {
    let (nb, nlm, lmax) = (d.nb, d.nlm, d.lmax);
    let mut sums = [0.0; MAX_LMAX + 1];
    for b1 in 0..nb {
        for b2 in b1..nb {
            sums.fill(0.0);
            let (o1, o2) = (b1 * nlm, b2 * nlm);
            let mut k = 0;
            for m in 0..=lmax {
                let g = if m == 0 { 1.0 } else { 2.0 };
                for s in sums[..=lmax].iter_mut().skip(m) {
                    let mut v = x.0[o1 + k] * y.0[o2 + k] + x.1[o1 + k] * y.1[o2 + k];
                    if cross {
                        v += y.0[o1 + k] * x.0[o2 + k] + y.1[o1 + k] * x.1[o2 + k];
                    }
                    *s += g * v;
                    k += 1;
                }
            }
            let own = match self_terms {
                Some(sq) if b1 == b2 => sq[b1],
                _ => 0.0,
            };
            for (l, s) in sums[..=lmax].iter().enumerate() {
                let v = wi * (s - own);
                out[(l * nb + b1) * nb + b2] += v;
                if b1 != b2 {
                    out[(l * nb + b2) * nb + b1] += v;
                }
            }
        }
    }
}
