//! Logs: human-readable by default, JSON by configuration. `RUST_LOG` overrides the filter.
//! Handlers never log names, emails or free text: identifiers only; and the address of each
//! request is logged with its secrets masked ([`MaskedRootSpan`]).

use std::borrow::Cow;

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::{Log, LogFormat};

pub fn init(log: &Log) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // try_init: tests and embedded uses may have installed a subscriber already.
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The request-logging span of every HTTP request, as tracing-actix-web's default but with
/// the address masked ([`mask_target`]): a log line, even an error's, never carries the
/// secret a link holds.
pub struct MaskedRootSpan;

impl RootSpanBuilder for MaskedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("");
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_string());
        let method = request.method().as_str().to_string();
        let user_agent = request
            .headers()
            .get("User-Agent")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let connection = request.connection_info();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %mask_target(target),
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// What stands in for a secret in a logged address.
pub const MASK: &str = "***";

/// Query keys whose values are kept in logs: words the application itself writes (a notice,
/// a page number, a filter), never what a person typed.
const KEPT_QUERY_KEYS: [&str; 8] = [
    "done", "page", "sort", "status", "kind", "from", "to", "state",
];

/// `target` (a path and query as requested) with its secrets masked: the token after
/// `/{lang}/r/` (the requester's link), after `/admin/password/` (password reset and
/// invitation links), any path segment that looks like one of our tokens (64 hex digits),
/// and every query value but a few harmless ones (a search may hold a name, a link a token).
pub fn mask_target(target: &str) -> Cow<'_, str> {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let segments: Vec<&str> = path.split('/').collect();
    let secret_at = |i: usize| {
        let segment = segments[i];
        let after = |word: &str| i >= 1 && segments[i - 1].eq_ignore_ascii_case(word);
        let token_like = segment.len() >= 32 && segment.chars().all(|c| c.is_ascii_hexdigit());
        !segment.is_empty() && ((i == 3 && (after("r") || after("password"))) || token_like)
    };
    let mut changed = false;
    let masked_path: Vec<&str> = (0..segments.len())
        .map(|i| {
            if secret_at(i) {
                changed = true;
                MASK
            } else {
                segments[i]
            }
        })
        .collect();
    let masked_query = query.map(|q| {
        q.split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) if !value.is_empty() && !KEPT_QUERY_KEYS.contains(&key) => {
                    changed = true;
                    format!("{key}={MASK}")
                }
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    if !changed {
        return Cow::Borrowed(target);
    }
    let mut out = masked_path.join("/");
    if let Some(q) = masked_query {
        out.push('?');
        out.push_str(&q);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_addresses_are_masked() {
        let token = "a".repeat(64);
        for (target, logged) in [
            (format!("/fr/r/{token}"), "/fr/r/***".to_string()),
            (format!("/en/r/{token}/message"), "/en/r/***/message".into()),
            (
                format!("/en/r/{token}/files/12"),
                "/en/r/***/files/12".into(),
            ),
            // Even a token of the wrong length: what follows /r/ is the secret.
            ("/fr/r/abc123/identity".into(), "/fr/r/***/identity".into()),
            (
                format!("/admin/password/{token}"),
                "/admin/password/***".into(),
            ),
            (format!("/somewhere/{token}"), "/somewhere/***".into()),
            ("/fr/r/x?done=sent".into(), "/fr/r/***?done=sent".into()),
            (
                "/admin?q=Marie%20Dupont&page=2".into(),
                "/admin?q=***&page=2".into(),
            ),
            (format!("/x?token={token}"), "/x?token=***".into()),
        ] {
            assert_eq!(mask_target(&target), logged, "{target}");
        }
    }

    #[test]
    fn ordinary_addresses_are_kept_as_they_are() {
        for target in [
            "/",
            "/fr/request/access",
            "/admin/requests/DSR-2026-000123",
            "/admin/documents/7",
            "/api/v1/requests?status=new&page=3",
            "/r/",
        ] {
            assert!(matches!(mask_target(target), Cow::Borrowed(_)), "{target}");
        }
    }

    /// The line an error logs inside a request carries the masked address only.
    #[actix_web::test]
    async fn log_lines_of_a_request_never_carry_its_token() {
        use actix_web::{App, HttpResponse, test, web};
        use tracing_actix_web::TracingLogger;

        #[derive(Clone, Default)]
        struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(TracingLogger::<MaskedRootSpan>::new())
                .route(
                    "/{lang}/r/{token}/message",
                    web::post().to(|| async {
                        tracing::error!("portal request failed");
                        HttpResponse::InternalServerError().finish()
                    }),
                ),
        )
        .await;
        let token = "0123456789abcdef".repeat(4);
        let req = test::TestRequest::post()
            .uri(&format!("/fr/r/{token}/message?done=sent"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 500);
        let logged = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        assert!(logged.contains("portal request failed"), "{logged}");
        assert!(logged.contains("/fr/r/***/message?done=sent"), "{logged}");
        assert!(!logged.contains(&token), "{logged}");
    }
}
