//! Column mappings: which column feeds which field of a record, and the
//! presets for Shelfkeeper's own CSV and other programs' exports.

use serde::{Deserialize, Serialize};

/// What a column means. Serialised as `{"to": "authors", "separator": ","}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Field {
    /// With `series_in_parentheses`, `Title (Series, #2)` also fills the
    /// series and its number (Goodreads).
    Title {
        #[serde(default)]
        series_in_parentheses: bool,
    },
    Subtitle,
    /// The authors, in order; a list when `separator` is given.
    Authors {
        #[serde(default)]
        separator: Option<String>,
    },
    /// More authors, after `Authors`.
    AdditionalAuthors {
        #[serde(default)]
        separator: Option<String>,
    },
    /// The roles of `Authors`, in the same order (LibraryThing "Primary Author
    /// Role").
    AuthorRoles {
        #[serde(default)]
        separator: Option<String>,
    },
    /// The roles of `AdditionalAuthors` (LibraryThing "Secondary Author Roles").
    AdditionalAuthorRoles {
        #[serde(default)]
        separator: Option<String>,
    },
    /// People with one role ("translator", "illustrator").
    Contributor {
        role: String,
        #[serde(default)]
        separator: Option<String>,
    },
    /// Shelfkeeper's encoding: `Name (role); Name (role)`.
    Contributors,
    /// Any ISBN; ISBN-13 columns win over it, it wins over ISBN-10 columns.
    Isbn,
    Isbn13,
    Isbn10,
    /// Calibre's `isbn:…,goodreads:…`: the ISBN is taken.
    Identifiers,
    Publisher,
    /// LibraryThing's `Publisher (2007), Edition: 1st, Hardcover`: the
    /// publisher is the text before ` (` or `,`.
    PublicationStatement,
    /// Year or date in many forms; `day_first` decides `05/06/2021`.
    Published {
        #[serde(default)]
        day_first: bool,
    },
    Pages,
    /// An ISO 639 code or an English language name.
    Language,
    Series,
    SeriesNumber,
    /// Calibre's series index (`1.0` → `1`); kept only when the row names a
    /// series (Calibre writes 1.0 for every book).
    SeriesIndex,
    Subjects {
        #[serde(default)]
        separator: Option<String>,
        /// Shelfkeeper's backslash escapes (`\;`).
        #[serde(default)]
        escaped: bool,
    },
    Tags {
        #[serde(default)]
        separator: Option<String>,
        #[serde(default)]
        escaped: bool,
        /// Values not kept as tags (case-insensitive), e.g. Goodreads'
        /// reading shelves, which become the reading state.
        #[serde(default)]
        skip: Vec<String>,
    },
    Lccn,
    CallNumber,
    /// Several notes columns are joined by a blank line.
    Notes,
    Barcode,
    Location,
    Shelf,
    Condition,
    AcquiredOn {
        #[serde(default)]
        day_first: bool,
    },
    /// A decimal price, with an optional currency symbol or code.
    Price,
    /// An integer price in minor units.
    PriceCents,
    Currency,
    Provenance,
    CopyNotes,
    /// How many copies the row stands for (Goodreads "Owned Copies").
    CopiesCount,
    /// With `other_as_tag`, a value that is no reading state is kept as a tag
    /// (Goodreads' custom exclusive shelves); otherwise it is an error.
    ReadingState {
        #[serde(default)]
        other_as_tag: bool,
    },
    /// 0..`out_of` (default 5), halves allowed; 0 means none.
    Rating {
        #[serde(default)]
        out_of: Option<u8>,
    },
    Review,
    SourceKey,
    TitleId,
    Ignore,
}

impl Field {
    /// Whether the column describes a copy (a row with any of them stands
    /// for at least one copy).
    pub fn is_copy_field(&self) -> bool {
        matches!(
            self,
            Field::Barcode
                | Field::Location
                | Field::Shelf
                | Field::Condition
                | Field::AcquiredOn { .. }
                | Field::Price
                | Field::PriceCents
                | Field::Currency
                | Field::Provenance
                | Field::CopyNotes
        )
    }
}

/// One column and what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ColumnMapping {
    /// The header as written (matched exactly, then ignoring case and
    /// surrounding spaces).
    pub column: String,
    pub field: Field,
}

/// Which columns feed which fields. Columns not listed are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Mapping {
    pub columns: Vec<ColumnMapping>,
}

impl Mapping {
    pub fn new() -> Self {
        Mapping::default()
    }

    pub fn with(mut self, column: &str, field: Field) -> Self {
        self.columns.push(ColumnMapping { column: column.to_string(), field });
        self
    }

