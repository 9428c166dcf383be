//! ISO 2709: UTF-8 and MARC-8 records, repeated fields, holdings, and broken
//! records that are reported while the next record is still read.

use crate::helpers::assert_valid;
use shelfkeeper_interchange::marc::binary::write_record;
use shelfkeeper_interchange::marc::{MarcField, MarcRecord};
use shelfkeeper_interchange::{FileErrorCode, ImportRecord, MarcReader, RecordError};
use std::borrow::Cow;

fn read(bytes: &[u8]) -> Vec<Result<ImportRecord, RecordError>> {
    MarcReader::new(bytes).expect("opens").collect()
}

/// A Library of Congress-style record of The Hobbit.
pub fn hobbit() -> MarcRecord<'static> {
    MarcRecord {
        leader: Cow::Borrowed("00000cam a2200000 i 4500"),
        fields: vec![
            MarcField::control("001", "  12345678 "),
            MarcField::control("003", "DLC"),
            MarcField::control("008", "660101s1966    maua   j      000 1 eng  "),
            MarcField::data("010", ' ', ' ').sub('a', "   66016532 "),
            MarcField::data("020", ' ', ' ').sub('a', "0395071224 (pbk.) :").sub('c', "$7.95"),
            MarcField::data("020", ' ', ' ').sub('a', "9780395071229"),
            MarcField::data("050", '0', '0').sub('a', "PZ8.T6").sub('b', "Ho 1966"),
            MarcField::data("082", '0', '0').sub('a', "823/.912"),
            MarcField::data("100", '1', ' ')
                .sub('a', "Tolkien, J. R. R.")
                .sub('q', "(John Ronald Reuel),")
                .sub('d', "1892-1973,")
                .sub('e', "author."),
            MarcField::data("245", '1', '4').sub('a', "The hobbit :").sub('b', "or, There and back again /").sub('c', "by J.R.R. Tolkien."),
            MarcField::data("250", ' ', ' ').sub('a', "Rev. ed."),
            MarcField::data("264", ' ', '1').sub('a', "Boston :").sub('b', "Houghton Mifflin,").sub('c', "[1966]"),
            MarcField::data("300", ' ', ' ').sub('a', "xii, 310 p. :").sub('b', "ill., map ;").sub('c', "21 cm"),
            MarcField::data("490", '1', ' ').sub('a', "Middle-earth ;").sub('v', "1"),
            MarcField::data("500", ' ', ' ').sub('a', "Sequel: The lord of the rings."),
            MarcField::data("520", ' ', ' ').sub('a', "Bilbo Baggins goes on an adventure."),
            MarcField::data("650", ' ', '0').sub('a', "Middle Earth (Imaginary place)").sub('v', "Fiction."),
            MarcField::data("650", ' ', '0').sub('a', "Dragons").sub('x', "Folklore").sub('z', "Europe").sub('y', "20th century."),
            MarcField::data("600", '1', '0').sub('a', "Baggins, Bilbo").sub('c', "(Fictitious character)").sub('v', "Fiction."),
            MarcField::data("653", ' ', ' ').sub('a', "fantasy").sub('a', "classics"),
            MarcField::data("700", '1', ' ').sub('a', "Baynes, Pauline,").sub('4', "ill"),
            MarcField::data("700", '1', '2').sub('a', "Tolkien, Christopher.").sub('t', "Unfinished tales."),
            MarcField::data("710", '2', ' ').sub('a', "Houghton Mifflin Company.").sub('b', "Juvenile Division,").sub('e', "publisher."),
            MarcField::data("852", ' ', ' ').sub('a', "DLC").sub('h', "PZ8.T6").sub('i', "Ho 1966"),
            MarcField::data("852", ' ', ' ').sub('b', "Main").sub('c', "Children's").sub('p', "31234000123456").sub('z', "Gift copy"),
            MarcField::data("952", ' ', ' ')
                .sub('a', "CPL")
                .sub('b', "CPL")
                .sub('c', "JUV")
                .sub('d', "2019-04-02")
                .sub('g', "12.99")
                .sub('o', "J TOL")
                .sub('p', "39999000001234")
                .sub('e', "Friends of the Library"),
        ],
    }
}

fn bytes_of(rec: &MarcRecord<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    write_record(rec, &mut out).unwrap();
    out
}

