//! MARC 21 bibliographic records: ISO 2709 (binary) and MARCXML.
//!
//! # Reading
//!
//! | MARC | record |
//! | --- | --- |
//! | 001 | source key (Shelfkeeper's own: the title id) |
//! | 010 $a | LCCN |
//! | 020 $a | ISBN, qualifiers like `(pbk.)` stripped (the first 020 with $a) |
//! | 041 $a, else 008/35–37 | language |
//! | 090/092/099, else 050, else 082 ($a $b) | call number; else the first 852 $h $i or 952 $o |
//! | 100/110/111, 700/710/711 | contributors, in that order; $a (+ $b), trailing punctuation stripped, dates ($d) dropped; role from $e (or $j for meetings) or the $4 relator code, else "author"; a 7XX with $t (a related work) is skipped |
//! | 245 $a $n $p, $b | title (parts joined with ". "), subtitle; ISBD punctuation stripped |
//! | 250 $a | "Edition: …" in the notes |
//! | 260 or 264 $b, $c | publisher, published (a date or a year; else 008/07–10) |
//! | 300 $a | pages: the number before "p." ("xii, 310 p." → 310) |
//! | 490, else 830 $a $v | series, series number |
//! | 500 $a, 520 $a | notes, joined by a blank line |
//! | 600/610/611/630/650/651 | subjects: main part ($a $b $c $d $q $t) then subdivisions ($v $x $y $z) joined with " -- " |
//! | 653 $a | tags |
//! | 852 with $p | a copy: $p barcode, $b location, $c shelf, $z note; $h $i call number |
//! | 952 (Koha items) | a copy: $p barcode, $a (else $b) branch → location, $c shelving location → shelf, $o call number, $d acquired, $g price, $e source → provenance, $z note |
//!
//! Leader/09 `a` means UTF-8; blank means MARC-8, converted to UTF-8 for
//! ASCII and ANSEL (special letters and combining diacritics, which MARC-8
//! writes before their base letter), then NFC-normalised. Escapes to other
//! MARC-8 character sets (Greek, Cyrillic, Arabic, Hebrew, CJK, sub- and
//! superscripts) are a `RecordError`, as is a record that says UTF-8 and is
//! not.
//!
//! # Writing
//!
//! [`MarcXmlWriter`] and [`Marc21Writer`] write one record per title:
//! leader (UTF-8), 001 title id, 003 `Shelfkeeper`, 005 last change, 008,
//! 010 LCCN, 020 ISBN-13, 041 language, 090 call number, 100 first
//! contributor and 700 the others ($a name, $e role), 245 $a title $b
//! subtitle, 264 $b publisher $c published, 300 `N p.`, 490 $a series $v
//! number, 500 notes, 650 subjects, 653 tags, and for each copy an 852
//! ($8 link, $b location, $c shelf, $p barcode, $z notes) and an 876 with the
//! same $8 ($p barcode, $c price with currency, $d acquired, $e provenance,
//! $j condition). Records whose 003 is `Shelfkeeper` are read back verbatim.

pub mod binary;
mod map;
pub(crate) mod marc8;
pub mod xml;

pub use binary::{Marc21Writer, MarcReader};
pub use map::to_marc;
pub use xml::{MarcXmlReader, MarcXmlWriter};

use std::borrow::Cow;

/// One field of a record: a control field (`value`) or a data field
/// (indicators and subfields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarcField<'a> {
    pub tag: [u8; 3],
    pub ind1: char,
    pub ind2: char,
    pub value: Option<Cow<'a, str>>,
    pub subfields: Vec<(char, Cow<'a, str>)>,
}

impl<'a> MarcField<'a> {
    pub fn control(tag: &str, value: impl Into<Cow<'a, str>>) -> Self {
        MarcField { tag: tag_bytes(tag), ind1: ' ', ind2: ' ', value: Some(value.into()), subfields: Vec::new() }
    }

    pub fn data(tag: &str, ind1: char, ind2: char) -> Self {
        MarcField { tag: tag_bytes(tag), ind1, ind2, value: None, subfields: Vec::new() }
    }

    pub fn sub(mut self, code: char, value: impl Into<Cow<'a, str>>) -> Self {
        self.subfields.push((code, value.into()));
        self
    }

    pub fn tag_str(&self) -> &str {
        std::str::from_utf8(&self.tag).unwrap_or("???")
    }

    pub fn is(&self, tag: &str) -> bool {
        let t = tag.as_bytes();
        t.len() == 3 && self.tag[0] == t[0] && self.tag[1] == t[1] && self.tag[2] == t[2]
    }

    /// The first subfield with this code.
    pub fn first(&self, code: char) -> Option<&str> {
        self.subfields.iter().find(|(c, _)| *c == code).map(|(_, v)| v.as_ref())
    }

    pub fn all(&self, code: char) -> impl Iterator<Item = &str> {
        self.subfields.iter().filter(move |(c, _)| *c == code).map(|(_, v)| v.as_ref())
    }
}

fn tag_bytes(tag: &str) -> [u8; 3] {
    let b = tag.as_bytes();
    [b.first().copied().unwrap_or(b'?'), b.get(1).copied().unwrap_or(b'?'), b.get(2).copied().unwrap_or(b'?')]
}

/// A MARC record: the 24-character leader and the fields in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarcRecord<'a> {
    pub leader: Cow<'a, str>,
    pub fields: Vec<MarcField<'a>>,
}

impl MarcRecord<'_> {
    pub fn field(&self, tag: &str) -> Option<&MarcField<'_>> {
        self.fields.iter().find(|f| f.is(tag))
    }

    pub fn fields<'s>(&'s self, tag: &'s str) -> impl Iterator<Item = &'s MarcField<'s>> + 's {
        self.fields.iter().filter(move |f| f.is(tag))
    }

    pub fn control(&self, tag: &str) -> Option<&str> {
        self.field(tag).and_then(|f| f.value.as_deref())
    }
}
