//! Fees on a request (Art. 12(5), 15(3)): the form that decides one — the ground, the amount
//! in euros, the reason the person reads — and paid or waived after; and the block of the
//! request page that shows what follows the answer (fees, the restriction, the holds), with
//! only the actions the domain allows.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::follow::{HoldView, RestrictionView, hold_view, restriction_view};
use super::see_other;
use super::{AdminError, FormError, Nav, Staff};
use crate::domain::desk;
use crate::domain::follow::{AmountError, FeeBasis, FeeState, euros, parse_euros};
use crate::i18n::{Lang, Strings, local_time};
use crate::store::follow::FeeRow;
use crate::store::requests::RequestRow;
use crate::web::State;
use crate::workflow::{self, WorkflowError};

pub struct FeeView {
    pub id: i64,
    pub basis: String,
    pub amount: String,
    pub reason: String,
    pub state: String,
    pub tag: &'static str,
    /// "Décidés par Dana le 2 mars 2026 à 10:42 (heure de Paris)".
    pub decided: String,
    pub settle_url: Option<String>,
}

/// What follows the answer, on the request page.
#[derive(Default)]
pub struct Panel {
    pub restriction: Option<RestrictionView>,
    pub holds: Vec<HoldView>,
    pub fees: Vec<FeeView>,
    /// The fee form, when a fee may be asked now.
    pub fee_url: Option<String>,
    pub lift_url: Option<String>,
}

impl Panel {
    pub fn shown(&self) -> bool {
        self.restriction.is_some()
            || !self.holds.is_empty()
            || !self.fees.is_empty()
            || self.fee_url.is_some()
    }
}

fn basis_words(t: &Strings, basis: FeeBasis) -> String {
    t.t(&format!("follow.fee.basis.{}", basis.as_str()))
        .to_string()
}

fn fee_view(
    t: &Strings,
    lang: Lang,
    zone: chrono_tz::Tz,
    names: &crate::staff::Names,
    f: &FeeRow,
    page_url: &str,
    can_act: bool,
) -> FeeView {
    let tag = match f.state {
        FeeState::Asked => "warn",
        FeeState::Paid => "ok",
        FeeState::Waived => "",
    };
    FeeView {
        id: f.id,
        basis: basis_words(t, f.basis),
        amount: euros(f.amount_cents, lang == Lang::Fr),
        reason: f.reason.clone(),
        state: t
            .t(&format!("follow.fee.state.{}", f.state.as_str()))
            .to_string(),
        tag,
        decided: t.fill(
            "follow.fee.decided",
            &[
                ("who", &names.of(&f.decided_by)),
                ("date", &local_time(f.decided_at.and_utc(), zone, lang)),
            ],
        ),
        settle_url: (can_act && desk::follow::can_settle_fee(f.state))
            .then(|| format!("{page_url}/fee/{}", f.id)),
    }
}

/// The block for the request page.
pub async fn panel(
    state: &State,
    staff: &Staff,
    row: &RequestRow,
    users: &[crate::store::users::UserRow],
) -> Result<Panel, AdminError> {
    let id = row.id;
    let (restriction, holds, fees) = state
        .db(move |conn, _| {
            Ok::<_, WorkflowError>((
                crate::store::follow::restriction_for(conn, id)?,
                crate::store::follow::holds_for(conn, id)?,
                crate::store::follow::fees_for(conn, &[id])?,
            ))
        })
        .await?;
    let lang = staff.lang();
    let t = lang.strings();
    let today = state.law.today(state.clock.now());
    let can_act = staff.role.can_act();
    // Lifting is the DPO's decision, from the restrictions page.
    let dpo = can_act && staff.role.can_read_reports();
    let names = crate::staff::Names::new(users);
    let page_url = format!("/admin/requests/{}", workflow::reference(row));
    let pending = fees.last().map(|f| f.state);
    let can_ask = can_act && !desk::follow::fee_bases(row.status, row.kind, pending).is_empty();
    let restriction = restriction.map(|r| restriction_view(state, t, lang, &r, row, dpo));
    Ok(Panel {
        lift_url: restriction
            .as_ref()
            .filter(|r| r.can_lift)
            .map(|r| format!("/admin/restrictions/{}/lift", r.id)),
        restriction,
        holds: holds
            .iter()
            .map(|h| hold_view(state, t, lang, h, row, today, false))
            .collect(),
        fees: fees
            .iter()
            .map(|f| fee_view(t, lang, state.law.time_zone, &names, f, &page_url, can_act))
            .collect(),
        fee_url: can_ask.then(|| format!("{page_url}/fee")),
    })
}

#[derive(Template)]
#[template(path = "admin/fee.html")]
pub struct FeePage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub error: Option<FormError>,
    pub reference: String,
    pub page_url: String,
    pub action: String,
    /// (code, words, chosen).
    pub bases: Vec<(&'static str, String, bool)>,
    pub amount: String,
    pub reason: String,
    pub requester: String,
}

impl FeePage {
    pub fn heading(&self) -> String {
        self.t
            .fill("follow.fee.title", &[("reference", &self.reference)])
    }

    pub fn title(&self) -> String {
        if self.error.is_some() {
            format!("{}{}", self.t.t("shell.error_prefix"), self.heading())
        } else {
            self.heading()
        }
    }
}

