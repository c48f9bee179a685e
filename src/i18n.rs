//! The portal's words, French and English, from `templates/i18n/{fr,en}.toml` (compiled in).
//! Keys are dotted paths (`form.email.label`); `{name}` in a string is filled by `fill`.
//! Dates in words, the same on pages, in mails and in export packages: [`long_date`]; an
//! instant in the organisation's zone, named: [`local_time`].

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The first supported language in an `Accept-Language` header, by quality; French
    /// (the organisation's language) when nothing matches.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::Fr;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary)
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Fr)
    }

    pub fn strings(self) -> &'static Strings {
        let all = catalogue();
        match self {
            Lang::Fr => &all.0,
            Lang::En => &all.1,
        }
    }
}

/// The exact stored code (`fr`, `en`), as a row holds it: anything else is an error that
/// says what was found, never a silent French.
impl TryFrom<String> for Lang {
    type Error = crate::domain::UnknownValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == value)
            .ok_or(crate::domain::UnknownValue {
                what: "language",
                value,
                expected: &["fr", "en"],
            })
    }
}

impl From<Lang> for &'static str {
    fn from(lang: Lang) -> Self {
        lang.code()
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug)]
pub struct Strings {
    lang: Lang,
    map: HashMap<String, String>,
}

/// One catalogue per language, read from several files: the portal's, and one per part of
/// the staff dashboard (`templates/i18n/staff/`), so each part's words live beside each
/// other. A key is defined in one file only (a test checks it).
macro_rules! locale_files {
    ($lang:literal) => {
        [
            (
                "",
                include_str!(concat!("../templates/i18n/", $lang, ".toml")),
            ),
            (
                "staff/labels",
                include_str!(concat!("../templates/i18n/staff/labels.", $lang, ".toml")),
            ),
            (
                "staff/shell",
                include_str!(concat!("../templates/i18n/staff/shell.", $lang, ".toml")),
            ),
            (
                "staff/accounts",
                include_str!(concat!("../templates/i18n/staff/accounts.", $lang, ".toml")),
            ),
            (
                "staff/queue",
                include_str!(concat!("../templates/i18n/staff/queue.", $lang, ".toml")),
            ),
            (
                "staff/reports",
                include_str!(concat!("../templates/i18n/staff/reports.", $lang, ".toml")),
            ),
            (
                "staff/request",
                include_str!(concat!("../templates/i18n/staff/request.", $lang, ".toml")),
            ),
            (
                "staff/holds",
                include_str!(concat!("../templates/i18n/staff/holds.", $lang, ".toml")),
            ),
            (
                "staff/intake",
                include_str!(concat!("../templates/i18n/staff/intake.", $lang, ".toml")),
            ),
            (
                "staff/scopes",
                include_str!(concat!("../templates/i18n/staff/scopes.", $lang, ".toml")),
            ),
            (
                "parents",
                include_str!(concat!("../templates/i18n/parents.", $lang, ".toml")),
            ),
            (
                "staff/directives",
                include_str!(concat!(
                    "../templates/i18n/staff/directives.",
                    $lang,
                    ".toml"
                )),
            ),
        ]
    };
}

const FR: [(&str, &str); 12] = locale_files!("fr");
const EN: [(&str, &str); 12] = locale_files!("en");

fn catalogue() -> &'static (Strings, Strings) {
    static CATALOGUE: OnceLock<(Strings, Strings)> = OnceLock::new();
    CATALOGUE.get_or_init(|| (Strings::parse(Lang::Fr, &FR), Strings::parse(Lang::En, &EN)))
}

