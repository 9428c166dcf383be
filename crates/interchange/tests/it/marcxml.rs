//! MARCXML: namespaced or not, collection or single record, broken XML,
//! entities that are never expanded, size caps.

use shelfkeeper_interchange::{FileErrorCode, ImportRecord, MarcXmlReader, RecordError};

fn read(xml: &str) -> Vec<Result<ImportRecord, RecordError>> {
    MarcXmlReader::new(xml.as_bytes()).expect("opens").collect()
}

const LOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <marc:record>
    <marc:leader>01142cam  2200301 a 4500</marc:leader>
    <marc:controlfield tag="001">   92005291 </marc:controlfield>
    <marc:controlfield tag="008">920219s1993    caua   j      000 0 eng  </marc:controlfield>
    <marc:datafield tag="020" ind1=" " ind2=" "><marc:subfield code="a">0152038655 :</marc:subfield><marc:subfield code="c">$15.95</marc:subfield></marc:datafield>
    <marc:datafield tag="100" ind1="1" ind2=" "><marc:subfield code="a">Sandburg, Carl,</marc:subfield><marc:subfield code="d">1878-1967.</marc:subfield></marc:datafield>
    <marc:datafield tag="245" ind1="1" ind2="0"><marc:subfield code="a">Arithmetic /</marc:subfield><marc:subfield code="c">Carl Sandburg ; illustrated as an anamorphic adventure by Ted Rand.</marc:subfield></marc:datafield>
    <marc:datafield tag="260" ind1=" " ind2=" "><marc:subfield code="a">San Diego :</marc:subfield><marc:subfield code="b">Harcourt Brace Jovanovich,</marc:subfield><marc:subfield code="c">c1993.</marc:subfield></marc:datafield>
    <marc:datafield tag="300" ind1=" " ind2=" "><marc:subfield code="a">1 v. (unpaged) :</marc:subfield></marc:datafield>
    <marc:datafield tag="650" ind1=" " ind2="1"><marc:subfield code="a">Arithmetic</marc:subfield><marc:subfield code="v">Juvenile poetry.</marc:subfield></marc:datafield>
    <marc:datafield tag="700" ind1="1" ind2=" "><marc:subfield code="a">Rand, Ted,</marc:subfield><marc:subfield code="e">ill.</marc:subfield></marc:datafield>
  </marc:record>
  <marc:record>
    <marc:leader>00000nam a2200000 a 4500</marc:leader>
    <marc:datafield tag="245" ind1="0" ind2="0"><marc:subfield code="a">Fish &amp; chips &lt;and&gt; &#233;t&#xE9; <![CDATA[<raw>]]></marc:subfield></marc:datafield>
  </marc:record>
</marc:collection>"#;

#[test]
fn library_of_congress_style_namespaced_collection() {
    let recs = read(LOC);
    assert_eq!(recs.len(), 2);
    let a = recs[0].as_ref().unwrap();
    assert_eq!(a.source_key.as_deref(), Some("92005291"));
    assert_eq!(a.title.isbn.as_deref(), Some("0152038655"));
    assert_eq!(a.title.title, "Arithmetic");
    assert_eq!(a.title.publisher.as_deref(), Some("Harcourt Brace Jovanovich"));
    assert_eq!(a.title.published.as_deref(), Some("1993"));
    assert_eq!(a.title.pages, None, "unpaged");
    assert_eq!(a.title.language.as_deref(), Some("eng"));
    assert_eq!(a.title.subjects, ["Arithmetic -- Juvenile poetry"]);
    let c: Vec<_> = a.title.contributors.iter().map(|c| (c.name.as_str(), c.role.as_str())).collect();
    assert_eq!(c, [("Sandburg, Carl", "author"), ("Rand, Ted", "illustrator")]);
    assert_eq!(a.position.to_string(), format!("record 1 at byte {}", LOC.find("<marc:record>").unwrap()));
    let b = recs[1].as_ref().unwrap();
    assert_eq!(b.title.title, "Fish & chips <and> été <raw>");
    crate::helpers::assert_valid(a);
}

#[test]
fn a_single_record_without_namespace() {
    let xml = r#"<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Alone.</subfield></datafield></record>"#;
    let recs = read(xml);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].as_ref().unwrap().title.title, "Alone");
}

#[test]
fn not_marcxml() {
    let err = |s: &str| MarcXmlReader::new(s.as_bytes()).err().unwrap();
    assert_eq!(err("<html><body/></html>").code, FileErrorCode::NotMarcXml);
    assert!(err("<html><body/></html>").message.contains("<html>"));
    assert_eq!(err("").code, FileErrorCode::Empty);
    assert_eq!(err("just text").code, FileErrorCode::NotMarcXml);
    assert_eq!(err("<?xml version=\"1.0\"?>").code, FileErrorCode::NotMarcXml);
}

#[test]
fn external_entities_are_never_expanded() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE collection [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY lol "lol"> ]>
<collection xmlns="http://www.loc.gov/MARC21/slim">
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">&xxe;</subfield></datafield></record>
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">&lol;&lol;</subfield></datafield></record>
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Safe</subfield></datafield></record>
</collection>"#;
    let recs = read(xml);
    assert_eq!(recs.len(), 3);
    let e = recs[0].as_ref().unwrap_err();
    assert_eq!(e.position.record, 1);
    assert!(e.message.contains("&xxe;") && e.message.contains("not expanded"), "{e}");
    assert!(recs[1].as_ref().unwrap_err().message.contains("&lol;"));
    assert_eq!(recs[2].as_ref().unwrap().title.title, "Safe");
}

#[test]
fn broken_xml_in_one_record_does_not_stop_the_file() {
    let xml = r#"<collection>
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">One</subfield></datafield></record>
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Two</subfeld></datafield></record>
  <record><datafield tag="24" ind1="0" ind2="0"><subfield code="ab">Three</subfield></datafield></record>
  <record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Four</subfield></datafield></record>
</collection>"#;
    let recs = read(xml);
    let summary: Vec<String> = recs.iter().map(|r| r.as_ref().map(|r| r.title.title.clone()).unwrap_or_else(|e| e.to_string())).collect();
    assert_eq!(recs.len(), 4, "{summary:#?}");
    assert_eq!(summary[0], "One");
    assert!(summary[1].starts_with("record 2 at byte") && summary[1].contains("not well-formed"), "{}", summary[1]);
    assert!(summary[2].contains("tag '24'"), "{}", summary[2]);
    assert_eq!(summary[3], "Four");
}

#[test]
fn oversized_values_are_refused() {
    let big = "x".repeat(shelfkeeper_interchange::marc::xml::MAX_VALUE_BYTES + 1);
    let xml = format!(
        r#"<collection><record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">{big}</subfield></datafield></record><record><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Next</subfield></datafield></record></collection>"#
    );
    let recs = read(&xml);
    assert!(recs[0].as_ref().unwrap_err().message.contains("longer than"));
    assert_eq!(recs[1].as_ref().unwrap().title.title, "Next");
}
