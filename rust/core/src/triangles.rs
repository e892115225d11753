//! Exact triangle counts from sorted forward neighbour lists.
//!
//! A triangle i < j < k exists when j and k are in N+(i) and k is in N+(j).
//! For each i the members of N+(i) are marked (with the bin of their edge to
//! i) in a scratch array indexed by node id; scanning N+(j) for every j in
//! N+(i) then finds each k with one lookup, together with both remaining
//! sides' bins: every triangle exactly once, no distance recomputed. This is
//! the sorted-list intersection N+(i) ∩ N+(j) done as a hash join, which on
//! lists of similar length beats a branchy merge (see benchmarks/README.md).

use crate::binned::{Binned, NodeView};
use crate::bins::OUT;
use crate::control::Control;
use crate::error::Result;
use crate::reduce::{check_tables, chunked_sum_with, flush, flush_tables};

/// Weighted triangle counts by number of random vertices (0..=3), each a
/// (nbins, nbins, nbins) array indexed by the sorted side bins b1 <= b2 <= b3.
#[derive(Clone, Debug, PartialEq)]
pub struct TriangleCounts {
    pub nbins: usize,
    pub counts: [Vec<f64>; 4],
    /// Resampling tables (see `reduce::touch`), flat (2, nregions, 4,
    /// nbins^3); empty without regions.
    pub regions: Vec<f64>,
}

/// The kernels count into the sorted configurations b1 <= b2 <= b3 only
/// (about a sixth of nbins^3, so lanes and tables stay in cache): for any
/// three side bins, the position of their sorted configuration; and for each
/// position, the flat index of that configuration in (nbins, nbins, nbins).
fn sorted_configurations(nb: usize) -> (Vec<u32>, Vec<usize>) {
    let mut flat = Vec::new();
    let mut position = vec![0u32; nb * nb * nb];
    for a in 0..nb {
        for b in a..nb {
            for c in b..nb {
                position[(a * nb + b) * nb + c] = flat.len() as u32;
                flat.push((a * nb + b) * nb + c);
            }
        }
    }
    let mut table = vec![0u32; nb * nb * nb];
    for a in 0..nb {
        for b in 0..nb {
            for c in 0..nb {
                let mut v = [a, b, c];
                v.sort_unstable();
                table[(a * nb + b) * nb + c] = position[(v[0] * nb + v[1]) * nb + v[2]];
            }
        }
    }
    (table, flat)
}

/// Spreads blocks of sorted configurations (`flat[c]`: where configuration c
/// goes) into (nbins, nbins, nbins) arrays, zero elsewhere.
fn spread(compact: &[f64], flat: &[usize], nb3: usize) -> Vec<f64> {
    let mut out = vec![0.0; compact.len() / flat.len() * nb3];
    for (block, part) in compact.chunks_exact(flat.len()).enumerate() {
        for (&v, &f) in part.iter().zip(flat) {
            out[block * nb3 + f] = v;
        }
    }
    out
}

/// Writes to `hits` the positions in `list` of the marked ids; returns how many.
/// Branch-free: every position is written, and the cursor only advances on a mark.
#[inline(always)]
fn marked(list: &[u32], mark: &[u8], hits: &mut [u32]) -> usize {
    assert!(hits.len() > list.len());
    let mut found = 0;
    for (q, &k) in list.iter().enumerate() {
        // SAFETY: found <= q < list.len() < hits.len(); ids are < mark.len()
        // (validated graph or grid-built lists).
        unsafe {
            *hits.get_unchecked_mut(found) = q as u32;
            found += usize::from(*mark.get_unchecked(k as usize) != OUT);
        }
    }
    found
}

