//! The portal's client builder: the console's form (the shared field
//! table, in the page's language) without the fields only admins set, for
//! a new app and for a change of one. What the builder does not show is
//! kept as the configuration it is based on has it.

use super::session::{Frame, Signed};
use crate::console::clients::form::{configuration, shown, ShownGroup, Words};
use crate::console::Posted;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use portcullis_core::registration::ADMIN_ONLY;
use serde_json::{Map, Value};

#[derive(Template)]
#[template(path = "portal/app_form.html")]
struct FormPage {
    frame: Frame,
    title: String,
    action: String,
    back: String,
    groups: Vec<ShownGroup>,
    based_on: Option<i64>,
    problems: Vec<String>,
    check_uris: &'static str,
}

/// What a builder page is for: a new app of a team, or a change of an app.
pub enum Built<'a> {
    /// A new app of the team with this id.
    New(&'a str),
    /// A change of this app (id and name), from this version.
    Change(&'a str, &'a str, i64),
}

/// The builder's groups for `configuration` in `words`, without the fields only admins set.
fn member_fields(configuration: &Map<String, Value>, words: Words) -> Vec<ShownGroup> {
    let mut groups = shown(configuration, words);
    for group in &mut groups {
        group.fields.retain(|field| !ADMIN_ONLY.contains(&field.name));
    }
    groups.retain(|group| !group.fields.is_empty());
    groups
}

/// The configuration the posted builder describes: `base` with the
/// builder's fields written over it, what only admins set kept as `base`
/// has it; and the fields that could not be read, named.
pub fn member_configuration(
    base: Map<String, Value>,
    form: &Posted,
    signed: &Signed,
) -> (Map<String, Value>, Vec<String>) {
    let kept: Vec<(String, Value)> =
        ADMIN_ONLY.iter().filter_map(|name| Some(((*name).to_owned(), base.get(*name)?.clone()))).collect();
    let (mut written, problems) = configuration(base, form, Words::of(signed.t.lang));
    written.retain(|name, _| !ADMIN_ONLY.contains(&name.as_str()));
    written.extend(kept);
    (written, problems)
}

/// The builder for `built`, filled from `configuration`, answered with
/// `status` and `problems`.
pub fn page(
    signed: &Signed,
    built: Built<'_>,
    configuration: &Map<String, Value>,
    (status, problems): (StatusCode, Vec<String>),
) -> Result<HttpResponse, PageError> {
    let t = signed.t;
    let (title, action, back, based_on) = match built {
        Built::New(team_id) => (
            t.buttons[0].to_owned(),
            format!("/portal/teams/{team_id}/apps/new"),
            format!("/portal/teams/{team_id}"),
            None,
        ),
        Built::Change(client_id, name, version) => {
            let path = super::apps::app_path(client_id);
            (format!("{}: {name}", t.changes.edit), format!("{path}/edit"), path, Some(version))
        }
    };
    let page = FormPage {
        frame: signed.frame(),
        title,
        action,
        back,
        groups: member_fields(configuration, Words::of(t.lang)),
        based_on,
        problems,
        check_uris: "",
    };
    render(status, &page)
}