#[test]
fn a_library_record_maps_field_by_field() {
    let recs = read(&bytes_of(&hobbit()));
    let r = recs[0].as_ref().unwrap();
    assert_valid(r);
    let t = &r.title;
    assert_eq!(r.source_key.as_deref(), Some("12345678"));
    assert_eq!(t.lccn.as_deref(), Some("66016532"));
    assert_eq!(t.isbn.as_deref(), Some("0395071224"), "the first 020, qualifier stripped");
    assert_eq!(t.language.as_deref(), Some("eng"));
    assert_eq!(t.call_number.as_deref(), Some("PZ8.T6 Ho 1966"));
    let c: Vec<(&str, &str)> = t.contributors.iter().map(|c| (c.name.as_str(), c.role.as_str())).collect();
    assert_eq!(
        c,
        [("Tolkien, J. R. R.", "author"), ("Baynes, Pauline", "illustrator"), ("Houghton Mifflin Company. Juvenile Division", "publisher")]
    );
    assert_eq!(t.title, "The hobbit");
    assert_eq!(t.subtitle.as_deref(), Some("or, There and back again"));
    assert_eq!(t.publisher.as_deref(), Some("Houghton Mifflin"));
    assert_eq!(t.published.as_deref(), Some("1966"));
    assert_eq!(t.pages, Some(310));
    assert_eq!(t.series.as_deref(), Some("Middle-earth"));
    assert_eq!(t.series_number.as_deref(), Some("1"));
    assert_eq!(t.notes.as_deref(), Some("Edition: Rev. ed.\n\nSequel: The lord of the rings.\n\nBilbo Baggins goes on an adventure."));
    assert_eq!(
        t.subjects,
        [
            "Middle Earth (Imaginary place) -- Fiction",
            "Dragons -- Folklore -- Europe -- 20th century",
            "Baggins, Bilbo (Fictitious character) -- Fiction"
        ]
    );
    assert_eq!(t.tags, ["fantasy", "classics"]);
    assert_eq!(r.copies.len(), 2, "852 without $p is not a copy; 952 is");
    assert_eq!(r.copies[0].barcode, "31234000123456");
    assert_eq!(r.copies[0].location.as_deref(), Some("Main"));
    assert_eq!(r.copies[0].shelf.as_deref(), Some("Children's"));
    assert_eq!(r.copies[0].notes.as_deref(), Some("Gift copy"));
    let k = &r.copies[1];
    assert_eq!(k.barcode, "39999000001234");
    assert_eq!(k.location.as_deref(), Some("CPL"));
    assert_eq!(k.shelf.as_deref(), Some("JUV"));
    assert_eq!(k.acquired_on.map(|d| d.to_string()).as_deref(), Some("2019-04-02"));
    assert_eq!(k.price_cents, Some(1299));
    assert_eq!(k.provenance.as_deref(), Some("Friends of the Library"));
}

#[test]
fn multibyte_utf8() {
    let mut rec = hobbit();
    rec.fields[9] =
        MarcField::data("245", '1', '0').sub('a', "Das Glasperlenspiel —").sub('b', "Versuch einer Lebensbeschreibung ; 東京 /");
    rec.fields[8] = MarcField::data("100", '1', ' ').sub('a', "Hesse, Hermann,").sub('d', "1877-1962.");
    let r = read(&bytes_of(&rec)).remove(0).unwrap();
    assert_eq!(r.title.title, "Das Glasperlenspiel —");
    assert_eq!(r.title.subtitle.as_deref(), Some("Versuch einer Lebensbeschreibung ; 東京"));
    assert_eq!(r.title.contributors[0].name, "Hesse, Hermann");
}

/// A MARC-8 record (leader/09 blank) built byte by byte.
fn marc8_record(title: &[u8], author: &[u8]) -> Vec<u8> {
    let mut fields: Vec<(&str, Vec<u8>)> = vec![("001", b"m8-1".to_vec())];
    let mut f100 = b"1 \x1Fa".to_vec();
    f100.extend_from_slice(author);
    fields.push(("100", f100));
    let mut f245 = b"10\x1Fa".to_vec();
    f245.extend_from_slice(title);
    fields.push(("245", f245));
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, mut body) in fields {
        body.push(0x1E);
        directory.extend_from_slice(format!("{tag}{:04}{:05}", body.len(), data.len()).as_bytes());
        data.extend_from_slice(&body);
    }
    let base = 24 + directory.len() + 1;
    let total = base + data.len() + 1;
    let mut out = format!("{total:05}nam  22{base:05} a 4500").into_bytes();
    out.extend_from_slice(&directory);
    out.push(0x1E);
    out.extend_from_slice(&data);
    out.push(0x1D);
    out
}

