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
use crate::reduce::{check_tables, chunked_sum_with, flush, touch};

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
pub(crate) fn triangles_on(
    bl: &Binned,
    nodes: &NodeView,
    nb: usize,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<TriangleCounts> {
    if nodes.nregions > 0 {
        triangles_with::<true>(bl, nodes, nb, max_memory, control)
    } else {
        triangles_with::<false>(bl, nodes, nb, max_memory, control)
    }
}

fn triangles_with<const JK: bool>(
    bl: &Binned,
    nodes: &NodeView,
    nb: usize,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<TriangleCounts> {
    let (table, flat_of) = sorted_configurations(nb);
    let per = flat_of.len();
    let n = bl.n_nodes();
    let max_degree = (0..n).map(|i| bl.range(i).len()).max().unwrap_or(0);
    let (block, len) = (4 * per, nodes.table_len(4 * per));
    // Per thread: the marks (a byte per node), the hit list and the lanes.
    let lanes = if JK { 2 * LANES } else { LANES };
    let scratch = n as u64 + 4 * (max_degree as u64 + 1) + 8 * (lanes * block) as u64;
    // The results spread the sorted configurations over all nbins^3.
    let output = 8 * nodes.table_len(4 * nb * nb * nb) as u64;
    check_tables(
        n,
        len,
        scratch,
        output,
        max_memory,
        "the triangle-count tables",
    )?;
    let kernel = Kernel {
        bl,
        nodes,
        nb,
        per,
        table,
    };
    let flat = chunked_sum_with(
        n,
        len,
        control,
        || Scratch {
            mark: vec![OUT; n],
            hits: vec![0u32; max_degree + 1],
            lanes: vec![0.0f64; LANES * block],
            mixed: vec![0.0f64; if JK { LANES * block } else { 0 }],
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
                        flush(&mut s.lanes, acc, block, nodes.nregions, current);
                        current = Some(ri);
                    }
                    // j and k are both forward neighbours of i: when all of
                    // those share i's region, so do all of i's triangles.
                    let pure = li.clone().all(|a| nodes.region[bl.nbr[a] as usize] == ri);
                    if pure {
                        kernel.primary::<false>(i, s, acc);
                    } else {
                        kernel.primary::<true>(i, s, acc);
                    }
                } else {
                    kernel.primary::<false>(i, s, acc);
                }
                for a in li {
                    s.mark[bl.nbr[a] as usize] = OUT;
                }
            }
            flush(&mut s.lanes, acc, block, nodes.nregions, current);
            flush(&mut s.mixed, acc, block, nodes.nregions, None);
        },
    )?;
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
}

struct Scratch {
    mark: Vec<u8>,
    hits: Vec<u32>,
    /// Triangles within the region of their primaries (all of them without
    /// regions), and (with regions) the triangles spanning regions.
    lanes: Vec<f64>,
    mixed: Vec<f64>,
}

impl Kernel<'_> {
    /// The triangles of primary i (its forward neighbours marked); `SPANS`:
    /// some of them may span regions, so look at every vertex's region.
    #[inline(always)]
    fn primary<const SPANS: bool>(&self, i: usize, s: &mut Scratch, acc: &mut [f64]) {
        let (bl, nodes, nb, per) = (self.bl, self.nodes, self.nb, self.per);
        let li = bl.range(i);
        let (wi, ti) = (nodes.weight[i], nodes.is_random[i]);
        for a in li {
            let j = bl.nbr[a] as usize;
            let lj = bl.range(j);
            let found = marked(&bl.nbr[lj.clone()], &s.mark, &mut s.hits);
            let wij = wi * nodes.weight[j];
            let tij = ti + nodes.is_random[j];
            let row = bl.bin[a] as usize * nb;
            for (h, &q) in s.hits[..found].iter().enumerate() {
                let q = lj.start + q as usize;
                let k = bl.nbr[q] as usize;
                if !nodes.all_owned && !nodes.owns(i, &[j, k]) {
                    continue;
                }
                let t = (tij + nodes.is_random[k]) as usize;
                let idx = self.table[(row + s.mark[k] as usize) * nb + bl.bin[q] as usize] as usize;
                let w = wij * nodes.weight[k];
                let lane = ((h % LANES) * 4 + t) * per + idx;
                if SPANS {
                    let r = [nodes.region[i], nodes.region[j], nodes.region[k]];
                    if r[1] != r[0] || r[2] != r[0] {
                        touch(acc, 4 * per, nodes.nregions, r, t * per + idx, w);
                        s.mixed[lane] += w;
                        continue;
                    }
                }
                s.lanes[lane] += w;
            }
        }
    }
}
