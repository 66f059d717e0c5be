//! The client form: every setting of a client as a form field, grouped as
//! the page shows them, read from a configuration and written back into
//! one. Members the form does not show (`software_id`, `initiate_login_uri`,
//! …) are carried over unchanged from the configuration the form is based
//! on, so saving the form loses nothing. The words are the field table's
//! English, or German ([`super::german`]) where a page speaks it.

use super::super::Posted;
use portcullis_core::client_fields::{ClientField, Group, Shape, ALGORITHMS, CLIENT_FIELDS};
use portcullis_core::client_profile;
use serde_json::{Map, Value};

/// How a field is entered and how its value becomes JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of text; empty leaves the member out.
    Text,
    /// One value a line, a JSON array.
    Lines,
    /// One value a line, a JSON array; empty leaves the member out (its
    /// default applies, which an empty list would not).
    OptionalLines,
    /// Values separated by spaces or commas, a JSON array.
    Words,
    /// A whole number of seconds (or requests); empty leaves the member out.
    Number,
    /// A check box, `true` or `false`.
    Flag,
    /// A JSON document; empty leaves the member out.
    Json,
    /// One of `options`; empty (offered when the member has no default)
    /// leaves the member out.
    Choice(&'static [&'static str], bool),
    /// Any of `options`, as check boxes: a JSON array.
    Choices(&'static [&'static str]),
}

/// How the form enters `field`, from what its value must be.
pub fn kind(field: &ClientField) -> Kind {
    match field.shape {
        Shape::Text(_) | Shape::WebUrl | Shape::Scope | Shape::Resource => Kind::Text,
        Shape::Texts { .. }
        | Shape::Networks
        | Shape::Resources
        | Shape::RedirectUris
        | Shape::WebUrls(_) => Kind::Lines,
        Shape::Origins => Kind::OptionalLines,
        Shape::Countries => Kind::Words,
        Shape::Seconds(_) | Shape::UpToSeconds(_) | Shape::PerMinute => Kind::Number,
        Shape::Flag => Kind::Flag,
        Shape::Jwks | Shape::ClaimMappings | Shape::ExchangePolicy => Kind::Json,
        Shape::Algorithm => Kind::Choice(ALGORITHMS, field.default.is_none()),
        Shape::OneOf(options) => Kind::Choice(options, field.default.is_none()),
        Shape::AnyOf(options) => Kind::Choices(options),
    }
}

/// The language of the form's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    /// The field table's own.
    English,
    /// [`super::german`]'s.
    German,
}

impl Words {
    /// The words for the BCP 47 tag `lang`: German for `de`, else English.
    pub fn of(lang: &str) -> Self {
        if lang == "de" {
            Self::German
        } else {
            Self::English
        }
    }

    /// `field`'s label and help.
    fn of_field(self, field: &ClientField) -> (&'static str, &'static str) {
        let german = match self {
            Self::English => None,
            Self::German => super::german::FIELDS.iter().find(|(name, ..)| *name == field.name),
        };
        german.map_or((field.label, field.help), |(_, label, help)| (*label, *help))
    }

    /// The heading of the `index`th of [`Group::SHOWN`].
    fn group(self, index: usize) -> &'static str {
        match self {
            Self::English => Group::SHOWN[index].1,
            Self::German => super::german::GROUPS[index],
        }
    }

    /// What a choice left empty is called, and the problems of a number
    /// and of a JSON document that could not be read.
    fn form(self) -> [&'static str; 3] {
        match self {
            Self::English => ["(default)", "must be a whole number", "not a JSON document"],
            Self::German => ["(Standard)", "muss eine ganze Zahl sein", "kein JSON-Dokument"],
        }
    }
}

/// Every field the form shows, in page order.
pub fn fields() -> impl Iterator<Item = &'static ClientField> {
    CLIENT_FIELDS.iter().filter(|f| f.group != Group::Described)
}

