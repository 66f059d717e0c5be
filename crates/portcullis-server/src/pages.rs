//! The sign-in flow's pages (login, consent, logout, second factor,
//! notices, errors): askama templates in the console's layout and
//! stylesheet (see [`crate::views`]), every value escaped by the template,
//! with headers that keep them out of frames (clickjacking) and caches.

use crate::views::{html, Chrome, SIGN_IN_CSP};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::HttpResponse;
use askama::Template;
use portcullis_app::{App, AppError};
use portcullis_core::client::ClientMetadata;
use portcullis_oauth::storage::{self, StorageFailure, RETRY_AFTER_SECONDS};

/// What a sign-in page shows of the client asking (RFC 7591 §2): its name,
/// its logo, and links to its home page, privacy policy and terms (named in
/// the page's language), all https (or loopback http) as registration checked.
pub struct ClientCard {
    /// `client_name`.
    pub name: String,
    /// `logo_uri`.
    pub logo_uri: Option<String>,
    /// Each link and its words.
    pub links: Vec<(String, &'static str)>,
    /// For a client known only by its metadata document: the words before
    /// the document's host, and the host (the user sees who vouches for it).
    pub document: Option<(&'static str, String)>,
}

impl ClientCard {
    /// The card of `client` (none when it is gone), in `t`'s language;
    /// `document` says that its id is the URL of its metadata document.
    pub fn of(t: &crate::locale::Texts, client: Option<(&str, &ClientMetadata)>, document: bool) -> Self {
        let Some((client_id, metadata)) = client else {
            return Self { name: String::new(), logo_uri: None, links: Vec::new(), document: None };
        };
        let document = document
            .then(|| portcullis_core::client_document::document_host(client_id))
            .flatten()
            .map(|host| (t.described_at, host));
        let links = [
            (&metadata.client_uri, t.client_links[0]),
            (&metadata.policy_uri, t.client_links[1]),
            (&metadata.tos_uri, t.client_links[2]),
        ]
        .into_iter()
        .filter_map(|(uri, words)| uri.clone().map(|uri| (uri, words)))
        .collect();
        Self { name: metadata.client_name.clone(), logo_uri: metadata.logo_uri.clone(), links, document }
    }
}

/// A sign-in page that says one thing, and maybe what to do then.
#[derive(Template)]
#[template(path = "notice.html")]
pub struct Notice<'a> {
    /// The layout's language and brand.
    pub chrome: Chrome<'a>,
    /// Its heading.
    pub title: &'a str,
    /// What it says.
    pub text: &'a str,
    /// Whether it reports an error (announced to screen readers).
    pub error: bool,
    /// The language of `text` when it is not the page's.
    pub lang: Option<&'static str>,
    /// What to do then.
    pub then: Option<&'a str>,
}

/// A sign-in page as a response with `status`, under the sign-in pages' CSP.
pub fn sign_in_page(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(document) => html(status, document, SIGN_IN_CSP),
        // Templates are checked when built; were one to fail, only its status is shown.
        Err(e) => {
            tracing::error!(error = %e, "a sign-in page could not be rendered");
            html(status, String::new(), SIGN_IN_CSP)
        }
    }
}

/// A sign-in page that says one thing, `text`, with `status` (an error's
/// announced to screen readers).
pub fn notice(chrome: Chrome<'_>, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let error = status.is_client_error() || status.is_server_error();
    sign_in_page(status, &Notice { chrome, title, text, error, lang: None, then: None })
}

/// The page for a request that cannot be sent back to the client: status
/// 400, and never a redirect (RFC 6749 §4.1.2.1). `description` is in the
/// page's language.
pub fn error_page(chrome: Chrome<'_>, description: &str) -> HttpResponse {
    refused(chrome, description, None)
}

/// [`error_page`] for a `description` meant for the client's developer,
/// which stays the protocol's English (marked so, WCAG 3.1.2).
pub fn protocol_error_page(chrome: Chrome<'_>, description: &str) -> HttpResponse {
    refused(chrome, description, (chrome.t.lang != "en").then_some("en"))
}

