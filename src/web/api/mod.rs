//! The JSON API, v1: how other systems and staff file and follow requests.

pub mod auth;
pub mod requests;
pub mod suppressions;
pub mod view;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::web::error::Problem;

pub fn routes(cfg: &mut web::ServiceConfig, max_json_bytes: usize) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(max_json_bytes)
                    .error_handler(json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| Problem::bad_request(e.to_string()).into()),
            )
            .service(requests::create)
            .service(requests::list)
            .service(requests::show)
            .service(requests::record_event)
            .service(requests::extend)
            .service(requests::post_message)
            .service(suppressions::check)
            .default_service(web::to(not_found)),
    );
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, Problem> {
    Err(Problem::not_found(format!(
        "no API route for {} {}",
        req.method(),
        req.path()
    )))
}

/// A body that is not JSON, not the JSON we expect, or too large: a 4xx that says which.
fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let problem = match &err {
        JsonPayloadError::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type",
            "JSON expected",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Body too large",
            format!("the body is larger than {limit} bytes"),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => Problem::field("body", e.to_string()),
        JsonPayloadError::Deserialize(e) => {
            Problem::bad_request(format!("the body is not valid JSON: {e}"))
        }
        other => Problem::bad_request(other.to_string()),
    };
    problem.into()
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
