//! Signing in to one of this server's own sites (the console, the portal)
//! as an OpenID Connect client of this server (code + PKCE, RFC 7636 S256;
//! `iss` checked per RFC 9207): `start` sends the browser to `/authorize`
//! with a fresh `state` and challenge (the state, verifier and the page to
//! return to wait in a short-lived cookie for the site); the login page
//! signs the user in; `callback` checks the state, redeems the code through
//! the operation the token endpoint uses, checks its redirect URI and
//! verifier as the token endpoint does, and opens the site's session.

use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::session_cookie::{scoped, scoped_removal, Scope};
use crate::views::{message_in, render, Message};
use crate::{form::FormParams, secrets};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis_app::console::{SignIn, Site, ABSOLUTE_TIMEOUT};
use portcullis_app::grants::{Caller, RedeemedCode};
use portcullis_app::{App, AppError};
use portcullis_core::{AuthorizationCode, CodeVerifier};
use portcullis_oauth::endpoints;
use portcullis_oauth::grants::authorization_code::redeem_own;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// How long a sign-in may take.
const PENDING_LIFETIME: Duration = Duration::from_secs(600);

/// A site signed in to through this server's own authorization endpoint.
pub struct SignInSite {
    /// The site.
    pub site: &'static Site,
    /// Its pages' root: its cookies' path, and where a sign-in lands.
    pub home: &'static str,
    /// Where signing in starts.
    pub sign_in_path: &'static str,
    /// The words of its sign-in's pages for a request.
    pub words: fn(&HttpRequest) -> &'static SignInWords,
    /// The cookie holding a sign-in's state, verifier and page to return to.
    pub pending: &'static str,
    /// The session's cookie.
    pub session: &'static str,
    /// The cookie holding the session's CSRF token.
    pub csrf: &'static str,
    /// Whether each sign-in asks for the password again (`prompt=login`).
    pub prompt_login: bool,
    /// The requests from other sites its session's cookies go with:
    /// `Strict` for the console (whose every sign-in shows the login page,
    /// so its redirects back are of this site); `Lax` for the portal, whose
    /// links arrive from mail and other sites and whose every change posts
    /// a CSRF token.
    pub same_site: SameSite,
}

/// The words of a site's sign-in pages, in one language.
pub struct SignInWords {
    /// The BCP 47 tag.
    pub lang: &'static str,
    /// The pages' title.
    pub title: &'static str,
    /// The link to start again.
    pub again: &'static str,
    /// Why a sign-in cannot go on: it expired; it is not the one this
    /// browser started; the answer came from another server; it was not
    /// completed; it expired or was used.
    pub failed: [&'static str; 5],
}

/// The longest page a sign-in returns to.
const MAX_THEN: usize = 300;

/// Why a redeemed code opens no session: what the page says.
pub struct Refused {
    /// The status.
    pub status: StatusCode,
    /// The title.
    pub title: &'static str,
    /// The text.
    pub text: &'static str,
    /// Whether it offers to sign in again.
    pub again: bool,
}

impl SignInSite {
    /// Where the pending sign-in's cookie goes: the site, and with the
    /// redirect back from the login page (a top-level navigation, which
    /// `SameSite=Lax` allows).
    fn pending_scope(&self) -> Scope {
        Scope { path: self.home, same_site: SameSite::Lax }
    }

    /// Where the session's cookies go: only the site.
    fn session_scope(&self) -> Scope {
        Scope { path: self.home, same_site: self.same_site }
    }

