//! Parsing of the values found in other programs' files: dates, page counts,
//! prices, ratings, reading states, language names, and Shelfkeeper's own
//! escaped list and contributor encodings. Each parser returns `Err` with a
//! short reason ("is not a date") that the caller prefixes with the column.

use chrono::NaiveDate;
use shelfkeeper_domain::model::{Contributor, ReadingState};

/// `="0439023483"` (how Goodreads and spreadsheets protect leading zeros)
/// becomes `0439023483`.
pub fn unformula(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None => t,
    }
}

/// An ISBN cell as written by exporters: `[0439023483]`, `="978…"`,
/// `9780439023481, 0439023483`, `0441172717 (pbk.)`: the first identifier,
/// not validated.
pub fn isbn_cell(s: &str) -> Option<String> {
    let s = unformula(s);
    let s = s.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
    let first = s.split([',', ';', '|']).map(str::trim).find(|p| !p.is_empty())?;
    let first = first.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
    let token = strip_isbn_qualifier(first);
    if token.is_empty() { None } else { Some(token.to_string()) }
}

/// `0441172717 (pbk.)` → `0441172717`; `978-0-441-17271-9 : $7.99` →
/// `978-0-441-17271-9`.
pub fn strip_isbn_qualifier(s: &str) -> &str {
    let s = s.trim();
    let end = s.find(['(', ':', ';']).unwrap_or(s.len());
    let head = s[..end].trim();
    // "0441172717 pbk." : keep the leading run of ISBN characters.
    let run = head.find(|c: char| !(c.is_ascii_digit() || c == 'x' || c == 'X' || c == '-' || c == ' ')).unwrap_or(head.len());
    let cut = head[..run].trim_end();
    if cut.chars().filter(char::is_ascii_digit).count() >= 9 { cut } else { head }
}

/// Calibre's `identifiers` column: `isbn:9780…,goodreads:123,amazon:B00…`.
pub fn identifier(s: &str, scheme: &str) -> Option<String> {
    s.split(',').find_map(|part| {
        let (k, v) = part.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(scheme) && !v.trim().is_empty()).then(|| v.trim().to_string())
    })
}

/// Splits a plain list (no escapes), trimming items and skipping empty ones.
pub fn split_plain(s: &str, separator: Option<&str>) -> Vec<String> {
    match separator {
        Some(sep) if !sep.is_empty() => s.split(sep).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect(),
        _ => {
            let t = s.trim();
            if t.is_empty() { Vec::new() } else { vec![t.to_string()] }
        }
    }
}

/// A character and whether a backslash escaped it.
type Esc = (char, bool);

fn unescape_chars(s: &str) -> Vec<Esc> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push((n, true)),
                None => out.push(('\\', true)),
            }
        } else {
            out.push((c, false));
        }
    }
    out
}

fn split_escaped(chars: &[Esc], sep: char) -> Vec<&[Esc]> {
    chars.split(|&(c, e)| c == sep && !e).collect()
}

