//! The record of processing activities (GDPR Art. 30): what the organisation processes, why,
//! on which legal basis, for whom and for how long. Every access answer states it (Art. 15(1)
//! (a)–(h) and 15(2)) and erasure checks its retention rules. Read once at start from the file
//! named by `register.file`; a broken register stops the server with the activity and field.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::domain::deadline::Period;

/// The whole register: the activities in the order the file lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Register {
    pub activities: Vec<Activity>,
}

/// A text the portal and the answers show, in French and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Text {
    pub fr: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// Stable id, referred to by erasure decisions and answers.
    pub id: String,
    pub name: Text,
    /// Art. 15(1)(a).
    pub purposes: Vec<Text>,
    pub legal_basis: LegalBasis,
    /// The interest pursued, required with `legitimate_interests` (Art. 13(1)(d)).
    #[serde(default)]
    pub legitimate_interest: Option<Text>,
    /// Art. 15(1)(b).
    pub categories: Vec<DataCategory>,
    /// Art. 15(1)(c).
    pub recipients: Vec<Recipient>,
    /// Art. 15(2): transfers outside the EEA; empty when there are none.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Art. 15(1)(d).
    pub retention: Retention,
    /// Art. 15(1)(g).
    pub source: Source,
    /// Art. 15(1)(h).
    pub automated_decisions: AutomatedDecisions,
}

impl Activity {
    /// The category ids that data sources (connectors) map their fields to.
    pub fn category_ids(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|c| c.id.as_str())
    }
}

/// Art. 6(1) (a)–(f).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

impl LegalBasis {
    pub const ALL: [LegalBasis; 6] = [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterests => "legitimate_interests",
        }
    }

    /// How an answer names it, with the article.
    pub fn describe_en(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent (Art. 6(1)(a))",
            LegalBasis::Contract => "performance of a contract (Art. 6(1)(b))",
            LegalBasis::LegalObligation => "a legal obligation (Art. 6(1)(c))",
            LegalBasis::VitalInterests => "vital interests (Art. 6(1)(d))",
            LegalBasis::PublicTask => "a task in the public interest (Art. 6(1)(e))",
            LegalBasis::LegitimateInterests => "legitimate interests (Art. 6(1)(f))",
        }
    }
}

impl FromStr for LegalBasis {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LegalBasis::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = LegalBasis::ALL.iter().map(|b| b.as_str()).collect();
                format!("unknown legal basis \"{s}\"; one of {}", known.join(", "))
            })
    }
}