    /// A session cookie of the site, gone with the absolute timeout.
    pub fn cookie(&self, name: &'static str, value: String, secure: bool) -> Cookie<'static> {
        let lifetime = ABSOLUTE_TIMEOUT.to_std().unwrap_or_default();
        scoped(name, value, secure, lifetime, self.session_scope())
    }

    /// A cookie that removes the site's cookie `name`.
    pub fn removal(&self, name: &'static str, secure: bool) -> Cookie<'static> {
        scoped_removal(name, secure, self.session_scope())
    }

    /// The redirect to the page `location`, the session's cookies removed.
    pub fn signed_out(&self, location: &str, secure: bool) -> HttpResponse {
        no_store(&mut HttpResponse::SeeOther())
            .insert_header((header::LOCATION, location.to_owned()))
            .cookie(self.removal(self.session, secure))
            .cookie(self.removal(self.csrf, secure))
            .finish()
    }

    /// Whether `then` is a page of this site to return to after signing in:
    /// under its home, no dot segment and nothing percent-encoded in its
    /// path (which a browser would resolve elsewhere), short and plain.
    fn returns_to(&self, then: &str) -> bool {
        let path = then.split('?').next().unwrap_or_default();
        let under_home =
            path.strip_prefix(self.home).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        under_home
            && then.len() <= MAX_THEN
            && !path.contains("//")
            && !path.contains('%')
            && !path.split('/').any(|segment| segment == "." || segment == "..")
            && then.bytes().all(|b| b.is_ascii_graphic() && !b"\"\\,;|".contains(&b))
    }
}

fn no_store(response: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    response.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
}

/// To the authorization endpoint for `site`, once its client is registered
/// (at the first sign-in of an installation, or again when the issuer
/// changed), to come back to `then` (a page of the site) when signed in.
pub async fn start(
    site: &SignInSite,
    ctx: &ConsoleContext,
    then: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let (issuer, reserved) = (ctx.issuer.as_str().to_owned(), site.site);
    ctx.run(move |app| app.ensure_site_client(reserved, &issuer)).await?;
    let (state, verifier) = (secrets::random_token(), secrets::random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", site.site.client_id)
        .append_pair("redirect_uri", &site.site.callback_uri(ctx.issuer.as_str()))
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if site.prompt_login {
        query.append_pair("prompt", "login");
    }
    let then = then.filter(|then| site.returns_to(then)).unwrap_or(site.home);
    let pending = scoped(
        site.pending,
        format!("{state}.{verifier}|{then}"),
        ctx.secure_cookies,
        PENDING_LIFETIME,
        site.pending_scope(),
    );
    Ok(no_store(&mut HttpResponse::SeeOther())
        .insert_header((header::LOCATION, format!("{}?{}", endpoints::AUTHORIZE, query.finish())))
        .cookie(pending)
        .finish())
}

/// A sign-in that cannot go on: a page in `words` with a link to start
/// again, its pending state gone.
fn start_again(
    (site, words): (&SignInSite, &SignInWords),
    status: StatusCode,
    text: &str,
    secure: bool,
) -> Result<HttpResponse, PageError> {
    let link = Some((site.sign_in_path, words.again));
    let title = words.title;
    let mut response = render(status, &Message { title, text, error: true, link, lang: words.lang })?;
    response
        .add_cookie(&scoped_removal(site.pending, secure, site.pending_scope()))
        .map_err(PageError::failed)?;
    Ok(response)
}

/// `GET <callback>?code=…&state=…&iss=…`: the session `open` opens for the
/// redeemed code, or the page saying why not.
pub async fn callback<F>(
    site: &SignInSite,
    req: &HttpRequest,
    ctx: &ConsoleContext,
    open: F,
) -> Result<HttpResponse, PageError>
where
    F: FnOnce(&App, &RedeemedCode, Option<IpAddr>) -> Result<Result<SignIn, Refused>, AppError>
        + Send
        + 'static,
{
    let (secure, words) = (ctx.secure_cookies, (site.words)(req));
    let [expired, mismatched, elsewhere, incomplete, used] = words.failed;
    let site_in = (site, words);
    let params = FormParams::parse(req.query_string().as_bytes()).unwrap_or_default();
    let pending = req.cookie(site.pending).map(|c| c.value().to_owned()).unwrap_or_default();
    let (pair, then) = pending.split_once('|').unwrap_or((pending.as_str(), site.home));
    let Some((state, verifier)) = pair.split_once('.') else {
        return start_again(site_in, StatusCode::BAD_REQUEST, expired, secure);
    };
    if !secrets::matches_any(params.get("state").unwrap_or_default(), [secrets::hash(state).as_slice()]) {
        return start_again(site_in, StatusCode::BAD_REQUEST, mismatched, secure);
    }
    // RFC 9207 §2.4: this server always names itself; a response naming
    // another issuer, or none, is refused.
    if params.get("iss") != Some(ctx.issuer.as_str()) {
        return start_again(site_in, StatusCode::BAD_REQUEST, elsewhere, secure);
    }
    // An error the response names is not shown: anyone can write one into a link.
    let Some(code) = params.get("code").map(|c| AuthorizationCode::new(c.to_owned())) else {
        return start_again(site_in, StatusCode::FORBIDDEN, incomplete, secure);
    };
    let (verifier, redirect, source) = (
        CodeVerifier::new(verifier.to_owned()),
        site.site.callback_uri(ctx.issuer.as_str()),
        ctx.proxies.client_ip(req),
    );
    let caller = Caller { client_id: site.site.client_id.to_owned(), address: source };
    let opened = ctx
        .run(move |app| {
            let Some(record) = redeem_own(app, &caller, &code, &redirect, &verifier)? else {
                return Ok(None);
            };
            open(app, &record, source).map(Some)
        })
        .await?;
    let sign_in = match opened {
        None => return start_again(site_in, StatusCode::BAD_REQUEST, used, secure),
        Some(Err(refused)) if refused.again => {
            return start_again(site_in, refused.status, refused.text, secure)
        }
        Some(Err(refused)) => return message_in(words.lang, refused.status, refused.title, refused.text),
        Some(Ok(sign_in)) => sign_in,
    };
    let then = if site.returns_to(then) { then } else { site.home };
    Ok(no_store(&mut HttpResponse::SeeOther())
        .insert_header((header::LOCATION, then.to_owned()))
        .cookie(site.cookie(site.session, sign_in.token.expose().to_owned(), secure))
        .cookie(site.cookie(site.csrf, sign_in.csrf.expose().to_owned(), secure))
        .cookie(scoped_removal(site.pending, secure, site.pending_scope()))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_a_plain_page_of_its_own_site() {
        let site = &crate::portal::sign_in::SITE;
        for then in ["/portal", "/portal/teams/t1", "/portal/join?token=abc-_9", "/portal?x=1"] {
            assert!(site.returns_to(then), "{then}");
        }
        for then in [
            "/console",
            "/portals",
            "//evil.example/portal",
            "/portal//evil.example",
            "/portal/../console",
            "/portal/%2e%2e/authorize",
            "/portal/./x",
            "/portal\\evil",
            "https://evil.example/portal",
            "/portal/a b",
            &format!("/portal/{}", "x".repeat(MAX_THEN)),
        ] {
            assert!(!site.returns_to(then), "{then}");
        }
    }
}