/// Triangles of binned forward lists (of a graph or straight from the grid).
/// With regions the lists are reordered in place (`Binned::split_by_region`).
pub(crate) fn triangles_on(
    bl: &mut Binned,
    nodes: &NodeView,
    nb: usize,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<TriangleCounts> {
    let (table, flat_of) = sorted_configurations(nb);
    let per = flat_of.len();
    let n = bl.n_nodes();
    let max_degree = (0..n).map(|i| bl.range(i).len()).max().unwrap_or(0);
    let jk = nodes.nregions > 0;
    let (block, len) = (4 * per, nodes.table_len(4 * per));
    // Per thread: the marks (a byte per node), the hit list and the lanes.
    let lanes = if jk { 3 * LANES } else { LANES };
    let scratch = n as u64 + 4 * (max_degree as u64 + 1) + 8 * (lanes * block) as u64;
    // The results spread the sorted configurations over all nbins^3, and
    // with regions each node's split of its list.
    let output = 8 * nodes.table_len(4 * nb * nb * nb) as u64 + if jk { 8 * n as u64 } else { 0 };
    check_tables(
        n,
        len,
        scratch,
        output,
        max_memory,
        "the triangle-count tables",
    )?;
    let split = if jk {
        bl.split_by_region(nodes.region)
    } else {
        Vec::new()
    };
    let kernel = Kernel {
        bl,
        nodes,
        nb,
        per,
        table,
        split,
    };
    let flat = if jk {
        kernel.count::<true>(n, len, max_degree, control)
    } else {
        kernel.count::<false>(n, len, max_degree, control)
    }?;
    let nb3 = nb * nb * nb;
    let counts = std::array::from_fn(|t| spread(&flat[t * per..(t + 1) * per], &flat_of, nb3));
    Ok(TriangleCounts {
        nbins: nb,
        counts,
        regions: spread(&flat[block..], &flat_of, nb3),
    })
}

/// Hits spread over LANES copies of the accumulator, so that consecutive
/// triangles in one bin do not wait on each other's read-modify-write.
const LANES: usize = 4;

struct Kernel<'a> {
    bl: &'a Binned,
    nodes: &'a NodeView<'a>,
    nb: usize,
    per: usize,
    table: Vec<u32>,
    /// With regions: where each list's own-region part ends.
    split: Vec<usize>,
}

/// Per-thread scratch: the marks (a byte per node), the hit list and the lanes.
struct Scratch {
    mark: Vec<u8>,
    hits: Vec<u32>,
    lanes: Lanes,
}

/// With regions, the triangles of the current primary's region r are summed
/// in lanes by what they add besides the totals: `within` those within r (all
/// three tables of r), `low` those spanning regions with r the smallest (r's
/// touch and smallest-region tables), `span` the other spanning ones (r's
/// touch table). Each is flushed into its tables when the primary's region
/// changes, so a triangle only writes the tables of its other vertices'
/// regions itself. Without regions only `within` is used.
struct Lanes {
    within: Vec<f64>,
    low: Vec<f64>,
    span: Vec<f64>,
}

impl Lanes {
    fn flush(&mut self, acc: &mut [f64], block: usize, nregions: usize, region: Option<u32>) {
        flush(&mut self.within, acc, block, nregions, region);
        // The spanning lanes only fill while a primary's region is current.
        if let Some(r) = region {
            flush_tables(&mut self.low, acc, block, nregions, r, 2);
            flush_tables(&mut self.span, acc, block, nregions, r, 1);
        }
    }
}

