//! The run's only source of randomness: splitmix64 from the scenario's seed, so a run is
//! repeatable byte for byte.

/// A seeded random source.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A source with a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits (splitmix64).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift keeps the bias below 2^-64 per draw, far under anything a run shows.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// The five-character suffix the API server's generateName gives, from upstream's
    /// alphabet without vowels and look-alike characters.
    pub fn name_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..5)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}
