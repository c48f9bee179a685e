//! The API's reference page: the OpenAPI description this server serves, rendered as one HTML
//! page on the server (no script, nothing fetched from elsewhere). Every operation with its
//! parameters, body, answers and examples, then every schema.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get};
use askama::Template;
use serde_json::Value;

use super::openapi::document;
use super::schema;
use crate::web::State;

#[derive(Template)]
#[template(path = "api/docs.html")]
struct DocsPage {
    title: String,
    version: String,
    intro: Vec<Text>,
    spec_url: String,
    auth: Vec<Auth>,
    operations: Vec<OperationView>,
    schemas: Vec<SchemaView>,
}

/// A paragraph: plain runs and `code` runs, as the description's back-quotes mark them.
struct Text(Vec<Run>);

struct Run {
    text: String,
    code: bool,
}

struct Auth {
    name: String,
    how: String,
    description: Text,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: Vec<Text>,
    tag: String,
    /// The security schemes it needs; empty: none.
    security: Vec<String>,
    params: Vec<FieldView>,
    body: Option<Content>,
    responses: Vec<ResponseView>,
}

struct FieldView {
    name: String,
    /// Where a parameter goes (`path`, `query`); empty for a schema's member.
    location: String,
    required: bool,
    kind: Kind,
    description: Text,
}

/// What a schema is, in words, with a link when it names another schema.
struct Kind {
    text: String,
    link: Option<String>,
    rules: Vec<String>,
}

struct Content {
    media_type: String,
    description: Text,
    kind: Option<Kind>,
    example: Option<String>,
}

struct ResponseView {
    status: String,
    description: Text,
    headers: Vec<(String, Text)>,
    content: Option<Content>,
}

struct SchemaView {
    name: String,
    description: Vec<Text>,
    fields: Vec<FieldView>,
    rules: Vec<String>,
    example: Option<String>,
}

/// Reference page
///
/// This page: every operation of the API with its parameters, bodies, answers and examples,
/// rendered from the OpenAPI description. No API key needed.
#[utoipa::path(
    tag = "reference",
    responses(
        (status = 200, description = "The reference, as an HTML page", body = String,
            content_type = "text/html"),
    )
)]
#[get("/docs")]
pub async fn page(state: State) -> HttpResponse {
    let doc = document(&state.law);
    crate::web::admin::render(&docs_page(&doc), StatusCode::OK)
}

fn docs_page(doc: &Value) -> DocsPage {
    let info = &doc["info"];
    let auth = doc["components"]["securitySchemes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, scheme)| Auth {
            name: name.clone(),
            how: match (str_of(&scheme["type"]), str_of(&scheme["scheme"])) {
                ("http", "bearer") => "Authorization: Bearer …".to_string(),
                (kind, scheme) => format!("{kind} {scheme}"),
            },
            description: text(str_of(&scheme["description"])),
        })
        .collect();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            operations.push(operation(doc, path, method, op));
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| schema_view(name, schema))
        .collect();
    DocsPage {
        title: str_of(&info["title"]).to_string(),
        version: str_of(&info["version"]).to_string(),
        intro: paragraphs(str_of(&info["description"])),
        spec_url: format!("{}/openapi.json", super::BASE),
        auth,
        operations,
        schemas,
    }
}

fn operation(doc: &Value, path: &str, method: &str, op: &Value) -> OperationView {
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| FieldView {
            name: str_of(&p["name"]).to_string(),
            location: str_of(&p["in"]).to_string(),
            required: p["required"].as_bool().unwrap_or(false),
            kind: kind(&p["schema"]),
            // A parameter whose schema is made by `schema_with` has its words there.
            description: text(match str_of(&p["description"]) {
                "" => str_of(&p["schema"]["description"]),
                given => given,
            }),
        })
        .collect();
    let body = op["requestBody"].as_object().map(|b| {
        let mut content = first_content(doc, &b["content"]);
        content.description = text(b.get("description").map(str_of).unwrap_or(""));
        content
    });
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let r = resolve(doc, r);
            ResponseView {
                status: status.clone(),
                description: text(str_of(&r["description"])),
                headers: r["headers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(n, h)| (n.clone(), text(str_of(&h["description"]))))
                    .collect(),
                content: r["content"]
                    .as_object()
                    .filter(|c| !c.is_empty())
                    .map(|_| first_content(doc, &r["content"])),
            }
        })
        .collect();
    let summary = str_of(&op["summary"]).to_string();
    OperationView {
        anchor: anchor(op, method, path),
        method: method.to_uppercase(),
        path: path.to_string(),
        description: paragraphs(str_of(&op["description"])),
        summary,
        tag: op["tags"][0].as_str().unwrap_or("").to_string(),
        security: op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|s| s.keys().cloned())
            .collect(),
        params,
        body,
        responses,
    }
}

