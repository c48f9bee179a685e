//! `/{lang}/transfer/{token}`: the package of a portability request, downloaded by the other
//! organisation the person named (GDPR art. 20(2)) with the link mailed to it. The link opens
//! nothing but the package, under the same expiry and download count as the person's own.

use actix_web::{HttpResponse, web};

use crate::crypto::sha256_hex;
use crate::i18n::Lang;
use crate::store::fulfilment as export_rows;
use crate::web::State;

pub async fn download(state: State, path: web::Path<(String, String)>) -> HttpResponse {
    let (raw_lang, token) = path.into_inner();
    let Some(lang) = super::url_lang(&raw_lang) else {
        return super::not_found(&state, Lang::En);
    };
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return super::not_found(&state, lang);
    }
    super::status::package(&state, lang, "recipient", move |conn| {
        match export_rows::request_for_transfer(conn, &sha256_hex(&token))? {
            Some(id) => crate::store::requests::get(conn, id).map(Some),
            None => Ok(None),
        }
    })
    .await
}
