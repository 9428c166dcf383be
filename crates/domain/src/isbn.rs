//! ISBN-10 and ISBN-13: parse what people and scanners type, validate the
//! check digit, and store one normalised form (13 digits, no hyphens).

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated ISBN, always held as its 13-digit form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Isbn(String);

impl Isbn {
    /// Parses an ISBN-10 or ISBN-13. Accepts hyphens, spaces and an "ISBN"
    /// prefix ("ISBN 978-0-441-17271-9", "0441172717", "044117271x").
    pub fn parse(input: &str) -> Result<Isbn, Error> {
        let trimmed = input.trim();
        let body = strip_prefix_ci(trimmed, "isbn-13")
            .or_else(|| strip_prefix_ci(trimmed, "isbn-10"))
            .or_else(|| strip_prefix_ci(trimmed, "isbn"))
            .unwrap_or(trimmed)
            .trim_start_matches([':', ' ']);
        let mut chars: Vec<char> = Vec::with_capacity(13);
        for c in body.chars() {
            match c {
                '-' | ' ' | '\u{2010}' | '\u{2011}' | '\u{2013}' => {}
                '0'..='9' => chars.push(c),
                'x' | 'X' => chars.push('X'),
                _ => return Err(invalid(input, format!("'{c}' is not allowed in an ISBN"))),
            }
        }
        let x_positions: Vec<usize> = chars.iter().enumerate().filter(|(_, c)| **c == 'X').map(|(i, _)| i).collect();
        match chars.len() {
            10 => {
                if x_positions.iter().any(|&i| i != 9) {
                    return Err(invalid(input, "X may only be the last character of an ISBN-10".into()));
                }
                let digits: Vec<u32> = chars[..9].iter().map(|c| c.to_digit(10).unwrap_or(0)).collect();
                let expected = isbn10_check(&digits);
                if chars[9] != expected {
                    return Err(Error::IsbnChecksum { input: input.trim().to_string(), expected: expected.to_string() });
                }
                let mut d13 = vec![9, 7, 8];
                d13.extend_from_slice(&digits);
                let check = isbn13_check(&d13);
                Ok(Isbn(d13.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).chain([check]).collect()))
            }
            13 => {
                if !x_positions.is_empty() {
                    return Err(invalid(input, "an ISBN-13 has digits only".into()));
                }
                let digits: Vec<u32> = chars.iter().map(|c| c.to_digit(10).unwrap_or(0)).collect();
                if !(digits[..3] == [9, 7, 8] || digits[..3] == [9, 7, 9]) {
                    return Err(invalid(input, "an ISBN-13 starts with 978 or 979".into()));
                }
                let expected = isbn13_check(&digits[..12]);
                if chars[12] != expected {
                    return Err(Error::IsbnChecksum { input: input.trim().to_string(), expected: expected.to_string() });
                }
                Ok(Isbn(chars.into_iter().collect()))
            }
            0 => Err(invalid(input, "it is empty".into())),
            n => Err(invalid(input, format!("it has {n} digits; an ISBN has 10 or 13"))),
        }
    }

    /// The 13-digit form, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn isbn13(&self) -> &str {
        &self.0
    }

    /// The ISBN-10 form, where one exists (only 978- ISBNs have one).
    pub fn isbn10(&self) -> Option<String> {
        if !self.0.starts_with("978") {
            return None;
        }
        let digits: Vec<u32> = self.0[3..12].chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
        let check = isbn10_check(&digits);
        Some(self.0[3..12].chars().chain([check]).collect())
    }

    /// Cheap test used by search to route a query to the ISBN index.
    pub fn looks_like_isbn(input: &str) -> bool {
        let n = input.chars().filter(|c| c.is_ascii_digit() || *c == 'x' || *c == 'X').count();
        let other = input.chars().filter(|c| !(c.is_ascii_digit() || matches!(c, 'x' | 'X' | '-' | ' '))).count();
        other == 0 && (n == 10 || n == 13)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn invalid(input: &str, reason: String) -> Error {
    Error::InvalidIsbn { input: input.trim().to_string(), reason }
}

fn isbn10_check(first9: &[u32]) -> char {
    let sum: u32 = first9.iter().enumerate().map(|(i, d)| (10 - i as u32) * d).sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

fn isbn13_check(first12: &[u32]) -> char {
    let sum: u32 = first12.iter().enumerate().map(|(i, d)| if i % 2 == 0 { *d } else { 3 * d }).sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

impl fmt::Display for Isbn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Isbn {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Isbn::parse(&value)
    }
}

impl From<Isbn> for String {
    fn from(value: Isbn) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_spellings() {
        for s in ["978-0-441-17271-9", "9780441172719", "ISBN 978 0 441 17271 9", "0441172717", "0-441-17271-7", "isbn-10: 0441172717"] {
            assert_eq!(Isbn::parse(s).unwrap().as_str(), "9780441172719", "{s}");
        }
        assert_eq!(Isbn::parse("080442957X").unwrap().as_str(), "9780804429573");
        assert_eq!(Isbn::parse("080442957x").unwrap().isbn10().unwrap(), "080442957X");
    }

    #[test]
    fn wrong_check_digit_names_the_expected_one() {
        match Isbn::parse("978-0-441-17271-8") {
            Err(Error::IsbnChecksum { expected, .. }) => assert_eq!(expected, "9"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(Isbn::parse("0441172718"), Err(Error::IsbnChecksum { .. })));
    }

    #[test]
    fn rejects_malformed_input() {
        for s in ["", "12345", "97804411727190", "978044117271a", "X441172717", "1234567890123"] {
            assert!(matches!(Isbn::parse(s), Err(Error::InvalidIsbn { .. })), "{s}");
        }
    }

    #[test]
    fn a_979_isbn_has_no_isbn10() {
        let isbn = Isbn::parse("979-10-90636-07-1").unwrap();
        assert_eq!(isbn.isbn10(), None);
    }

    proptest! {
        #[test]
        fn isbn10_and_13_round_trip(body in proptest::collection::vec(0u32..10, 9)) {
            let check = isbn10_check(&body);
            let isbn10: String = body.iter().map(|d| char::from_digit(*d, 10).unwrap()).chain([check]).collect();
            let parsed = Isbn::parse(&isbn10).unwrap();
            prop_assert_eq!(parsed.isbn10().unwrap(), isbn10.clone());
            prop_assert_eq!(Isbn::parse(parsed.as_str()).unwrap(), parsed.clone());
            // Hyphenated anywhere still parses to the same value.
            let hyphenated = format!("{}-{}-{}", &isbn10[..1], &isbn10[1..5], &isbn10[5..]);
            prop_assert_eq!(Isbn::parse(&hyphenated).unwrap(), parsed);
        }

        #[test]
        fn any_single_digit_change_is_caught(body in proptest::collection::vec(0u32..10, 12), pos in 0usize..13, delta in 1u32..10) {
            let mut digits = vec![9, 7, 8];
            digits.extend_from_slice(&body[3..]);
            let check = isbn13_check(&digits).to_digit(10).unwrap();
            digits.push(check);
            let valid: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            prop_assert!(Isbn::parse(&valid).is_ok());
            let mut broken = digits.clone();
            broken[pos] = (broken[pos] + delta) % 10;
            let broken: String = broken.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            prop_assert!(Isbn::parse(&broken).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = Isbn::parse(&s);
        }
    }
}
