//! Server-rendered HTML: every text escaped, no scripts, and headers that
//! keep the pages out of frames (clickjacking) and out of caches.

use crate::storage::{StorageFailure, RETRY_AFTER_SECONDS};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};

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

/// The headers every page carries.
pub fn page_headers(response: &mut HttpResponseBuilder) {
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        // No framing (clickjacking), no scripts, no other origins.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
}

/// A page with `title` and `body`, which must already be safe HTML.
pub fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    page_headers(&mut response);
    response.body(document(title, body))
}

/// The whole HTML document.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{title}</title><style>body{{font-family:sans-serif;\
         max-width:28rem;margin:3rem auto;padding:0 1rem}}label,input,button{{display:block;width:100%;\
         margin:.4rem 0}}.error{{color:#a00}}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    )
}

/// The page for a request that cannot be sent back to the client: status
/// 400, and never a redirect (RFC 6749 §4.1.2.1).
pub fn error_page(description: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Sign-in request refused",
        &format!(
            "<p class=\"error\">{}</p><p>Return to the application and try again.</p>",
            escape(description)
        ),
    )
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
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "<p class=\"error\" role=\"alert\">The service is temporarily unavailable. Try again in a moment.</p>",
                );
                response.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
                response
            }
            Self::Failed(_) => page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "<p class=\"error\" role=\"alert\">Something went wrong on our side. Try again later.</p>",
            ),
        }
    }
}