    /// A guess from header names alone, for files no preset recognises: the
    /// columns whose names say what they are (`title`, `author`, `isbn`, …).
    pub fn suggest(headers: &[String]) -> Mapping {
        let mut m = Mapping::new();
        for h in headers {
            let key: String = h.trim().to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
            let field = match key.as_str() {
                "title" | "booktitle" | "titel" | "titre" => Field::Title { series_in_parentheses: false },
                "subtitle" => Field::Subtitle,
                "author" | "authors" | "creator" | "creators" | "writer" => Field::Authors { separator: Some(";".into()) },
                "isbn" | "ean" | "isbnean" => Field::Isbn,
                "isbn13" | "eanisbn13" => Field::Isbn13,
                "isbn10" => Field::Isbn10,
                "publisher" | "verlag" | "editeur" => Field::Publisher,
                "published" | "year" | "date" | "publicationdate" | "publisheddate" | "yearpublished" | "pubdate" => {
                    Field::Published { day_first: false }
                }
                "pages" | "pagecount" | "numberofpages" => Field::Pages,
                "language" | "lang" => Field::Language,
                "series" => Field::Series,
                "seriesnumber" | "volume" => Field::SeriesNumber,
                "subjects" | "subject" | "genre" | "genres" => Field::Subjects { separator: Some(";".into()), escaped: false },
                "tags" | "keywords" => Field::Tags { separator: Some(",".into()), escaped: false, skip: Vec::new() },
                "lccn" => Field::Lccn,
                "callnumber" | "dewey" | "ddc" | "lcc" => Field::CallNumber,
                "notes" | "note" | "comments" | "description" => Field::Notes,
                "barcode" => Field::Barcode,
                "location" => Field::Location,
                "shelf" => Field::Shelf,
                "condition" => Field::Condition,
                "price" => Field::Price,
                "currency" => Field::Currency,
                "rating" => Field::Rating { out_of: None },
                "review" => Field::Review,
                "copies" => Field::CopiesCount,
                _ => continue,
            };
            if m.columns.iter().any(|c| c.field == field) {
                continue;
            }
            m.columns.push(ColumnMapping { column: h.clone(), field });
        }
        m
    }
}

/// Programs whose exports Shelfkeeper reads without a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Shelfkeeper,
    Goodreads,
    LibraryThing,
    Libib,
    Calibre,
}

fn has(headers: &[String], name: &str) -> bool {
    headers.iter().any(|h| h.trim().eq_ignore_ascii_case(name))
}

