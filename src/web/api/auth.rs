//! Bearer API keys (made by `staff::api_keys`), checked on every API call. Verified keys are
//! remembered for a minute so the hot path does no query.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::crypto::eq_secret;
use crate::staff::api_keys::{PREFIX, key_hash};
use crate::store::api_keys;
use crate::web::WebState;
use crate::web::error::Problem;

/// How long a revoked key may still be honoured by a process that checked it just before.
const CACHE_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub key_id: i64,
    pub name: String,
}

impl ApiClient {
    /// The actor named in the timeline and the audit trail.
    pub fn actor(&self) -> String {
        format!("api:{}", self.name)
    }
}

#[derive(Default)]
pub struct KeyCache {
    verified: Mutex<HashMap<String, (ApiClient, Instant)>>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<ApiClient> {
        let map = self.verified.lock().ok()?;
        let (client, at) = map.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| client.clone())
    }

    fn put(&self, hash: String, client: ApiClient) {
        if let Ok(mut map) = self.verified.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (client, Instant::now()));
        }
    }
}

impl FromRequest for ApiClient {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Problem>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<Arc<WebState>>>()
            .map(|s| Arc::clone(s.get_ref()));
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .map(str::trim)
                    .map(str::to_string)
            });
        Box::pin(async move {
            let state = state.ok_or_else(Problem::internal)?;
            let key = match presented {
                None => {
                    return Err(Problem::unauthorized(
                        "send your API key as `Authorization: Bearer dsar_…`; create one with `dsar api-key create --name NAME`",
                    ));
                }
                Some(None) => {
                    return Err(Problem::unauthorized(
                        "the Authorization header must use the Bearer scheme: `Authorization: Bearer dsar_…`",
                    ));
                }
                Some(Some(key)) => key,
            };
            let hash = key_hash(&key);
            if let Some(client) = state.api_keys.get(&hash) {
                return Ok(client);
            }
            let wrong = || Problem::unauthorized("this API key is unknown or revoked");
            if !key.starts_with(PREFIX) {
                return Err(wrong());
            }
            let lookup = hash.clone();
            let found = state
                .db(move |conn, state| {
                    let row = api_keys::find_active_by_hash(conn, &lookup)?;
                    if let Some(row) = &row {
                        api_keys::touch(conn, row.id, state.clock.now_naive())?;
                    }
                    Ok::<_, diesel::result::Error>(row)
                })
                .await?;
            match found {
                Some(row) if eq_secret(row.key_hash.as_bytes(), hash.as_bytes()) => {
                    let client = ApiClient {
                        key_id: row.id,
                        name: row.name,
                    };
                    state.api_keys.put(hash, client.clone());
                    Ok(client)
                }
                _ => Err(wrong()),
            }
        })
    }
}
