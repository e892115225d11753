//! Two-point counts of one or two tracers, on every binning, in passes over
//! cell grids.
//!
//! A count is a list of passes, each either over one set of points (auto:
//! every unordered pair once, by the forward scan) or between two sets sorted
//! on one lattice (cross: every pair of a point of the first set and one of
//! the second once, from the first). Auto-correlations give DD, DR, RR;
//! cross-correlations D1D2, D1R2, R1D2, R1R2 (pycorr's names), each pair
//! oriented from tracer 1 to tracer 2. Randoms may come as splits
//! (Keihänen et al. 2019): random-random pairs are then counted within each
//! split only, data-random pairs over all of them.
//!
//! Pair weights (`weights`): individual weights, PIP weights from bitwise
//! weights with IIP weights in pairs with a random, angular upweights.
//! Every pair also adds to the resampling tables of its regions
//! (`reduce::touch`), and under MPI is counted only on the rank owning its
//! smallest-key point (`Catalogue::keys`, `Catalogue::buffer`).

#[cfg(target_arch = "x86_64")]
mod avx512;
mod binning;
mod block;
mod cumulative;
mod kernel;
mod side;
mod weights;

pub use binning::{antichord_angle, chord_angle, mu_bin, AngularBins, Binning};
pub use weights::{AngularWeights, Pip};

use crate::catalogue::Sample;
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::Metric;

/// One catalogue of a two-point count and what each of its points carries.
#[derive(Clone, Copy, Debug)]
pub struct Catalogue<'a> {
    pub sample: Sample<'a>,
    pub is_random: bool,
    /// Weights of galaxies in pairs with a random (IIP times individual,
    /// when they carry bitwise weights); None: their individual weights.
    pub cross_weights: Option<&'a [f64]>,
    /// Bitwise weights of galaxies, `Pip::nwords` words per point.
    pub bits: Option<&'a [u64]>,
    /// Jackknife region of each point.
    pub regions: Option<&'a [u32]>,
    /// MPI: an owner key per point, unique over all catalogues and ranks,
    /// and the buffer flag (1: a copy of a point owned by another rank).
    pub keys: Option<&'a [u64]>,
    pub buffer: Option<&'a [u8]>,
}

impl<'a> Catalogue<'a> {
    pub fn new(sample: Sample<'a>, is_random: bool) -> Self {
        Self {
            sample,
            is_random,
            cross_weights: None,
            bits: None,
            regions: None,
            keys: None,
            buffer: None,
        }
    }

    pub fn len(&self) -> usize {
        self.sample.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sample.is_empty()
    }
}

/// The catalogues of a count: tracer 1's data and random splits, and for a
/// cross-correlation tracer 2's.
#[derive(Clone, Debug)]
pub struct Job<'a> {
    pub data1: Catalogue<'a>,
    pub randoms1: Vec<Catalogue<'a>>,
    pub data2: Option<Catalogue<'a>>,
    pub randoms2: Vec<Catalogue<'a>>,
}

impl Job<'_> {
    pub fn is_cross(&self) -> bool {
        self.data2.is_some()
    }

    /// The names of the count tables, in order.
    pub fn names(&self) -> Vec<&'static str> {
        if self.is_cross() {
            vec!["D1D2", "D1R2", "R1D2", "R1R2"]
        } else {
            vec!["DD", "DR", "RR"]
        }
    }
}

/// What a two-point count takes besides the catalogues and the binning.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Jackknife regions (0: none; the catalogues then carry no labels).
    pub nregions: usize,
    pub pip: Option<Pip>,
    /// Angular upweights of each table (by position in `Job::names`); empty:
    /// none (pycorr's D1D2_twopoint_weights, D1R2_..., one per count).
    pub angular: Vec<Option<AngularWeights>>,
    pub max_memory: Option<u64>,
    /// Empty: a whole count. Otherwise the totals of a count's earlier
    /// random splits (flat tables, then resampling tables, as
    /// `TwoPointCounts` lays them out), which this count continues: the
    /// randoms given are later splits (pairs with the data and within
    /// themselves, no data-data pass), added pass by pass to these totals in
    /// the order one call over all splits would add them, so a count
    /// streamed split by split gives the same bits.
    pub carry: Vec<f64>,
}