impl TryFrom<String> for LegalBasis {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<LegalBasis> for String {
    fn from(b: LegalBasis) -> String {
        b.as_str().to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCategory {
    /// The id data sources map their fields to.
    pub id: String,
    #[serde(default)]
    pub fr: String,
    #[serde(default)]
    pub en: String,
    /// Provided by the person (not observed or inferred): what portability (Art. 20) covers.
    pub provided_by_person: bool,
}

impl DataCategory {
    pub fn label(&self) -> Text {
        Text {
            fr: self.fr.clone(),
            en: self.en.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// Processes on the organisation's behalf (sous-traitant, Art. 28).
    Processor,
    /// Decides its own purposes (a separate controller).
    Controller,
    /// A department of the organisation.
    Internal,
}

impl RecipientRole {
    pub fn describe_en(self) -> &'static str {
        match self {
            RecipientRole::Processor => "processor",
            RecipientRole::Controller => "separate controller",
            RecipientRole::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Who, or the category of recipient (Art. 15(1)(c) allows either).
    pub name: Text,
    pub role: RecipientRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Safeguard {
    /// An adequacy decision of the Commission (Art. 45).
    Adequacy,
    /// Standard contractual clauses (Art. 46(2)(c)).
    Scc,
    /// Binding corporate rules (Art. 47).
    Bcr,
    /// A derogation of Art. 49 (explicit consent, contract…).
    Derogation,
}

impl Safeguard {
    pub fn describe_en(self) -> &'static str {
        match self {
            Safeguard::Adequacy => "adequacy decision (Art. 45)",
            Safeguard::Scc => "standard contractual clauses (Art. 46(2)(c))",
            Safeguard::Bcr => "binding corporate rules (Art. 47)",
            Safeguard::Derogation => "derogation for a specific situation (Art. 49)",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// ISO country code.
    pub country: String,
    pub recipient: Text,
    pub safeguard: Safeguard,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// How long, e.g. "10y", "6m", "13 months".
    #[serde(default)]
    pub duration: Option<RetentionPeriod>,
    /// What starts the period, or the rule when no fixed duration applies.
    #[serde(default)]
    pub criterion: Option<Text>,
    /// The law that imposes the period, when one does.
    #[serde(default)]
    pub legal_reference: Option<String>,
}

/// A retention period as a register states it: a number of days, months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RetentionPeriod {
    pub amount: u32,
    pub unit: PeriodUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodUnit {
    Days,
    Months,
    Years,
}

impl RetentionPeriod {
    /// The same length as a legal period, counted as deadlines are (years are 12 months).
    pub fn as_period(self) -> Period {
        match self.unit {
            PeriodUnit::Days => Period::days(self.amount),
            PeriodUnit::Months => Period::months(self.amount),
            PeriodUnit::Years => Period::months(self.amount.saturating_mul(12)),
        }
    }
}

impl FromStr for RetentionPeriod {
    type Err = String;

    /// "10y", "6m", "30d", "13 months", "3 years", "1 an", "6 mois", "30 jours".
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "\"{s}\" is not a duration; write e.g. \"10y\", \"6m\", \"30d\" or \"13 months\""
            )
        };
        let text = s.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let amount: u32 = text[..split].parse().map_err(|_| bad())?;
        let unit = match text[split..].trim().to_lowercase().as_str() {
            "d" | "day" | "days" | "j" | "jour" | "jours" => PeriodUnit::Days,
            "m" | "month" | "months" | "mois" => PeriodUnit::Months,
            "y" | "year" | "years" | "an" | "ans" => PeriodUnit::Years,
            _ => return Err(bad()),
        };
        if amount == 0 {
            return Err(format!(
                "\"{s}\": a retention period is at least one unit long"
            ));
        }
        Ok(RetentionPeriod { amount, unit })
    }
}

impl TryFrom<String> for RetentionPeriod {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RetentionPeriod> for String {
    fn from(p: RetentionPeriod) -> String {
        p.to_string()
    }
}

impl fmt::Display for RetentionPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            PeriodUnit::Days => "day",
            PeriodUnit::Months => "month",
            PeriodUnit::Years => "year",
        };
        let plural = if self.amount == 1 { "" } else { "s" };
        write!(f, "{} {unit}{plural}", self.amount)
    }
}

/// Where the data come from (Art. 15(1)(g)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// The person themselves.
    Person,
    /// Someone else, named.
    ThirdParty(Text),
}

/// Automated decisions, profiling included (Art. 15(1)(h), Art. 22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AutomatedDecisions {
    None,
    /// The logic involved, its significance and consequences for the person.
    Logic(Text),
}

impl Register {
    /// Reads and checks the register file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the register file {}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
    }

