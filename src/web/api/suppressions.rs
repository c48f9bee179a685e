//! The suppression list, asked by other systems before they send marketing or rely on
//! consent: "is this address on it?". The list holds keyed hashes only, so the answer is
//! computed from the address the caller already has; nothing else can be read back.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiClient;
use super::schema;
use crate::web::State;
use crate::web::error::Problem;

/// The address to look up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "email": "camille@example.fr" }))]
pub struct CheckBody {
    #[schema(schema_with = schema::email)]
    email: String,
}

/// Whether the address is on the suppression list, and for what.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({ "suppressed": true, "scopes": [{ "scope": "direct_marketing", "since": "2026-03-02T09:15:00+00:00" }] }))]
pub struct CheckAnswer {
    suppressed: bool,
    /// Empty when `suppressed` is false.
    scopes: Vec<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Scope {
    /// What the person objected to: `direct_marketing` (Art. 21(2)), or consent withdrawn.
    scope: String,
    /// Since when.
    #[schema(format = DateTime)]
    since: String,
}

/// Check the suppression list
///
/// Whether a person objected to direct marketing or withdrew their consent, asked with the
/// address the caller already holds (the list keeps keyed hashes only).
#[utoipa::path(
    tag = "suppressions",
    security(("api_key" = [])),
    request_body(content = CheckBody, description = "The address"),
    responses(
        (status = 200, description = "The answer", body = CheckAnswer),
        (status = 422, description = "Not a valid email address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/suppressions/check")]
pub async fn check(
    state: State,
    _client: ApiClient,
    body: web::Json<CheckBody>,
) -> Result<HttpResponse, Problem> {
    let email = body.into_inner().email;
    // As sent, as the schema counts it: padding does not make a long address fit.
    if email.chars().count() > schema::MAX_EMAIL {
        return Err(Problem::field(
            "email",
            format!("email is longer than {} characters", schema::MAX_EMAIL),
        ));
    }
    // A field the body has but cannot use: 422 with the reason, as every other body field.
    if let Err(e) = crate::domain::email::EmailAddress::parse(&email) {
        return Err(Problem::field("email", e.to_string()));
    }
    let hash = crate::workflow::suppression::suppression_hash(&state.fulfilment_key, &email);
    let scopes = state
        .db(move |conn, _| crate::store::fulfilment::suppressed(conn, &hash))
        .await?;
    Ok(HttpResponse::Ok().json(CheckAnswer {
        suppressed: !scopes.is_empty(),
        scopes: scopes
            .into_iter()
            .map(|(scope, since)| Scope {
                scope,
                since: since.and_utc().to_rfc3339(),
            })
            .collect(),
    }))
}