/// A field as the page shows it.
pub struct Shown {
    /// The field.
    pub name: &'static str,
    /// Its label.
    pub label: &'static str,
    /// Its help.
    pub help: &'static str,
    /// `text`, `lines`, `number`, `flag`, `json`, `choice` or `choices`.
    pub kind: &'static str,
    /// Its value as text (for `flag`: `on` when set).
    pub value: String,
    /// Its options, each with whether it is chosen.
    pub options: Vec<(&'static str, bool)>,
}

/// A group as the page shows it.
pub struct ShownGroup {
    /// Its heading.
    pub title: &'static str,
    /// What a choice left empty is called.
    pub default: &'static str,
    /// Its fields.
    pub fields: Vec<Shown>,
}

/// `value` as a field of `kind` shows it.
fn text_of(kind: Kind, value: Option<&Value>) -> String {
    match (kind, value) {
        (_, None | Some(Value::Null)) => String::new(),
        (Kind::Lines | Kind::OptionalLines, Some(Value::Array(items))) => {
            items.iter().map(plain).collect::<Vec<_>>().join("\n")
        }
        (Kind::Words, Some(Value::Array(items))) => items.iter().map(plain).collect::<Vec<_>>().join(" "),
        (Kind::Flag, Some(Value::Bool(set))) => {
            if *set {
                "on".into()
            } else {
                String::new()
            }
        }
        (Kind::Json, Some(Value::String(unread))) => unread.clone(),
        (Kind::Json, Some(value)) => serde_json::to_string_pretty(value).unwrap_or_default(),
        (_, Some(value)) => plain(value),
    }
}

/// A JSON value as plain text: strings without quotes.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The form filled from `configuration` (RFC 7591 member names), in `words`.
pub fn shown(configuration: &Map<String, Value>, words: Words) -> Vec<ShownGroup> {
    Group::SHOWN
        .iter()
        .enumerate()
        .map(|(index, (group, _))| ShownGroup {
            title: words.group(index),
            default: words.form()[0],
            fields: fields()
                .filter(|f| f.group == *group)
                .map(|f| {
                    let value = configuration.get(f.name);
                    let (widget, options): (&str, Vec<(&str, bool)>) = match kind(f) {
                        Kind::Text => ("text", vec![]),
                        Kind::Lines | Kind::OptionalLines | Kind::Words => ("lines", vec![]),
                        Kind::Number => ("number", vec![]),
                        Kind::Flag => ("flag", vec![]),
                        Kind::Json => ("json", vec![]),
                        Kind::Choice(options, may_be_empty) => {
                            let chosen = value.map(plain).unwrap_or_default();
                            let empty = may_be_empty.then_some("");
                            ("choice", empty.iter().chain(options).map(|o| (*o, *o == chosen)).collect())
                        }
                        Kind::Choices(options) => {
                            let chosen: Vec<String> = value
                                .and_then(Value::as_array)
                                .map(|a| a.iter().map(plain).collect())
                                .unwrap_or_default();
                            ("choices", options.iter().map(|o| (*o, chosen.iter().any(|c| c == o))).collect())
                        }
                    };
                    let (label, help) = words.of_field(f);
                    Shown { name: f.name, label, help, kind: widget, value: text_of(kind(f), value), options }
                })
                .collect(),
        })
        .collect()
}

/// The configuration the posted form describes: `base` with every field of
/// the form written over it, and the fields that could not be read, named
/// in `words`.
/// Such a field keeps its text as a string, so the form shows it again. A
/// profile chosen in this form brings the rest to it
/// ([`client_profile::adopt`]), as the review's diff then shows.
pub fn configuration(
    mut base: Map<String, Value>,
    form: &Posted,
    words: Words,
) -> (Map<String, Value>, Vec<String>) {
    let profile_before = base.get("profile").cloned();
    let mut problems = Vec::new();
    for f in fields() {
        let raw = form.get(f.name).unwrap_or_default().trim();
        let kept = || Some(Value::String(raw.to_owned()));
        let value = match kind(f) {
            Kind::Text | Kind::Choice(..) => (!raw.is_empty()).then(kept).flatten(),
            Kind::Lines => Some(list(raw.lines())),
            Kind::OptionalLines => (!raw.is_empty()).then(|| list(raw.lines())),
            Kind::Words => Some(list(raw.split(|c: char| c.is_whitespace() || c == ','))),
            Kind::Number if raw.is_empty() => None,
            Kind::Number => raw.parse::<u64>().map(Value::from).ok().or_else(|| {
                problems.push(format!("{}: {}", words.of_field(f).0, words.form()[1]));
                kept()
            }),
            Kind::Flag => Some(Value::Bool(!raw.is_empty())),
            Kind::Json if raw.is_empty() => None,
            Kind::Json => serde_json::from_str(raw).ok().or_else(|| {
                problems.push(format!("{}: {}", words.of_field(f).0, words.form()[2]));
                kept()
            }),
            Kind::Choices(_) => Some(list(form.all(f.name).into_iter())),
        };
        match value {
            Some(value) => base.insert(f.name.to_owned(), value),
            None => base.remove(f.name),
        };
    }
    if base.get("profile") != profile_before.as_ref() {
        client_profile::adopt(&mut base);
    }
    (base, problems)
}

/// The non-empty, trimmed `items` as a JSON array of strings.
fn list<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    Value::Array(
        items.map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
    )
}

