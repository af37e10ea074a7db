//! The one stable hash of sstcast: FNV-1a over bytes.
//!
//! Three things must give the same number on every machine, build and run, so they cannot use
//! `std`'s randomly seeded hasher: a region's random seed (so a region's fit does not depend on
//! which thread or Slurm task fits it), a region's shard (`I/N` of a job array), and the key of
//! a run's saved results (so a rerun finds them). FNV-1a is small, dependency-free and stable;
//! it is not a cryptographic hash and need not be.

/// FNV-1a (64 bit) of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published FNV-1a test vectors: a changed constant would silently move every
    /// region's seed, shard and saved-result key.
    #[test]
    fn matches_published_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
