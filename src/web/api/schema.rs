//! The JSON schemas of the API's closed vocabularies and bounded texts, built from the domain's
//! own tables and limits, so the description says exactly what the handlers accept.

use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

use crate::domain::filing::{LANGUAGES, MAX_LINE, MAX_TEXT};
use crate::domain::kind::{Channel, RejectGround, RequestKind};
use crate::domain::status::Status;
use crate::domain::verification::Method;

use super::requests::{EVENT_TYPES, HOLD_REASONS};

/// A text that must hold something other than spaces (the handlers trim it), and no NUL
/// character (PostgreSQL cannot store one; the handlers refuse it).
pub const NOT_BLANK: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// Any text, but without a NUL character.
pub const NO_NUL: &str = r"^[^\u0000]*$";

/// RFC 5321's longest address; `EmailAddress::parse` refuses longer ones.
pub const MAX_EMAIL: usize = 254;

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new().schema_type(ty)
}

fn one_of(values: &[&str], nullable: bool) -> Object {
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    string(nullable).enum_values(Some(values)).build()
}

pub fn kind() -> Object {
    one_of(&RequestKind::NAMES, false)
}

pub fn status() -> Object {
    one_of(&Status::NAMES, false)
}

pub fn status_or_null() -> Object {
    one_of(&Status::NAMES, true)
}

pub fn channel() -> Object {
    one_of(&Channel::NAMES, false)
}

pub fn channel_or_null() -> Object {
    one_of(&Channel::NAMES, true)
}

pub fn language() -> Object {
    one_of(&LANGUAGES, false)
}

pub fn language_or_null() -> Object {
    one_of(&LANGUAGES, true)
}

pub fn ground_or_null() -> Object {
    one_of(&RejectGround::NAMES, true)
}

pub fn clock() -> Object {
    one_of(&["running", "stopped"], false)
}

/// A one-line text that is needed: a name.
pub fn line() -> Object {
    string(false)
        .max_length(Some(MAX_LINE))
        .pattern(Some(NOT_BLANK))
        .build()
}

/// A text that is needed, of at most `max` characters: a part of a postal address.
pub fn bounded(max: usize) -> Object {
    string(false)
        .max_length(Some(max))
        .pattern(Some(NOT_BLANK))
        .build()
}

/// A text that may be left out, null or empty, of at most `max` characters.
pub fn bounded_or_null(max: usize) -> Object {
    string(true)
        .max_length(Some(max))
        .pattern(Some(NO_NUL))
        .build()
}

/// One of `values`, or null.
pub fn one_of_or_null(values: &[&str]) -> Object {
    one_of(values, true)
}

/// A one-line text that may be left out, null or empty: a customer reference.
pub fn line_or_null() -> Object {
    string(true)
        .max_length(Some(MAX_LINE))
        .pattern(Some(NO_NUL))
        .build()
}

/// A free text that may be left out, null or empty: details, a note.
pub fn text_or_null() -> Object {
    string(true)
        .max_length(Some(MAX_TEXT))
        .pattern(Some(NO_NUL))
        .build()
}

/// A free text that is needed: a message, a reason.
pub fn text() -> Object {
    string(false)
        .max_length(Some(MAX_TEXT))
        .pattern(Some(NOT_BLANK))
        .build()
}

pub fn email() -> Object {
    string(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(MAX_EMAIL))
        .build()
}

pub fn email_or_null() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(MAX_EMAIL))
        .build()
}

/// A day (`2014-03-09`), or null.
pub fn date_or_null() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .build()
}

pub fn instant_or_null() -> Object {
    string(true)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
}

/// The deadline profiles are configured: their names are filled in when the document is
/// served (see `openapi::document`).
pub fn profile_or_null() -> Object {
    string(true).build()
}

pub fn event_type() -> Object {
    one_of(&EVENT_TYPES, false)
}

pub fn hold_reason_or_null() -> Object {
    one_of(&HOLD_REASONS.map(|r| r.as_str()), true)
}

pub fn method_or_null() -> Object {
    one_of(&Method::BY_HAND.map(|m| m.as_str()), true)
}

/// A filter of the list: a value, or empty for any.
fn filter(values: &[&str]) -> Object {
    let mut values = values.to_vec();
    values.push("");
    one_of(&values, false)
}

pub fn status_filter() -> Object {
    filter(&Status::NAMES)
}

pub fn kind_filter() -> Object {
    filter(&RequestKind::NAMES)
}

/// What `next_cursor` holds: a row id, so digits only.
pub fn cursor() -> Object {
    string(false).pattern(Some(CURSOR_PATTERN)).build()
}

pub const CURSOR_PATTERN: &str = "^[0-9]{0,18}$";

/// `base` with a description. utoipa drops the doc comment of a member whose schema is made
/// by `schema_with`, so such members are described through [`described!`].
pub fn describe(mut base: Object, text: &str) -> Object {
    base.description = Some(text.to_string());
    base
}

/// Schema functions for members that need a description: `name = base, "text";` makes
/// `fn name()`, the schema `base()` described by `text`.
macro_rules! described {
    ($($name:ident = $base:path, $text:literal;)+) => {
        $(
            fn $name() -> utoipa::openapi::schema::Object {
                $crate::web::api::schema::describe($base(), $text)
            }
        )+
    };
}
pub(crate) use described;
