//! The JSON API, v1: how other systems and staff file and follow requests.

pub mod auth;
pub mod docs;
pub mod openapi;
pub mod requests;
mod schema;
pub mod scopes;
pub mod suppressions;
pub mod view;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::web::error::Problem;

/// Where API v1 lives: the router's scope and the prefix of every path in its description.
pub const BASE: &str = "/api/v1";

/// The one list of v1 operations: each is registered on the router and described in the
/// OpenAPI document from its own `#[utoipa::path]` and actix route attributes, so the two
/// cannot disagree.
macro_rules! operations {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        fn register(scope: actix_web::Scope) -> actix_web::Scope {
            scope$(.service($module::$handler))+
        }

        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$handler),+))]
        pub struct Operations;
    };
}

operations!(
    requests::create,
    requests::list,
    requests::show,
    requests::record_event,
    requests::extend,
    requests::post_message,
    scopes::confirm,
    suppressions::check,
    openapi::spec,
    docs::page,
);

pub fn routes(cfg: &mut web::ServiceConfig, max_json_bytes: usize) {
    let scope = web::scope(BASE)
        .app_data(
            web::JsonConfig::default()
                .limit(max_json_bytes)
                .error_handler(json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| Problem::bad_request(e.to_string()).into()),
        );
    cfg.service(register(scope).default_service(web::to(unrouted)));
    // Everything else under /api is the API's too: a problem, never a portal page (the
    // portal's `/{lang}/…` routes would otherwise take `/api/link` or `/api`).
    cfg.service(web::scope("/api").default_service(web::to(unrouted)));
}

/// A path the description has, with a method it has not: 405 with the methods it has (RFC 9110
/// § 15.5.6); any other path: 404. Both as problems.
async fn unrouted(req: HttpRequest) -> Result<HttpResponse, Problem> {
    match openapi::methods_of(req.path()) {
        Some(allowed) => Err(Problem::method_not_allowed(
            format!(
                "{} {} is not an operation of this API; this path takes {}",
                req.method(),
                req.path(),
                allowed.join(", ")
            ),
            allowed.join(", "),
        )),
        None => Err(Problem::not_found(format!(
            "no API route for {} {}",
            req.method(),
            req.path()
        ))),
    }
}

/// A body that is not JSON, not the JSON we expect, or too large: a 4xx that says which.
fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let problem = match &err {
        JsonPayloadError::ContentType => not_json(),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => too_large(*limit),
        JsonPayloadError::Deserialize(e) if e.is_data() => Problem::field("body", e.to_string()),
        JsonPayloadError::Deserialize(e) => {
            Problem::bad_request(format!("the body is not valid JSON: {e}"))
        }
        other => Problem::bad_request(other.to_string()),
    };
    problem.into()
}

fn not_json() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "content-type",
        "JSON expected",
        "send the body as JSON with `Content-Type: application/json`",
    )
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "Body too large",
        format!("the body is larger than {limit} bytes"),
    )
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "query",
        "Invalid query string",
        err.to_string(),
    )
    .into()
}
