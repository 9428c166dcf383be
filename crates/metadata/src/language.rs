//! One spelling for languages, whichever provider gave them.
//!
//! Google Books gives ISO 639-1 ("en"), MARC records and Open Library give
//! the MARC/ISO 639-2 bibliographic code ("eng", "fre"). Shelfkeeper keeps
//! the **ISO 639-1 two-letter code where the language has one** ("en",
//! "fr") — the shortest and most familiar form, and what the domain's
//! examples use — and the ISO 639-2/B three-letter code otherwise ("haw",
//! "chr"). Both forms pass `TitleDraft::validate` (2–3 lowercase letters).

/// (ISO 639-2/B, ISO 639-1). The 20 languages whose ISO 639-2/T code
/// differs are in [`T_CODES`].
#[rustfmt::skip]
const CODES: &[(&str, &str)] = &[
    ("aar", "aa"), ("abk", "ab"), ("ave", "ae"), ("afr", "af"), ("aka", "ak"), ("amh", "am"), ("arg", "an"),
    ("ara", "ar"), ("asm", "as"), ("ava", "av"), ("aym", "ay"), ("aze", "az"), ("bak", "ba"), ("bel", "be"),
    ("bul", "bg"), ("bih", "bh"), ("bis", "bi"), ("bam", "bm"), ("ben", "bn"), ("tib", "bo"), ("bre", "br"),
    ("bos", "bs"), ("cat", "ca"), ("che", "ce"), ("cha", "ch"), ("cos", "co"), ("cre", "cr"), ("cze", "cs"),
    ("chu", "cu"), ("chv", "cv"), ("wel", "cy"), ("dan", "da"), ("ger", "de"), ("div", "dv"), ("dzo", "dz"),
    ("ewe", "ee"), ("gre", "el"), ("eng", "en"), ("epo", "eo"), ("spa", "es"), ("est", "et"), ("baq", "eu"),
    ("per", "fa"), ("ful", "ff"), ("fin", "fi"), ("fij", "fj"), ("fao", "fo"), ("fre", "fr"), ("fry", "fy"),
    ("gle", "ga"), ("gla", "gd"), ("glg", "gl"), ("grn", "gn"), ("guj", "gu"), ("glv", "gv"), ("hau", "ha"),
    ("heb", "he"), ("hin", "hi"), ("hmo", "ho"), ("hrv", "hr"), ("hat", "ht"), ("hun", "hu"), ("arm", "hy"),
    ("her", "hz"), ("ina", "ia"), ("ind", "id"), ("ile", "ie"), ("ibo", "ig"), ("iii", "ii"), ("ipk", "ik"),
    ("ido", "io"), ("ice", "is"), ("ita", "it"), ("iku", "iu"), ("jpn", "ja"), ("jav", "jv"), ("geo", "ka"),
    ("kon", "kg"), ("kik", "ki"), ("kua", "kj"), ("kaz", "kk"), ("kal", "kl"), ("khm", "km"), ("kan", "kn"),
    ("kor", "ko"), ("kau", "kr"), ("kas", "ks"), ("kur", "ku"), ("kom", "kv"), ("cor", "kw"), ("kir", "ky"),
    ("lat", "la"), ("ltz", "lb"), ("lug", "lg"), ("lim", "li"), ("lin", "ln"), ("lao", "lo"), ("lit", "lt"),
    ("lub", "lu"), ("lav", "lv"), ("mlg", "mg"), ("mah", "mh"), ("mao", "mi"), ("mac", "mk"), ("mal", "ml"),
    ("mon", "mn"), ("mar", "mr"), ("may", "ms"), ("mlt", "mt"), ("bur", "my"), ("nau", "na"), ("nob", "nb"),
    ("nde", "nd"), ("nep", "ne"), ("ndo", "ng"), ("dut", "nl"), ("nno", "nn"), ("nor", "no"), ("nbl", "nr"),
    ("nav", "nv"), ("nya", "ny"), ("oci", "oc"), ("oji", "oj"), ("orm", "om"), ("ori", "or"), ("oss", "os"),
    ("pan", "pa"), ("pli", "pi"), ("pol", "pl"), ("pus", "ps"), ("por", "pt"), ("que", "qu"), ("roh", "rm"),
    ("run", "rn"), ("rum", "ro"), ("rus", "ru"), ("kin", "rw"), ("san", "sa"), ("srd", "sc"), ("snd", "sd"),
    ("sme", "se"), ("sag", "sg"), ("sin", "si"), ("slo", "sk"), ("slv", "sl"), ("smo", "sm"), ("sna", "sn"),
    ("som", "so"), ("alb", "sq"), ("srp", "sr"), ("ssw", "ss"), ("sot", "st"), ("sun", "su"), ("swe", "sv"),
    ("swa", "sw"), ("tam", "ta"), ("tel", "te"), ("tgk", "tg"), ("tha", "th"), ("tir", "ti"), ("tuk", "tk"),
    ("tgl", "tl"), ("tsn", "tn"), ("ton", "to"), ("tur", "tr"), ("tso", "ts"), ("tat", "tt"), ("twi", "tw"),
    ("tah", "ty"), ("uig", "ug"), ("ukr", "uk"), ("urd", "ur"), ("uzb", "uz"), ("ven", "ve"), ("vie", "vi"),
    ("vol", "vo"), ("wln", "wa"), ("wol", "wo"), ("xho", "xh"), ("yid", "yi"), ("yor", "yo"), ("zha", "za"),
    ("chi", "zh"), ("zul", "zu"),
];

