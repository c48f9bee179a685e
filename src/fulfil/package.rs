//! The access (or portability) package: a zip, encrypted at rest, written as a stream from
//! the staged data so its size never shows in memory. It holds `index.html` (the Art. 15
//! statement in the requester's language, then a readable view of the data), one
//! `data/<source>.json` and `data/<source>.csv` per source, the files teams found, and
//! `manifest.json` with each file's SHA-256 and size.

use std::io::{BufRead, BufReader, Write};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::index::write_index;
use crate::config::processing::Register;
use crate::config::sources::{Connector, Sources};
use crate::domain::fulfilment::Operation;
use crate::domain::fulfilment::{PackageStatus, RunStatus};
use crate::domain::kind::RequestKind;
use crate::fulfil::zip::ZipWriter;
use crate::state::AppState;
use crate::store::audit;
use crate::store::fulfilment::{self as rows, RunRow};
use crate::store::requests::RequestRow;
use crate::store::write_tx;
use crate::workflow;

/// Rows shown per table in index.html; the data files hold them all.
pub(super) const PREVIEW_ROWS: usize = 100;

/// An item staff withheld from the package (Art. 15(4): the rights of others).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Removed {
    /// A source id, or `source:table`.
    pub item: String,
    pub reason: String,
    pub by: String,
    pub at: NaiveDateTime,
}

/// One file of the package, as manifest.json lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// What goes into the package from one source run.
pub(super) struct Part<'a> {
    pub(super) run: &'a RunRow,
    pub(super) id: String,
    pub(super) name: String,
    /// The tables included, with their record counts.
    pub(super) tables: Vec<(String, u64)>,
    pub(super) file_name: Option<String>,
}

pub fn build(state: &AppState, request_id: i64) -> anyhow::Result<()> {
    let mut conn = state.pool.get()?;
    let row = crate::store::requests::get(&mut conn, request_id)?;
    let kind = row.kind;
    let portability = kind == RequestKind::Portability;
    let now = state.clock.now_naive();
    // What the requester was given stays as it was given: checked as the build starts.
    if !write_tx(&mut conn, |conn| {
        rows::start_export(conn, request_id, portability, now)
    })? {
        return Ok(());
    }
    drop(conn);
    // From here on, whatever goes wrong leaves the package "failed", which staff can build
    // again, never "building" for good.
    build_started(state, &row, portability, now).inspect_err(|e| {
        let failed = state
            .pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| Ok(rows::export_failed(&mut conn, request_id, &e.to_string())?));
        if let Err(also) = failed {
            tracing::error!(error = %also, "cannot record a failed package build");
        }
    })
}

fn build_started(
    state: &AppState,
    row: &RequestRow,
    portability: bool,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let request_id = row.id;
    let mut conn = state.pool.get()?;
    let runs = rows::runs_for(&mut conn, request_id)?;
    let export = rows::export_for(&mut conn, request_id)?
        .ok_or_else(|| anyhow::anyhow!("the export row is missing"))?;
    let removed: Vec<Removed> = serde_json::from_str(&export.removed).unwrap_or_default();
    drop(conn);
    let parts = parts(
        &state.sources,
        state.register.as_ref(),
        &runs,
        &removed,
        portability,
    );
    let records: u64 = parts
        .iter()
        .map(|p| p.tables.iter().map(|(_, n)| n).sum::<u64>())
        .sum();
    // "Nothing found" only when it is true: every source searched in full and none holding
    // anything. Withheld, filtered out (portability) or unsearched data still get a package
    // whose index.html says what happened to them.
    let nothing_found = runs
        .iter()
        .filter(|r| r.operation == Operation::Access)
        .all(|r| {
            let o = r.outcome();
            o.records() == 0 && o.skipped.is_none() && o.manual.is_empty()
        });
    let built = if nothing_found {
        None
    } else {
        Some(write_package(
            state,
            row,
            &parts,
            &runs,
            &removed,
            portability,
        )?)
    };
    let (status, name, size, manifest) = match &built {
        Some((name, size, files)) => (
            PackageStatus::Review,
            Some(name.as_str()),
            Some(*size as i64),
            serde_json::to_string(files)?,
        ),
        None => (PackageStatus::Empty, None, None, "[]".to_string()),
    };
    let recorded = state.pool.get().map_err(anyhow::Error::from).and_then(|mut conn| {
        Ok(write_tx(&mut conn, |conn| {
            let old = rows::built(
                conn,
                request_id,
                status,
                name,
                size,
                records as i64,
                &manifest,
                now,
            )?;
            audit::on_request(
                conn,
                &row.uuid,
                "worker",
                "export.built",
                &serde_json::json!({ "records": records, "size": size, "files": built.as_ref().map(|b| b.2.len()) }),
                now,
            )?;
            Ok::<_, diesel::result::Error>(old)
        })?)
    });
    match recorded {
        Ok(Some(old)) => {
            crate::fulfil::delete_staged(state, &old);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => {
            // Never recorded: the new file would be known to nobody.
            if let Some(name) = name {
                crate::fulfil::delete_staged(state, name);
            }
            Err(e)
        }
    }
}

fn parts<'a>(
    sources: &Sources,
    register: Option<&Register>,
    runs: &'a [RunRow],
    removed: &[Removed],
    portability: bool,
) -> Vec<Part<'a>> {
    let is_removed = |item: &str| removed.iter().any(|r| r.item == item);
    runs.iter()
        .filter(|r| {
            r.operation == Operation::Access && r.status == RunStatus::Done && r.staged.is_some()
        })
        .filter(|r| !is_removed(&r.source))
        .filter_map(|run| {
            let source = sources.find(&run.source)?;
            let outcome = run.outcome();
            let tables = outcome
                .tables
                .iter()
                .filter(|(t, _)| !is_removed(&format!("{}:{t}", run.source)))
                .filter(|(t, _)| {
                    if !portability {
                        return true;
                    }
                    // Portability: only what the person provided, on consent or contract.
                    let (activity, categories) = match &source.connector {
                        Connector::Sql(sql) => match sql.tables.iter().find(|x| &&x.name == t) {
                            Some(x) => (x.activity.as_str(), x.categories.as_slice()),
                            None => (source.activity.as_str(), source.categories.as_slice()),
                        },
                        _ => (source.activity.as_str(), source.categories.as_slice()),
                    };
                    source.portable(register, activity, categories)
                })
                .map(|(t, n)| (t.clone(), *n))
                .collect::<Vec<_>>();
            (!tables.is_empty()).then(|| Part {
                run,
                id: run.source.clone(),
                name: source.name.clone(),
                tables,
                file_name: outcome.file_name.clone(),
            })
        })
        .collect()
}

