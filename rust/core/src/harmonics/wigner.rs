//! Wigner 3j symbols by Racah's formula, summed exactly in integers.
//!
//! With J = l1 + l2 + l3, every denominator of Racah's alternating sum is a
//! product of factorials whose arguments add up to J, so J! over it is a
//! multinomial coefficient: the sum is an integer over J!, computed without
//! cancellation (J! fits an i128 up to J = 33). Only the final square root
//! and scaling round, so each symbol is good to a few ulp.

/// Largest l1 + l2 + l3 the exact sum takes (33! < 2^127).
pub(crate) const MAX_J: usize = 33;

fn factorial(n: usize) -> i128 {
    (1..=n as i128).product()
}

fn factorial_f64(n: usize) -> f64 {
    (1..=n).fold(1.0, |a, k| a * k as f64)
}

/// The Wigner 3j symbol (l1 l2 l3; m1 m2 m3); zero outside the selection
/// rules (m1 + m2 + m3 = 0, |mi| <= li, triangle rule).
pub(crate) fn three_j(l: [usize; 3], m: [i64; 3]) -> f64 {
    let [l1, l2, l3] = l.map(|x| x as i64);
    let [m1, m2, m3] = m;
    if m1 + m2 + m3 != 0
        || m1.abs() > l1
        || m2.abs() > l2
        || m3.abs() > l3
        || l3 > l1 + l2
        || l3 < (l1 - l2).abs()
    {
        return 0.0;
    }
    let j = (l1 + l2 + l3) as usize;
    assert!(j <= MAX_J, "3j symbol with l1 + l2 + l3 = {j} > {MAX_J}");
    let big = factorial(j);
    let kmin = 0.max(l2 - l3 - m1).max(l1 - l3 + m2);
    let kmax = (l1 + l2 - l3).min(l1 - m1).min(l2 + m2);
    let mut sum: i128 = 0;
    for k in kmin..=kmax {
        let args = [
            k,
            l3 - l2 + k + m1,
            l3 - l1 + k - m2,
            l1 + l2 - l3 - k,
            l1 - k - m1,
            l2 - k + m2,
        ];
        let denominator: i128 = args.iter().map(|&a| factorial(a as usize)).product();
        let term = big / denominator;
        sum += if k % 2 == 0 { term } else { -term };
    }
    let f = |n: i64| factorial_f64(n as usize);
    let triangle = f(l1 + l2 - l3) * f(l1 - l2 + l3) * f(-l1 + l2 + l3) / f(l1 + l2 + l3 + 1);
    let tails = f(l1 + m1) * f(l1 - m1) * f(l2 + m2) * f(l2 - m2) * f(l3 + m3) * f(l3 - m3);
    let sign = if (l1 - l2 - m3).rem_euclid(2) == 0 {
        1.0
    } else {
        -1.0
    };
    sign * (triangle * tails).sqrt() * (sum as f64 / big as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * (1.0 + b.abs())
    }

    #[test]
    fn known_values() {
        // Tabulated closed forms.
        assert!(close(three_j([0, 0, 0], [0, 0, 0]), 1.0));
        assert!(close(three_j([1, 1, 0], [0, 0, 0]), -1.0 / 3f64.sqrt()));
        assert!(close(three_j([1, 1, 0], [1, -1, 0]), 1.0 / 3f64.sqrt()));
        assert!(close(three_j([1, 1, 2], [0, 0, 0]), (2.0 / 15.0f64).sqrt()));
        assert!(close(
            three_j([2, 2, 2], [0, 0, 0]),
            -(2.0 / 35.0f64).sqrt()
        ));
        assert!(close(three_j([1, 1, 1], [1, 0, -1]), -1.0 / 6f64.sqrt()));
        assert!(close(three_j([1, 1, 1], [0, 0, 0]), 0.0));
        assert_eq!(three_j([1, 1, 3], [0, 0, 0]), 0.0);
        assert_eq!(three_j([2, 1, 1], [1, 1, 0]), 0.0);
    }

    /// sum_{m1 m2} (l1 l2 l3; m1 m2 m3)(l1 l2 l3'; m1 m2 m3') = delta / (2 l3 + 1).
    #[test]
    fn orthogonality_up_to_l_ten() {
        for l1 in 0..=10usize {
            for l2 in 0..=10usize {
                for l3 in l1.abs_diff(l2)..=(l1 + l2).min(10) {
                    for m3 in -(l3 as i64)..=l3 as i64 {
                        let mut s = 0.0;
                        for m1 in -(l1 as i64)..=l1 as i64 {
                            let m2 = -m1 - m3;
                            s += three_j([l1, l2, l3], [m1, m2, m3]).powi(2);
                        }
                        let want = 1.0 / (2 * l3 + 1) as f64;
                        assert!((s - want).abs() < 1e-13, "{l1} {l2} {l3} {m3}: {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn symmetries() {
        for (l, m) in [([3usize, 4, 5], [2i64, -3, 1]), ([6, 5, 4], [-1, 4, -3])] {
            let v = three_j(l, m);
            let odd = (l.iter().sum::<usize>() % 2) as i32;
            let sign = if odd == 1 { -1.0 } else { 1.0 };
            // Cyclic permutations keep it; a swap and m -> -m multiply by (-1)^J.
            assert!(close(three_j([l[1], l[2], l[0]], [m[1], m[2], m[0]]), v));
            assert!(close(
                three_j([l[1], l[0], l[2]], [m[1], m[0], m[2]]),
                sign * v
            ));
            assert!(close(three_j(l, m.map(|x| -x)), sign * v));
        }
    }
}