/// ISO 639-2/T (and 639-3) codes that differ from the bibliographic ones.
#[rustfmt::skip]
const T_CODES: &[(&str, &str)] = &[
    ("bod", "bo"), ("ces", "cs"), ("cym", "cy"), ("deu", "de"), ("ell", "el"), ("eus", "eu"), ("fas", "fa"),
    ("fra", "fr"), ("hye", "hy"), ("isl", "is"), ("kat", "ka"), ("mri", "mi"), ("mkd", "mk"), ("msa", "ms"),
    ("mya", "my"), ("nld", "nl"), ("ron", "ro"), ("slk", "sk"), ("sqi", "sq"), ("zho", "zh"),
];

/// Normalises a provider's language code: "eng", "EN", "en-GB", "fra" →
/// "en", "en", "en", "fr". Codes meaning "no language" ("und", "zxx",
/// blanks, MARC fill characters) and anything that is not a code give `None`.
pub fn normalise(code: &str) -> Option<String> {
    let code = code.trim();
    // "en-GB", "zh_CN": the language part only.
    let base = code.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    if !(2..=3).contains(&base.len()) || !base.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if matches!(base.as_str(), "und" | "zxx" | "mis") {
        return None;
    }
    if base.len() == 2 {
        return CODES.iter().any(|(_, two)| *two == base).then_some(base);
    }
    let two = CODES.iter().chain(T_CODES).find(|(three, _)| *three == base).map(|(_, two)| two.to_string());
    Some(two.unwrap_or(base))
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn every_provider_spelling_gives_one_code() {
        for (input, want) in [
            ("eng", Some("en")),
            ("en", Some("en")),
            ("EN", Some("en")),
            ("en-GB", Some("en")),
            ("fre", Some("fr")),
            ("fra", Some("fr")),
            ("ger", Some("de")),
            ("zh-CN", Some("zh")),
            ("chi", Some("zh")),
            ("haw", Some("haw")),
            ("und", None),
            ("|||", None),
            ("   ", None),
            ("xx", None),
            ("english", None),
        ] {
            assert_eq!(normalise(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn the_table_has_no_duplicates() {
        let mut twos: Vec<&str> = super::CODES.iter().map(|(_, t)| *t).collect();
        twos.sort();
        let n = twos.len();
        twos.dedup();
        assert_eq!(n, twos.len());
        assert_eq!(n, 184);
    }
}
