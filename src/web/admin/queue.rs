//! The queue as an inbox: tabs per stage with their counts (identity to check, to send to the
//! sources, with the sources, to answer, waiting for the requester, overdue, all), one row per
//! request with its deadline in words first, filters in words, keyset pages, and a bulk
//! "assign to" over the rows ticked.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::config::sources::Operation;
use crate::domain::RequestKind;
use crate::domain::deadline;
use crate::domain::reference::Reference;
use crate::domain::stage::{Sources, Stage};
use crate::i18n::{Strings, long_date};
use crate::store::queue::{self, Assignee, QueueFilter, Served, Slice, Sort};
use crate::store::requests::RequestRow;
use crate::store::users;
use crate::web::State;
use crate::workflow;
use crate::workflow::staff_actions::{self, Action};

const PAGE: i64 = 50;
/// Tabs count up to this many requests; beyond, they say "99+", as inboxes do. Counting
/// further would walk every open request of a stage on every page (`store::queue::count`):
/// eight counts of at most a hundred index entries each keep a page under a millisecond.
const COUNT_CAP: i64 = 99;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    stage: Option<String>,
    kind: Option<String>,
    assignee: Option<String>,
    /// The old "overdue only" box: the overdue tab.
    overdue: Option<String>,
    within: Option<String>,
    profile: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    after: Option<String>,
    /// After a bulk assignment: how many were assigned, and refused.
    assigned: Option<u32>,
    refused: Option<u32>,
}

/// A tab of the queue: a stage, the overdue requests, all, or the unconfirmed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    All,
    Stage(Stage),
    Overdue,
}

impl View {
    fn parse(s: &str) -> Option<View> {
        match s {
            "all" => Some(View::All),
            "overdue" => Some(View::Overdue),
            other => other
                .parse::<Stage>()
                .ok()
                .filter(|s| *s != Stage::Closed)
                .map(View::Stage),
        }
    }

    fn code(self) -> &'static str {
        match self {
            View::All => "all",
            View::Overdue => "overdue",
            View::Stage(s) => s.as_str(),
        }
    }

    fn slice(self, today: NaiveDate) -> Slice {
        match self {
            View::All => Slice::Actionable,
            View::Overdue => Slice::OverdueOn(today),
            View::Stage(s) => Slice::Stage(s),
        }
    }

    /// The tabs: all, then the stages in the order work flows, the overdue ones; the
    /// unconfirmed requests come apart, last.
    const TABS: [View; 8] = [
        View::All,
        View::Stage(Stage::ToVerify),
        View::Stage(Stage::ToSend),
        View::Stage(Stage::Gathering),
        View::Stage(Stage::ToAnswer),
        View::Stage(Stage::Waiting),
        View::Overdue,
        View::Stage(Stage::Unconfirmed),
    ];
}

pub struct Tab {
    pub label: String,
    pub count: String,
    pub href: String,
    pub current: bool,
    /// The overdue tab is red when it holds any.
    pub alert: bool,
    /// Unconfirmed requests sit apart from the work.
    pub apart: bool,
}

