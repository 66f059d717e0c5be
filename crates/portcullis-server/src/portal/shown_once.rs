//! A value shown once (a secret, a token, an invitation link), with a copy
//! button and the way back.

use super::session::{Frame, Signed};
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

#[derive(Template)]
#[template(path = "portal/shown_once.html")]
struct ShownOncePage<'a> {
    frame: Frame,
    value: &'a str,
    back: &'a str,
}

/// The page showing `value` once, then leading back to `back`.
pub fn page(signed: &Signed, value: &str, back: &str) -> Result<HttpResponse, PageError> {
    render(StatusCode::CREATED, &ShownOncePage { frame: signed.frame(), value, back })
}
