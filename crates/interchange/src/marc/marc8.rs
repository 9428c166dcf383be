//! MARC-8 to UTF-8: ASCII (G0) and ANSEL (G1, the default extended Latin
//! set). Other character sets reached by escape sequences are refused.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// ANSEL spacing characters 0xA1..=0xC8.
fn special(b: u8) -> Option<char> {
    Some(match b {
        0xA1 => 'Ł',
        0xA2 => 'Ø',
        0xA3 => 'Đ',
        0xA4 => 'Þ',
        0xA5 => 'Æ',
        0xA6 => 'Œ',
        0xA7 => 'ʹ',
        0xA8 => '·',
        0xA9 => '♭',
        0xAA => '®',
        0xAB => '±',
        0xAC => 'Ơ',
        0xAD => 'Ư',
        0xAE => 'ʼ',
        0xB0 => 'ʻ',
        0xB1 => 'ł',
        0xB2 => 'ø',
        0xB3 => 'đ',
        0xB4 => 'þ',
        0xB5 => 'æ',
        0xB6 => 'œ',
        0xB7 => 'ʺ',
        0xB8 => 'ı',
        0xB9 => '£',
        0xBA => 'ð',
        0xBC => 'ơ',
        0xBD => 'ư',
        0xC0 => '°',
        0xC1 => 'ℓ',
        0xC2 => '℗',
        0xC3 => '©',
        0xC4 => '♯',
        0xC5 => '¿',
        0xC6 => '¡',
        0xC7 => 'ß',
        0xC8 => '€',
        0x8D => '\u{200D}',
        0x8E => '\u{200C}',
        _ => return None,
    })
}

/// ANSEL combining marks 0xE0..=0xFE.
fn combining(b: u8) -> Option<char> {
    Some(match b {
        0xE0 => '\u{0309}',
        0xE1 => '\u{0300}',
        0xE2 => '\u{0301}',
        0xE3 => '\u{0302}',
        0xE4 => '\u{0303}',
        0xE5 => '\u{0304}',
        0xE6 => '\u{0306}',
        0xE7 => '\u{0307}',
        0xE8 => '\u{0308}',
        0xE9 => '\u{030C}',
        0xEA => '\u{030A}',
        0xEB => '\u{FE20}',
        0xEC => '\u{FE21}',
        0xED => '\u{0315}',
        0xEE => '\u{030B}',
        0xEF => '\u{0310}',
        0xF0 => '\u{0327}',
        0xF1 => '\u{0328}',
        0xF2 => '\u{0323}',
        0xF3 => '\u{0324}',
        0xF4 => '\u{0325}',
        0xF5 => '\u{0333}',
        0xF6 => '\u{0332}',
        0xF7 => '\u{0326}',
        0xF8 => '\u{031C}',
        0xF9 => '\u{032E}',
        0xFA => '\u{FE22}',
        0xFB => '\u{FE23}',
        0xFE => '\u{0313}',
        _ => return None,
    })
}

fn charset_name(final_byte: u8) -> &'static str {
    match final_byte {
        b'3' => "Basic Arabic",
        b'4' => "Extended Arabic",
        b'N' => "Basic Cyrillic",
        b'Q' => "Extended Cyrillic",
        b'S' => "Basic Greek",
        b'2' => "Basic Hebrew",
        b'1' => "East Asian (CJK)",
        _ => "an unknown",
    }
}

