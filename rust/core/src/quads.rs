//! Exact quad (4-point) counts: triangles extended one level deeper.
//!
//! For i < j < k < l all six pairs must be edges: C = tail of N+(i) after j,
//! intersected with N+(j), lists the k; each k's later partners l in C are
//! intersected with N+(k). A quad's six side bins are reduced to a canonical
//! form under relabelling of its four vertices, so the counts do not depend
//! on the order of the input points.

use crate::binned::{Binned, NodeView};
use crate::control::Control;
use crate::error::{CoreError, Result};
use crate::geometry::Metric;
use crate::intersect::intersect;
use crate::reduce::{check_tables, chunked_sum, touch};

/// Edge order of a quad's six sides: (01, 02, 03, 12, 13, 23).
pub const QUAD_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];

/// Canonical forms of six side bins, and a table from every 6-tuple to its form.
pub struct QuadShapes {
    pub nbins: usize,
    /// Canonical 6-tuples (lexicographically smallest relabelling), ascending.
    pub shapes: Vec<[u8; 6]>,
    /// Shapes with a handedness: no relabelling of odd parity maps the
    /// canonical tuple to itself (mirror images are different configurations).
    pub chiral: Vec<bool>,
    table: Vec<u32>,
    /// Per 6-tuple, a relabelling (index into `perms`) that gives its canonical form.
    perm: Vec<u8>,
    perms: Vec<[usize; 4]>,
}

fn is_odd(p: &[usize; 4]) -> bool {
    let mut inversions = 0;
    for a in 0..4 {
        for b in a + 1..4 {
            inversions += usize::from(p[a] > p[b]);
        }
    }
    inversions % 2 == 1
}

fn edge_slot(a: usize, b: usize) -> usize {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    QUAD_EDGES.iter().position(|&e| e == (a, b)).unwrap()
}

