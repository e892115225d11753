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
use crate::reduce::{
    check_tables, chunk_count, chunked_sum_with, flush, flush_spanning, flush_tables,
};

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
    // Per thread: the marks (a byte per node), the hit list, the lanes and
    // the order of a chunk's primaries; with regions also the spanning
    // lanes, the slots' lanes, a slot per region and a tag per node.
    let slots = (0..=SLOTS)
        .rev()
        .find(|&s| 8 * sets(s) * block <= SLOT_BYTES)
        .unwrap_or(0);
    let (lanes, tags) = if jk {
        (3 * LANES + sets(slots), n + nodes.nregions)
    } else {
        (LANES, 0)
    };
    let primaries = n.div_ceil(chunk_count(n, len).max(1));
    let scratch = (n + tags + 4 * (max_degree + 1 + primaries) + 8 * lanes * block) as u64;
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
        slots,
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
    /// Regions besides the primary's that get lanes (`Lanes::sets`).
    slots: usize,
}

/// At most this many regions besides the primary's get lanes of their own.
const SLOTS: usize = 8;
/// Bytes the lanes of the slots may take per thread: with many bins, fewer
/// slots.
const SLOT_BYTES: usize = 4 << 20;
/// `Lanes::tag` (and `slot_of`) of a neighbour in the primary's region, and
/// of one in a region without a slot; `CODES` tags in all.
const OWN: u8 = SLOTS as u8;
const NO_SLOT: u8 = SLOTS as u8 + 1;
const CODES: usize = SLOTS + 2;
/// `Lanes::dest` of a triangle that has no lanes.
const NO_LANES: u8 = u8::MAX;

/// Lane sets for `slots` slots: one per other region, then one per two.
fn sets(slots: usize) -> usize {
    slots + slots * slots.saturating_sub(1) / 2
}

/// The lane set of the two slots a < b.
fn two_slots(slots: usize, a: usize, b: usize) -> usize {
    slots + b * (b - 1) / 2 + a
}

/// Per-thread scratch: the marks (a byte per node), the hit list, the lanes
/// and the chunk's primaries (with regions, in region order).
struct Scratch {
    mark: Vec<u8>,
    hits: Vec<u32>,
    lanes: Lanes,
    order: Vec<u32>,
}

/// With regions, the triangles of the current primary's region r are summed
/// in lanes by what they add besides the totals: `within` those within r (all
/// three tables of r), `low` those spanning regions with r the smallest (r's
/// touch and smallest-region tables), `span` the other spanning ones (r's
/// touch table). Each is flushed into its tables when the primary's region
/// changes, so a triangle only writes the tables of its other vertices'
/// regions itself. Near thin regions most triangles span two or three: up
/// to `slots` other regions get a slot (`slot_of`, `slot_region`) and the
/// triangles spanning r and one or two of them go to `sets`, lanes of their
/// own for each set of regions, flushed with r's, so that they too write no
/// table themselves. Without regions only `within` is used.
struct Lanes {
    within: Vec<f64>,
    low: Vec<f64>,
    span: Vec<f64>,
    sets: Vec<f64>,
    slots: usize,
    slot_of: Vec<u8>,
    slot_region: Vec<u32>,
    /// For the forward neighbours k of a spanning primary: the slot of k's
    /// region, `OWN` or `NO_SLOT`; read for each triangle instead of k's
    /// region (these few entries, written just before, are in L1).
    tag: Vec<u8>,
    /// The lane set of a triangle by the slot of j's region and k's tag.
    dest: [u8; SLOTS * CODES],
}

impl Lanes {
    fn new(block: usize, slots: usize, nregions: usize, n: usize) -> Self {
        let lane_len = LANES * block;
        let jk = nregions > 0;
        let mut dest = [NO_LANES; SLOTS * CODES];
        for a in 0..slots {
            dest[a * CODES + OWN as usize] = a as u8;
            for b in (0..slots).filter(|&b| b != a) {
                dest[a * CODES + b] = two_slots(slots, a.min(b), a.max(b)) as u8;
            }
        }
        let spanning = |len: usize| vec![0.0f64; if jk { len } else { 0 }];
        Self {
            within: vec![0.0f64; lane_len],
            low: spanning(lane_len),
            span: spanning(lane_len),
            sets: spanning(sets(slots) * block),
            slots,
            slot_of: vec![NO_SLOT; nregions],
            slot_region: Vec::with_capacity(slots),
            tag: vec![NO_SLOT; if jk { n } else { 0 }],
            dest,
        }
    }