/// Writes the package; returns its file name, size on disk and the manifest.
fn write_package(
    state: &AppState,
    row: &RequestRow,
    parts: &[Part<'_>],
    runs: &[RunRow],
    removed: &[Removed],
    portability: bool,
) -> anyhow::Result<(String, u64, Vec<ManifestFile>)> {
    let (name, sealed) = crate::fulfil::create_sealed(state)?;
    let result = (|| -> anyhow::Result<(u64, Vec<ManifestFile>)> {
        let now = state.clock.now_naive();
        let mut zip = ZipWriter::new(sealed, now);
        let lang = row.language;
        let scope = {
            let mut conn = state.pool.get()?;
            crate::workflow::scopes::of_request(&mut conn, row.id)?
        };
        zip.start_file("index.html", true)?;
        write_index(
            &mut zip,
            state,
            row,
            lang,
            parts,
            runs,
            removed,
            portability,
            &scope,
        )?;
        // What a scoped answer covers, for a machine as the index says it for the person.
        if let crate::domain::scope::Scope::Activities(set) = &scope {
            zip.start_file("scope.json", true)?;
            serde_json::to_writer_pretty(
                &mut zip,
                &serde_json::json!({
                    "activities": set,
                    "words": crate::workflow::scopes::scope_words(state, &scope, lang),
                }),
            )?;
        }
        for part in parts {
            let staged = part.run.staged.as_deref().unwrap_or_default();
            if let Some(file_name) = &part.file_name {
                zip.start_file(&format!("data/{}/{file_name}", part.id), false)?;
                std::io::copy(&mut crate::fulfil::open_sealed(state, staged)?, &mut zip)?;
                continue;
            }
            zip.start_file(&format!("data/{}.json", part.id), true)?;
            write_json(&mut zip, state, staged, part)?;
            zip.start_file(&format!("data/{}.csv", part.id), true)?;
            write_csv(&mut zip, state, staged, part)?;
        }
        // Starting the manifest finishes the entry before it, so every other file is listed.
        zip.start_file("manifest.json", true)?;
        let files: Vec<ManifestFile> = zip
            .entries()
            .iter()
            .map(|e| ManifestFile {
                name: e.name.clone(),
                size: e.size,
                sha256: e.sha256.clone(),
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut zip,
            &serde_json::json!({
                "request": workflow::reference(row).to_string(),
                "kind": row.kind,
                "generated_at": now.and_utc().to_rfc3339(),
                "controller": state.settings.organisation.name,
                "files": files,
            }),
        )?;
        let (sealed, _) = zip.finish()?;
        let size = crate::fulfil::finish_sealed(sealed)?;
        Ok((size, files))
    })();
    match result {
        Ok((size, files)) => Ok((name, size, files)),
        Err(e) => {
            crate::fulfil::delete_staged(state, &name);
            Err(e)
        }
    }
}

/// Reads a staged file line by line: (table, record).
pub(super) fn staged_records(
    state: &AppState,
    staged: &str,
) -> std::io::Result<impl Iterator<Item = std::io::Result<(String, Value)>>> {
    let reader = BufReader::with_capacity(64 * 1024, crate::fulfil::open_sealed(state, staged)?);
    Ok(reader.lines().map(|line| {
        let line = line?;
        let mut v: Value = serde_json::from_str(&line)?;
        let table = v.get("t").and_then(Value::as_str).unwrap_or("").to_string();
        Ok((
            table,
            v.get_mut("r").map(Value::take).unwrap_or(Value::Null),
        ))
    }))
}

/// A staged line with its record left as the gatherer wrote it (compact JSON), for
/// data/<source>.json: copied as it is rather than parsed and written again.
#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(borrow, default)]
    t: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    r: Option<&'a RawValue>,
}

pub(super) fn included(part: &Part<'_>, table: &str) -> bool {
    part.tables.iter().any(|(t, _)| t == table)
}

/// How many records of `table` the part holds.
pub(super) fn total(part: &Part<'_>, table: &str) -> u64 {
    part.tables
        .iter()
        .find(|(n, _)| n == table)
        .map_or(0, |(_, n)| *n)
}

fn write_json(
    out: &mut impl Write,
    state: &AppState,
    staged: &str,
    part: &Part<'_>,
) -> anyhow::Result<()> {
    write!(
        out,
        "{{\n\"source\": {},\n\"name\": {},\n\"tables\": {{",
        serde_json::to_string(&part.id)?,
        serde_json::to_string(&part.name)?
    )?;
    let mut current: Option<String> = None;
    let mut first_table = true;
    let mut staged =
        BufReader::with_capacity(64 * 1024, crate::fulfil::open_sealed(state, staged)?);
    let mut line = String::new();
    loop {
        line.clear();
        if staged.read_line(&mut line)? == 0 {
            break;
        }
        let RawLine {
            t: table,
            r: record,
        } = serde_json::from_str(&line)?;
        if !included(part, &table) {
            continue;
        }
        if current.as_deref() != Some(&*table) {
            if current.is_some() {
                write!(out, "\n]")?;
            }
            if !first_table {
                write!(out, ",")?;
            }
            write!(out, "\n{}: [\n", serde_json::to_string(&table)?)?;
            first_table = false;
            current = Some(table.into_owned());
        } else {
            writeln!(out, ",")?;
        }
        out.write_all(record.map_or("null", RawValue::get).as_bytes())?;
    }
    if current.is_some() {
        write!(out, "\n]")?;
    }
    write!(out, "\n}}\n}}\n")?;
    Ok(())
}

/// One line per field: `table,record,field,value`, the same shape whatever the source.
fn write_csv(
    out: &mut impl Write,
    state: &AppState,
    staged: &str,
    part: &Part<'_>,
) -> anyhow::Result<()> {
    out.write_all(b"table,record,field,value\r\n")?;
    let mut current = String::new();
    let mut n = 0u64;
    for item in staged_records(state, staged)? {
        let (table, record) = item?;
        if !included(part, &table) {
            continue;
        }
        if table != current {
            current = table.clone();
            n = 0;
        }
        n += 1;
        let fields: Vec<(String, Value)> = match record {
            Value::Object(map) => map.into_iter().collect(),
            other => vec![("value".to_string(), other)],
        };
        for (field, value) in fields {
            let value = match value {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            write_csv_quoted(out, &table)?;
            write!(out, ",{n},")?;
            write_csv_quoted(out, &field)?;
            out.write_all(b",")?;
            write_csv_quoted(out, &value)?;
            out.write_all(b"\r\n")?;
        }
    }
    Ok(())
}

/// A CSV field per RFC 4180, defused for spreadsheets: a value that starts like a formula
/// (`= + - @`, or a tab or carriage return) gets a leading apostrophe so it stays text.
pub fn csv_field(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_quote(&format!("'{value}"))
    } else {
        csv_quote(value)
    }
}

/// [`csv_quote`] straight into `out`: a million records' fields are not worth a copy each,
/// and only the few that need quotes get one.
fn write_csv_quoted(out: &mut impl Write, value: &str) -> std::io::Result<()> {
    if needs_quotes(value) {
        out.write_all(csv_quote(value).as_bytes())
    } else {
        out.write_all(value.as_bytes())
    }
}

fn needs_quotes(value: &str) -> bool {
    value.contains([',', '"', '\n', '\r'])
}

/// A CSV field per RFC 4180, the value unchanged (a requester's own data: a phone number
/// starts with "+").
pub fn csv_quote(value: &str) -> String {
    if needs_quotes(value) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_written_in_place_match_csv_quote() {
        for value in [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "two\nlines",
            "cr\r",
            "+33 6",
        ] {
            let mut out = Vec::new();
            write_csv_quoted(&mut out, value).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                csv_quote(value),
                "{value:?}"
            );
        }
    }

    #[test]
    fn a_raw_staged_record_is_what_parsing_and_writing_again_gave() {
        let record =
            serde_json::json!({"id": 7, "note": "é \"q\" \\ \n", "n": null, "x": [1.5, {"t": 1}]});
        let line =
            serde_json::to_string(&serde_json::json!({"t": "orders", "r": record})).unwrap() + "\n";
        let raw: RawLine = serde_json::from_str(&line).unwrap();
        assert_eq!(raw.t, "orders");
        assert_eq!(
            raw.r.unwrap().get(),
            serde_json::to_string(&record).unwrap()
        );
    }
}
