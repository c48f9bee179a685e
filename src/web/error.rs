//! One error type for HTTP answers: RFC 9457 problem JSON with a status that says whose fault
//! it is and a message that says what to fix. The cause of a 5xx is logged, never shown.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::deadline::ExtensionError;
use crate::domain::lifecycle::StepError;
use crate::store::StoreError;
use crate::workflow::WorkflowError;

/// One invalid field of a body or a query.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a path in the body: `requester.email`.
    pub field: String,
    /// What is wrong with it, and what would do.
    pub message: String,
}

/// An RFC 9457 problem: what went wrong and what to fix, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "requester.email: the email address has a domain without a dot",
    "errors": [{ "field": "requester.email", "message": "the email address has a domain without a dot" }]
}))]
pub struct Problem {
    /// The kind of problem, the same for every answer of that kind: `/problems/validation`,
    /// `/problems/not-found`, `/problems/unauthorized`, …
    #[serde(rename = "type")]
    #[schema(format = "uri-reference")]
    pub kind: String,
    /// The kind of problem in words.
    pub title: String,
    /// The HTTP status of the answer.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong this time, and what to fix.
    pub detail: String,
    /// Each invalid field, for `/problems/validation`; absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    challenge: bool,
    /// The methods a path takes, for the `Allow` header of a 405 (boxed: a `Problem` is
    /// every handler's error, so it stays small).
    #[serde(skip)]
    allow: Option<Box<str>>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            challenge: false,
            allow: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            errors,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request has invalid fields",
                detail,
            )
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Problem::validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "The request body could not be read",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem {
            challenge: true,
            ..Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "An API key is needed",
                detail,
            )
        }
    }

    /// `allow`: the methods the path takes, comma-separated.
    pub fn method_not_allowed(detail: impl Into<String>, allow: String) -> Self {
        Problem {
            allow: Some(allow.into_boxed_str()),
            ..Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                detail,
            )
        }
    }

    pub fn conflict(slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, slug, title, detail)
    }

    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "something went wrong on our side; nothing was changed, and the error is logged",
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(allow) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            res.insert_header((header::ALLOW, allow));
        }
        if self.challenge {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dsar\""),
            ));
        }
        res.body(serde_json::to_string(self).unwrap_or_default())
    }
}

/// Logs what went wrong (with its chain of causes) and answers a bare 500.
pub fn internal(err: &dyn std::error::Error) -> Problem {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "internal error");
    Problem::internal()
}

impl From<WorkflowError> for Problem {
    fn from(err: WorkflowError) -> Self {
        match err {
            WorkflowError::NotFound => Problem::not_found("no request with this id or reference"),
            WorkflowError::Invalid { field, message } => Problem::field(field, message),
            WorkflowError::Step(e @ StepError::Transition(_))
            | WorkflowError::Step(e @ StepError::NotOnHold(_)) => {
                Problem::conflict("transition", "This step is not allowed now", e.to_string())
            }
            WorkflowError::Step(e @ StepError::AlreadyVerified) => Problem::conflict(
                "already-verified",
                "Identity already verified",
                e.to_string(),
            ),
            WorkflowError::Step(e @ StepError::BeforePause { .. }) => {
                Problem::field("at", e.to_string())
            }
            WorkflowError::Extension(e) => match e {
                ExtensionError::TooLate { .. } => {
                    Problem::conflict("extension-too-late", "Too late to extend", e.to_string())
                }
                other => Problem::field("extension", other.to_string()),
            },
            WorkflowError::Refused(why) => {
                Problem::conflict("refused", "This is not possible now", why)
            }
            WorkflowError::Store(e) => store_error(e),
            e @ (WorkflowError::Mail(_) | WorkflowError::Files(_)) => internal(&e),
        }
    }
}

fn store_error(e: diesel::result::Error) -> Problem {
    match e {
        diesel::result::Error::NotFound => Problem::not_found("no such record"),
        other => internal(&other),
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Query(e) => store_error(e),
            StoreError::Pool(e) => no_connection(&e),
            StoreError::Unavailable(e) => no_connection(&e),
            other => internal(&other),
        }
    }
}

fn no_connection(e: &dyn std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "no database connection");
    Problem::unavailable("the database cannot be reached; try again shortly")
}

impl From<diesel::result::Error> for Problem {
    fn from(err: diesel::result::Error) -> Self {
        store_error(err)
    }
}

impl From<actix_web::error::BlockingError> for Problem {
    fn from(err: actix_web::error::BlockingError) -> Self {
        internal(&err)
    }
}