    fn flush(&mut self, acc: &mut [f64], block: usize, nregions: usize, region: Option<u32>) {
        flush(&mut self.within, acc, block, nregions, region);
        // The spanning lanes only fill while a primary's region is current.
        if let Some(r) = region {
            flush_tables(&mut self.low, acc, block, nregions, r, 2);
            flush_tables(&mut self.span, acc, block, nregions, r, 1);
            let used = &self.slot_region;
            for (b, &rb) in used.iter().enumerate() {
                let lanes = &mut self.sets[b * block..(b + 1) * block];
                flush_spanning(lanes, acc, block, nregions, &[r, rb]);
                for (a, &ra) in used[..b].iter().enumerate() {
                    let at = two_slots(self.slots, a, b) * block;
                    let lanes = &mut self.sets[at..at + block];
                    flush_spanning(lanes, acc, block, nregions, &[r, ra, rb]);
                }
                self.slot_of[rb as usize] = NO_SLOT;
            }
            self.slot_region.clear();
        }
    }

    /// Tags the forward neighbours of a primary: `own` those in its region,
    /// `other` by the slots of their regions, given while slots are free.
    fn take_slots(&mut self, own: &[u32], other: &[u32], region: &[u32]) {
        for &k in own {
            self.tag[k as usize] = OWN;
        }
        for &k in other {
            let r = region[k as usize] as usize;
            if self.slot_of[r] == NO_SLOT && self.slot_region.len() < self.slots {
                self.slot_of[r] = self.slot_region.len() as u8;
                self.slot_region.push(r as u32);
            }
            self.tag[k as usize] = self.slot_of[r];
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
        chunked_sum_with(
            n,
            len,
            control,
            || Scratch {
                mark: vec![OUT; n],
                hits: vec![0u32; max_degree + 1],
                lanes: Lanes::new(block, self.slots, nodes.nregions, n),
                order: Vec::new(),
            },
            |s, range, acc| {
                let mut current = None;
                // With regions the chunk's primaries go region by region
                // (stable, so the order is fixed by the chunk alone): the
                // lanes are flushed once per region, not at each of the
                // frequent changes of region along the node order that thin
                // regions make.
                let mut order = std::mem::take(&mut s.order);
                order.clear();
                order.extend(range.map(|i| i as u32));
                if JK {
                    order.sort_by_key(|&i| nodes.region[i as usize]);
                }
                for &i in &order {
                    let i = i as usize;
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
                s.order = order;
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
        let found = marked(&self.bl.nbr[list.clone()], mark, hits);
        let hits = (mark, &hits[..found], list.start);
        self.add_hits::<LANES, _, _>(hits, lanes, i, a, |l, lane, _, _, w| l[lane] += w);
    }

    /// The triangles of primary i when some of its forward neighbours lie in
    /// other regions. The own-region part of each N+(j) comes first, so which
    /// regions a triangle spans is known from the part its k is found in
    /// and, in the other part, k's tag: no region is looked up per triangle
    /// while the regions near i have slots.
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
        // j and k are in N+(i): the regions of its other part are all the
        // others a triangle of i can touch.
        let li = bl.range(i);
        let (own, other) = bl.nbr[li.clone()].split_at(self.split[i] - li.start);
        s.lanes.take_slots(own, other, nodes.region);
        for a in li {
            let j = bl.nbr[a] as usize;
            let (lj, mid) = (bl.range(j), self.split[j]);
            let rj = nodes.region[j];
            // One scan of N+(j); its own-region part's hits come first.
            let found = marked(&bl.nbr[lj.clone()], &s.mark, &mut s.hits);
            let hits = &s.hits[..found];
            let (own_hits, other_hits) =
                hits.split_at(hits.partition_point(|&q| (q as usize) < mid - lj.start));
            let (mark, lanes) = (&s.mark[..], &mut s.lanes);
            let start = lj.start;
            if rj == ri {
                self.add_hits::<LANES, _, _>(
                    (mark, own_hits, start),
                    &mut lanes.within,
                    i,
                    a,
                    |l, lane, _, _, w| l[lane] += w,
                );
                self.add_hits::<LANES, _, _>(
                    (mark, other_hits, start),
                    lanes,
                    i,
                    a,
                    |s, lane, e, k, w| {
                        let slot = s.tag[k];
                        if slot != NO_SLOT {
                            s.sets[slot as usize * block + e] += w;
                        } else {
                            let rk = nodes.region[k];
                            touch(acc, rk, e, w);
                            rest(s, acc, rk, lane, e, w);
                        }
                    },
                );
                continue;
            }
            let slot = lanes.slot_of[rj as usize];
            if slot != NO_SLOT {
                let at = slot as usize * block;
                let set = &mut lanes.sets[at..at + block];
                self.add_hits::<1, _, _>((mark, own_hits, start), set, i, a, |l, _, e, _, w| {
                    l[e] += w
                });
                // k in i's region: the set {ri, rj}; else {ri, rj, rk}.
                let row = slot as usize * CODES;
                self.add_hits::<LANES, _, _>(
                    (mark, other_hits, start),
                    lanes,
                    i,
                    a,
                    |s, lane, e, k, w| {
                        let set = s.dest[row + s.tag[k] as usize];
                        if set != NO_LANES {
                            s.sets[set as usize * block + e] += w;
                        } else {
                            let rk = nodes.region[k];
                            touch(acc, rj, e, w);
                            touch(acc, rk, e, w);
                            rest(s, acc, rj.min(rk), lane, e, w);
                        }
                    },
                );
                continue;
            }
            self.add_hits::<LANES, _, _>(
                (mark, own_hits, start),
                lanes,
                i,
                a,
                |s, lane, e, _, w| {
                    touch(acc, rj, e, w);
                    rest(s, acc, rj, lane, e, w);
                },
            );
            self.add_hits::<LANES, _, _>(
                (mark, other_hits, start),
                lanes,
                i,
                a,
                |s, lane, e, k, w| {
                    let rk = nodes.region[k];
                    touch(acc, rj, e, w);
                    if rk != ri {
                        touch(acc, rk, e, w);
                    }
                    rest(s, acc, if rk == ri { rj } else { rj.min(rk) }, lane, e, w);
                },
            );
        }
    }

    /// Calls `add(lanes, lane, entry, k, w)` for each triangle (i, j, k),
    /// j = nbr[a], with k marked in N+(j) at one of the positions `hits`
    /// (from `start`): `lane` its place in `NL` copies of the lanes, `entry`
    /// in a block of the tables, `w` its weight.
    #[inline(always)]
    fn add_hits<const NL: usize, L: ?Sized, F: FnMut(&mut L, usize, usize, usize, f64)>(
        &self,
        (mark, hits, start): (&[u8], &[u32], usize),
        lanes: &mut L,
        i: usize,
        a: usize,
        mut add: F,
    ) {
        let (bl, nodes, nb, per) = (self.bl, self.nodes, self.nb, self.per);
        let j = bl.nbr[a] as usize;
        let wij = nodes.weight[i] * nodes.weight[j];
        let tij = nodes.is_random[i] + nodes.is_random[j];
        let row = bl.bin[a] as usize * nb;
        for (h, &q) in hits.iter().enumerate() {
            let q = start + q as usize;
            let k = bl.nbr[q] as usize;
            if !nodes.all_owned && !nodes.owns(i, &[j, k]) {
                continue;
            }
            let t = (tij + nodes.is_random[k]) as usize;
            let idx = self.table[(row + mark[k] as usize) * nb + bl.bin[q] as usize] as usize;
            let w = wij * nodes.weight[k];
            add(lanes, ((h % NL) * 4 + t) * per + idx, t * per + idx, k, w);
        }
    }
}
