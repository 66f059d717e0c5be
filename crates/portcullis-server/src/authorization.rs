//! The authorization code flow's front channel, shared by `/authorize`,
//! the login page and the consent page: deciding whether the user must log
//! in or consent, keeping the request while they do, and issuing the code,
//! over the operations of [`portcullis_app::sessions`] and
//! [`portcullis_app::grants`].

use crate::authorization_response;
use crate::client_address::TrustedProxies;
use crate::pages::PageError;
use crate::secrets;
use crate::session_cookie;
use actix_web::{web, HttpResponse};
use portcullis_app::sessions::{Interaction, Session, INTERACTION_LIFETIME};
use portcullis_app::{App, AppError};
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::{ErrorCode, InteractionId, Issuer, OAuthError};
use portcullis_oauth::authorize::{Authorizer, Step};
use portcullis_oauth::clients::ClientRegistry;
use portcullis_oauth::params::Params;
use std::sync::Arc;

/// Where the login page is.
pub const LOGIN_PATH: &str = "/login";
/// Where the consent page is.
pub const CONSENT_PATH: &str = "/consent";
/// Where the flow resumes after login.
pub const RESUME_PATH: &str = "/authorize/resume";
/// Where a user gives a second factor (the console asks for one).
pub const SECOND_FACTOR_PATH: &str = "/login/second-factor";

/// The front channel's shared state.
pub struct Authorization {
    /// The operations the pages call.
    pub app: web::Data<App>,
    /// The registered clients.
    pub clients: Arc<ClientRegistry>,
    /// The issuer, sent as `iss` with every response.
    pub issuer: Issuer,
    /// Whether cookies are `Secure` (an https issuer).
    pub secure_cookies: bool,
    /// Proxies whose X-Forwarded-For is believed, for throttling by address.
    pub proxies: TrustedProxies,
    /// Login submissions per minute from one address (0: unlimited).
    pub login_rate_limit: u32,
    /// User codes typed on the device page per minute from one address (0: unlimited).
    pub user_code_rate_limit: u32,
    /// What the pages show of the server's brand.
    pub branding: web::Data<crate::branding::Branding>,
    /// How requests are read: pushed, as request objects, or plain.
    pub requests: web::Data<portcullis_oauth::authorization_requests::AuthorizationRequests>,
}

/// The page for an interaction that expired or was completed.
pub fn expired_page(chrome: crate::views::Chrome<'_>) -> HttpResponse {
    crate::pages::error_page(chrome, chrome.t.expired)
}

