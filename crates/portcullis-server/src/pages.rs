//! The sign-in flow's pages (login, consent, logout, errors): every text
//! escaped, in the console's layout and stylesheet (see [`crate::views`]),
//! with headers that keep them out of frames (clickjacking) and caches.

use crate::storage::{StorageFailure, RETRY_AFTER_SECONDS};
use crate::views::{html, Chrome, SignInPage, SIGN_IN_CSP};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with `title` and `body`, which must already be safe HTML, in the
/// layout of `chrome`.
pub fn page(chrome: Chrome<'_>, status: StatusCode, title: &str, body: &str) -> HttpResponse {
    // The template holds nothing that can fail to render; were it to, the text alone is shown.
    let document = SignInPage { chrome, title, body }.render().unwrap_or_else(|_| escape(title));
    html(status, document, SIGN_IN_CSP)
}

/// What a sign-in page shows of the client asking (RFC 7591 §2): its logo,
/// and links to its home page, privacy policy and terms (named in `t`'s
/// language), all https (or loopback http) as registration checked.
pub fn client_card(t: &crate::locale::Texts, metadata: &portcullis_core::client::ClientMetadata) -> String {
    let logo = metadata
        .logo_uri
        .as_deref()
        .map(|uri| {
            format!("<img class=\"client-logo\" src=\"{}\" alt=\"\" width=\"64\" height=\"64\">", escape(uri))
        })
        .unwrap_or_default();
    let links: Vec<String> = [
        (&metadata.client_uri, t.client_links[0]),
        (&metadata.policy_uri, t.client_links[1]),
        (&metadata.tos_uri, t.client_links[2]),
    ]
    .into_iter()
    .filter_map(|(uri, words)| {
        uri.as_deref().map(|uri| format!("<a href=\"{}\" rel=\"noopener\">{words}</a>", escape(uri)))
    })
    .collect();
    let links = if links.is_empty() {
        String::new()
    } else {
        format!("<p class=\"client-links\">{}</p>", links.join(" · "))
    };
    format!("{logo}{links}")
}

/// A sign-in page that says one thing, `text`, with `status` (an error's
/// announced to screen readers).
pub fn notice(chrome: Chrome<'_>, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let role = if status.is_client_error() { " class=\"error\" role=\"alert\"" } else { "" };
    page(chrome, status, title, &format!("<p{role}>{}</p>", escape(text)))
}

/// The page for a request that cannot be sent back to the client: status
/// 400, and never a redirect (RFC 6749 §4.1.2.1). `description` is in the
/// page's language.
pub fn error_page(chrome: Chrome<'_>, description: &str) -> HttpResponse {
    refused(chrome, description, "")
}

/// [`error_page`] for a `description` meant for the client's developer,
/// which stays the protocol's English (marked so, WCAG 3.1.2).
pub fn protocol_error_page(chrome: Chrome<'_>, description: &str) -> HttpResponse {
    refused(chrome, description, if chrome.t.lang == "en" { "" } else { " lang=\"en\"" })
}

/// The refused request's page: `description` (with the `lang` attribute
/// `lang`, or none) and what to do.
fn refused(chrome: Chrome<'_>, description: &str, lang: &str) -> HttpResponse {
    let t = chrome.t;
    let body = format!("<p class=\"error\"{lang}>{}</p><p>{}</p>", escape(description), t.try_again);
    page(chrome, StatusCode::BAD_REQUEST, t.refused_title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    /// The `Retry-After` header and the body `error` answers with.
    async fn shown(error: PageError) -> (Option<String>, String) {
        use actix_web::ResponseError;
        let response = error.error_response();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        (retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[actix_web::test]
    async fn a_failure_is_a_styled_500_that_names_no_detail() {
        use actix_web::ResponseError;
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
        use actix_web::ResponseError;
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
                let mut response = page(
                    Chrome::fallback(),
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "<p class=\"error\" role=\"alert\">The service is temporarily unavailable. Try again in a moment.</p>",
                );
                response.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
                response
            }
            Self::Failed(_) => page(
                Chrome::fallback(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "<p class=\"error\" role=\"alert\">Something went wrong on our side. Try again later.</p>",
            ),
        }
    }
}