/// Trims unescaped whitespace at both ends.
fn trim_esc(mut s: &[Esc]) -> &[Esc] {
    while let Some(((c, false), rest)) = s.split_first() {
        if c.is_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let Some(((c, false), rest)) = s.split_last() {
        if c.is_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn collect(s: &[Esc]) -> String {
    s.iter().map(|&(c, _)| c).collect()
}

/// Shelfkeeper's list encoding: `a; b\; c` → ["a", "b; c"].
pub fn split_escaped_list(s: &str) -> Vec<String> {
    if !s.contains('\\') {
        return split_plain(s, Some(";"));
    }
    let chars = unescape_chars(s);
    split_escaped(&chars, ';').into_iter().map(trim_esc).filter(|p| !p.is_empty()).map(collect).collect()
}

fn escape_into(out: &mut String, s: &str, specials: &[char]) {
    for c in s.chars() {
        if c == '\\' || specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Writes a list in Shelfkeeper's encoding.
pub fn join_escaped_list(items: &[String]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        escape_into(&mut out, item, &[';']);
    }
    out
}

/// Writes contributors in Shelfkeeper's encoding:
/// `Ursula K. Le Guin (author); Jane Doe (translator)`.
pub fn join_contributors(list: &[Contributor]) -> String {
    let mut out = String::new();
    for (i, c) in list.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        escape_into(&mut out, &c.name, &[';', '(', ')']);
        out.push_str(" (");
        escape_into(&mut out, &c.role, &[';', '(', ')']);
        out.push(')');
    }
    out
}

/// Reads Shelfkeeper's contributor encoding.
pub fn split_contributors(s: &str) -> Result<Vec<Contributor>, String> {
    let chars = unescape_chars(s);
    let mut out = Vec::new();
    for entry in split_escaped(&chars, ';') {
        let entry = trim_esc(entry);
        if entry.is_empty() {
            continue;
        }
        let (name, role) = match entry.last() {
            Some((')', false)) => {
                let open = entry
                    .iter()
                    .rposition(|&(c, e)| c == '(' && !e)
                    .ok_or_else(|| format!("'{}' has a ')' without '(' (escape parentheses in names as \\( and \\))", collect(entry)))?;
                (trim_esc(&entry[..open]), trim_esc(&entry[open + 1..entry.len() - 1]))
            }
            _ => (entry, &[][..]),
        };
        if name.is_empty() {
            return Err(format!("'{}' has a role but no name", collect(entry)));
        }
        let role = if role.is_empty() { "author".to_string() } else { collect(role) };
        out.push(Contributor { name: collect(name), role });
    }
    Ok(out)
}

/// Parses an integer page count: `310`, `310 p.`, `xii, 310 p.`, `310 pages`.
/// `0` means unknown.
pub fn pages(s: &str) -> Result<Option<i64>, String> {
    let t = unformula(s);
    if t.is_empty() {
        return Ok(None);
    }
    let last = t.rsplit(',').next().unwrap_or(t).trim();
    let last = last.trim_start_matches('[').trim_end_matches(']');
    let lower = last.to_lowercase();
    let mut digits = lower.as_str();
    for suffix in ["pages", "page", "pp.", "pp", "p.", "p", "s.", "seiten"] {
        if let Some(d) = digits.strip_suffix(suffix) {
            digits = d.trim_end();
            break;
        }
    }
    let digits = digits.trim();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("is not a page count".into());
    }
    let n: i64 = digits.parse().map_err(|_| "is not a page count".to_string())?;
    Ok((n > 0).then_some(n))
}

/// A small whole number (copies): `2`, `="2"`, `2.0`.
pub fn count(s: &str) -> Result<Option<u32>, String> {
    let t = unformula(s);
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse::<u32>().map(Some).map_err(|_| "is not a whole number".into())
}

/// Ratings: `0`..`out_of`, halves allowed (`4.5`), rounded half up, scaled to
/// 1..=5; 0 or empty means none.
pub fn rating(s: &str, out_of: u8) -> Result<Option<u8>, String> {
    let t = unformula(s);
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t.replace(',', ".").parse().map_err(|_| "is not a rating".to_string())?;
    let out_of = if out_of == 0 { 5 } else { out_of };
    if !v.is_finite() || v < 0.0 || v > f64::from(out_of) {
        return Err(format!("is not a rating from 0 to {out_of}"));
    }
    let scaled = (v * 5.0 / f64::from(out_of)).round();
    Ok(if scaled < 0.5 { if v > 0.0 { Some(1) } else { None } } else { Some(scaled as u8) })
}

/// Reading states in the words of Goodreads, Libib, LibraryThing and people.
pub fn reading_state(s: &str) -> Option<ReadingState> {
    let norm: String = s.trim().to_lowercase().chars().map(|c| if c == '-' || c == '_' { ' ' } else { c }).collect();
    Some(match norm.trim() {
        "to read" | "want to read" | "not begun" | "not started" | "planned" | "unread" | "tbr" | "wishlist" => ReadingState::WantToRead,
        "currently reading" | "reading" | "in progress" | "started" => ReadingState::Reading,
        "read" | "completed" | "finished" | "done" => ReadingState::Read,
        "abandoned" | "did not finish" | "dnf" | "gave up" => ReadingState::Abandoned,
        _ => return None,
    })
}

/// Language names (English) to MARC codes; codes pass through.
pub fn language(s: &str) -> Option<String> {
    let first = s.split([',', ';', '|']).map(str::trim).find(|p| !p.is_empty())?;
    let lower = first.to_lowercase();
    let code = match lower.as_str() {
        "english" => "eng",
        "french" => "fre",
        "german" => "ger",
        "spanish" => "spa",
        "italian" => "ita",
        "portuguese" => "por",
        "dutch" => "dut",
        "russian" => "rus",
        "japanese" => "jpn",
        "chinese" => "chi",
        "latin" => "lat",
        "greek" | "greek, modern" => "gre",
        "ancient greek" | "greek, ancient" => "grc",
        "swedish" => "swe",
        "norwegian" => "nor",
        "danish" => "dan",
        "finnish" => "fin",
        "polish" => "pol",
        "czech" => "cze",
        "hungarian" => "hun",
        "turkish" => "tur",
        "arabic" => "ara",
        "hebrew" => "heb",
        "korean" => "kor",
        "hindi" => "hin",
        "welsh" => "wel",
        "irish" => "gle",
        "catalan" => "cat",
        "icelandic" => "ice",
        "ukrainian" => "ukr",
        "romanian" => "rum",
        "croatian" => "hrv",
        "serbian" => "srp",
        "slovak" => "slo",
        "slovenian" => "slv",
        "esperanto" => "epo",
        _ => return Some(first.to_string()),
    };
    Some(code.to_string())
}

fn month(name: &str) -> Option<u32> {
    let n = name.trim_end_matches('.').to_lowercase();
    const MONTHS: [&str; 12] =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    if n.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(&n) || (n == "sept" && *m == "september")).map(|i| i as u32 + 1)
}

/// A parsed date of some precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Year(i32),
    Month(i32, u32),
    Day(NaiveDate),
}

