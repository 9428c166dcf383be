//! Small normalisation rules for what people type.

use crate::error::Error;

/// Trims; an empty or all-space value becomes `None`.
pub fn clean(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The key a title sorts by: lower-cased, leading English article removed
/// ("The Hobbit" sorts under H).
pub fn sort_key(title: &str) -> String {
    let lower = title.trim().to_lowercase();
    for article in ["the ", "a ", "an "] {
        if let Some(rest) = lower.strip_prefix(article)
            && !rest.trim().is_empty()
        {
            return rest.trim_start().to_string();
        }
    }
    lower
}

/// Sort key for a person: "Ursula K. Le Guin" -> "le guin, ursula k." is
/// beyond a heuristic; we sort by the last word, then the rest.
pub fn person_sort_key(name: &str) -> String {
    let name = name.trim().to_lowercase();
    if name.contains(',') {
        return name;
    }
    match name.rsplit_once(' ') {
        Some((first, last)) => format!("{last}, {first}"),
        None => name,
    }
}

/// Barcodes and card numbers: what a scanner types, trimmed and upper-cased.
/// Scanners often append a newline or tab; people type lower case.
pub fn barcode(field: &'static str, raw: &str) -> Result<String, Error> {
    let value = raw.trim().to_uppercase();
    if value.is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    if value.len() > 64 {
        return Err(Error::invalid(field, "is longer than 64 characters"));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(field, format!("contains {c:?}; a barcode has no spaces")));
    }
    Ok(value)
}

/// Limits a free-text field's length so one paste cannot bloat the store.
pub fn bounded(field: &'static str, value: Option<String>, max_chars: usize) -> Result<Option<String>, Error> {
    match value {
        Some(v) if v.chars().count() > max_chars => Err(Error::invalid(field, format!("is longer than {max_chars} characters"))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_key_drops_leading_articles() {
        assert_eq!(sort_key("The Hobbit"), "hobbit");
        assert_eq!(sort_key("A Wizard of Earthsea"), "wizard of earthsea");
        assert_eq!(sort_key("The"), "the");
        assert_eq!(sort_key("Theory of Everything"), "theory of everything");
    }

    #[test]
    fn barcodes_are_trimmed_and_upper_cased() {
        assert_eq!(barcode("barcode", " b00123\n").unwrap(), "B00123");
        assert!(barcode("barcode", "   ").is_err());
        assert!(barcode("barcode", "B 001").is_err());
    }
}