    /// Parses and checks a register; every error names the activity and the field.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut doc: Table = text.parse().map_err(|e| anyhow!("{e}"))?;
        let Some(list) = doc.remove("activity") else {
            bail!("no [[activity]]: the register lists at least one processing activity");
        };
        if let Some(key) = doc.keys().next() {
            bail!("unknown key `{key}` (the register holds [[activity]] tables only)");
        }
        let Value::Array(items) = list else {
            bail!("`activity` must be a list of tables: write [[activity]]");
        };
        let mut activities = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            // Serde stops at the first problem; name the activity it is in.
            let label = match item.get("id").and_then(Value::as_str) {
                Some(id) => format!("activity \"{id}\""),
                None => format!("activity #{}", i + 1),
            };
            let activity: Activity = item.try_into().map_err(|e| anyhow!("{label}: {e}"))?;
            activities.push(activity);
        }
        let register = Register { activities };
        register.validate()?;
        Ok(register)
    }

    /// Checks what serde cannot: ids, both languages, the legitimate interest, retention.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.activities.is_empty() {
            bail!("no [[activity]]: the register lists at least one processing activity");
        }
        let mut ids = HashSet::new();
        for a in &self.activities {
            let at = |field: &str| format!("activity \"{}\": {field}", a.id);
            check_id(&a.id).map_err(|e| anyhow!("activity: id {e}"))?;
            if !ids.insert(a.id.as_str()) {
                bail!("activity \"{}\": id: used by two activities", a.id);
            }
            check_text(&a.name, &at("name"))?;
            if a.purposes.is_empty() {
                bail!("{}: at least one purpose", at("purposes"));
            }
            for (i, p) in a.purposes.iter().enumerate() {
                check_text(p, &at(&format!("purposes[{i}]")))?;
            }
            match (&a.legal_basis, &a.legitimate_interest) {
                (LegalBasis::LegitimateInterests, None) => bail!(
                    "{}: legitimate_interests needs the interest pursued stated",
                    at("legitimate_interest")
                ),
                (LegalBasis::LegitimateInterests, Some(t)) => {
                    check_text(t, &at("legitimate_interest"))?
                }
                (_, Some(_)) => bail!(
                    "{}: only for the legal basis legitimate_interests",
                    at("legitimate_interest")
                ),
                _ => {}
            }
            if a.categories.is_empty() {
                bail!("{}: at least one category of data", at("categories"));
            }
            let mut category_ids = HashSet::new();
            for c in &a.categories {
                let field = at(&format!("categories \"{}\"", c.id));
                check_id(&c.id).map_err(|e| anyhow!("{}: id {e}", at("categories")))?;
                if !category_ids.insert(c.id.as_str()) {
                    bail!("{field}: listed twice");
                }
                check_text(&c.label(), &field)?;
            }
            for (i, r) in a.recipients.iter().enumerate() {
                check_text(&r.name, &at(&format!("recipients[{i}].name")))?;
            }
            for (i, t) in a.transfers.iter().enumerate() {
                let field = at(&format!("transfers[{i}]"));
                let country = &t.country;
                if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                    bail!("{field}.country: \"{country}\" is not an ISO code like US or IN");
                }
                check_text(&t.recipient, &format!("{field}.recipient"))?;
            }
            let r = &a.retention;
            if r.duration.is_none() && r.criterion.is_none() {
                bail!(
                    "{}: neither a duration nor a criterion; state one (Art. 15(1)(d))",
                    at("retention")
                );
            }
            if let Some(c) = &r.criterion {
                check_text(c, &at("retention.criterion"))?;
            }
            if r.legal_reference
                .as_deref()
                .is_some_and(|s| s.trim().is_empty())
            {
                bail!(
                    "{}: empty; leave it out instead",
                    at("retention.legal_reference")
                );
            }
            if let Source::ThirdParty(t) = &a.source {
                check_text(t, &at("source.third_party"))?;
            }
            if let AutomatedDecisions::Logic(t) = &a.automated_decisions {
                check_text(t, &at("automated_decisions.logic"))?;
            }
        }
        Ok(())
    }

    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{id}\": lowercase letters, digits, '-' and '_' only"
        ))
    }
}