fn anchor(op: &Value, method: &str, path: &str) -> String {
    match op["operationId"].as_str() {
        Some(id) => format!("op-{id}"),
        None => format!("op-{method}-{}", path.replace(['/', '{', '}'], "-")),
    }
}

/// A response or another object given as a `$ref` to the components.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

/// The first media type of a `content` map (every body here has one).
fn first_content(doc: &Value, content: &Value) -> Content {
    let (media_type, media) = match content.as_object().and_then(|c| c.iter().next()) {
        Some((t, m)) => (t.clone(), m),
        None => (String::new(), &Value::Null),
    };
    let schema = &media["schema"];
    let example = match &media["example"] {
        // A body's example is its schema's, which a reference leaves in the components.
        Value::Null => schema_example(resolve(doc, schema)),
        example => Some(pretty(example)),
    };
    Content {
        media_type,
        description: Text(Vec::new()),
        kind: (!schema.is_null()).then(|| kind(schema)),
        example,
    }
}

fn schema_example(schema: &Value) -> Option<String> {
    match &schema["examples"][0] {
        Value::Null => schema.get("example").map(pretty),
        example => Some(pretty(example)),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn schema_view(name: &str, schema: &Value) -> SchemaView {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let fields = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(field, s)| FieldView {
            name: field.clone(),
            location: String::new(),
            required: required.contains(&field.as_str()),
            kind: kind(s),
            description: text(str_of(&s["description"])),
        })
        .collect();
    let mut rules = Vec::new();
    if schema["additionalProperties"] == Value::Bool(false) {
        rules.push("No other members are accepted.".to_string());
    }
    if let Some(any) = schema["anyOf"].as_array() {
        let names: Vec<String> = any
            .iter()
            .flat_map(|a| a["required"].as_array().into_iter().flatten())
            .filter_map(|n| n.as_str().map(|n| format!("`{n}`")))
            .collect();
        rules.push(format!("At least one of {} is needed.", names.join(", ")));
    }
    SchemaView {
        name: name.to_string(),
        description: paragraphs(str_of(&schema["description"])),
        fields,
        rules,
        example: schema_example(schema),
    }
}

/// A schema in words: `string`, `RequestView`, `array of EventView`, `Subject or null`, with
/// its rules (`one of: …`, `at most 200 characters`, …).
fn kind(schema: &Value) -> Kind {
    if let Some(name) = ref_name(schema) {
        return Kind {
            text: name.to_string(),
            link: Some(format!("#schema-{name}")),
            rules: Vec::new(),
        };
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let kinds: Vec<Kind> = options.iter().map(kind).collect();
        return Kind {
            text: kinds
                .iter()
                .map(|k| k.text.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            link: kinds.iter().find_map(|k| k.link.clone()),
            rules: kinds.into_iter().flat_map(|k| k.rules).collect(),
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec!["any"],
    };
    let mut link = None;
    let text = types
        .iter()
        .map(|t| match *t {
            "array" => {
                let items = kind(&schema["items"]);
                link = items.link;
                format!("array of {}", items.text)
            }
            "string" | "integer" | "number" => match schema["format"].as_str() {
                Some(format) => format!("{t} ({format})"),
                None => t.to_string(),
            },
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" or ");
    let mut rules = Vec::new();
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        rules.push(format!("one of: {}", values.join(", ")));
    }
    if let Some(n) = schema["maxLength"].as_u64() {
        rules.push(format!("at most {n} characters"));
    }
    if let Some(p) = schema["pattern"].as_str() {
        let rule = match p {
            schema::NOT_BLANK => "not blank, no NUL character".to_string(),
            schema::NO_NUL => "no NUL character".to_string(),
            p => format!("matches {p}"),
        };
        rules.push(rule);
    }
    if let Some(n) = schema["minimum"].as_i64() {
        rules.push(format!("at least {n}"));
    }
    if let Some(n) = schema["maximum"].as_i64() {
        rules.push(format!("at most {n}"));
    }
    Kind { text, link, rules }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn paragraphs(s: &str) -> Vec<Text> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(text)
        .collect()
}

/// Back-quoted runs become code; the rest stays text (askama escapes both).
fn text(s: &str) -> Text {
    Text(
        s.split('`')
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(i, part)| Run {
                text: part.to_string(),
                code: i % 2 == 1,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_quotes_mark_code() {
        let t = text("send `Authorization: Bearer` here");
        let runs: Vec<(&str, bool)> = t.0.iter().map(|r| (r.text.as_str(), r.code)).collect();
        assert_eq!(
            runs,
            [
                ("send ", false),
                ("Authorization: Bearer", true),
                (" here", false)
            ]
        );
    }

    #[test]
    fn a_nullable_reference_reads_as_its_name_or_null() {
        let k = kind(&serde_json::json!({
            "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Subject" }]
        }));
        assert_eq!(k.text, "null or Subject");
        assert_eq!(k.link.as_deref(), Some("#schema-Subject"));
    }
}