#[test]
fn marc8_diacritics_and_special_letters() {
    let bytes = marc8_record(b"Caf\xE2e soci\xE2et\xE2e, M\xE8uller & \xA2resund \xC3 1999 /", b"\xA1\xE2od\xE2z, \xB1ukasz \xB5r\xB2,");
    let r = read(&bytes).remove(0).unwrap();
    assert_eq!(r.title.title, "Café société, Müller & Øresund © 1999");
    assert_eq!(r.title.contributors[0].name, "Łódź, łukasz ærø");
    // Composed (NFC), not base letter + combining mark.
    assert!(r.title.title.contains('\u{e9}'));
}

#[test]
fn unsupported_marc8_sets_and_false_utf8_are_errors_and_the_next_record_reads() {
    let mut bytes = marc8_record(b"\x1B(NCyrillic\x1Bs", b"Author");
    bytes.extend(marc8_record(b"Fine", b"Author"));
    let mut lying = bytes_of(&hobbit());
    let at = lying.windows(10).position(|w| w == b"The hobbit").unwrap();
    lying[at + 4] = 0xFF;
    bytes.extend(&lying);
    bytes.extend(bytes_of(&hobbit()));
    let recs = read(&bytes);
    assert_eq!(recs.len(), 4);
    let e = recs[0].as_ref().unwrap_err();
    assert_eq!(e.position.record, 1);
    assert!(e.to_string().contains("record 1 at byte 0: field 245 $a uses the MARC-8 Basic Cyrillic character set"), "{e}");
    assert_eq!(recs[1].as_ref().unwrap().title.title, "Fine");
    let e = recs[2].as_ref().unwrap_err();
    assert!(e.message.contains("leader/09 says UTF-8 but field 245 $a is not UTF-8"), "{e}");
    assert_eq!(recs[3].as_ref().unwrap().title.title, "The hobbit");
}

#[test]
fn broken_lengths_are_reported_with_record_and_byte_and_reading_goes_on() {
    let good = bytes_of(&hobbit());
    let n = good.len();
    // Record 2: the leader claims more bytes than the record has.
    let mut longer = good.clone();
    longer[..5].copy_from_slice(format!("{:05}", n + 7).as_bytes());
    // Record 3: a non-numeric length.
    let mut letters = good.clone();
    letters[..5].copy_from_slice(b"12a45");
    // Record 4: a directory entry pointing beyond the record.
    let mut beyond = good.clone();
    beyond[24 + 7..24 + 12].copy_from_slice(b"99999");
    // Record 5: fine. Record 6: truncated at the end of the file.
    let mut file = Vec::new();
    for r in [&good, &longer, &letters, &beyond, &good] {
        file.extend_from_slice(r);
    }
    let truncated_at = file.len();
    file.extend_from_slice(&good[..n / 2]);
    let recs = read(&file);
    let summary: Vec<String> = recs.iter().map(|r| r.as_ref().map(|r| r.position.to_string()).unwrap_or_else(|e| e.to_string())).collect();
    assert_eq!(recs.len(), 6, "{summary:#?}");
    assert!(recs[0].is_ok());
    assert_eq!(
        summary[1],
        format!("record 2 at byte {n}: leader says {} bytes but the record does not end there with a record terminator (0x1D)", n + 7)
    );
    assert_eq!(summary[2], format!("record 3 at byte {}: the leader's record length '12a45' is not a number", 2 * n));
    assert!(
        summary[3].starts_with(&format!("record 4 at byte {}: field 001: the directory points beyond the record", 3 * n)),
        "{}",
        summary[3]
    );
    assert_eq!(recs[4].as_ref().unwrap().position.to_string(), format!("record 5 at byte {}", 4 * n));
    assert_eq!(summary[5], format!("record 6 at byte {truncated_at}: leader says {n} bytes but only {} remain", n / 2));
}

#[test]
fn missing_terminators_and_junk_between_records() {
    let good = bytes_of(&hobbit());
    let mut no_field_end = good.clone();
    let last_field_end = no_field_end.len() - 2;
    no_field_end[last_field_end] = b'X';
    let mut file = good.clone();
    file.extend_from_slice(b"\r\n");
    file.extend_from_slice(&no_field_end);
    file.extend_from_slice(b"\n");
    file.extend_from_slice(&good);
    let recs = read(&file);
    assert_eq!(recs.len(), 3);
    assert!(recs[1].as_ref().unwrap_err().message.contains("does not end with a field terminator"));
    assert!(recs[2].is_ok());
}

#[test]
fn not_marc_is_a_file_error() {
    assert_eq!(MarcReader::new(b"Title,Author\n").err().unwrap().code, FileErrorCode::NotMarc);
    assert_eq!(MarcReader::new(b"  ").err().unwrap().code, FileErrorCode::Empty);
    assert_eq!(shelfkeeper_interchange::Format::sniff(&bytes_of(&hobbit())), shelfkeeper_interchange::Format::Marc21);
}
