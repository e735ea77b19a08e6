//! Identifiers and secrets. Each is derived from the seed and a counter that is persisted
//! with the state, so a seeded run repeats exactly and a restart never reuses an id.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdGen {
    pub seed: u64,
    pub counter: u64,
}

impl IdGen {
    pub fn new(seed: u64) -> Self {
        Self { seed, counter: 0 }
    }

    fn block(&mut self) -> [u8; 32] {
        self.counter += 1;
        Sha256::new()
            .chain_update(self.seed.to_le_bytes())
            .chain_update(self.counter.to_le_bytes())
            .finalize()
            .into()
    }

    /// `n` characters of [0-9A-Za-z], as in Stripe's and Clerk's ids.
    pub fn chars(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n);
        while out.len() < n {
            for b in self.block() {
                // 248 = 4 × 62: rejecting the top bytes keeps every character equally likely.
                if out.len() < n && b < 248 {
                    out.push(ALPHABET[usize::from(b % 62)] as char);
                }
            }
        }
        out
    }

    pub fn id(&mut self, prefix: &str, n: usize) -> String {
        format!("{prefix}{}", self.chars(n))
    }

    pub fn next_u64(&mut self) -> u64 {
        let block = self.block();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&block[..8]);
        u64::from_le_bytes(bytes)
    }
}

/// A seed for a run without `--seed`: `RandomState` is keyed from the OS's randomness.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids_and_counter_continues() {
        let (mut a, mut b) = (IdGen::new(7), IdGen::new(7));
        let first = a.id("cus_", 14);
        assert_eq!(first, b.id("cus_", 14));
        assert_eq!(first.len(), 18);
        assert!(first[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.id("cus_", 14), first, "the counter moves on");
        assert_ne!(IdGen::new(8).id("cus_", 14), first);
    }
}
