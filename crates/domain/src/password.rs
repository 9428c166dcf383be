//! Password policy and hashing: argon2id with OWASP's parameters
//! (19 MiB memory, 2 iterations, 1 lane), PHC strings, constant-time verify.

use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// The most common passwords from public breach corpora (top entries of the
/// SecLists lists), lower-cased. A password equal to one is refused.
const COMMON: &str = include_str!("common-passwords.txt");

fn hasher() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks length and common-password rules (NIST 800-63B style: length
/// matters, composition rules do not).
pub fn check_policy(password: &str, username: &str) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::WeakPassword(format!("use at least {MIN_LEN} characters")));
    }
    if len > MAX_LEN {
        return Err(Error::WeakPassword(format!("use at most {MAX_LEN} characters")));
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower == username.to_lowercase() {
        return Err(Error::WeakPassword("it must not be the username".into()));
    }
    if COMMON.lines().any(|l| l == lower) {
        return Err(Error::WeakPassword("it is one of the most common passwords; choose another".into()));
    }
    Ok(())
}

/// Hashes with a fresh random salt; returns a PHC string.
pub fn hash(password: &str) -> Result<String> {
    hasher().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| Error::Storage(format!("password hashing failed: {e}")))
}

/// Verifies in constant time. A malformed stored hash verifies as false.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, for unknown usernames, so
/// that response time does not tell which usernames exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("x", "not a phc string"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", "ada").is_err());
        assert!(check_policy("password123", "ada").is_err());
        assert!(check_policy("adalovelace", "adalovelace").is_err());
        assert!(check_policy(&"x".repeat(129), "ada").is_err());
        assert!(check_policy(&"long passphrase ".repeat(4), "ada").is_ok());
        assert!(check_policy("tea-kettle-harbour", "ada").is_ok());
    }
}