impl Precision {
    pub fn render(self) -> String {
        match self {
            Precision::Year(y) => format!("{y:04}"),
            Precision::Month(y, m) => format!("{y:04}-{m:02}"),
            Precision::Day(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn ymd(y: u32, m: u32, d: u32) -> Option<Precision> {
    NaiveDate::from_ymd_opt(y as i32, m, d).map(Precision::Day)
}

/// Parses the many ways exports write a date. `day_first` decides `05/06/2021`.
pub fn date(s: &str, day_first: bool) -> Option<Precision> {
    let t = unformula(s);
    // ISO timestamps: 2011-06-14T00:00:00+00:00, 2011-06-14 10:00:00
    let t = match t.get(..10) {
        Some(head) if t.len() > 10 && (t.as_bytes()[10] == b'T' || t.as_bytes()[10] == b' ') && head.as_bytes()[4] == b'-' => head,
        _ => t,
    };
    if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
        return ymd(num(&t[..4])?, num(&t[4..6])?, num(&t[6..])?);
    }
    let parts: Vec<&str> = t.split(['-', '/', '.', ' ', ',']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [y] if y.len() == 4 => num(y).map(|y| Precision::Year(y as i32)),
        [a, b] => {
            if a.len() == 4 {
                let (y, m) = (num(a)?, num(b).or_else(|| month(b))?);
                (1..=12).contains(&m).then_some(Precision::Month(y as i32, m))
            } else if b.len() == 4 {
                let (m, y) = (num(a).or_else(|| month(a))?, num(b)?);
                (1..=12).contains(&m).then_some(Precision::Month(y as i32, m))
            } else {
                None
            }
        }
        [a, b, c] => {
            if a.len() == 4 {
                ymd(num(a)?, num(b).or_else(|| month(b))?, num(c)?)
            } else if c.len() == 4 {
                let y = num(c)?;
                if let Some(m) = month(a) {
                    return ymd(y, m, num(b)?);
                }
                if let Some(m) = month(b) {
                    return ymd(y, m, num(a)?);
                }
                let (x, z) = (num(a)?, num(b)?);
                // Dots are European (day first); otherwise as the option says,
                // unless only one reading is possible.
                let day_first = day_first || t.contains('.') || x > 12;
                if day_first && z <= 12 { ymd(y, z, x) } else { ymd(y, x, z) }
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Calibre writes this for "no date".
const UNDEFINED: &str = "0101-01-01";

/// Words that mean "no date".
fn no_date(t: &str) -> bool {
    matches!(t.to_lowercase().as_str(), "n.d." | "n. d." | "nd" | "s.d." | "s. d." | "unknown" | "none" | "?" | "-")
}

/// A publication date: a date in any of `date`'s forms, or failing that a
/// year found in text like `c2007`, `[1998?]`, `©2015`.
pub fn published(s: &str, day_first: bool) -> Result<Option<String>, String> {
    let t = unformula(s);
    if t.is_empty() || no_date(t) || t.starts_with(UNDEFINED) {
        return Ok(None);
    }
    if let Some(p) = date(t, day_first) {
        return Ok(Some(p.render()));
    }
    match find_year(t) {
        Some(y) => Ok(Some(format!("{y:04}"))),
        None => Err("is not a date".into()),
    }
}

/// The first standalone 4-digit year 1000..=2999 in the text.
pub fn find_year(t: &str) -> Option<i32> {
    let b = t.as_bytes();
    let mut i = 0;
    while i + 4 <= b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 4 && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let y: i32 = t[i..i + 4].parse().ok()?;
            if (1000..=2999).contains(&y) {
                return Some(y);
            }
        }
        i += run.max(1);
    }
    None
}

/// A full date (acquisition dates).
pub fn full_date(s: &str, day_first: bool) -> Result<Option<NaiveDate>, String> {
    let t = unformula(s);
    if t.is_empty() || no_date(t) || t.starts_with(UNDEFINED) {
        return Ok(None);
    }
    match date(t, day_first) {
        Some(Precision::Day(d)) => Ok(Some(d)),
        Some(_) => Err("is not a full date (day, month and year)".into()),
        None => Err("is not a date".into()),
    }
}

fn currency_symbol(c: char) -> Option<&'static str> {
    Some(match c {
        '$' => "USD",
        '€' => "EUR",
        '£' => "GBP",
        '¥' => "JPY",
        '₹' => "INR",
        '₩' => "KRW",
        '₽' => "RUB",
        _ => return None,
    })
}

/// A price: `12.50`, `$12.50`, `12,50 €`, `EUR 12.50`, `1,234.56 USD`:
/// minor units (cents) and the currency if written.
pub fn price(s: &str) -> Result<Option<(i64, Option<String>)>, String> {
    let t = unformula(s);
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || "is not a price".to_string();
    let mut currency: Option<String> = None;
    let mut number = String::new();
    let mut letters = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            number.push(c);
        } else if let Some(code) = currency_symbol(c) {
            currency = Some(code.to_string());
        } else if c.is_ascii_alphabetic() {
            letters.push(c.to_ascii_uppercase());
        } else if c.is_whitespace() || c == '\'' || c == '\u{a0}' {
        } else {
            return Err(bad());
        }
    }
    if !letters.is_empty() {
        if letters.len() != 3 {
            return Err(bad());
        }
        currency = Some(letters);
    }
    if number.is_empty() {
        return Err(bad());
    }
    // The decimal separator is the last '.' or ',' followed by 1–2 digits.
    let (int_part, frac) = match number.rfind(['.', ',']) {
        Some(i) if (1..=2).contains(&(number.len() - i - 1)) => (&number[..i], &number[i + 1..]),
        _ => (number.as_str(), ""),
    };
    let int_digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    let units: i64 = if int_digits.is_empty() { 0 } else { int_digits.parse().map_err(|_| bad())? };
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let total = units.checked_mul(100).and_then(|u| u.checked_add(cents)).ok_or_else(bad)?;
    Ok(Some((total, currency)))
}

/// Minor units as a decimal: 1250 → "12.50".
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Goodreads titles carry the series: `The Hunger Games (The Hunger Games, #1)`.
pub fn split_series_from_title(title: &str) -> Option<(String, String, String)> {
    let t = title.trim_end();
    let inner_end = t.strip_suffix(')')?;
    let open = inner_end.rfind(" (")?;
    let inner = &inner_end[open + 2..];
    let hash = inner.rfind('#')?;
    let series = inner[..hash].trim().trim_end_matches(',').trim();
    let number = inner[hash + 1..].trim();
    if series.is_empty() || number.is_empty() || inner.contains('(') {
        return None;
    }
    Some((t[..open].trim().to_string(), series.to_string(), number.to_string()))
}

/// Calibre's series index `1.0` → `1`; `2.5` stays.
pub fn series_index(s: &str) -> Option<String> {
    let t = unformula(s);
    if t.is_empty() {
        return None;
    }
    Some(t.strip_suffix(".0").or_else(|| t.strip_suffix(".00")).unwrap_or(t).to_string())
}

/// Words whose period is part of them, not ISBD punctuation.
const ABBREVIATIONS: [&str; 22] = [
    "ed", "eds", "etc", "co", "inc", "jr", "sr", "st", "vol", "vols", "no", "nos", "pt", "ltd", "bros", "dept", "univ", "pp", "p", "v",
    "rev", "ca",
];

/// Trailing ISBD punctuation (` /`, ` :`, ` ;`, ` =`, `,`, and a final `.`
/// unless it ends an initial or an abbreviation like `ed.`).
pub fn strip_isbd(s: &str) -> &str {
    let mut t = s.trim();
    while let Some(b'/' | b':' | b';' | b'=' | b',') = t.as_bytes().last() {
        t = t[..t.len() - 1].trim_end();
    }
    if let Some(r) = t.strip_suffix('.') {
        let last_word = r.rsplit([' ', '.', '(']).next().unwrap_or("");
        let mut chars = last_word.chars();
        let initial = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase());
        let abbreviation = ABBREVIATIONS.iter().any(|a| last_word.eq_ignore_ascii_case(a));
        if !initial && !abbreviation && !r.ends_with('.') {
            t = r.trim_end();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_many_forms() {
        assert_eq!(published("2007", false).unwrap().as_deref(), Some("2007"));
        assert_eq!(published("c2007.", false).unwrap().as_deref(), Some("2007"));
        assert_eq!(published("[1998?]", false).unwrap().as_deref(), Some("1998"));
        assert_eq!(published("2011-06-14T00:00:00+00:00", false).unwrap().as_deref(), Some("2011-06-14"));
        assert_eq!(published("0101-01-01T00:00:00+00:00", false).unwrap(), None);
        assert_eq!(published("2019/03/14", false).unwrap().as_deref(), Some("2019-03-14"));
        assert_eq!(published("05/06/2021", false).unwrap().as_deref(), Some("2021-05-06"));
        assert_eq!(published("05/06/2021", true).unwrap().as_deref(), Some("2021-06-05"));
        assert_eq!(published("17.05.2021", false).unwrap().as_deref(), Some("2021-05-17"));
        assert_eq!(published("May 17, 2021", false).unwrap().as_deref(), Some("2021-05-17"));
        assert_eq!(published("17 May 2021", false).unwrap().as_deref(), Some("2021-05-17"));
        assert_eq!(published("May 2021", false).unwrap().as_deref(), Some("2021-05"));
        assert_eq!(published("2021-05", false).unwrap().as_deref(), Some("2021-05"));
        assert!(published("soon", false).is_err());
        assert!(full_date("2019", false).is_err());
    }

    #[test]
    fn pages_prices_ratings() {
        assert_eq!(pages("xii, 310 p.").unwrap(), Some(310));
        assert_eq!(pages("310 pages").unwrap(), Some(310));
        assert_eq!(pages("0").unwrap(), None);
        assert!(pages("12x").is_err());
        assert_eq!(price("$12.50").unwrap(), Some((1250, Some("USD".into()))));
        assert_eq!(price("12,50 €").unwrap(), Some((1250, Some("EUR".into()))));
        assert_eq!(price("1,234.56 USD").unwrap(), Some((123456, Some("USD".into()))));
        assert_eq!(price("12").unwrap(), Some((1200, None)));
        assert!(price("abc").is_err());
        assert_eq!(rating("0", 5).unwrap(), None);
        assert_eq!(rating("4.5", 5).unwrap(), Some(5));
        assert_eq!(rating("8", 10).unwrap(), Some(4));
        assert!(rating("abc", 5).is_err());
        assert!(rating("6", 5).is_err());
    }

    #[test]
    fn contributors_encoding_round_trips() {
        let list = vec![
            Contributor { name: "Smith (Jr.); \\ x".into(), role: "author".into() },
            Contributor { name: "Jane Doe".into(), role: "translator (2nd)".into() },
        ];
        let s = join_contributors(&list);
        assert_eq!(split_contributors(&s).unwrap(), list);
        assert_eq!(
            split_contributors("Ursula K. Le Guin; Jane Doe (translator)").unwrap(),
            vec![Contributor::author("Ursula K. Le Guin"), Contributor { name: "Jane Doe".into(), role: "translator".into() }]
        );
        assert!(split_contributors("(editor)").is_err());
    }

    #[test]
    fn isbn_cells_and_series() {
        assert_eq!(isbn_cell("=\"0439023483\"").as_deref(), Some("0439023483"));
        assert_eq!(isbn_cell("[0439023483]").as_deref(), Some("0439023483"));
        assert_eq!(isbn_cell("9780439023481, 0439023483").as_deref(), Some("9780439023481"));
        assert_eq!(isbn_cell("0441172717 (pbk.)").as_deref(), Some("0441172717"));
        assert_eq!(isbn_cell("=\"\""), None);
        assert_eq!(
            split_series_from_title("The Hunger Games (The Hunger Games, #1)"),
            Some(("The Hunger Games".into(), "The Hunger Games".into(), "1".into()))
        );
        assert_eq!(strip_isbd("The hobbit :"), "The hobbit");
        assert_eq!(strip_isbd("Tolkien, J. R. R.,"), "Tolkien, J. R. R.");
        assert_eq!(strip_isbd("Smith, John."), "Smith, John");
        assert_eq!(strip_isbd("Rev. ed."), "Rev. ed.");
        assert_eq!(strip_isbd("1966."), "1966");
    }
}
