//! The suppression list, asked by other systems before they send marketing or rely on
//! consent: "is this address on it?". The list holds keyed hashes only, so the answer is
//! computed from the address the caller already has; nothing else can be read back.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use serde_json::json;

use super::auth::ApiClient;
use crate::web::State;
use crate::web::error::Problem;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    email: String,
}

#[post("/suppressions/check")]
pub async fn check(
    state: State,
    _client: ApiClient,
    body: web::Json<CheckBody>,
) -> Result<HttpResponse, Problem> {
    let email = body.into_inner().email;
    if crate::domain::email::EmailAddress::parse(&email).is_err() {
        return Err(Problem::bad_request("email: not a valid email address"));
    }
    let hash = crate::workflow::suppression::suppression_hash(&state.fulfilment_key, &email);
    let scopes = state
        .db(move |conn, _| crate::store::fulfilment::suppressed(conn, &hash))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "suppressed": !scopes.is_empty(),
        "scopes": scopes
            .iter()
            .map(|(scope, since)| json!({ "scope": scope, "since": since.and_utc().to_rfc3339() }))
            .collect::<Vec<_>>(),
    })))
}