fn check_text(text: &Text, field: &str) -> anyhow::Result<()> {
    for (lang, value) in [("fr", &text.fr), ("en", &text.en)] {
        if value.trim().is_empty() {
            bail!("{field}: the {lang} text is missing");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../config/register.example.toml");

    const MINIMAL: &str = r#"
[[activity]]
id = "contact"
name = { fr = "Formulaire de contact", en = "Contact form" }
purposes = [{ fr = "Répondre", en = "Answer" }]
legal_basis = "legitimate_interests"
legitimate_interest = { fr = "Répondre aux questions", en = "Answering questions" }
categories = [{ id = "identity", fr = "Identité", en = "Identity", provided_by_person = true }]
recipients = [{ name = { fr = "Service client", en = "Customer service" }, role = "internal" }]
retention = { duration = "6m" }
source = "person"
automated_decisions = "none"
"#;

    fn error_of(text: &str) -> String {
        match Register::parse(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_example_register_loads() {
        let r = Register::parse(EXAMPLE).expect("example loads");
        let orders = r.activity("orders").expect("orders");
        assert_eq!(orders.legal_basis, LegalBasis::Contract);
        let invoices = r.activity("invoicing").expect("invoicing");
        assert_eq!(
            invoices.retention.duration.map(RetentionPeriod::as_period),
            Some(Period::months(120))
        );
        assert!(
            invoices
                .retention
                .legal_reference
                .as_deref()
                .is_some_and(|l| l.contains("L123-22"))
        );
        let analytics = r.activity("analytics").expect("analytics");
        assert_eq!(analytics.legal_basis, LegalBasis::Consent);
        assert_eq!(
            analytics
                .retention
                .duration
                .map(|d| d.to_string())
                .as_deref(),
            Some("13 months")
        );
        assert!(r.activities.len() >= 6);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/register.example.toml");
        assert_eq!(
            Register::load(&path).expect("load").activities.len(),
            r.activities.len()
        );
    }

    #[test]
    fn durations_parse_in_both_languages() {
        let p = |s: &str| s.parse::<RetentionPeriod>();
        assert_eq!(
            p("10y").map(RetentionPeriod::as_period),
            Ok(Period::months(120))
        );
        assert_eq!(
            p("6m").map(RetentionPeriod::as_period),
            Ok(Period::months(6))
        );
        assert_eq!(
            p("13 months").map(|d| d.to_string()),
            Ok("13 months".into())
        );
        assert_eq!(
            p("30 jours").map(RetentionPeriod::as_period),
            Ok(Period::days(30))
        );
        assert_eq!(p("1 an").map(|d| d.to_string()), Ok("1 year".into()));
        assert!(p("forever").is_err() && p("0y").is_err() && p("10 fortnights").is_err());
    }

    #[test]
    fn the_minimal_register_loads() {
        let r = Register::parse(MINIMAL).expect("loads");
        assert_eq!(
            r.activities[0].category_ids().collect::<Vec<_>>(),
            ["identity"]
        );
    }

    #[test]
    fn an_unknown_legal_basis_names_the_activity_and_the_choices() {
        let err = error_of(&MINIMAL.replace(
            "legal_basis = \"legitimate_interests\"",
            "legal_basis = \"interet_legitime\"",
        ));
        assert!(
            err.contains("activity \"contact\"")
                && err.contains("interet_legitime")
                && err.contains("legitimate_interests"),
            "{err}"
        );
    }

    #[test]
    fn legitimate_interests_without_the_interest_is_refused() {
        let text: String = MINIMAL
            .lines()
            .filter(|l| !l.starts_with("legitimate_interest "))
            .collect::<Vec<_>>()
            .join("\n");
        let err = error_of(&text);
        assert!(
            err.contains("activity \"contact\": legitimate_interest"),
            "{err}"
        );
    }

    #[test]
    fn a_retention_without_duration_or_criterion_is_refused() {
        let err = error_of(&MINIMAL.replace(
            "retention = { duration = \"6m\" }",
            "retention = { legal_reference = \"Code civil\" }",
        ));
        assert!(err.contains("activity \"contact\": retention"), "{err}");
        let err = error_of(&MINIMAL.replace("\"6m\"", "\"six months\""));
        assert!(
            err.contains("activity \"contact\"") && err.contains("six months"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let err = error_of(&format!("{MINIMAL}\n{MINIMAL}"));
        assert!(err.contains("activity \"contact\": id"), "{err}");
        let err = error_of(&MINIMAL.replace(
            "provided_by_person = true }]",
            "provided_by_person = true }, { id = \"identity\", fr = \"A\", en = \"B\", provided_by_person = false }]",
        ));
        assert!(
            err.contains("categories \"identity\": listed twice"),
            "{err}"
        );
    }

    #[test]
    fn a_label_missing_in_one_language_is_named() {
        let err = error_of(&MINIMAL.replace(
            "name = { fr = \"Formulaire de contact\", en = \"Contact form\" }",
            "name = { fr = \"Formulaire de contact\" }",
        ));
        assert!(
            err.contains("activity \"contact\": name: the en text is missing"),
            "{err}"
        );
        let err = error_of(&MINIMAL.replace("fr = \"Identité\", ", ""));
        assert!(
            err.contains("categories \"identity\": the fr text is missing"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_refused_with_the_activity() {
        let err =
            error_of(&MINIMAL.replace("source = \"person\"", "source = \"person\"\nsauce = 1"));
        assert!(
            err.contains("activity \"contact\"") && err.contains("sauce"),
            "{err}"
        );
    }
}
