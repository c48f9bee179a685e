//! Probes for load balancers and orchestrators.

use actix_web::{HttpResponse, get};
use serde_json::json;

use super::State;
use crate::store;

/// The process is up.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and carries every migration this binary knows.
#[get("/readyz")]
pub async fn readyz(state: State) -> HttpResponse {
    let checked = state
        .db(|conn, _| {
            store::ping(conn)?;
            store::migrations_applied(conn)
        })
        .await;
    match checked {
        Ok(true) => HttpResponse::Ok()
            .json(json!({ "status": "ready", "database": "ok", "migrations": "applied" })),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "not ready", "database": "ok", "migrations": "pending" })),
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "not ready", "database": "unreachable" })),
    }
}
