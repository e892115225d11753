//! Exact triangle counts by sorted-list intersection.
//!
//! A triangle i < j < k exists when j and k are in N+(i) and k is in N+(j):
//! intersecting the tail of N+(i) after j with N+(j) yields every k once,
//! with both remaining sides' bins read off the two lists.

use crate::binned::Binned;
use crate::bins::Bins;
use crate::control::Control;
use crate::error::Result;
use crate::graph::Graph;
use crate::intersect::intersect;
use crate::reduce::chunked_sum;

/// Weighted triangle counts by number of random vertices (0..=3), each a
/// (nbins, nbins, nbins) array indexed by the sorted side bins b1 <= b2 <= b3.
#[derive(Clone, Debug, PartialEq)]
pub struct TriangleCounts {
    pub nbins: usize,
    pub counts: [Vec<f64>; 4],
}

#[inline(always)]
fn sort3(a: u8, b: u8, c: u8) -> (usize, usize, usize) {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let (b, c) = if b <= c { (b, c) } else { (c, b) };
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    (a as usize, b as usize, c as usize)
}

pub fn count_triangles(g: &Graph, bins: &Bins, control: &Control) -> Result<TriangleCounts> {
    let bl = Binned::new(g, bins)?;
    let nb = bins.nbins();
    let per = nb * nb * nb;
    let all_owned = g.all_owned();
    let flat = chunked_sum(g.n_nodes(), 4 * per, control, |nodes, acc| {
        for i in nodes {
            let li = bl.range(i);
            let (wi, ti) = (g.weight[i], g.is_random[i]);
            for a in li.clone() {
                let j = bl.nbr[a] as usize;
                let (wij, tij, bij) = (wi * g.weight[j], ti + g.is_random[j], bl.bin[a]);
                let lj = bl.range(j);
                let tail = a + 1..li.end;
                intersect(&bl.nbr[tail.clone()], &bl.nbr[lj.clone()], |p, q| {
                    let k = bl.nbr[tail.start + p] as usize;
                    if !all_owned && !g.owns(i, &[j, k]) {
                        return;
                    }
                    let (b1, b2, b3) = sort3(bij, bl.bin[tail.start + p], bl.bin[lj.start + q]);
                    let t = (tij + g.is_random[k]) as usize;
                    acc[t * per + (b1 * nb + b2) * nb + b3] += wij * g.weight[k];
                });
            }
        }
    })?;
    let counts = std::array::from_fn(|t| flat[t * per..(t + 1) * per].to_vec());
    Ok(TriangleCounts { nbins: nb, counts })
}
