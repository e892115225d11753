//! The vector instructions a kernel may use, detected at run time: wheels
//! are built for any x86-64, and the hot loops are compiled a second and
//! third time with AVX2 and AVX-512 enabled. No fused multiply-add is ever
//! formed (Rust does not contract a * b + c), so every path gives the same
//! bits.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Simd {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("ASTROGRAPH_SIMD").is_some_and(|v| v == "baseline") {
                return Simd::Baseline;
            }
            // popcnt: the variants count bits (mask sizes, PIP weights);
            // every CPU with AVX2 has it
            let popcnt = std::arch::is_x86_feature_detected!("popcnt");
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && popcnt
            {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && popcnt {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }
}
