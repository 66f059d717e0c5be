//! The user, in a browser: follows the server's redirects, signs in on the
//! login page, approves the consent page (and sends the device page its
//! pre-filled code), and stops when the server sends the browser back to
//! the relying party, shows an error page or a page that asks nothing more. It keeps
//! its cookies between journeys, as a browser does.

use crate::target::User;
use anyhow::{bail, ensure, Context, Result};
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use std::collections::HashMap;
use url::Url;

/// How many pages a journey may take before the user gives up.
const MAX_STEPS: usize = 10;

/// Where a journey ended.
#[derive(Debug)]
pub enum Landing {
    /// Back at the relying party's redirect URI, with these query parameters.
    Callback(HashMap<String, String>),
    /// On an error page of the server.
    ErrorPage {
        /// The page's status.
        status: StatusCode,
        /// Whether it carried a `Location` header anyway.
        redirected: bool,
    },
    /// On a page of the server that asks nothing more (the end of a device
    /// sign-in, RFC 8628 §3.3): its HTML.
    Notice(String),
}

/// Where a logout (RP-Initiated Logout 1.0) ended.
#[derive(Debug)]
pub enum LoggedOut {
    /// Sent to the post-logout redirect URI, with these query parameters.
    Redirected(HashMap<String, String>),
    /// On the server's own page saying the user is signed out.
    SignedOut,
    /// On an error page of the server.
    ErrorPage(StatusCode),
}

/// A journey from an authorization request back to the relying party.
#[derive(Debug)]
pub struct Journey {
    /// Where it ended.
    pub landing: Landing,
    /// Whether the user was shown the login page.
    pub logged_in: bool,
    /// Whether the user was shown the consent page.
    pub consented: bool,
}

impl Journey {
    /// The callback's parameters; an error if the journey ended elsewhere.
    pub fn callback(&self) -> Result<&HashMap<String, String>> {
        match &self.landing {
            Landing::Callback(params) => Ok(params),
            Landing::ErrorPage { status, .. } => bail!("the server showed an error page ({status})"),
            Landing::Notice(_) => bail!("the server showed a page that sends nowhere"),
        }
    }

    /// The authorization code sent back; an error if there is none.
    pub fn code(&self) -> Result<String> {
        let params = self.callback()?;
        match params.get("code") {
            Some(code) => Ok(code.clone()),
            None => bail!("no code in the response: {params:?}"),
        }
    }

    /// The `error` sent back; an error if the journey ended otherwise.
    pub fn error(&self) -> Result<&str> {
        let params = self.callback()?;
        params.get("error").map(String::as_str).with_context(|| format!("expected an error, got {params:?}"))
    }
}

/// A browser with a user at it.
pub struct UserAgent {
    http: reqwest::Client,
    user: User,
    /// What the user answers on a consent page: `approve` or `deny`.
    decision: &'static str,
}