/// Converts one MARC-8 string (a subfield or control field) to UTF-8.
pub fn to_utf8(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if bytes.is_ascii() && !bytes.contains(&0x1B) {
        return std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| e.to_string());
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut marks: Vec<char> = Vec::new();
    let mut i = 0;
    let flush = |out: &mut String, marks: &mut Vec<char>| {
        out.extend(marks.drain(..));
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1B {
            let next = bytes.get(i + 1).copied();
            match next {
                // Back to ASCII.
                Some(b's') => i += 2,
                Some(b'(') | Some(b',') | Some(b')') | Some(b'-') => {
                    let mut j = i + 2;
                    if bytes.get(j) == Some(&b'!') {
                        j += 1;
                    }
                    let fin = bytes.get(j).copied();
                    match (next, fin) {
                        (Some(b'(') | Some(b','), Some(b'B')) => {}
                        (Some(b')') | Some(b'-'), Some(b'E')) => {}
                        (_, Some(f)) => {
                            return Err(format!(
                                "uses the MARC-8 {} character set, which Shelfkeeper cannot read; convert the file to UTF-8",
                                charset_name(f)
                            ));
                        }
                        (_, None) => return Err("ends inside a MARC-8 escape sequence".into()),
                    }
                    i = j + 1;
                }
                Some(b'$') => {
                    return Err(
                        "uses the MARC-8 East Asian (CJK) character set, which Shelfkeeper cannot read; convert the file to UTF-8".into()
                    );
                }
                Some(b'g') | Some(b'b') | Some(b'p') => {
                    return Err(
                        "uses MARC-8 Greek symbols, subscripts or superscripts, which Shelfkeeper cannot read; convert the file to UTF-8"
                            .into(),
                    );
                }
                _ => return Err(format!("has an unknown MARC-8 escape sequence at byte {i}")),
            }
            continue;
        }
        if b < 0x80 {
            out.push(b as char);
            flush(&mut out, &mut marks);
        } else if b == 0x88 || b == 0x89 {
            // Non-sort begin/end markers: formatting, not text.
        } else if let Some(c) = special(b) {
            out.push(c);
            flush(&mut out, &mut marks);
        } else if let Some(m) = combining(b) {
            marks.push(m);
        } else {
            return Err(format!("byte 0x{b:02X} is not a MARC-8 character"));
        }
        i += 1;
    }
    flush(&mut out, &mut marks);
    Ok(Cow::Owned(out.nfc().collect()))
}

/// UTF-8 to MARC-8 is not written: Shelfkeeper writes UTF-8 records. This
/// helper exists for tests and samples: ASCII plus a few ANSEL letters and
/// acute/grave/diaeresis/cedilla/tilde on Latin letters.
pub fn from_utf8_for_samples(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.nfd() {
        let mark = match c {
            '\u{0300}' => Some(0xE1),
            '\u{0301}' => Some(0xE2),
            '\u{0302}' => Some(0xE3),
            '\u{0303}' => Some(0xE4),
            '\u{0308}' => Some(0xE8),
            '\u{0327}' => Some(0xF0),
            '\u{030A}' => Some(0xEA),
            _ => None,
        };
        if let Some(m) = mark {
            // MARC-8 writes the mark before its base letter.
            let base = out.pop().unwrap_or(b' ');
            out.push(m);
            out.push(base);
            continue;
        }
        if c.is_ascii() {
            out.push(c as u8);
        } else if let Some(b) = (0xA1..=0xC8u8).find(|&b| special(b) == Some(c)) {
            out.push(b);
        } else {
            out.push(b'?');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_move_after_their_letter_and_compose() {
        assert_eq!(to_utf8(b"Caf\xE2e").unwrap(), "Café");
        assert_eq!(to_utf8(b"\xE8Uber").unwrap(), "Über");
        assert_eq!(to_utf8(b"\xA1od\xE2z").unwrap(), "Łodź");
        assert_eq!(to_utf8(b"\xB2ystein \xA5rbok \xC3").unwrap(), "øystein Ærbok ©");
        assert_eq!(to_utf8(&from_utf8_for_samples("Ça va, Müller? Øresund")).unwrap(), "Ça va, Müller? Øresund");
        assert!(to_utf8(b"\x1B(NABC\x1Bs").unwrap_err().contains("Cyrillic"));
        assert!(to_utf8(b"\x1B$1!!!").is_err());
        assert_eq!(to_utf8(b"\x1B(BPlain\x1Bs").unwrap(), "Plain");
    }
}
