//! `/{lang}/transfer/{token}`: the package of a portability request, downloaded by the other
//! organisation the person named (GDPR art. 20(2)) with the link mailed to it. The link opens
//! nothing but the package, under the same expiry and download count as the person's own.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::crypto::sha256_hex;
use crate::domain::fulfilment::PackageStatus;
use crate::i18n::Lang;
use crate::store::fulfilment as export_rows;
use crate::web::State;
use crate::web::error::{Problem, internal};
use crate::workflow;

pub async fn download(state: State, path: web::Path<(String, String)>) -> HttpResponse {
    let (raw_lang, token) = path.into_inner();
    let Some(lang) = super::url_lang(&raw_lang) else {
        return super::not_found(&state, Lang::En);
    };
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return super::not_found(&state, lang);
    }
    let now = state.clock.now();
    let started = state
        .db(move |conn, app| {
            let Some(id) = export_rows::request_for_transfer(conn, &sha256_hex(&token))? else {
                return Ok(None);
            };
            let row = crate::store::requests::get(conn, id)?;
            // Opened before the download is counted: a file that cannot be read spends none.
            let file = export_rows::export_for(conn, row.id)?
                .filter(|e| e.status == PackageStatus::Released)
                .and_then(|e| e.storage_name)
                .map(|name| crate::fulfil::open_sealed(app, &name))
                .transpose()
                .map_err(|e| internal(&e))?;
            let started = crate::fulfil::start_download(conn, &row, "recipient", now)
                .map_err(|e| internal(&e))?;
            let opened = match (started, file) {
                (Ok(_), Some(reader)) => Ok(reader),
                (Ok(_), None) => return Err(Problem::internal()),
                (Err(why), _) => Err(why),
            };
            Ok::<_, Problem>(Some((workflow::reference(&row).to_string(), opened)))
        })
        .await;
    match started {
        Ok(Some((reference, Ok(reader)))) => HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{reference}.zip\""),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .streaming(crate::web::stream_reader(reader)),
        Ok(Some((_, Err(why)))) => super::message_page(
            &state,
            lang,
            StatusCode::GONE,
            "status.download",
            lang.strings().fill(
                why.message_key(),
                &[("dpo", &state.settings.organisation.dpo_email)],
            ),
        ),
        Ok(None) => super::not_found(&state, lang),
        Err(e) => super::internal_error(&state, lang, &e),
    }
}
