//! `/api/v1/requests/{id}/scope`: what a request covers, confirmed by another system as staff
//! confirm it on the request page; the sources are then asked for that only.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::ApiClient;
use super::requests::{ID_DOC, after};
use crate::domain::scope::Scope;
use crate::web::State;
use crate::web::error::Problem;
use crate::workflow::scopes as flow;

/// The scope of a request: every activity of the person's data (`everything`), or the
/// activities of the processing register it covers (`activities`). One of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "activities": ["orders"] }))]
pub struct ScopeBody {
    /// `true`: the request covers all of the person's data; not given with `activities`.
    #[serde(default)]
    everything: Option<bool>,
    /// Ids of the register activities the request covers (at least one), among those some
    /// data source holds data for; not given with `everything`.
    #[serde(default)]
    activities: Option<Vec<String>>,
}

/// Confirm the scope of a request
///
/// Sets what the request covers before it is sent to the sources: only the sources and
/// tables of the activities given are then searched or changed. A request whose person asked
/// for part of their data cannot be sent to the sources before its scope is confirmed. The
/// step is on the request's timeline and in the audit trail.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body(content = ScopeBody, description = "The scope"),
    responses(
        (status = 200, description = "Confirmed: the request as it now stands", body = super::view::RequestView),
        (status = 404, description = "No request with this id or reference", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is closed, or already sent to the sources", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither or both of `everything` and `activities`, or an activity no source holds data for", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/requests/{id}/scope")]
pub async fn confirm(
    state: State,
    client: ApiClient,
    id: web::Path<String>,
    body: web::Json<ScopeBody>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    let scope = match (body.everything, body.activities) {
        (Some(true), None) => Scope::Everything,
        (None | Some(false), Some(list)) if !list.is_empty() => {
            let held = flow::activities(&state, crate::i18n::Lang::En);
            if let Some(unknown) = list.iter().find(|a| !held.iter().any(|(id, _)| id == *a)) {
                return Err(Problem::field(
                    "activities",
                    format!(
                        "no data source holds data for the activity \"{}\"; expected among: {}",
                        unknown.chars().take(64).collect::<String>(),
                        held.iter()
                            .map(|(id, _)| id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Scope::Activities(list.into_iter().collect())
        }
        _ => {
            return Err(Problem::field(
                "activities",
                "give \"everything\": true, or \"activities\": a list of at least one register activity",
            ));
        }
    };
    let now = state.clock.now();
    let actor = client.actor();
    let view = after(&state, id.into_inner(), now, move |conn, app, row| {
        flow::confirm(conn, app, row.id, &scope, &actor, now)?;
        Ok(crate::store::requests::get(conn, row.id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