async fn load(
    state: &State,
    staff: &Staff,
    key: String,
) -> Result<(RequestRow, Option<FeeState>), AdminError> {
    let (row, fees) = state
        .db(move |conn, _| {
            let row = workflow::find(conn, &key)?;
            let fees = crate::store::follow::fees_for(conn, &[row.id])?;
            Ok::<_, WorkflowError>((row, fees))
        })
        .await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok((row, fees.last().map(|f| f.state)))
}

#[derive(Debug, Default, Deserialize)]
pub struct FeeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

async fn fee_page(
    state: &State,
    staff: &Staff,
    key: String,
    typed: &FeeForm,
    error: Option<FormError>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let (row, pending) = load(state, staff, key).await?;
    let reference = workflow::reference(&row).to_string();
    let page_url = format!("/admin/requests/{reference}");
    let bases = desk::follow::fee_bases(row.status, row.kind, pending);
    if bases.is_empty() {
        return Ok(see_other(&page_url));
    }
    let lang = staff.lang();
    let t = lang.strings();
    let chosen = if typed.basis.is_empty() {
        bases[0].as_str().to_string()
    } else {
        typed.basis.clone()
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = FeePage {
        nav: staff.nav(),
        t,
        error,
        action: format!("{page_url}/fee"),
        page_url,
        reference,
        bases: bases
            .iter()
            .map(|b| (b.as_str(), basis_words(t, *b), chosen == b.as_str()))
            .collect(),
        amount: typed.amount.clone(),
        reason: typed.reason.clone(),
        requester: t.fill(
            "follow.fee.mail",
            &[
                ("name", &row.requester_name),
                (
                    "language",
                    t.t(&format!("request.language.{}", row.language.code())),
                ),
            ],
        ),
    };
    Ok(super::render(&page, status))
}

pub async fn form(
    state: State,
    staff: Staff,
    key: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    fee_page(&state, &staff, key.into_inner(), &FeeForm::default(), None).await
}

pub async fn ask(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    form: web::Form<FeeForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    let key = key.into_inner();
    let form = form.into_inner();
    let t = staff.lang().strings();
    let back = |field: &'static str, text: String| {
        fee_page(
            &state,
            &staff,
            key.clone(),
            &form,
            Some(FormError::new(field, text)),
        )
    };
    let Ok(basis) = form.basis.parse::<FeeBasis>() else {
        return back("fee-basis-0", t.t("follow.fee.error_basis").to_string()).await;
    };
    let cents = match parse_euros(&form.amount) {
        Ok(c) => c,
        Err(e) => {
            let which = match e {
                AmountError::Unreadable => "follow.fee.error_amount",
                AmountError::Zero => "follow.fee.error_zero",
                AmountError::TooHigh => "follow.fee.error_high",
            };
            return back("fee-amount", t.t(which).to_string()).await;
        }
    };
    let reason = form.reason.trim().to_string();
    if reason.is_empty() {
        return back("fee-reason", t.t("follow.fee.error_reason").to_string()).await;
    }
    let (row, _) = load(&state, &staff, key.clone()).await?;
    let actor = staff.actor();
    let now = state.clock.now();
    let id = row.id;
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(workflow::follow::ask_fee(
                conn, app, id, basis, cents, &reason, &actor, now,
            ))
        })
        .await?;
    let page_url = format!("/admin/requests/{}", workflow::reference(&row));
    match done {
        Ok(()) => Ok(see_other(&format!("{page_url}?done=fee_asked"))),
        Err(WorkflowError::Invalid { .. }) => {
            back("fee-reason", t.t("follow.error_text").to_string()).await
        }
        Err(e) if e.is_said() => back("fee-basis-0", t.t("follow.moved").to_string()).await,
        Err(e) => {
            tracing::error!(error = %e, "cannot record a fee");
            Err(AdminError::Internal)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SettleForm {
    csrf: String,
    #[serde(default)]
    outcome: String,
}

pub async fn settle(
    state: State,
    staff: Staff,
    path: web::Path<(String, i64)>,
    form: web::Form<SettleForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    let (key, fee) = path.into_inner();
    let to = match form.outcome.as_str() {
        "paid" => FeeState::Paid,
        "waived" => FeeState::Waived,
        _ => return Err(AdminError::NotFound),
    };
    let (row, _) = load(&state, &staff, key).await?;
    let actor = staff.actor();
    let now = state.clock.now();
    let id = row.id;
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(workflow::follow::settle_fee(
                conn, app, id, fee, to, &actor, now,
            ))
        })
        .await?;
    let page_url = format!("/admin/requests/{}", workflow::reference(&row));
    match done {
        Ok(()) => Ok(see_other(&format!("{page_url}?done=fee_{}", to.as_str()))),
        Err(WorkflowError::NotFound) => Err(AdminError::NotFound),
        // Settled meanwhile (another tab, a colleague): the page shows where it stands.
        Err(e) if e.is_said() => Ok(see_other(&page_url)),
        Err(e) => {
            tracing::error!(error = %e, "cannot settle a fee");
            Err(AdminError::Internal)
        }
    }
}
