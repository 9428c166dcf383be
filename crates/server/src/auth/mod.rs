//! Authentication: password hashing on a bounded pool, access tokens (JWT),
//! signed links, rate limits, and token helpers. Who is calling is the
//! `Caller` extractor (in `extract`), built on these.

pub mod hasher;
pub mod jwt;
pub mod links;
pub mod ratelimit;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// 256 random bits from the OS-seeded CSPRNG, base64url without padding.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// What the database keeps of a secret token: its SHA-256, hex. Tokens are
/// 256-bit random, so a fast hash is enough (no dictionary to attack).
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Normalises an email for lookup and checks its shape.
pub fn normalise_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    if e.len() > 254 || e.parse::<lettre::Address>().is_err() {
        return None;
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, random_token());
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn emails() {
        assert_eq!(normalise_email(" Ada@Example.ORG ").as_deref(), Some("ada@example.org"));
        assert!(normalise_email("not an email").is_none());
        assert!(normalise_email("<script>@x").is_none());
    }
}
