//! Email links (verification, password reset) carry a signed token:
//! `<random>.<expiry>.<signature>` — 256 random bits, the expiry in unix
//! seconds, and HMAC-SHA256 over purpose, random part and expiry under a key
//! derived from the server's token secret. Signature and expiry are checked
//! before the database is asked; the database keeps only the SHA-256 of the
//! whole token and marks it used, which makes each link single-use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub struct LinkSigner {
    key: Vec<u8>,
    clock: crate::time::Clock,
}

impl LinkSigner {
    pub fn new(secret: &[u8], clock: crate::time::Clock) -> LinkSigner {
        // A key of its own, so a link signature can never be a JWT signature.
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"shelfkeeper email links v1");
        LinkSigner { key: mac.finalize().into_bytes().to_vec(), clock }
    }

    fn mac(&self, purpose: &str, random: &str, expiry: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in [purpose, random, expiry] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// A fresh token for `purpose`, valid for `ttl_secs`.
    pub fn issue(&self, purpose: &str, ttl_secs: u64) -> String {
        let random = super::random_token();
        let expiry = (self.clock.now_secs() + ttl_secs as i64).to_string();
        let sig = URL_SAFE_NO_PAD.encode(self.mac(purpose, &random, &expiry).finalize().into_bytes());
        format!("{random}.{expiry}.{sig}")
    }

    /// Whether the token was signed here for `purpose` and has not expired
    /// (signature compared in constant time).
    pub fn check(&self, purpose: &str, token: &str) -> bool {
        let mut parts = token.split('.');
        let (Some(random), Some(expiry), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return false };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else { return false };
        let Ok(exp) = expiry.parse::<i64>() else { return false };
        if self.clock.now_secs() >= exp {
            return false;
        }
        self.mac(purpose, random, expiry).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_for_one_purpose_and_expiring() {
        let clock = crate::time::Clock::default();
        let s = LinkSigner::new(b"a secret of at least thirty-two bytes", clock.clone());
        let t = s.issue("verify_email", 60);
        assert!(s.check("verify_email", &t));
        assert!(!s.check("reset_password", &t), "purpose is signed");
        assert!(!LinkSigner::new(b"another secret of thirty-two bytes!!", clock.clone()).check("verify_email", &t), "key");
        let (head, sig) = t.rsplit_once('.').unwrap();
        let mut forged = sig.to_owned();
        forged.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
        assert!(!s.check("verify_email", &format!("{head}.{forged}")), "signature");
        let random = t.split('.').next().unwrap();
        let later = format!("{random}.{}.{sig}", chrono::Utc::now().timestamp() + 10_000);
        assert!(!s.check("verify_email", &later), "expiry is signed");
        assert!(!s.check("verify_email", &s.issue("verify_email", 0)), "expired");
        let hour = s.issue("verify_email", 3600);
        clock.advance(std::time::Duration::from_secs(3599));
        assert!(s.check("verify_email", &hour), "valid until its expiry");
        clock.advance(std::time::Duration::from_secs(1));
        assert!(!s.check("verify_email", &hour), "expired at its expiry");
        assert!(!s.check("verify_email", "garbage"));
        assert!(!s.check("verify_email", &format!("{t}.extra")));
    }
}