fn permutations4() -> Vec<[usize; 4]> {
    let mut out = vec![];
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let p = [a, b, c, d];
                    if (0..4).all(|x| p.contains(&x)) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

impl QuadShapes {
    /// Bytes the lookup table needs for `nbins` bins.
    pub fn table_bytes(nbins: usize) -> u64 {
        (nbins as u64).pow(6) * 4
    }

    pub fn new(nbins: usize, max_memory: Option<u64>) -> Result<Self> {
        let need = Self::table_bytes(nbins) * 2 + (nbins as u64).pow(6);
        let budget = max_memory.unwrap_or(u64::MAX).min(1 << 31);
        if need > budget {
            return Err(CoreError::MemoryBudget {
                what: "the 4-point configuration table",
                estimate_bytes: need,
                budget_bytes: budget,
                detail: format!("{nbins}^6 side-bin combinations"),
                advice: "use fewer separation bins for 4-point counts (at most about 20)",
            });
        }
        // Where each slot of the relabelled quad takes its bin from: canonical
        // vertex a is original vertex p[a].
        let perms = permutations4();
        let maps: Vec<[usize; 6]> = perms
            .iter()
            .map(|p| {
                let mut m = [0; 6];
                for (slot, &(a, b)) in QUAD_EDGES.iter().enumerate() {
                    m[slot] = edge_slot(p[a], p[b]);
                }
                m
            })
            .collect();
        let total = nbins.pow(6);
        let decode = |mut code: usize| {
            let mut t = [0u8; 6];
            for s in (0..6).rev() {
                t[s] = (code % nbins) as u8;
                code /= nbins;
            }
            t
        };
        let encode = |t: &[u8; 6]| t.iter().fold(0usize, |c, &b| c * nbins + b as usize);
        let mut canon = vec![0u32; total];
        let mut perm = vec![0u8; total];
        let mut is_shape = vec![false; total];
        let mut achiral = vec![false; total];
        for code in 0..total {
            let t = decode(code);
            let relabelled: Vec<usize> = maps
                .iter()
                .map(|m| encode(&std::array::from_fn(|s| t[m[s]])))
                .collect();
            let best = *relabelled.iter().min().unwrap();
            canon[code] = best as u32;
            perm[code] = relabelled.iter().position(|&c| c == best).unwrap() as u8;
            is_shape[best] = true;
            if code == best {
                // an odd relabelling that keeps the canonical tuple: no handedness
                achiral[code] =
                    (0..perms.len()).any(|q| relabelled[q] == best && is_odd(&perms[q]));
            }
        }
        let mut dense = vec![0u32; total];
        let mut shapes = Vec::new();
        let mut chiral = Vec::new();
        for code in 0..total {
            if is_shape[code] {
                dense[code] = shapes.len() as u32;
                shapes.push(decode(code));
                chiral.push(!achiral[code]);
            }
        }
        let table = canon.iter().map(|&c| dense[c as usize]).collect();
        Ok(Self {
            nbins,
            shapes,
            chiral,
            table,
            perm,
            perms,
        })
    }

    /// The canonical shape id of six side bins in QUAD_EDGES order.
    #[inline(always)]
    pub fn id(&self, t: [u8; 6]) -> usize {
        self.table[self.code(t)] as usize
    }

    #[inline(always)]
    fn code(&self, t: [u8; 6]) -> usize {
        let n = self.nbins;
        t.iter().fold(0usize, |c, &b| c * n + b as usize)
    }

    /// The vertices `v` (in QUAD_EDGES labelling of `t`) in canonical order.
    #[inline(always)]
    pub fn canonical_order(&self, t: [u8; 6], v: [usize; 4]) -> [usize; 4] {
        let p = &self.perms[self.perm[self.code(t)] as usize];
        [v[p[0]], v[p[1]], v[p[2]], v[p[3]]]
    }
}

/// Weighted quad counts by number of random vertices (0..=4), one value per
/// canonical shape.
pub struct QuadCounts {
    pub shapes: Vec<[u8; 6]>,
    /// Which shapes have a handedness (see `QuadShapes::chiral`).
    pub chiral: Vec<bool>,
    pub counts: [Vec<f64>; 5],
    /// With parity: sum of w times the handedness (+1/-1) of each quad of a
    /// chiral shape, by number of randoms, flat (5, nshapes); else empty.
    pub odd: Vec<f64>,
    /// Resampling tables (see `reduce::touch`), flat (3, nregions, 5,
    /// nshapes); empty without regions.
    pub regions: Vec<f64>,
}

/// Quads of binned forward lists (of a graph or straight from the grid).
pub(crate) fn quads_on(
    bl: &Binned,
    g: &NodeView,
    shapes: QuadShapes,
    parity: Option<&Metric>,
    max_memory: Option<u64>,
    control: &Control,
) -> Result<QuadCounts> {
    let ns = shapes.shapes.len();
    // With parity, the odd counts by number of randoms follow the even ones.
    let types = if parity.is_some() { 10 } else { 5 };
    let (block, len) = (types * ns, g.table_len(types * ns));
    check_tables(
        bl.n_nodes(),
        len,
        0,
        0,
        max_memory,
        "the 4-point count tables",
    )?;
    let jk = g.nregions > 0;
    let flat = chunked_sum(bl.n_nodes(), len, control, |nodes, acc| {
        // (k, bin ik, bin jk) for the common neighbours of i and j.
        let mut common: Vec<(u32, u8, u8)> = Vec::new();
        let mut ks: Vec<u32> = Vec::new();
        for i in nodes {
            let li = bl.range(i);
            for a in li.clone() {
                let j = bl.nbr[a] as usize;
                let bij = bl.bin[a];
                let lj = bl.range(j);
                let tail = a + 1..li.end;
                common.clear();
                intersect(&bl.nbr[tail.clone()], &bl.nbr[lj.clone()], |p, q| {
                    common.push((
                        bl.nbr[tail.start + p],
                        bl.bin[tail.start + p],
                        bl.bin[lj.start + q],
                    ));
                });
                if common.len() < 2 {
                    continue;
                }
                ks.clear();
                ks.extend(common.iter().map(|c| c.0));
                let wij = g.weight[i] * g.weight[j];
                let tij = g.is_random[i] + g.is_random[j];
                for u in 0..common.len() - 1 {
                    let (k, bik, bjk) = common[u];
                    let k = k as usize;
                    let lk = bl.range(k);
                    let rest = &ks[u + 1..];
                    intersect(rest, &bl.nbr[lk.clone()], |p, q| {
                        let (l, bil, bjl) = common[u + 1 + p];
                        let l = l as usize;
                        if !g.owns(i, &[j, k, l]) {
                            return;
                        }
                        let sides = [bij, bik, bil, bjk, bjl, bl.bin[lk.start + q]];
                        let id = shapes.id(sides);
                        let t = (tij + g.is_random[k] + g.is_random[l]) as usize;
                        let w = wij * g.weight[k] * g.weight[l];
                        let r = [g.region[i], g.region[j], g.region[k], g.region[l]];
                        acc[t * ns + id] += w;
                        if jk {
                            touch(acc, block, g.nregions, r, t * ns + id, w);
                        }
                        if let Some(metric) = parity {
                            if !shapes.chiral[id] {
                                return;
                            }
                            let o = shapes.canonical_order(sides, [i, j, k, l]);
                            let h = handedness(
                                metric,
                                g.pos(o[0]),
                                [g.pos(o[1]), g.pos(o[2]), g.pos(o[3])],
                            );
                            if h != 0.0 {
                                let odd = (5 + t) * ns + id;
                                acc[odd] += h * w;
                                if jk {
                                    touch(acc, block, g.nregions, r, odd, h * w);
                                }
                            }
                        }
                    });
                }
            }
        }
    })?;
    let counts = std::array::from_fn(|t| flat[t * ns..(t + 1) * ns].to_vec());
    let odd = parity
        .map(|_| flat[5 * ns..10 * ns].to_vec())
        .unwrap_or_default();
    Ok(QuadCounts {
        shapes: shapes.shapes,
        chiral: shapes.chiral,
        counts,
        odd,
        regions: flat[block..].to_vec(),
    })
}

/// Tetrahedra flatter than this (|V| against the product of the three edge
/// lengths from the first vertex) have no handedness: their sign would be
/// decided by rounding.
pub const FLAT_TOLERANCE: f64 = 1e-9;

/// The handedness (+1, -1, or 0 when flat) of the tetrahedron with apex `p0`
/// and further vertices `p`: the sign of the triple product of the edge
/// vectors (minimum image in a periodic box), computed in float64 from the
/// exact positions.
#[inline(always)]
pub fn handedness(metric: &Metric, p0: [f64; 3], p: [[f64; 3]; 3]) -> f64 {
    let [a, b, c] = p.map(|q| metric.diff(p0, q));
    let v = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0]);
    // |V| <= tol |a| |b| |c|, squared: no square root per quad.
    let n2 = |x: [f64; 3]| x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    if v * v <= FLAT_TOLERANCE * FLAT_TOLERANCE * (n2(a) * n2(b) * n2(c)) {
        0.0
    } else {
        v.signum()
    }
}