pub struct QueueRow {
    pub reference: String,
    pub url: String,
    pub person: String,
    pub kind: String,
    pub stage: String,
    pub due_words: String,
    /// The due date in words, under the words of the deadline (none while suspended).
    pub due_date: Option<String>,
    /// overdue | soon | stopped | ok | closed: the badge's colour.
    pub badge: &'static str,
    pub assignee: Option<String>,
    /// The checkbox's label: "Sélectionner DSAR-2026-000123".
    pub pick: String,
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
pub struct QueuePage {
    pub nav: super::Nav,
    pub heading: String,
    pub tabs: Vec<Tab>,
    pub rows: Vec<QueueRow>,
    pub next: Option<String>,
    pub notice: Option<String>,
    /// (value, words, selected) for each select of the filters.
    pub kinds: Vec<(String, String, bool)>,
    pub assignees: Vec<(String, String, bool)>,
    pub profiles: Vec<(String, String, bool)>,
    pub sorts: Vec<(String, String, bool)>,
    pub stage: String,
    pub within: String,
    pub search: String,
    pub filtered: bool,
    /// The bulk form: whom requests may be given to (value, name); empty: no bulk form.
    pub assign_to: Vec<(String, String)>,
    /// The queue's address with its filters, where the bulk form comes back to.
    pub back: String,
    pub empty_text: String,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The kinds some configured data source serves.
fn served(state: &State) -> Served {
    Served(
        RequestKind::ALL
            .into_iter()
            .filter(|k| {
                // An heir's request is sent or not by what it asks: counted as answered by
                // the team, the queue never shows it waiting for a source it does not need.
                Operation::for_kind(*k)
                    .is_some_and(|op| state.sources.list.iter().any(|s| s.serves(op)))
            })
            .collect(),
    )
}

/// The deadline as the first signal: words and a colour.
fn due_words(
    t: &Strings,
    lang: crate::i18n::Lang,
    row: &RequestRow,
    d: &deadline::Deadline,
    today: NaiveDate,
) -> (String, Option<String>, &'static str) {
    let left = deadline::days_left(d.due_on, today);
    let date = Some(t.fill("queue.due.on", &[("date", &long_date(d.due_on, lang))]));
    if !row.status.is_open() {
        (t.t("queue.due.closed").into(), None, "closed")
    } else if d.clock_stopped {
        (t.t("queue.due.stopped").into(), None, "stopped")
    } else if left < 0 {
        (t.count("queue.due.late", -left), date, "overdue")
    } else if left == 0 {
        (t.t("queue.due.today").into(), date, "soon")
    } else if left == 1 {
        (t.t("queue.due.tomorrow").into(), date, "soon")
    } else if left <= 7 {
        (t.count("queue.due.in", left), date, "soon")
    } else {
        (t.count("queue.due.in", left), date, "ok")
    }
}

fn selected(options: Vec<(String, String)>, current: &str) -> Vec<(String, String, bool)> {
    options
        .into_iter()
        .map(|(v, w)| {
            let on = v == current;
            (v, w, on)
        })
        .collect()
}

pub async fn show(
    state: State,
    staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AdminError> {
    let q = query.into_inner();
    let t = staff.lang().strings();
    let lang = staff.lang();
    let today = state.law.today(state.clock.now());
    let view = if non_empty(&q.overdue).is_some() {
        View::Overdue
    } else {
        non_empty(&q.stage)
            .and_then(|s| View::parse(&s))
            .unwrap_or(View::All)
    };
    let asked_assignee = non_empty(&q.assignee).unwrap_or_default();
    let asked = match asked_assignee.as_str() {
        "me" => Assignee::User(staff.user.id),
        "unassigned" => Assignee::Unassigned,
        _ => Assignee::Anyone,
    };
    let scope = staff.role.queue_scope(staff.user.id, asked);
    let due_by = non_empty(&q.within)
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| (0..=3650).contains(d))
        .map(|days| today + Duration::days(days));
    let sort = match non_empty(&q.sort).as_deref() {
        Some("received") => Sort::Received,
        _ => Sort::Due,
    };
    let kind = non_empty(&q.kind).filter(|k| RequestKind::NAMES.contains(&k.as_str()));
    let profile = non_empty(&q.profile).filter(|p| state.law.profile(p).is_some());
    // A search for a character no stored text holds finds nothing; it never reaches the
    // database as such (PostgreSQL refuses a NUL byte outright).
    let search = non_empty(&q.q)
        .map(|s| crate::domain::text::searchable(&s))
        .filter(|s| !s.trim().is_empty());
    let by_reference = search.as_deref().and_then(|s| s.parse::<Reference>().ok());
    let served = served(&state);
    let mut filter = QueueFilter {
        // A search looks through every open request, unconfirmed ones included.
        slice: if search.is_some() {
            Slice::Open
        } else {
            view.slice(today)
        },
        served: served.clone(),
        kind: kind.clone(),
        profile: profile.clone(),
        assignee: scope,
        due_by,
        email: None,
        sort,
        after: non_empty(&q.after).and_then(|a| {
            let (date, id) = a.split_once('_')?;
            Some((date.parse().ok()?, id.parse().ok()?))
        }),
        limit: PAGE,
    };
    if let Some(s) = &search
        && by_reference.is_none()
    {
        filter.email = Some(s.to_lowercase());
    }
    let counted = served.clone();
    let (found, counts, people) = state
        .db(move |conn, _| {
            let found = match by_reference {
                Some(r) => queue::by_reference(conn, r.year, r.seq)?
                    .into_iter()
                    .collect(),
                None => queue::page(conn, &filter)?,
            };
            let mut counts = Vec::with_capacity(View::TABS.len());
            for tab in View::TABS {
                counts.push(queue::count(
                    conn,
                    tab.slice(today),
                    &counted,
                    scope,
                    COUNT_CAP,
                )?);
            }
            let people = users::list(conn)?;
            Ok::<_, diesel::result::Error>((found, counts, people))
        })
        .await?;
    let names: HashMap<i64, String> = people
        .iter()
        .map(|u| (u.id, crate::staff::display_name(u)))
        .collect();
    let next = (found.len() as i64 == PAGE)
        .then(|| {
            found.last().map(|(r, _)| match sort {
                Sort::Due => format!("{}_{}", r.due_on, r.id),
                Sort::Received => format!("{}_{}", r.received_on, r.id),
            })
        })
        .flatten();
    let rows: Vec<QueueRow> = found
        .iter()
        .filter(|(r, _)| staff.role.can_see(staff.user.id, r.assignee_id))
        .map(|(r, sources)| {
            let d = workflow::deadline_of(&state.law, r, today);
            let (due_words, due_date, badge) = due_words(t, lang, r, &d, today);
            let stage = Stage::of(
                r.status,
                Sources::from_column(sources.as_deref()),
                served.0.contains(&r.kind),
            );
            let reference = workflow::reference(r).to_string();
            QueueRow {
                pick: t.fill("queue.col.pick_one", &[("reference", &reference)]),
                url: format!("/admin/requests/{reference}"),
                reference,
                person: match (&r.subject_name, r.acting) {
                    // The child is whose data it is; the parent is who is answered.
                    (Some(child), crate::domain::filing::Acting::Parent) => t.fill(
                        "queue.person_by_parent",
                        &[("child", child), ("parent", &r.requester_name)],
                    ),
                    (Some(subject), _) => subject.clone(),
                    (None, _) => r.requester_name.clone(),
                },
                kind: t.t(&format!("label.kind.{}", r.kind)).to_string(),
                stage: if stage == Stage::Closed {
                    t.t(&format!("label.status.{}", r.status)).to_string()
                } else {
                    t.t(&format!("queue.stage.{stage}")).to_string()
                },
                due_words,
                due_date,
                badge,
                assignee: r.assignee_id.and_then(|id| names.get(&id).cloned()),
            }
        })
        .collect();

    // The filters, kept in every link: a tab keeps them, the next page keeps the tab too.
    let mut kept: Vec<(&str, String)> = Vec::new();
    if let Some(k) = &kind {
        kept.push(("kind", k.clone()));
    }
    if !asked_assignee.is_empty() {
        kept.push(("assignee", asked_assignee.clone()));
    }
    if let Some(p) = &profile {
        kept.push(("profile", p.clone()));
    }
    if let Some(w) = non_empty(&q.within) {
        kept.push(("within", w));
    }
    if sort == Sort::Received {
        kept.push(("sort", "received".into()));
    }
    let link = |extra: &[(&str, String)]| {
        let parts: Vec<String> = kept
            .iter()
            .chain(extra.iter())
            .map(|(k, v)| format!("{k}={}", crate::web::encode_component(v)))
            .collect();
        if parts.is_empty() {
            return "/admin".to_string();
        }
        format!("/admin?{}", parts.join("&"))
    };
    let current = if search.is_some() { None } else { Some(view) };
    let tabs: Vec<Tab> = View::TABS
        .iter()
        .zip(&counts)
        .map(|(tab, n)| Tab {
            label: t.t(&format!("queue.tab.{}", tab.code())).to_string(),
            count: if *n > COUNT_CAP {
                format!("{COUNT_CAP}+")
            } else {
                n.to_string()
            },
            href: if *tab == View::All {
                link(&[])
            } else {
                link(&[("stage", tab.code().to_string())])
            },
            current: current == Some(*tab),
            alert: *tab == View::Overdue && *n > 0,
            apart: *tab == View::Stage(Stage::Unconfirmed),
        })
        .collect();
    let mut next_params = vec![];
    if view != View::All {
        next_params.push(("stage", view.code().to_string()));
    }
    if let Some(s) = &search {
        next_params.push(("q", s.clone()));
    }
    let back = link(&next_params);
    let next = next.map(|cursor| {
        let mut with = next_params.clone();
        with.push(("after", cursor));
        link(&with)
    });
    let notice = match (q.assigned, q.refused) {
        (None, None) => None,
        (a, r) => {
            let mut text = t.count("queue.bulk.assigned", i64::from(a.unwrap_or(0)));
            if let Some(r) = r.filter(|r| *r > 0) {
                text.push(' ');
                text.push_str(&t.count("queue.bulk.refused", i64::from(r)));
            }
            Some(text)
        }
    };
    let heading = match current {
        Some(View::All) => t.t("queue.title").to_string(),
        Some(v) => t.t(&format!("queue.tab.{}", v.code())).to_string(),
        None => t.t("queue.search_results").to_string(),
    };
    let assign_to = if staff.role.can_act() {
        let mut to = vec![
            ("me".to_string(), t.t("queue.bulk.me").to_string()),
            (String::new(), t.t("queue.bulk.nobody").to_string()),
        ];
        to.extend(
            people
                .iter()
                .filter(|u| u.id != staff.user.id && crate::staff::can_be_assigned(u))
                .filter(|u| staff.role.can_assign(staff.user.id, Some(u.id)))
                .map(|u| (u.id.to_string(), crate::staff::display_name(u))),
        );
        to
    } else {
        Vec::new()
    };
    let any = |key: &str| (String::new(), t.t(key).to_string());
    let mut kinds = vec![any("queue.filter.any_kind")];
    kinds.extend(
        RequestKind::NAMES
            .iter()
            .map(|k| (k.to_string(), t.t(&format!("label.kind.{k}")).to_string())),
    );
    let assignees = vec![
        any("queue.filter.anyone"),
        ("me".into(), t.t("queue.filter.me").into()),
        ("unassigned".into(), t.t("queue.filter.unassigned").into()),
    ];
    let mut profiles = vec![any("queue.filter.any_profile")];
    profiles.extend(state.law.profile_names().iter().map(|p| {
        let key = format!("queue.profile.{p}");
        let words = if t.has(&key) {
            t.t(&key).to_string()
        } else {
            p.to_string()
        };
        (p.to_string(), words)
    }));
    let sorts = vec![
        ("due".to_string(), t.t("queue.sort.due").to_string()),
        (
            "received".to_string(),
            t.t("queue.sort.received").to_string(),
        ),
    ];
    let empty_text = if search.is_some() {
        t.t("queue.empty_search")
    } else {
        t.t(&format!("queue.empty.{}", view.code()))
    }
    .to_string();
    Ok(staff.page(&QueuePage {
        nav: staff.nav(),
        heading,
        filtered: kind.is_some()
            || profile.is_some()
            || !asked_assignee.is_empty()
            || due_by.is_some()
            || search.is_some(),
        tabs,
        rows,
        next,
        notice,
        kinds: selected(kinds, &kind.clone().unwrap_or_default()),
        assignees: selected(assignees, &asked_assignee),
        profiles: selected(profiles, &profile.clone().unwrap_or_default()),
        sorts: selected(
            sorts,
            if sort == Sort::Received {
                "received"
            } else {
                "due"
            },
        ),
        stage: if view == View::All {
            String::new()
        } else {
            view.code().to_string()
        },
        within: non_empty(&q.within).unwrap_or_default(),
        search: search.unwrap_or_default(),
        assign_to,
        back,
        empty_text,
    }))
}

/// Assigns every request ticked in the queue, each in its own transaction with its audit
/// entry, as the request page's "assign" does; comes back to the queue with how many were
/// assigned and how many refused.
pub async fn assign(
    state: State,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let mut csrf = String::new();
    let mut to = String::new();
    let mut back = String::from("/admin");
    let mut picked: Vec<String> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "assignee" => to = v.into_owned(),
            "back" => back = v.into_owned(),
            "ids" if picked.len() < 500 => picked.push(v.into_owned()),
            _ => {}
        }
    }
    if !staff.csrf_ok(&csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    // Only back to the queue itself.
    if !(back == "/admin" || back.starts_with("/admin?")) || back.contains("//") {
        back = "/admin".into();
    }
    let target = match to.as_str() {
        "" => None,
        "me" => Some(staff.user.id),
        other => Some(other.parse::<i64>().map_err(|_| AdminError::NotFound)?),
    };
    if !staff.role.can_assign(staff.user.id, target) {
        return Err(AdminError::Forbidden);
    }
    let references: Vec<Reference> = picked.iter().filter_map(|p| p.parse().ok()).collect();
    let (actor, now, me, role) = (staff.actor(), state.clock.now(), staff.user.id, staff.role);
    let (assigned, refused) = state
        .db(move |conn, app| {
            let (mut assigned, mut refused) = (0u32, 0u32);
            for r in references {
                let Some(row) = crate::store::requests::find_by_reference(conn, r.year, r.seq)?
                else {
                    refused += 1;
                    continue;
                };
                if !role.can_see(me, row.assignee_id) || !row.status.is_open() {
                    refused += 1;
                    continue;
                }
                match staff_actions::perform(
                    conn,
                    app,
                    row.id,
                    &Action::Assign(target),
                    &actor,
                    now,
                ) {
                    Ok(_) => assigned += 1,
                    Err(e) if e.is_said() => refused += 1,
                    Err(e) => {
                        tracing::error!(error = %e, "bulk assignment failed");
                        return Err(crate::web::error::internal(&e));
                    }
                }
            }
            Ok::<_, crate::web::error::Problem>((assigned, refused))
        })
        .await?;
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(super::see_other(&format!(
        "{back}{sep}assigned={assigned}&refused={refused}"
    )))
}
