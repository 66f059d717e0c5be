//! `/console/devices`: the device sign-ins waiting for their users (RFC
//! 8628): which client asked, for what, with which user code, and when the
//! device last polled. Read over the operations as the signed-in user
//! (`admin:monitoring`); a grant is decided only by its user.

use super::session::Frame;
use super::signed;
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::device_grants::DeviceGrantView;
use portcullis_app::Permission;

/// What the page says it needs.
const WHAT: &str = "Seeing device sign-ins";

#[derive(Template)]
#[template(path = "console/devices.html")]
struct DevicesPage {
    frame: Frame,
    grants: Vec<DeviceGrantView>,
}

/// `GET /console/devices`.
pub async fn show(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(&req, &ctx, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &ctx);
    let grants = ctx.run(move |app| app.pending_device_grants(&actor)).await?;
    render(StatusCode::OK, &DevicesPage { frame: signed.frame("devices"), grants })
}
