//! The authorization code flow's front channel, shared by `/authorize`,
//! the login page and the consent page: deciding whether the user must log
//! in or consent, keeping the request while they do, and issuing the code.

use crate::authorization_response;
use crate::client_address::TrustedProxies;
use crate::clients::ClientRegistry;
use crate::pages::PageError;
use crate::secrets;
use crate::session_cookie;
use actix_web::HttpResponse;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_app::failures::FailureLog;
use portcullis_app::Clock;
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::grant::CodeDetails;
use portcullis_core::{
    AuthorizationCode, CsrfToken, ErrorCode, InteractionId, Issuer, OAuthError, Scope, SessionToken,
};
use portcullis_store::codes::{self, CodeRecord};
use portcullis_store::sessions::{self, InteractionRecord, SessionRecord};
use portcullis_store::{Database, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How long a user has to log in and consent.
pub const INTERACTION_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a code may wait to be exchanged (RFC 6749 §4.1.2: short).
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long a login session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// Where the login page is.
pub const LOGIN_PATH: &str = "/login";
/// Where the consent page is.
pub const CONSENT_PATH: &str = "/consent";
/// Where the flow resumes after login.
pub const RESUME_PATH: &str = "/authorize/resume";

/// The front channel's shared state.
pub struct Authorization {
    /// The database.
    pub db: Database,
    /// The registered clients.
    pub clients: Arc<ClientRegistry>,
    /// The issuer, sent as `iss` with every response.
    pub issuer: Issuer,
    /// Whether cookies are `Secure` (an https issuer).
    pub secure_cookies: bool,
    /// Proxies whose X-Forwarded-For is believed, for throttling by address.
    pub proxies: TrustedProxies,
    /// The time sessions, interactions and codes are stamped and checked with.
    pub clock: Clock,
    /// Where failed and throttled logins are counted.
    pub failures: Arc<FailureLog>,
}

/// A pending interaction as the pages see it.
pub struct Interaction {
    /// The id in the page's URL.
    pub id: InteractionId,
    /// What is stored of it.
    pub record: InteractionRecord,
    /// The request waiting.
    pub request: AuthorizationRequest,
}

/// The page for an interaction that expired or was completed.
pub fn expired_page() -> HttpResponse {
    crate::pages::error_page("This sign-in request has expired or was already completed. Go back to the application and sign in again.")
}

fn cookie_hash(cookie: &str) -> [u8; 32] {
    secrets::hash(cookie)
}

impl Authorization {
    /// Runs blocking storage work off the request threads.
    pub async fn storage<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut portcullis_store::DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PageError> {
        Ok(crate::storage::run(&self.db, work).await?)
    }

    /// The error redirect for `request`.
    pub fn refuse(&self, request: &AuthorizationRequest, code: ErrorCode, description: &str) -> HttpResponse {
        let error = OAuthError::new(code, description);
        authorization_response::error(&request.redirect_uri, &error, request.state.as_deref(), &self.issuer)
    }

    /// Carries a valid request on for a browser with `session`: to the
    /// login page, the consent page, or the client with a code.
    /// `logged_in_for` is the session the user logged in with for this very
    /// request, which satisfies `prompt=login` and `max_age`.
    pub async fn proceed(
        &self,
        request: AuthorizationRequest,
        session: Option<SessionRecord>,
        interaction: Option<Interaction>,
    ) -> Result<HttpResponse, PageError> {
        let now = self.clock.now();
        let logged_in_for = interaction.as_ref().and_then(|i| i.record.session_id.clone());
        let session = session.filter(|s| {
            let fresh = logged_in_for.as_deref() == Some(s.session_id.as_str());
            // OpenID Connect Core §3.1.2.1: prompt=login and max_age ask for a
            // new login, and an id_token_hint names the user who must be logged in.
            let recent = request.max_age.is_none_or(|max| (now - s.auth_time).num_seconds() <= max as i64);
            let hinted = request.hinted_subject.as_deref().is_none_or(|sub| sub == s.user_id);
            fresh || (!request.prompt.login && recent && hinted)
        });
        if let (Some(session), Some(hinted)) = (&session, &request.hinted_subject) {
            if *hinted != session.user_id {
                // Someone else logged in for this request: §3.1.2.1 says answer an error.
                return Ok(self.refuse(
                    &request,
                    ErrorCode::LoginRequired,
                    "the user who logged in is not the one the id_token_hint names",
                ));
            }
        }
        let Some(session) = session else {
            if request.prompt.none {
                return Ok(self.refuse(&request, ErrorCode::LoginRequired, "the user is not logged in"));
            }
            return self.send_to(LOGIN_PATH, request, interaction).await;
        };
        let Some(client) = self.clients.get(request.client_id.as_str()).filter(|c| c.disabled_at.is_none())
        else {
            return Ok(crate::pages::error_page("The client is no longer available."));
        };
        let consent_needed = request.prompt.consent
            || (!client.metadata.skip_consent && !self.consented(&session, &request).await?);
        if consent_needed {
            if request.prompt.none {
                return Ok(self.refuse(&request, ErrorCode::ConsentRequired, "the user has not consented"));
            }
            let interaction = match interaction {
                Some(interaction) => interaction,
                None => self.new_interaction(&request, Some(&session.session_id)).await?.0,
            };
            self.attach_if_missing(&interaction, &session).await?;
            return Ok(self.send_to_existing(CONSENT_PATH, &interaction.id).finish());
        }
        self.issue_code(&request, &session, interaction.map(|i| i.record.interaction_hash)).await
    }

    async fn consented(
        &self,
        session: &SessionRecord,
        request: &AuthorizationRequest,
    ) -> Result<bool, PageError> {
        let (user, client) = (session.user_id.clone(), request.client_id.as_str().to_owned());
        let granted = self.storage(move |conn| sessions::consented_scope(conn, &user, &client)).await?;
        Ok(granted
            .and_then(|scope| Scope::parse(&scope).ok())
            .is_some_and(|granted| request.scope.is_subset(&granted)))
    }

    async fn attach_if_missing(
        &self,
        interaction: &Interaction,
        session: &SessionRecord,
    ) -> Result<(), PageError> {
        if interaction.record.session_id.as_deref() == Some(session.session_id.as_str()) {
            return Ok(());
        }
        let (hash, sid) = (interaction.record.interaction_hash.clone(), session.session_id.clone());
        self.storage(move |conn| sessions::attach_session(conn, &hash, &sid)).await
    }

    /// Stores the request as a new interaction; returns it and its CSRF token.
    pub async fn new_interaction(
        &self,
        request: &AuthorizationRequest,
        session_id: Option<&str>,
    ) -> Result<(Interaction, CsrfToken), PageError> {
        let (id, csrf) =
            (InteractionId::new(secrets::random_token()), CsrfToken::new(secrets::random_token()));
        let now = self.clock.now();
        let record = InteractionRecord {
            interaction_hash: secrets::hash(id.expose()).to_vec(),
            request: request.clone(),
            csrf_hash: secrets::hash(csrf.expose()).to_vec(),
            session_id: session_id.map(str::to_owned),
            created_at: now,
            expires_at: now + TimeDelta::from_std(INTERACTION_LIFETIME).expect("fits"),
        };
        let stored = record.clone();
        self.storage(move |conn| sessions::create_interaction(conn, &stored)).await?;
        Ok((Interaction { id, record, request: request.clone() }, csrf))
    }

    /// The live interaction `id`, if any.
    pub async fn interaction(&self, id: &str) -> Result<Option<Interaction>, PageError> {
        let hash = secrets::hash(id);
        let now = self.clock.now();
        let Some(record) = self.storage(move |conn| sessions::live_interaction(conn, &hash, now)).await?
        else {
            return Ok(None);
        };
        let request = record.request.clone();
        Ok(Some(Interaction { id: InteractionId::new(id.to_owned()), record, request }))
    }

    /// The interaction a page's form was posted for, when its CSRF token
    /// matches both the cookie and the one issued for the interaction; else
    /// the page to answer with.
    pub async fn posted_interaction(
        &self,
        req: &actix_web::HttpRequest,
        form: Result<crate::form::FormParams, crate::oauth_response::OAuthFailure>,
    ) -> Result<Result<(crate::form::FormParams, Interaction), HttpResponse>, PageError> {
        let form = match form {
            Ok(form) => form,
            Err(failure) => return Ok(Err(crate::pages::error_page(&failure.0.error_description))),
        };
        let Some(interaction) = self.interaction(form.get("interaction").unwrap_or_default()).await? else {
            return Ok(Err(expired_page()));
        };
        let posted = form.get("csrf").unwrap_or_default();
        let cookie = req.cookie(session_cookie::CSRF).map(|c| c.value().to_owned()).unwrap_or_default();
        let matches = !posted.is_empty()
            && secrets::matches_any(posted, [cookie_hash(&cookie).as_slice()])
            && secrets::matches_any(posted, [interaction.record.csrf_hash.as_slice()]);
        if !matches {
            return Ok(Err(crate::pages::page(
                actix_web::http::StatusCode::FORBIDDEN,
                "Form expired",
                "<p class=\"error\">This form is no longer valid. Go back to the application and try again.</p>",
            )));
        }
        Ok(Ok((form, interaction)))
    }

    /// The interaction named by the `interaction` query parameter of a page.
    pub async fn interaction_of_page(
        &self,
        req: &actix_web::HttpRequest,
    ) -> Result<Option<Interaction>, PageError> {
        let params = crate::form::FormParams::parse(req.query_string().as_bytes()).unwrap_or_default();
        self.interaction(params.get("interaction").unwrap_or_default()).await
    }

    /// Sends the browser to a page for a new interaction, with its CSRF cookie.
    async fn send_to(
        &self,
        path: &str,
        request: AuthorizationRequest,
        interaction: Option<Interaction>,
    ) -> Result<HttpResponse, PageError> {
        let (interaction, csrf) = match interaction {
            // A resumed interaction already has its cookie.
            Some(interaction) => return Ok(self.send_to_existing(path, &interaction.id).finish()),
            None => self.new_interaction(&request, None).await?,
        };
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

    /// Issues a single-use code bound to the client, the redirect URI and the
    /// PKCE challenge, finishes the interaction, and sends the code back.
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        session: &SessionRecord,
        interaction_hash: Option<Vec<u8>>,
    ) -> Result<HttpResponse, PageError> {
        let code = AuthorizationCode::new(secrets::random_token());
        let details = CodeDetails {
            user_id: session.user_id.clone(),
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_sent: request.redirect_uri_sent,
            auth_time: session.auth_time.timestamp(),
            sid: session.session_id.clone(),
        };
        let now: DateTime<Utc> = self.clock.now();
        let record = CodeRecord {
            code_hash: secrets::hash(code.expose()).to_vec(),
            grant_id: uuid::Uuid::new_v4().to_string(),
            client_id: request.client_id.as_str().to_owned(),
            details,
            created_at: now,
            expires_at: now + TimeDelta::from_std(CODE_LIFETIME).expect("fits"),
        };
        let finished = self
            .storage(move |conn| {
                // An interaction finishes once: a second submission gets no code.
                let finished = match &interaction_hash {
                    Some(hash) => sessions::finish_interaction(conn, hash)?,
                    None => true,
                };
                if finished {
                    codes::insert(conn, &record)?;
                }
                Ok(finished)
            })
            .await?;
        if !finished {
            return Ok(crate::pages::error_page("This sign-in request was already completed."));
        }
        let mut params = vec![("code", code.expose())];
        params.extend(request.state.as_deref().map(|state| ("state", state)));
        Ok(authorization_response::redirect(&request.redirect_uri, &params, &self.issuer))
    }

    /// Starts a session for `user_id`, authenticated now.
    pub async fn start_session(&self, user_id: &str) -> Result<(SessionRecord, SessionToken), PageError> {
        let value = SessionToken::new(secrets::random_token());
        let now = self.clock.now();
        let session = SessionRecord {
            session_hash: secrets::hash(value.expose()).to_vec(),
            session_id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            auth_time: now,
            created_at: now,
            expires_at: now + TimeDelta::from_std(SESSION_LIFETIME).expect("fits"),
        };
        let stored = session.clone();
        self.storage(move |conn| sessions::create_session(conn, &stored)).await?;
        Ok((session, value))
    }
}