impl Kernel<'_> {
    fn count<const JK: bool>(
        &self,
        n: usize,
        len: usize,
        max_degree: usize,
        control: &Control,
    ) -> Result<Vec<f64>> {
        let (bl, nodes) = (self.bl, self.nodes);
        let block = 4 * self.per;
        let lane_len = if JK { LANES * block } else { 0 };
        chunked_sum_with(
            n,
            len,
            control,
            || Scratch {
                mark: vec![OUT; n],
                hits: vec![0u32; max_degree + 1],
                lanes: Lanes {
                    within: vec![0.0f64; LANES * block],
                    low: vec![0.0f64; lane_len],
                    span: vec![0.0f64; lane_len],
                },
            },
            |s, range, acc| {
                let mut current = None;
                for i in range {
                    let li = bl.range(i);
                    for a in li.clone() {
                        s.mark[bl.nbr[a] as usize] = bl.bin[a];
                    }
                    if JK {
                        let ri = nodes.region[i];
                        if Some(ri) != current {
                            s.lanes.flush(acc, block, nodes.nregions, current);
                            current = Some(ri);
                        }
                        // j and k are both forward neighbours of i: when all of
                        // those share i's region, so do all of i's triangles.
                        if self.split[i] == li.end {
                            self.primary(i, &s.mark, &mut s.hits, &mut s.lanes.within);
                        } else {
                            self.spanning(i, s, acc);
                        }
                    } else {
                        self.primary(i, &s.mark, &mut s.hits, &mut s.lanes.within);
                    }
                    for a in li {
                        s.mark[bl.nbr[a] as usize] = OUT;
                    }
                }
                s.lanes.flush(acc, block, nodes.nregions, current);
            },
        )
    }

    /// The triangles of primary i whose vertices all lie in one region (all
    /// of them without regions), summed into `lanes`. The hot loop of the
    /// plain count: kept out of line so that its slices are known not to
    /// alias, which lets the compiler keep their bounds in registers (inlined
    /// into the chunk loop, the plain count was about 5 % slower).
    #[inline(never)]
    fn primary(&self, i: usize, mark: &[u8], hits: &mut [u32], lanes: &mut [f64]) {
        for a in self.bl.range(i) {
            let lj = self.bl.range(self.bl.nbr[a] as usize);
            self.within(i, a, lj, mark, hits, lanes);
        }
    }

    /// The triangles (i, j = nbr[a], k) with k in the part `list` of N+(j)
    /// that lie within one region, summed into `lanes`; out of line for the
    /// same reason as `primary`.
    #[inline(never)]
    fn within(
        &self,
        i: usize,
        a: usize,
        list: std::ops::Range<usize>,
        mark: &[u8],
        hits: &mut [u32],
        lanes: &mut [f64],
    ) {
        self.each((mark, hits), lanes, i, a, list, |l, lane, _, _, w| {
            l[lane] += w
        });
    }

    /// The triangles of primary i when some of its forward neighbours lie in
    /// other regions. The own-region part of each N+(j) comes first, so which
    /// regions a triangle spans is known from the part its k is found in,
    /// without a test per triangle in the common cases.
    fn spanning(&self, i: usize, s: &mut Scratch, acc: &mut [f64]) {
        let (bl, nodes) = (self.bl, self.nodes);
        let (block, nr) = (4 * self.per, nodes.nregions);
        let ri = nodes.region[i];
        let touch = |acc: &mut [f64], r: u32, e: usize, w: f64| {
            acc[(1 + r as usize) * block + e] += w;
        };
        // The tables of i's region come from the lanes; `low`: the smallest
        // region among the triangle's other vertices.
        let rest = |s: &mut Lanes, acc: &mut [f64], low: u32, lane: usize, e: usize, w: f64| {
            if ri < low {
                s.low[lane] += w;
            } else {
                s.span[lane] += w;
                acc[(1 + nr + low as usize) * block + e] += w;
            }
        };
        for a in bl.range(i) {
            let j = bl.nbr[a] as usize;
            let (lj, mid) = (bl.range(j), self.split[j]);
            let rj = nodes.region[j];
            if rj == ri {
                let (mark, hits, lanes) = (&s.mark, &mut s.hits, &mut s.lanes.within);
                self.within(i, a, lj.start..mid, mark, hits, lanes);
                self.part(s, i, a, mid..lj.end, |s, lane, e, k, w| {
                    let rk = nodes.region[k];
                    touch(acc, rk, e, w);
                    rest(s, acc, rk, lane, e, w);
                });
            } else {
                self.part(s, i, a, lj.start..mid, |s, lane, e, _, w| {
                    touch(acc, rj, e, w);
                    rest(s, acc, rj, lane, e, w);
                });
                self.part(s, i, a, mid..lj.end, |s, lane, e, k, w| {
                    let rk = nodes.region[k];
                    touch(acc, rj, e, w);
                    if rk != ri {
                        touch(acc, rk, e, w);
                    }
                    rest(s, acc, if rk == ri { rj } else { rj.min(rk) }, lane, e, w);
                });
            }
        }
    }

    /// `each` over a part of N+(j), into the scratch's lanes.
    #[inline(always)]
    fn part<F: FnMut(&mut Lanes, usize, usize, usize, f64)>(
        &self,
        s: &mut Scratch,
        i: usize,
        a: usize,
        list: std::ops::Range<usize>,
        add: F,
    ) {
        self.each((&s.mark, &mut s.hits), &mut s.lanes, i, a, list, add);
    }

    /// Calls `add(lanes, lane, entry, k, w)` for each triangle (i, j, k),
    /// j = nbr[a], with k marked among the part `list` of N+(j): `lane` its
    /// place in the lanes, `entry` in a block of the tables, `w` its weight.
    #[inline(always)]
    fn each<L: ?Sized, F: FnMut(&mut L, usize, usize, usize, f64)>(
        &self,
        (mark, hits): (&[u8], &mut [u32]),
        lanes: &mut L,
        i: usize,
        a: usize,
        list: std::ops::Range<usize>,
        mut add: F,
    ) {
        let (bl, nodes, nb, per) = (self.bl, self.nodes, self.nb, self.per);
        let j = bl.nbr[a] as usize;
        let found = marked(&bl.nbr[list.clone()], mark, hits);
        let wij = nodes.weight[i] * nodes.weight[j];
        let tij = nodes.is_random[i] + nodes.is_random[j];
        let row = bl.bin[a] as usize * nb;
        for (h, &q) in hits[..found].iter().enumerate() {
            let q = list.start + q as usize;
            let k = bl.nbr[q] as usize;
            if !nodes.all_owned && !nodes.owns(i, &[j, k]) {
                continue;
            }
            let t = (tij + nodes.is_random[k]) as usize;
            let idx = self.table[(row + mark[k] as usize) * nb + bl.bin[q] as usize] as usize;
            let w = wij * nodes.weight[k];
            add(
                lanes,
                ((h % LANES) * 4 + t) * per + idx,
                t * per + idx,
                k,
                w,
            );
        }
    }
}