impl Authorization {
    /// The layout of a sign-in page for `req`: its language and the brand.
    pub fn chrome<'a>(&'a self, req: &actix_web::HttpRequest) -> crate::views::Chrome<'a> {
        crate::views::Chrome { t: crate::locale::of(req), brand: &self.branding }
    }

    /// Runs the operation `work` off the request threads; a failure is
    /// the pages' one error.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, PageError> {
        crate::pages::operation(&self.app, work).await
    }

    /// The live session of the browser making `req`, if it has one.
    pub async fn session(&self, req: &actix_web::HttpRequest) -> Result<Option<Session>, PageError> {
        let Some(token) = req.cookie(session_cookie::SESSION).map(|c| c.value().to_owned()) else {
            return Ok(None);
        };
        self.run(move |app| app.session(&token)).await
    }

    /// The error redirect for `request`.
    pub fn refuse(&self, request: &AuthorizationRequest, code: ErrorCode, description: &str) -> HttpResponse {
        let error = OAuthError::new(code, description);
        authorization_response::error(&request.redirect_uri, &error, request.state.as_deref(), &self.issuer)
    }

    /// Carries a valid request on for a browser with `session`, as the
    /// engine decides: to the login page, the second-factor page, the
    /// consent page, or the client with a code. A page shown on the way
    /// speaks `t`.
    pub async fn proceed(
        &self,
        request: AuthorizationRequest,
        session: Option<Session>,
        interaction: Option<Interaction>,
        t: &'static crate::locale::Texts,
    ) -> Result<HttpResponse, PageError> {
        let authorizer = Authorizer { app: self.app.clone().into_inner(), clients: self.clients.clone() };
        let step = authorizer.next(&request, session, interaction.as_ref()).await?;
        let interaction = match (&step, interaction) {
            // Answered: the interaction ends, so no reload of a pushed request revives it.
            (Step::Refuse(..), Some(interaction)) => {
                self.run(move |app| app.finish_interaction(&interaction)).await?;
                None
            }
            (_, interaction) => interaction,
        };
        match step {
            // A device's request has no redirect URI: its refusal is a page (RFC 8628 §3.3).
            Step::Refuse(_, why) if request.device_user_code.is_some() => {
                Ok(crate::pages::protocol_error_page(crate::views::Chrome { t, brand: &self.branding }, why))
            }
            Step::Refuse(code, why) => Ok(self.refuse(&request, code, why)),
            Step::Login => self.send_to(LOGIN_PATH, request, interaction).await,
            Step::ClientGone => {
                let chrome = crate::views::Chrome { t, brand: &self.branding };
                Ok(crate::pages::error_page(chrome, t.client_gone))
            }
            Step::SecondFactor(session) => {
                self.send_with_session(SECOND_FACTOR_PATH, request, session, interaction).await
            }
            Step::Consent(session) => {
                self.send_with_session(CONSENT_PATH, request, session, interaction).await
            }
            // Never without the consent page, which decides a device's grant.
            Step::IssueCode(_) if request.device_user_code.is_some() => {
                Ok(crate::pages::error_page(crate::views::Chrome { t, brand: &self.branding }, t.completed))
            }
            Step::IssueCode(session) => self.issue_code(request, session, interaction, t).await,
        }
    }

    /// Approves or denies the device grant `request` verifies for the user
    /// of `session`, from `address`, ending `interaction`: a page saying so
    /// in `t`'s language (RFC 8628 §3.3).
    pub async fn decide_device(
        &self,
        request: AuthorizationRequest,
        session: Session,
        interaction: Option<Interaction>,
        (approve, address): (bool, Option<std::net::IpAddr>),
        t: &'static crate::locale::Texts,
    ) -> Result<HttpResponse, PageError> {
        let decided = self
            .run(move |app| {
                app.decide_device_grant(&request, &session, interaction.as_ref(), (approve, address))
            })
            .await?;
        let chrome = crate::views::Chrome { t, brand: &self.branding };
        if !decided {
            return Ok(crate::pages::error_page(chrome, t.completed));
        }
        let (title, text) = if approve { t.device.approved } else { t.device.denied };
        Ok(crate::pages::notice(chrome, actix_web::http::StatusCode::OK, title, text))
    }

    /// The live interaction `id`, if any.
    pub async fn interaction(&self, id: &str) -> Result<Option<Interaction>, PageError> {
        let id = id.to_owned();
        self.run(move |app| app.interaction(&id)).await
    }

    /// The interaction a page's form was posted for, when its CSRF token
    /// matches both the cookie and the one issued for the interaction; else
    /// the page to answer with.
    pub async fn posted_interaction(
        &self,
        req: &actix_web::HttpRequest,
        form: Result<crate::form::FormParams, crate::oauth_response::OAuthFailure>,
    ) -> Result<Result<(crate::form::FormParams, Interaction), HttpResponse>, PageError> {
        let chrome = self.chrome(req);
        let form = match form {
            Ok(form) => form,
            Err(failure) => {
                return Ok(Err(crate::pages::protocol_error_page(chrome, &failure.0.error_description)))
            }
        };
        let Some(interaction) = self.interaction(form.get("interaction").unwrap_or_default()).await? else {
            return Ok(Err(expired_page(chrome)));
        };
        let posted = form.get("csrf").unwrap_or_default();
        let cookie = req.cookie(session_cookie::CSRF).map(|c| c.value().to_owned()).unwrap_or_default();
        let matches = secrets::matches_any(posted, [secrets::hash(&cookie).as_slice()])
            && interaction.csrf_matches(posted);
        if !matches {
            let status = actix_web::http::StatusCode::FORBIDDEN;
            return Ok(Err(crate::pages::notice(
                chrome,
                status,
                chrome.t.form_expired_title,
                chrome.t.form_expired,
            )));
        }
        Ok(Ok((form, interaction)))
    }

    /// The interaction named by the `interaction` query parameter of a page.
    pub async fn interaction_of_page(
        &self,
        req: &actix_web::HttpRequest,
    ) -> Result<Option<Interaction>, PageError> {
        let params = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
        self.interaction(params.get("interaction").unwrap_or_default()).await
    }

    /// Sends the browser to a page for a new interaction, with its CSRF cookie.
    async fn send_to(
        &self,
        path: &str,
        request: AuthorizationRequest,
        interaction: Option<Interaction>,
    ) -> Result<HttpResponse, PageError> {
        if let Some(interaction) = interaction {
            // A resumed interaction already has its cookie.
            return Ok(self.send_to_existing(path, &interaction.id).finish());
        }
        let (interaction, csrf) = self.run(move |app| app.start_interaction(&request, None)).await?;
        let mut response = self.send_to_existing(path, &interaction.id);
        Ok(response
            .cookie(session_cookie::cookie(
                session_cookie::CSRF,
                csrf.expose().to_owned(),
                self.secure_cookies,
                INTERACTION_LIFETIME,
            ))
            .finish())
    }

    /// Sends the browser of `session` to a page for `request`, in its
    /// interaction (a new one, with its CSRF cookie, when there is none).
    async fn send_with_session(
        &self,
        path: &str,
        request: AuthorizationRequest,
        session: Session,
        interaction: Option<Interaction>,
    ) -> Result<HttpResponse, PageError> {
        let (id, csrf) = self
            .run(move |app| {
                let (interaction, csrf) = match interaction {
                    Some(interaction) => (interaction, None),
                    None => {
                        let (interaction, csrf) = app.start_interaction(&request, Some(&session))?;
                        (interaction, Some(csrf))
                    }
                };
                app.attach_session(&interaction, &session)?;
                Ok((interaction.id, csrf))
            })
            .await?;
        let mut response = self.send_to_existing(path, &id);
        if let Some(csrf) = csrf {
            response.cookie(session_cookie::cookie(
                session_cookie::CSRF,
                csrf.expose().to_owned(),
                self.secure_cookies,
                INTERACTION_LIFETIME,
            ));
        }
        Ok(response.finish())
    }

    fn send_to_existing(&self, path: &str, interaction: &InteractionId) -> actix_web::HttpResponseBuilder {
        let mut response = HttpResponse::SeeOther();
        response
            .insert_header((
                actix_web::http::header::LOCATION,
                format!("{path}?interaction={}", interaction.expose()),
            ))
            .insert_header(actix_web::http::header::CacheControl(vec![
                actix_web::http::header::CacheDirective::NoStore,
            ]));
        response
    }

    /// Issues a single-use code for `request` to the user of `session`,
    /// finishing `interaction`, and sends the code back to the client (or
    /// a page in `t`'s language when the interaction was completed already).
    pub async fn issue_code(
        &self,
        request: AuthorizationRequest,
        session: Session,
        interaction: Option<Interaction>,
        t: &'static crate::locale::Texts,
    ) -> Result<HttpResponse, PageError> {
        let (request, code) = self
            .run(move |app| {
                let code = app.issue_code(&request, &session, interaction.as_ref())?;
                Ok((request, code))
            })
            .await?;
        let Some(code) = code else {
            let chrome = crate::views::Chrome { t, brand: &self.branding };
            return Ok(crate::pages::error_page(chrome, t.completed));
        };
        let mut params = vec![("code", code.expose())];
        params.extend(request.state.as_deref().map(|state| ("state", state)));
        Ok(authorization_response::redirect(&request.redirect_uri, &params, &self.issuer))
    }
}
