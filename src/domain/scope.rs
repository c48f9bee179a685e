//! What a request covers: the register activities staff confirmed from what the person asked
//! (or everything), whether the person asked for a part (then the scope must be confirmed
//! before any source is asked), and for an objection to a processing other than direct
//! marketing, the balancing decision of GDPR Art. 21(1).

use std::collections::BTreeSet;

use serde_json::Value;

use super::kind::RequestKind;

/// The register activities a request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Everything,
    /// Never empty: a request covers something.
    Activities(BTreeSet<String>),
}

impl Scope {
    /// From the stored JSON list; `None` (no list) is everything.
    pub fn from_stored(activities: Option<&str>) -> Scope {
        match activities.and_then(|a| serde_json::from_str::<BTreeSet<String>>(a).ok()) {
            Some(set) if !set.is_empty() => Scope::Activities(set),
            _ => Scope::Everything,
        }
    }

    /// The stored form: `None` for everything, else a JSON list.
    pub fn to_stored(&self) -> Option<String> {
        match self {
            Scope::Everything => None,
            Scope::Activities(set) => serde_json::to_string(set).ok(),
        }
    }

    pub fn covers(&self, activity: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Activities(set) => set.contains(activity),
        }
    }

    pub fn is_everything(&self) -> bool {
        matches!(self, Scope::Everything)
    }
}

fn answers(form: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str::<Value>(form) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

fn text<'a>(map: &'a serde_json::Map<String, Value>, field: &str) -> &'a str {
    map.get(field).and_then(Value::as_str).unwrap_or("").trim()
}

/// The person's own words naming the part they asked for, when they asked for a part:
/// an access to "specific" data, an erasure of "part", an objection to a named processing
/// (not direct marketing). Then staff confirm the scope before any source is asked.
pub fn asked_part(kind: RequestKind, form: &str) -> Option<String> {
    let map = answers(form);
    let words = match kind {
        RequestKind::Access if text(&map, "access_scope") == "specific" => {
            text(&map, "access_specifics")
        }
        RequestKind::Erasure if text(&map, "erasure_scope") == "part" => text(&map, "erasure_part"),
        RequestKind::Objection if !direct_marketing(kind, form) => {
            text(&map, "objection_processing")
        }
        _ => return None,
    };
    Some(words.to_string())
}

/// An objection to direct marketing (Art. 21(2)–(3), absolute): the person ticked it, or
/// named no other processing. It joins the suppression list with no balancing.
pub fn direct_marketing(kind: RequestKind, form: &str) -> bool {
    if kind != RequestKind::Objection {
        return false;
    }
    let map = answers(form);
    map.get("objection_direct_marketing")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || text(&map, "objection_processing").is_empty()
}

/// An objection to a processing other than direct marketing: it needs the balancing
/// decision of Art. 21(1) before anything is stopped, and never joins the suppression list.
pub fn needs_balancing(kind: RequestKind, form: &str) -> bool {
    kind == RequestKind::Objection && !direct_marketing(kind, form)
}

crate::domain::kind::text_enum! {
    /// The balancing decision of Art. 21(1) on an objection to a processing other than
    /// direct marketing.
    pub enum Balancing (what = "decision", ignore_case = false) {
        /// The organisation shows no compelling legitimate grounds: the processing stops.
        Stop => "stop",
        /// Compelling legitimate grounds override the person's interests: refused, with them.
        Compelling => "compelling",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_stored_as_a_list_or_nothing_for_everything() {
        let orders = Scope::Activities(["orders".to_string()].into());
        assert_eq!(orders.to_stored().as_deref(), Some("[\"orders\"]"));
        assert_eq!(Scope::from_stored(Some("[\"orders\"]")), orders);
        assert_eq!(Scope::from_stored(None), Scope::Everything);
        assert_eq!(Scope::from_stored(Some("[]")), Scope::Everything);
        assert!(orders.covers("orders") && !orders.covers("newsletter"));
        assert!(Scope::Everything.covers("newsletter"));
    }

    #[test]
    fn a_part_is_asked_by_the_person_s_own_choice() {
        let access = r#"{"access_scope":"specific","access_specifics":"mes commandes"}"#;
        assert_eq!(
            asked_part(RequestKind::Access, access).as_deref(),
            Some("mes commandes")
        );
        assert_eq!(
            asked_part(RequestKind::Access, r#"{"access_scope":"all"}"#),
            None
        );
        let erasure = r#"{"erasure_scope":"part","erasure_part":"la lettre d'information"}"#;
        assert!(asked_part(RequestKind::Erasure, erasure).is_some());
        assert_eq!(asked_part(RequestKind::Erasure, "{}"), None);
    }

    #[test]
    fn an_objection_is_to_marketing_unless_it_names_another_processing() {
        let marketing = r#"{"objection_direct_marketing":true}"#;
        let other = r#"{"objection_processing":"le profilage","objection_reason":"x"}"#;
        assert!(direct_marketing(RequestKind::Objection, marketing));
        assert!(direct_marketing(RequestKind::Objection, "{}"));
        assert!(!direct_marketing(RequestKind::Objection, other));
        assert!(needs_balancing(RequestKind::Objection, other));
        assert!(!needs_balancing(RequestKind::Erasure, other));
        assert_eq!(
            asked_part(RequestKind::Objection, other).as_deref(),
            Some("le profilage")
        );
        assert_eq!(asked_part(RequestKind::Objection, marketing), None);
    }

    #[test]
    fn decisions_round_trip() {
        for d in Balancing::ALL {
            assert_eq!(d.as_str().parse::<Balancing>(), Ok(d));
        }
    }
}