impl UserAgent {
    /// A new browser, with no cookies, for `user`.
    pub fn new(user: &User) -> Result<Self> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { http, user: user.clone(), decision: "approve" })
    }

    /// A new browser whose user denies every consent page.
    pub fn declining(user: &User) -> Result<Self> {
        Ok(Self { decision: "deny", ..Self::new(user)? })
    }

    /// Opens `url` (an authorization request) and goes where it leads.
    pub async fn visit(&self, url: &Url, redirect_uri: &str) -> Result<Journey> {
        let response = self.http.get(url.clone()).send().await?;
        self.follow(response, redirect_uri).await
    }

    /// Posts `form` to `url` (OpenID Connect Core §3.1.2.1 allows POST) and
    /// goes where it leads.
    pub async fn submit(&self, url: &Url, form: &[(String, String)], redirect_uri: &str) -> Result<Journey> {
        let response = self.http.post(url.clone()).form(form).send().await?;
        self.follow(response, redirect_uri).await
    }

    /// Opens `url` and follows the server's redirects to the first page it
    /// shows (a login page, for a fresh browser): its HTML.
    pub async fn first_page(&self, url: &Url) -> Result<String> {
        let mut response = self.http.get(url.clone()).send().await?;
        for _ in 0..MAX_STEPS {
            if !response.status().is_redirection() {
                return Ok(response.text().await?);
            }
            let location = response.headers().get(LOCATION).context("a redirect without Location")?;
            let next = response.url().join(location.to_str()?)?;
            response = self.http.get(next).send().await?;
        }
        bail!("no page after {MAX_STEPS} redirects")
    }

    /// Opens `url` (a logout request), confirms when the server asks, and
    /// tells where it ended: back at `post_logout_redirect_uri`, on the
    /// server's signed-out page, or on an error page.
    pub async fn log_out(&self, url: &Url, post_logout_redirect_uri: &str) -> Result<(LoggedOut, bool)> {
        let mut response = self.http.get(url.clone()).send().await?;
        let mut confirmed = false;
        for _ in 0..MAX_STEPS {
            let here = response.url().clone();
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers().get(LOCATION).context("a redirect without Location")?;
                let next = here.join(location.to_str()?)?;
                if next.as_str().split(['?', '#']).next() == Some(post_logout_redirect_uri) {
                    return Ok((LoggedOut::Redirected(next.query_pairs().into_owned().collect()), confirmed));
                }
                response = self.http.get(next).send().await?;
                continue;
            }
            if !status.is_success() {
                return Ok((LoggedOut::ErrorPage(status), confirmed));
            }
            let Some(page) = Form::parse(&response.text().await?) else {
                return Ok((LoggedOut::SignedOut, confirmed));
            };
            ensure!(!confirmed && !page.has_password, "a logout that asks more than one confirmation");
            confirmed = true;
            response = self.http.post(here.join(&page.action)?).form(&page.hidden).send().await?;
        }
        bail!("no end to the logout after {MAX_STEPS} pages")
    }

    async fn follow(&self, mut response: Response, redirect_uri: &str) -> Result<Journey> {
        let (mut logged_in, mut consented) = (false, false);
        for _ in 0..MAX_STEPS {
            let here = response.url().clone();
            let status = response.status();
            let location = response.headers().get(LOCATION).map(|l| l.to_str().map(str::to_owned));
            if status.is_redirection() {
                let next = here.join(&location.context("a redirect without Location")??)?;
                if next.as_str().split(['?', '#']).next() == Some(redirect_uri) {
                    let params = next.query_pairs().into_owned().collect();
                    return Ok(Journey { landing: Landing::Callback(params), logged_in, consented });
                }
                response = self.http.get(next).send().await?;
                continue;
            }
            if !status.is_success() {
                let landing = Landing::ErrorPage { status, redirected: location.is_some() };
                return Ok(Journey { landing, logged_in, consented });
            }
            let html = response.text().await?;
            let Some(page) = Form::parse(&html) else {
                return Ok(Journey { landing: Landing::Notice(html), logged_in, consented });
            };
            let mut fields = page.hidden;
            if page.has_password {
                fields.push(("username".into(), self.user.username.clone()));
                fields.push(("password".into(), self.user.password.clone()));
                logged_in = true;
            } else if page.has_decision {
                fields.push(("decision".into(), self.decision.into()));
                consented = true;
            } else if let Some(user_code) = page.user_code {
                // The device verification page, its code filled in (RFC 8628 §3.3.1).
                fields.push(("user_code".into(), user_code));
            } else {
                bail!("a page the user does not know what to do with at {here}");
            }
            response = self.http.post(here.join(&page.action)?).form(&fields).send().await?;
        }
        bail!("no way back to the relying party after {MAX_STEPS} pages")
    }
}

/// The one form of a login or consent page.
struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    has_password: bool,
    has_decision: bool,
    /// The value of its `user_code` field (the device verification page).
    user_code: Option<String>,
}

impl Form {
    fn parse(html: &str) -> Option<Self> {
        let start = html.find("<form")?;
        let form = &html[start..start + html[start..].find("</form>")?];
        let action = attribute(&form[..form.find('>')?], "action")?;
        let tags = |name: &'static str| {
            form.match_indices(name).filter_map(|(at, _)| Some(&form[at..at + form[at..].find('>')?]))
        };
        let hidden = tags("<input")
            .filter(|tag| attribute(tag, "type").as_deref() == Some("hidden"))
            .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default())))
            .collect();
        let has_password = tags("<input").any(|tag| attribute(tag, "type").as_deref() == Some("password"));
        let has_decision = tags("<button").any(|tag| attribute(tag, "name").as_deref() == Some("decision"));
        let user_code = tags("<input")
            .find(|tag| attribute(tag, "name").as_deref() == Some("user_code"))
            .and_then(|tag| attribute(tag, "value"))
            .filter(|code| !code.is_empty());
        Some(Self { action, hidden, has_password, has_decision, user_code })
    }
}

/// The value of the double-quoted attribute `name` in `tag`, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let value = &tag[start..start + tag[start..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_form_is_read_with_its_hidden_fields() {
        let html = r#"<h1>Sign in</h1><form method="post" action="/login">
            <input type="hidden" name="interaction" value="i-1"><input type="hidden" name="csrf" value="a&amp;b">
            <input id="username" name="username" value=""><input id="password" name="password" type="password">
            <button type="submit">Sign in</button></form>"#;
        let form = Form::parse(html).unwrap();
        assert_eq!(form.action, "/login");
        assert_eq!(form.hidden, vec![("interaction".into(), "i-1".into()), ("csrf".into(), "a&b".into())]);
        assert!(form.has_password && !form.has_decision);
    }

    #[test]
    fn a_page_without_a_form_is_not_read() {
        assert!(Form::parse("<p>Signed out</p>").is_none());
    }
}