impl Strings {
    fn parse(lang: Lang, files: &[(&str, &str)]) -> Strings {
        let mut map = HashMap::new();
        for (file, text) in files {
            match text.parse::<toml::Table>() {
                Ok(table) => flatten("", &toml::Value::Table(table), &mut map),
                // A broken locale file is caught by the tests; at run time it shows keys.
                Err(e) => {
                    tracing::error!(lang = lang.code(), file, error = %e, "locale file does not parse")
                }
            }
        }
        Strings { lang, map }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The string for `key`; the key itself, marked, when it is missing (tests forbid that).
    pub fn t(&self, key: &str) -> &str {
        self.map.get(key).map(String::as_str).unwrap_or_else(|| {
            tracing::warn!(key, lang = self.lang.code(), "missing translation");
            "[missing translation]"
        })
    }

    /// The string for `key` with each `{name}` replaced.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_string();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// "3 days" / "1 jour": `{key}.one` or `{key}.other` with `{n}` filled. French counts 0
    /// and 1 in the singular ("0 jour"), English only 1 ("0 days").
    pub fn count(&self, key: &str, n: i64) -> String {
        let singular = match self.lang {
            Lang::Fr => n.abs() < 2,
            Lang::En => n.abs() == 1,
        };
        let form = if singular { "one" } else { "other" };
        self.fill(&format!("{key}.{form}"), &[("n", &n.to_string())])
    }
}

/// A date as a letter writes it: "1er avril 2025", "2 avril 2025" / "1 April 2025".
pub fn long_date(date: NaiveDate, lang: Lang) -> String {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = date.month0() as usize;
    match lang {
        // French writes the first of the month as an ordinal.
        Lang::Fr if date.day() == 1 => format!("1er {} {}", FR[month], date.year()),
        Lang::Fr => format!("{} {} {}", date.day(), FR[month], date.year()),
        Lang::En => format!("{} {} {}", date.day(), EN[month], date.year()),
    }
}

/// An instant as the organisation reads it, its zone named: "14 mars 2026 à 10:42 (heure de
/// Paris)" / "14 March 2026, 10:42 (Paris time)". Times are stored in UTC; nobody should have
/// to convert them in their head.
pub fn local_time(at: DateTime<Utc>, zone: Tz, lang: Lang) -> String {
    let local = at.with_timezone(&zone);
    let date = long_date(local.date_naive(), lang);
    let time = local.format("%H:%M");
    let zone = zone_name(zone, lang);
    match lang {
        Lang::Fr => format!("{date} à {time} ({zone})"),
        Lang::En => format!("{date}, {time} ({zone})"),
    }
}

/// "heure de Paris" / "Paris time", from the IANA name's city; a zone with no city (UTC,
/// Etc/GMT+2) by its name.
fn zone_name(zone: Tz, lang: Lang) -> String {
    let name = zone.name();
    let city = match name.rsplit_once('/') {
        Some((area, city)) if area != "Etc" => city.replace('_', " "),
        _ => return name.to_string(),
    };
    match lang {
        // "heure d'Amsterdam", "heure de Paris".
        Lang::Fr if city.starts_with(['A', 'E', 'I', 'O', 'U', 'Y']) => format!("heure d'{city}"),
        Lang::Fr => format!("heure de {city}"),
        Lang::En => format!("{city} time"),
    }
}

/// How identity was checked, in words (`verification.<code>` in the locale files). A value
/// recorded before the codes existed is shown as it was written.
pub fn verification_method(code: &str, lang: Lang) -> String {
    let key = format!("verification.{code}");
    let strings = lang.strings();
    if strings.has(&key) {
        strings.t(&key).to_string()
    } else {
        code.to_string()
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut HashMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_file_parses_and_no_key_is_defined_twice() {
        for (lang, files) in [("fr", FR), ("en", EN)] {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for (file, text) in files {
                let table: toml::Table = text
                    .parse()
                    .unwrap_or_else(|e| panic!("{file} ({lang}) does not parse: {e}"));
                let mut keys = HashMap::new();
                flatten("", &toml::Value::Table(table), &mut keys);
                for key in keys.into_keys() {
                    if let Some(other) = seen.insert(key.clone(), file) {
                        panic!("{key} ({lang}) is defined in {other} and in {file}");
                    }
                }
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let fr: std::collections::BTreeSet<_> = Lang::Fr.strings().keys().collect();
        let en: std::collections::BTreeSet<_> = Lang::En.strings().keys().collect();
        assert!(!fr.is_empty());
        let only_fr: Vec<_> = fr.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&fr).collect();
        assert!(
            only_fr.is_empty() && only_en.is_empty(),
            "only in fr: {only_fr:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(Lang::negotiate(Some("en-GB,en;q=0.9,fr;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(Some("de-DE,fr;q=0.5,en;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr-CA")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("de")), Lang::Fr);
        assert_eq!(Lang::negotiate(None), Lang::Fr);
    }

    #[test]
    fn dates_read_naturally() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(long_date(date(2025, 4, 1), Lang::Fr), "1er avril 2025");
        assert_eq!(long_date(date(2025, 4, 1), Lang::En), "1 April 2025");
        assert_eq!(long_date(date(2025, 4, 2), Lang::Fr), "2 avril 2025");
        assert_eq!(long_date(date(2027, 1, 1), Lang::Fr), "1er janvier 2027");
        assert_eq!(long_date(date(2026, 8, 31), Lang::Fr), "31 août 2026");
        assert_eq!(long_date(date(2026, 12, 25), Lang::En), "25 December 2026");
    }

    #[test]
    fn times_are_local_and_say_their_zone() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("instant")
                .with_timezone(&Utc)
        };
        let paris = chrono_tz::Europe::Paris;
        // Winter: UTC+1.
        assert_eq!(
            local_time(at("2026-03-14T09:42:00Z"), paris, Lang::Fr),
            "14 mars 2026 à 10:42 (heure de Paris)"
        );
        assert_eq!(
            local_time(at("2026-03-14T09:42:00Z"), paris, Lang::En),
            "14 March 2026, 10:42 (Paris time)"
        );
        // Summer time, and a UTC evening that is already the next day, the 1st, in Paris.
        assert_eq!(
            local_time(at("2026-03-31T22:30:00Z"), paris, Lang::Fr),
            "1er avril 2026 à 00:30 (heure de Paris)"
        );
        assert_eq!(
            local_time(
                at("2026-07-01T08:05:00Z"),
                chrono_tz::America::New_York,
                Lang::En
            ),
            "1 July 2026, 04:05 (New York time)"
        );
        assert_eq!(
            local_time(
                at("2026-07-01T08:05:00Z"),
                chrono_tz::Europe::Amsterdam,
                Lang::Fr
            ),
            "1er juillet 2026 à 10:05 (heure d'Amsterdam)"
        );
        assert_eq!(
            local_time(at("2026-07-01T08:05:00Z"), chrono_tz::UTC, Lang::En),
            "1 July 2026, 08:05 (UTC)"
        );
    }

    #[test]
    fn verification_methods_have_words_and_old_values_stay_as_written() {
        assert_eq!(
            verification_method("email_link", Lang::Fr),
            "lien envoyé à l'adresse électronique"
        );
        assert_eq!(
            verification_method("id_document", Lang::En),
            "identity document seen"
        );
        for method in crate::domain::verification::Method::ALL {
            for lang in Lang::ALL {
                assert!(
                    lang.strings().has(&format!("verification.{method}")),
                    "{method} in {lang}"
                );
            }
        }
        assert_eq!(verification_method("passport", Lang::En), "passport");
    }

    #[test]
    fn counts_choose_singular_or_plural() {
        assert_eq!(Lang::Fr.strings().count("units.days", 1), "1 jour");
        assert_eq!(Lang::Fr.strings().count("units.days", 0), "0 jour");
        assert_eq!(Lang::Fr.strings().count("units.days", 2), "2 jours");
        assert_eq!(Lang::En.strings().count("units.days", 3), "3 days");
        assert_eq!(Lang::En.strings().count("units.days", 0), "0 days");
    }
}