impl Options {
    pub fn has_angular(&self) -> bool {
        self.angular.iter().any(Option::is_some)
    }
}

/// Weighted pair counts, one flat table of `per` entries per name.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoPointCounts {
    pub names: Vec<&'static str>,
    pub counts: Vec<Vec<f64>>,
    /// Resampling tables (see `reduce::touch`), flat (3, nregions, names,
    /// per); empty without regions.
    pub regions: Vec<f64>,
}

/// Counts every pair of `job` in `binning`.
pub fn count(
    job: &Job,
    binning: &Binning,
    metric: &Metric,
    opts: &Options,
    control: &Control,
) -> Result<TwoPointCounts> {
    validate(job, binning, metric, opts)?;
    kernel::run(job, binning, metric, opts, control)
}

fn validate(job: &Job, binning: &Binning, metric: &Metric, opts: &Options) -> Result<()> {
    let nwords = opts.pip.map_or(0, |p| p.nwords);
    let mut all: Vec<(&Catalogue, String)> = vec![(&job.data1, "data".into())];
    let two = job.is_cross();
    let tag = |t: &str| if two { format!("{t}1") } else { t.to_string() };
    for (k, r) in job.randoms1.iter().enumerate() {
        all.push((r, format!("{} split {k}", tag("random"))));
    }
    if let Some(d) = &job.data2 {
        all.push((d, "data2".into()));
    }
    for (k, r) in job.randoms2.iter().enumerate() {
        all.push((r, format!("random2 split {k}")));
    }
    let mut total = 0usize;
    let keyed = all.iter().filter(|(c, _)| c.keys.is_some()).count();
    if keyed != 0 && keyed != all.len() {
        return Err(CoreError::InvalidInput(
            "owner keys must be given for every catalogue or none".into(),
        ));
    }
    for (c, what) in &all {
        side::validate(c, what, metric, nwords, opts.nregions)?;
        if c.buffer.is_some() && c.keys.is_none() {
            return Err(CoreError::InvalidInput(format!(
                "{what}: buffer flags need owner keys"
            )));
        }
        if c.bits.is_some() && (c.is_random || opts.pip.is_none()) {
            return Err(CoreError::InvalidInput(format!(
                "{what}: bitwise weights are read for galaxies only, with PIP options"
            )));
        }
        if opts.nregions > 0 && c.regions.is_none() {
            return Err(CoreError::InvalidInput(format!(
                "{what} catalogue has no region labels but regions were asked for"
            )));
        }
        total += c.len();
    }
    if total > u32::MAX as usize {
        return Err(CoreError::InvalidInput(
            "more than 2^32 - 1 points on one process; spread the catalogue over MPI ranks".into(),
        ));
    }
    if opts.nregions > crate::search::Regions::MAX {
        return Err(CoreError::InvalidInput(format!(
            "the number of regions must be at most {}, got {}",
            crate::search::Regions::MAX,
            opts.nregions
        )));
    }
    if opts.angular.len() > job.names().len() {
        return Err(CoreError::InvalidInput(format!(
            "{} angular upweight tables for {} counts",
            opts.angular.len(),
            job.names().len()
        )));
    }
    if !opts.carry.is_empty() {
        let len = job.names().len() * binning.per() * (1 + 3 * opts.nregions);
        if opts.carry.len() != len {
            return Err(CoreError::InvalidInput(format!(
                "the totals carried from earlier random splits hold {} values, this count {len}",
                opts.carry.len()
            )));
        }
        if job.randoms1.is_empty() && job.randoms2.is_empty() {
            return Err(CoreError::InvalidInput(
                "a count carried on from earlier random splits needs the next split's randoms"
                    .into(),
            ));
        }
    }
    if opts.has_angular() && metric.boxsize.is_some() {
        return Err(CoreError::InvalidBox(
            "angular upweights need an observer at the origin, not a periodic box".into(),
        ));
    }
    if matches!(binning, Binning::Theta(_)) && metric.boxsize.is_some() {
        return Err(CoreError::InvalidBox(
            "angular counts are on the sky: no periodic box".into(),
        ));
    }
    if two
        && !job.randoms1.is_empty()
        && !job.randoms2.is_empty()
        && job.randoms1.len() != job.randoms2.len()
    {
        return Err(CoreError::InvalidInput(format!(
            "both tracers' randoms must come in the same number of splits, got {} and {}",
            job.randoms1.len(),
            job.randoms2.len()
        )));
    }
    metric.check_rmax(binning.rmax())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Los, Positions};
    use crate::Bins;

    fn cloud(n: usize, seed: u64) -> [Vec<f64>; 3] {
        // a small LCG: points on a 0.5 lattice in a cube of 10 at 30 from the observer
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            30.0 + ((s >> 33) % 20) as f64 * 0.5
        };
        let mut c = [vec![], vec![], vec![]];
        for _ in 0..n {
            for axis in &mut c {
                axis.push(next());
            }
        }
        c
    }

    #[test]
    fn a_count_continued_split_by_split_is_the_whole_count() {
        let pts: Vec<[Vec<f64>; 3]> = (0..4).map(|k| cloud(150, 7 + k)).collect();
        let w: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..150)
                    .map(|i| 0.5 + ((i * 7 + k) % 5) as f64 * 0.25)
                    .collect()
            })
            .collect();
        let labels: Vec<Vec<u32>> = (0..4)
            .map(|k| (0..150).map(|i| ((i + k) % 3) as u32).collect())
            .collect();
        let cats: Vec<Catalogue> = (0..4)
            .map(|k| {
                let pos = Positions::new(&pts[k][0], &pts[k][1], &pts[k][2]).unwrap();
                let mut c = Catalogue::new(Sample::new(pos, Some(&w[k])), k > 0);
                c.regions = Some(&labels[k]);
                c
            })
            .collect();
        let binning = Binning::SMu {
            bins: Bins::new(vec![0.0, 1.0, 2.5, 4.0], 3).unwrap(),
            signed: false,
        };
        let metric = Metric::new(None, Los::Midpoint).unwrap();
        let opts = Options {
            nregions: 3,
            ..Options::default()
        };
        let ctl = Control::new();
        fn job<'a>(cats: &[Catalogue<'a>], r: std::ops::Range<usize>) -> Job<'a> {
            Job {
                data1: cats[0],
                randoms1: cats[r].to_vec(),
                data2: None,
                randoms2: vec![],
            }
        }
        let whole = count(&job(&cats, 1..4), &binning, &metric, &opts, &ctl).unwrap();
        let mut part = count(&job(&cats, 1..2), &binning, &metric, &opts, &ctl).unwrap();
        for k in 2..4 {
            let carry = part
                .counts
                .concat()
                .into_iter()
                .chain(part.regions)
                .collect();
            let o = Options {
                carry,
                ..opts.clone()
            };
            part = count(&job(&cats, k..k + 1), &binning, &metric, &o, &ctl).unwrap();
        }
        assert_eq!(part, whole);
        assert!(whole.counts.iter().all(|t| t.iter().sum::<f64>() > 0.0));
        let bad = Options {
            carry: vec![0.0; 5],
            ..opts.clone()
        };
        let err = count(&job(&cats, 2..3), &binning, &metric, &bad, &ctl).unwrap_err();
        assert!(err
            .to_string()
            .contains("carried from earlier random splits"));
        let none = Options {
            carry: vec![0.0; whole.counts.concat().len() + whole.regions.len()],
            ..opts
        };
        assert!(count(&job(&cats, 1..1), &binning, &metric, &none, &ctl).is_err());
    }
}
