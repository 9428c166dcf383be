//! Small normalisations shared by the parsers.

use shelfkeeper_domain::isbn::Isbn;

/// Trims, collapses runs of whitespace, and drops empty strings.
pub(crate) fn clean(s: &str) -> Option<String> {
    let out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!out.is_empty()).then_some(out)
}

/// `clean` plus the ISBD punctuation that MARC fields end with
/// ("Dune /", "Ace Books,", "Science fiction.").
pub(crate) fn clean_isbd(s: &str) -> Option<String> {
    let s = clean(s)?;
    let mut t = s.trim_end_matches([' ', '/', ':', ';', ',', '=']);
    // A final full stop goes, unless it ends an initial ("Jr.", "A.").
    if let Some(stripped) = t.strip_suffix('.') {
        let last_word = stripped.rsplit(' ').next().unwrap_or("");
        if last_word.chars().count() > 2 || last_word.contains('.') {
            t = stripped;
        }
    }
    clean(t.trim_end_matches([' ', '/', ':', ';', ',', '=']))
}

const MONTHS: [&str; 12] =
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/// Turns a provider's date into what `TitleDraft` accepts: "YYYY",
/// "YYYY-MM" or "YYYY-MM-DD". Understands ISO dates, "June 1990",
/// "Jun 01, 1990", "1 June 1990", MARC's "c1990.", "[1990?]"; anything else
/// with a plausible year gives the year alone.
pub(crate) fn published(s: &str) -> Option<String> {
    let s = s.trim();
    if shelfkeeper_domain::model::parse_published(s).is_ok() {
        return Some(s.to_string());
    }
    let words: Vec<String> =
        s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase()).collect();
    let year = words.iter().find_map(|w| {
        let digits = w.trim_start_matches(['c', 'p']);
        (digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| digits.parse::<u32>().ok())
            .flatten()
            .filter(|y| (1000..=2999).contains(y))
    })?;
    let month = words.iter().find_map(|w| {
        (w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphabetic()))
            .then(|| MONTHS.iter().position(|m| m.starts_with(w.as_str())))
            .flatten()
            .map(|i| i as u32 + 1)
    });
    let day = words.iter().find_map(|w| w.parse::<u32>().ok().filter(|d| (1..=31).contains(d) && w.len() <= 2));
    let candidate = match (month, day) {
        (Some(m), Some(d)) => format!("{year:04}-{m:02}-{d:02}"),
        (Some(m), None) => format!("{year:04}-{m:02}"),
        _ => format!("{year:04}"),
    };
    if shelfkeeper_domain::model::parse_published(&candidate).is_ok() { Some(candidate) } else { Some(format!("{year:04}")) }
}

/// The page count in an extent statement: "xii, 320 p. ;" → 320,
/// "535 pages" → 535, "1 online resource" → None.
pub(crate) fn pages_from_extent(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut best: Option<i64> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let rest = lower[i..].trim_start();
            if (rest.starts_with("p.") || rest.starts_with("p ") || rest == "p" || rest.starts_with("pages") || rest.starts_with("pp"))
                && let Ok(n) = lower[start..i].parse::<i64>()
            {
                best = Some(best.map_or(n, |b: i64| b.max(n)));
            }
        } else {
            i += 1;
        }
    }
    best.filter(|n| (1..=100_000).contains(n))
}

/// A page count a provider gave as a number; 0 and absurd values are none.
pub(crate) fn pages(n: i64) -> Option<i64> {
    (1..=100_000).contains(&n).then_some(n)
}

/// The ISBN at the start of a MARC 020 $a ("0441172717 (pbk.)").
pub(crate) fn leading_isbn(s: &str) -> Option<Isbn> {
    let token: String = s.trim().chars().take_while(|c| c.is_ascii_digit() || matches!(c, 'x' | 'X' | '-')).collect();
    Isbn::parse(&token).ok()
}

/// "v. 1", "no. 3", "bk. 2" → "1", "3", "2"; other numbering as written.
pub(crate) fn series_number(s: &str) -> Option<String> {
    let s = clean_isbd(s)?;
    let lower = s.to_ascii_lowercase();
    for prefix in ["v.", "vol.", "no.", "bk.", "book", "t.", "bd."] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let n = rest.trim();
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                return Some(n.to_string());
            }
        }
    }
    Some(s).filter(|s| s.chars().count() <= 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_what_title_drafts_accept() {
        for (input, want) in [
            ("1990", Some("1990")),
            ("2005-03-01", Some("2005-03-01")),
            ("2005-03", Some("2005-03")),
            ("June 1990", Some("1990-06")),
            ("Jun 01, 1990", Some("1990-06-01")),
            ("1 September 2003", Some("2003-09-01")),
            ("c1990.", Some("1990")),
            ("[1990?]", Some("1990")),
            ("p1985, c1984", Some("1985")),
            ("Feb 30, 2001", Some("2001")),
            ("199-", None),
            ("", None),
        ] {
            assert_eq!(published(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn extents_give_page_counts() {
        assert_eq!(pages_from_extent("xii, 320 p. ;"), Some(320));
        assert_eq!(pages_from_extent("535 pages ; 18 cm"), Some(535));
        assert_eq!(pages_from_extent("2 v. (1200 p.)"), Some(1200));
        assert_eq!(pages_from_extent("1 online resource"), None);
    }

    #[test]
    fn isbd_punctuation_goes_but_initials_stay() {
        assert_eq!(clean_isbd("Dune /").as_deref(), Some("Dune"));
        assert_eq!(clean_isbd("Ace Books,").as_deref(), Some("Ace Books"));
        assert_eq!(clean_isbd("Science fiction.").as_deref(), Some("Science fiction"));
        assert_eq!(clean_isbd("Herbert, Frank.").as_deref(), Some("Herbert, Frank"));
        assert_eq!(clean_isbd("King, Martin Luther, Jr.").as_deref(), Some("King, Martin Luther, Jr."));
        assert_eq!(clean_isbd("  /  "), None);
        assert_eq!(series_number("v. 1").as_deref(), Some("1"));
        assert_eq!(series_number("book 3").as_deref(), Some("3"));
        assert_eq!(leading_isbn("0441172717 (pbk.)").map(|i| i.to_string()).as_deref(), Some("9780441172719"));
    }
}
