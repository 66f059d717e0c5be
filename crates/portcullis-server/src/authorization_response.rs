//! Sending the authorization response back to the client: a 303 redirect
//! to the verified redirect URI, always with `iss` (RFC 9207 §2).

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::HttpResponse;
use portcullis_core::{Issuer, OAuthError};

/// Redirects to `redirect_uri` with `params` added to its query, and `iss`.
pub fn redirect(redirect_uri: &str, params: &[(&str, &str)], issuer: &Issuer) -> HttpResponse {
    let mut params = params.to_vec();
    params.push(("iss", issuer.as_str()));
    redirect_to(redirect_uri, &params)
}

/// Redirects to `uri` with `params` added to its query.
pub fn redirect_to(uri: &str, params: &[(&str, &str)]) -> HttpResponse {
    let Ok(mut url) = url::Url::parse(uri) else {
        return crate::pages::error_page(
            crate::views::Chrome::fallback(),
            "The redirect URI cannot carry a response.",
        );
    };
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    // RFC 9700 §4.12: 303, so that a POSTed form is not sent on to the client.
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.as_str()))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .finish()
}

/// Redirects an error (RFC 6749 §4.1.2.1) with the request's `state`.
pub fn error(redirect_uri: &str, error: &OAuthError, state: Option<&str>, issuer: &Issuer) -> HttpResponse {
    let mut params =
        vec![("error", error.error.as_str()), ("error_description", error.error_description.as_str())];
    params.extend(state.map(|state| ("state", state)));
    redirect(redirect_uri, &params, issuer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::ErrorCode;

    #[test]
    fn adds_to_the_existing_query_and_always_names_the_issuer() {
        let issuer = Issuer::parse("https://as.example").unwrap();
        let response =
            redirect("https://app.example/cb?tenant=a%20b", &[("code", "c&1"), ("state", "s")], &issuer);
        assert_eq!(response.status(), 303);
        let location = response.headers().get(header::LOCATION).unwrap().to_str().unwrap();
        assert_eq!(
            location,
            "https://app.example/cb?tenant=a%20b&code=c%261&state=s&iss=https%3A%2F%2Fas.example"
        );
        let denied = OAuthError::new(ErrorCode::AccessDenied, "the user said no");
        let response = error("https://app.example/cb", &denied, None, &issuer);
        let location = response.headers().get(header::LOCATION).unwrap().to_str().unwrap();
        assert!(location.starts_with(
            "https://app.example/cb?error=access_denied&error_description=the+user+said+no&iss="
        ));
    }
}
