//! The 405 answer every resource gives to a method it does not serve
//! (RFC 9110 §15.5.6: with the `Allow` header), shared by the protocol
//! endpoints and the admin API.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Answers 405 with the methods that are allowed.
pub fn refuse_except(allow: impl Into<String>) -> actix_web::Route {
    let allow = allow.into();
    web::to(move || {
        let allow = allow.clone();
        async move { HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow)).finish() }
    })
}