/// The refused request's page: `description` (in `lang` when it is not the
/// page's language) and what to do.
fn refused(chrome: Chrome<'_>, description: &str, lang: Option<&'static str>) -> HttpResponse {
    let t = chrome.t;
    let page = Notice {
        chrome,
        title: t.refused_title,
        text: description,
        error: true,
        lang,
        then: Some(t.try_again),
    };
    sign_in_page(StatusCode::BAD_REQUEST, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[test]
    fn every_text_is_escaped() {
        let chrome = Chrome::fallback();
        let text = r#"<a href="x" onclick='y'>&</a>"#;
        let page = Notice { chrome, title: "<t>", text, error: true, lang: None, then: Some("<b>") };
        let document = page.render().unwrap();
        assert!(
            !document.contains("<a href=\"x\"") && !document.contains("<b>") && !document.contains("<t>")
        );
        assert!(
            document.contains("&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;"),
            "{document}"
        );
    }

    /// The `Retry-After` header and the body `error` answers with.
    async fn shown(error: PageError) -> (Option<String>, String) {
        let response = error.error_response();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        (retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[actix_web::test]
    async fn a_failure_is_a_styled_500_that_names_no_detail() {
        let error = PageError::failed("users row 7: claims are not JSON");
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let (retry, body) = shown(error).await;
        assert!(body.starts_with("<!doctype html>") && body.contains("Something went wrong"), "{body}");
        assert!(
            !body.contains("<style") && body.contains("/assets/portcullis.css"),
            "the shared stylesheet: {body}"
        );
        assert!(!body.contains("row 7") && retry.is_none(), "{body}");
    }

    #[actix_web::test]
    async fn an_outage_is_a_styled_503_with_retry_after() {
        let error = PageError::from(portcullis_app::AppError::unavailable(anyhow::anyhow!("pool timed out")));
        assert_eq!(error.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let (retry, body) = shown(error).await;
        assert_eq!(retry, Some(RETRY_AFTER_SECONDS.to_string()));
        assert!(body.contains("temporarily unavailable") && !body.contains("pool"), "{body}");
    }
}

/// Why a page could not be shown: the one error every HTML handler returns,
/// so a new page answers an outage as the others do (a styled 503 with
/// `Retry-After`) and never shows an internal detail.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Storage failed or did not answer in time.
    #[error(transparent)]
    Unavailable(StorageFailure),
    /// Something that should not fail did (unreadable stored data, a header
    /// that cannot be built); the cause is logged.
    #[error("{0}")]
    Failed(String),
}

/// Unreadable stored data is a failure; anything else, an outage.
impl From<StorageFailure> for PageError {
    fn from(failure: StorageFailure) -> Self {
        if failure.is_corrupt() {
            Self::Failed(failure.to_string())
        } else {
            Self::Unavailable(failure)
        }
    }
}

/// An operation's failure: an outage (or a concurrent write: retrying may
/// help), or, for unreadable data and anything else, the server's own.
impl From<portcullis_app::AppError> for PageError {
    fn from(error: portcullis_app::AppError) -> Self {
        use portcullis_app::AppError;
        match error {
            AppError::Unavailable(cause) => Self::Unavailable(StorageFailure::Other(cause)),
            AppError::Conflict(_) => Self::Unavailable(StorageFailure::Other(anyhow::anyhow!("{error}"))),
            other => Self::Failed(other.to_string()),
        }
    }
}

/// Runs the operation `work` off the request threads for a page; a failure
/// is the pages' one error.
pub async fn operation<T: Send + 'static>(
    app: &web::Data<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, PageError> {
    Ok(storage::operation(app, work).await??)
}

impl From<storage::Failed> for PageError {
    fn from(failed: storage::Failed) -> Self {
        match failed {
            storage::Failed::Storage(failure) => failure.into(),
            storage::Failed::Operation(error) => error.into(),
        }
    }
}

impl PageError {
    /// A failure for `cause`, which is logged, not shown.
    pub fn failed(cause: impl std::fmt::Display) -> Self {
        Self::Failed(cause.to_string())
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unavailable(failure) => failure.log(),
            Self::Failed(cause) => tracing::error!(error = %cause, "a page could not be shown"),
        }
        match self {
            Self::Unavailable(_) => {
                let mut response = notice(
                    Chrome::fallback(),
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The service is temporarily unavailable. Try again in a moment.",
                );
                response.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
                response
            }
            Self::Failed(_) => notice(
                Chrome::fallback(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Try again later.",
            ),
        }
    }
}