/// The label of the member `name` in `words`, or the name itself for one
/// the form does not show.
pub fn label(name: &str, words: Words) -> &str {
    fields().find(|f| f.name == name).map_or(name, |f| words.of_field(f).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        Posted::parse(body.as_bytes())
    }

    #[test]
    fn a_form_written_back_keeps_what_it_does_not_show_and_reads_every_kind() {
        let base = json!({"software_id": "s1", "access_token_lifetime": 300, "jwks": {"keys": []}});
        let form = posted(&[
            ("client_name", " Shop "),
            ("redirect_uris", "https://a.example/cb\r\n\r\nhttps://b.example/cb"),
            ("allowed_countries", "DE, FR"),
            ("grant_types", "authorization_code"),
            ("grant_types", "refresh_token"),
            ("require_pkce", "on"),
            ("token_rate_limit", "30"),
        ]);
        let (written, problems) = configuration(base.as_object().unwrap().clone(), &form, Words::English);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(written["software_id"], "s1", "a member the form does not show is kept");
        assert_eq!(written["client_name"], "Shop");
        assert_eq!(written["redirect_uris"], json!(["https://a.example/cb", "https://b.example/cb"]));
        assert_eq!(written["allowed_countries"], json!(["DE", "FR"]));
        assert_eq!(written["grant_types"], json!(["authorization_code", "refresh_token"]));
        assert_eq!(
            (written["require_pkce"].clone(), written["skip_consent"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(written["token_rate_limit"], 30);
        assert!(
            !written.contains_key("access_token_lifetime") && !written.contains_key("jwks"),
            "emptied: {written:?}"
        );
        let shown = shown(&written, Words::English);
        let grants = shown.iter().flat_map(|g| &g.fields).find(|f| f.name == "grant_types").unwrap();
        assert_eq!(
            grants.options,
            [
                ("authorization_code", true),
                ("client_credentials", false),
                ("refresh_token", true),
                ("urn:ietf:params:oauth:grant-type:device_code", false),
                ("urn:ietf:params:oauth:grant-type:token-exchange", false)
            ]
        );
    }

    #[test]
    fn every_field_has_its_german_words_once() {
        for field in portcullis_core::client_fields::CLIENT_FIELDS {
            let german: Vec<_> =
                super::super::german::FIELDS.iter().filter(|(n, ..)| *n == field.name).collect();
            assert_eq!(german.len(), 1, "{}", field.name);
            assert_eq!(german[0].2.is_empty(), field.help.is_empty(), "{}: help", field.name);
        }
        assert_eq!(super::super::german::FIELDS.len(), portcullis_core::client_fields::CLIENT_FIELDS.len());
    }

    #[test]
    fn a_field_that_cannot_be_read_is_named_and_shown_again() {
        let form = posted(&[("access_token_lifetime", "5 minutes"), ("jwks", "{keys")]);
        let (written, problems) = configuration(Map::new(), &form, Words::English);
        assert_eq!(
            problems,
            ["JWKS: not a JSON document", "Access-token lifetime (s): must be a whole number"]
        );
        let (_, german) = configuration(Map::new(), &form, Words::German);
        assert_eq!(
            german,
            ["JWKS: kein JSON-Dokument", "Access-Token-Lebensdauer (s): muss eine ganze Zahl sein"]
        );
        let shown = shown(&written, Words::English);
        let value =
            |name: &str| shown.iter().flat_map(|g| &g.fields).find(|f| f.name == name).unwrap().value.clone();
        assert_eq!((value("access_token_lifetime"), value("jwks")), ("5 minutes".into(), "{keys".into()));
    }
}
