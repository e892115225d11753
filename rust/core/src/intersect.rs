//! Intersection of two ascending id lists: merge when they are of similar
//! length, galloping (exponential then binary search) through the longer one
//! when one is much shorter. Calls `hit(p, q)` with the positions of every
//! common id, in ascending order.

/// Length ratio above which galloping beats a linear merge.
const GALLOP_RATIO: usize = 16;

#[inline(always)]
pub fn intersect(a: &[u32], b: &[u32], mut hit: impl FnMut(usize, usize)) {
    if a.is_empty() || b.is_empty() {
        return;
    }
    if a.len() * GALLOP_RATIO < b.len() {
        gallop(a, b, &mut hit);
    } else if b.len() * GALLOP_RATIO < a.len() {
        gallop(b, a, |q, p| hit(p, q));
    } else {
        merge(a, b, hit);
    }
}

#[inline(always)]
fn merge(a: &[u32], b: &[u32], mut hit: impl FnMut(usize, usize)) {
    let (mut p, mut q) = (0, 0);
    while p < a.len() && q < b.len() {
        let (x, y) = (a[p], b[q]);
        // Branch-light advance: both move on a match.
        p += usize::from(x <= y);
        q += usize::from(y <= x);
        if x == y {
            hit(p - 1, q - 1);
        }
    }
}

#[inline(always)]
fn gallop(short: &[u32], long: &[u32], mut hit: impl FnMut(usize, usize)) {
    let mut lo = 0;
    for (p, &x) in short.iter().enumerate() {
        let mut step = 1;
        let mut hi = lo;
        while hi < long.len() && long[hi] < x {
            lo = hi + 1;
            hi += step;
            step *= 2;
        }
        let hi = hi.min(long.len());
        lo += long[lo..hi].partition_point(|&y| y < x);
        if lo == long.len() {
            return;
        }
        if long[lo] == x {
            hit(p, lo);
            lo += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(a: &[u32], b: &[u32]) -> Vec<(usize, usize)> {
        let mut out = vec![];
        for (p, x) in a.iter().enumerate() {
            if let Some(q) = b.iter().position(|y| y == x) {
                out.push((p, q));
            }
        }
        out
    }

    #[test]
    fn merge_and_gallop_agree_with_brute_force() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for trial in 0..300 {
            let (na, nb) = (
                next() as usize % 40,
                next() as usize % (if trial % 2 == 0 { 40 } else { 2000 }),
            );
            let mut a: Vec<u32> = (0..na).map(|_| next() % 3000).collect();
            let mut b: Vec<u32> = (0..nb).map(|_| next() % 3000).collect();
            a.sort_unstable();
            a.dedup();
            b.sort_unstable();
            b.dedup();
            for (x, y) in [(&a, &b), (&b, &a)] {
                let mut got = vec![];
                intersect(x, y, |p, q| got.push((p, q)));
                assert_eq!(got, brute(x, y));
            }
        }
    }
}