impl Preset {
    pub const ALL: [Preset; 5] = [Preset::Shelfkeeper, Preset::Goodreads, Preset::LibraryThing, Preset::Libib, Preset::Calibre];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Shelfkeeper => "shelfkeeper",
            Preset::Goodreads => "goodreads",
            Preset::LibraryThing => "library_thing",
            Preset::Libib => "libib",
            Preset::Calibre => "calibre",
        }
    }

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Shelfkeeper => "Shelfkeeper CSV",
            Preset::Goodreads => "Goodreads export",
            Preset::LibraryThing => "LibraryThing export",
            Preset::Libib => "Libib export",
            Preset::Calibre => "Calibre CSV catalogue",
        }
    }

    /// Recognises an export by the columns only it writes.
    pub fn detect(headers: &[String]) -> Option<Preset> {
        let h = |n| has(headers, n);
        if h("title_id") && h("contributors") && h("barcode") {
            Some(Preset::Shelfkeeper)
        } else if h("Book Id") && (h("Exclusive Shelf") || h("Author l-f") || h("My Rating")) {
            Some(Preset::Goodreads)
        } else if h("Primary Author") && (h("Book Id") || h("Sort Character") || h("Secondary Author") || h("BCID")) {
            Some(Preset::LibraryThing)
        } else if h("ean_isbn13") || (h("creators") && h("upc_isbn10")) {
            Some(Preset::Libib)
        } else if h("authors") && h("title") && (h("author_sort") || h("series_index") || h("identifiers") || h("uuid")) {
            Some(Preset::Calibre)
        } else {
            None
        }
    }

    /// The preset's mapping. Columns a file lacks are skipped.
    pub fn mapping(self) -> Mapping {
        let none = None;
        let comma = || Some(",".to_string());
        let m = Mapping::new();
        match self {
            Preset::Shelfkeeper => m
                .with("title_id", Field::TitleId)
                .with("title", Field::Title { series_in_parentheses: false })
                .with("subtitle", Field::Subtitle)
                .with("contributors", Field::Contributors)
                .with("subjects", Field::Subjects { separator: Some(";".into()), escaped: true })
                .with("tags", Field::Tags { separator: Some(";".into()), escaped: true, skip: Vec::new() })
                .with("series", Field::Series)
                .with("series_number", Field::SeriesNumber)
                .with("language", Field::Language)
                .with("publisher", Field::Publisher)
                .with("published", Field::Published { day_first: false })
                .with("pages", Field::Pages)
                .with("isbn13", Field::Isbn13)
                .with("lccn", Field::Lccn)
                .with("call_number", Field::CallNumber)
                .with("notes", Field::Notes)
                .with("barcode", Field::Barcode)
                .with("location", Field::Location)
                .with("shelf", Field::Shelf)
                .with("condition", Field::Condition)
                .with("acquired_on", Field::AcquiredOn { day_first: false })
                .with("price_cents", Field::PriceCents)
                .with("currency", Field::Currency)
                .with("provenance", Field::Provenance)
                .with("copy_notes", Field::CopyNotes),
            Preset::Goodreads => m
                .with("Book Id", Field::SourceKey)
                .with("Title", Field::Title { series_in_parentheses: true })
                .with("Author", Field::Authors { separator: none })
                .with("Additional Authors", Field::AdditionalAuthors { separator: comma() })
                .with("ISBN13", Field::Isbn13)
                .with("ISBN", Field::Isbn10)
                .with("My Rating", Field::Rating { out_of: Some(5) })
                .with("Publisher", Field::Publisher)
                .with("Number of Pages", Field::Pages)
                .with("Year Published", Field::Published { day_first: false })
                .with(
                    "Bookshelves",
                    Field::Tags {
                        separator: comma(),
                        escaped: false,
                        skip: vec!["read".into(), "currently-reading".into(), "to-read".into()],
                    },
                )
                .with("Exclusive Shelf", Field::ReadingState { other_as_tag: true })
                .with("My Review", Field::Review)
                .with("Private Notes", Field::Notes)
                .with("Owned Copies", Field::CopiesCount),
            Preset::LibraryThing => m
                .with("Book Id", Field::SourceKey)
                .with("Title", Field::Title { series_in_parentheses: false })
                .with("Primary Author", Field::Authors { separator: none.clone() })
                .with("Primary Author Role", Field::AuthorRoles { separator: none })
                .with("Secondary Author", Field::AdditionalAuthors { separator: Some("|".into()) })
                .with("Secondary Author Roles", Field::AdditionalAuthorRoles { separator: Some("|".into()) })
                .with("Publication", Field::PublicationStatement)
                .with("Date", Field::Published { day_first: false })
                .with("Review", Field::Review)
                .with("Rating", Field::Rating { out_of: Some(5) })
                .with("Comment", Field::Notes)
                .with("Private Comment", Field::Notes)
                .with("Page Count", Field::Pages)
                .with("LCCN", Field::Lccn)
                .with("Acquired", Field::AcquiredOn { day_first: false })
                .with("Barcode", Field::Barcode)
                .with("Tags", Field::Tags { separator: comma(), escaped: false, skip: Vec::new() })
                .with("Collections", Field::Tags { separator: comma(), escaped: false, skip: vec!["Your library".into()] })
                .with("Languages", Field::Language)
                .with("LC Classification", Field::CallNumber)
                .with("Dewey Decimal", Field::CallNumber)
                .with("Other Call Number", Field::CallNumber)
                .with("ISBN", Field::Isbn)
                .with("ISBNs", Field::Isbn)
                .with("Copies", Field::CopiesCount)
                .with("Purchase Price", Field::Price)
                .with("Condition", Field::Condition)
                .with("From Where", Field::Provenance),
            Preset::Libib => m
                .with("title", Field::Title { series_in_parentheses: false })
                .with("creators", Field::Authors { separator: comma() })
                .with("ean_isbn13", Field::Isbn13)
                .with("upc_isbn10", Field::Isbn10)
                .with("description", Field::Notes)
                .with("publisher", Field::Publisher)
                .with("publish_date", Field::Published { day_first: false })
                .with("group", Field::Series)
                .with("tags", Field::Tags { separator: comma(), escaped: false, skip: Vec::new() })
                .with("notes", Field::Notes)
                .with("price", Field::Price)
                .with("length", Field::Pages)
                .with("rating", Field::Rating { out_of: Some(5) })
                .with("review", Field::Review)
                .with("status", Field::ReadingState { other_as_tag: false })
                .with("copies", Field::CopiesCount),
            Preset::Calibre => m
                .with("uuid", Field::SourceKey)
                .with("title", Field::Title { series_in_parentheses: false })
                .with("authors", Field::Authors { separator: Some(" & ".into()) })
                .with("publisher", Field::Publisher)
                .with("pubdate", Field::Published { day_first: false })
                .with("isbn", Field::Isbn)
                .with("identifiers", Field::Identifiers)
                .with("languages", Field::Language)
                .with("series", Field::Series)
                .with("series_index", Field::SeriesIndex)
                .with("tags", Field::Tags { separator: comma(), escaped: false, skip: Vec::new() })
                .with("comments", Field::Notes)
                .with("rating", Field::Rating { out_of: Some(5) }),
        }
    }
}
