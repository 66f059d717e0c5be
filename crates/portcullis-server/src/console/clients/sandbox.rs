//! The sandbox: a token request tried against a client's saved
//! configuration or an unsaved draft, for a chosen user. It asks the
//! engine's [`preview`], the token endpoint's own decision (grant allowed,
//! each grant's rules, scope, RFC 8707 resource) and claims (each token's,
//! the client's mapped claims among them), and UserInfo's own answer; it
//! signs, issues, stores and audits nothing.

use super::super::session::{Frame, Signed};
use super::super::{refusal, signed, Posted};
use super::edit::as_object;
use super::{client_path, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use crate::KeyRing;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::ClientView;
use portcullis_app::Permission;
use portcullis_core::claim_mappings::UserClaims;
use portcullis_core::{ClientId, ClientMetadata, ErrorCode, GrantType, OAuthError, Scope};
use portcullis_oauth::grants::{preview, Preview, Requested, TokenSettings};
use serde_json::{json, Map, Value};

/// What the request would get.
struct Decision {
    /// Whether tokens would be issued.
    issued: bool,
    /// The outcome in words: issued, or the error and why.
    summary: String,
    /// The access token's JOSE header, as JSON.
    header: String,
    /// Each token's or answer's claims, titled, as JSON.
    tokens: Vec<(&'static str, String)>,
    /// What else would happen.
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/sandbox.html")]
struct SandboxPage {
    frame: Frame,
    path: String,
    /// Every grant the token endpoint serves.
    grants: Vec<&'static str>,
    client: ClientView,
    grant_type: String,
    scope: String,
    resource: String,
    user: String,
    configuration: String,
    draft: bool,
    decision: Option<Decision>,
}

impl Decision {
    /// A refusal, for `summary`.
    fn refused(summary: String) -> Self {
        Self { issued: false, summary, header: String::new(), tokens: Vec::new(), notes: Vec::new() }
    }
}

/// The user a preview is for: their id and what mappings read, and their
/// UserInfo answer under the scope tried.
struct ChosenUser {
    /// Their `sub` at the client (pairwise or not).
    subject: String,
    claims: UserClaims,
    userinfo: Option<Map<String, Value>>,
}

/// Tries `grant` with `requested` for `client` configured as `metadata`,
/// for `user` when one is chosen.
fn decide(
    client: &ClientView,
    (metadata, grant, requested): (ClientMetadata, GrantType, &Requested),
    user: Option<&ChosenUser>,
    settings: &TokenSettings,
    keys: &KeyRing,
) -> Result<Decision, OAuthError> {
    // What the token endpoint's client authentication refuses first.
    if client.disabled {
        return Err(OAuthError::new(ErrorCode::InvalidClient, "the client is disabled"));
    }
    let now = settings.clock.now();
    if let Some(until) = client.locked_until.as_deref().filter(|until| super::is_after(until, now)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            format!("the client is locked out until {until}"),
        ));
    }
    if metadata.token_endpoint_auth_method.uses_secret() && client.secrets.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "the client has no secret to authenticate with",
        ));
    }
    let id = ClientId::parse(&client.client_id)
        .map_err(|e| OAuthError::new(ErrorCode::InvalidClient, e.to_string()))?;
    let chosen = user.map(|user| (user.subject.as_str(), &user.claims));
    let Preview { access_token, id_token, introspection, lifetime, scope } =
        preview((id, client.version, metadata.clone()), grant, requested, settings, chosen)?;
    let for_user = grant != GrantType::ClientCredentials;
    let alg = metadata.access_token_signed_response_alg;
    let keys = keys.current();
    let kid = keys
        .signer(alg)
        .map(|k| k.kid().to_owned())
        .ok_or_else(|| OAuthError::new(ErrorCode::ServerError, format!("no active {} key", alg.as_str())))?;
    let mut notes = vec![format!("The access token would live {lifetime} s.")];
    notes.extend(grant_notes(grant, &metadata));
    if metadata.dpop_bound_access_tokens {
        notes.push(
            "A DPoP proof is required: the token would be bound to its key (cnf.jkt, token_type DPoP)."
                .into(),
        );
    }
    let exchanged = grant == GrantType::TokenExchange;
    if for_user && !exchanged && scope.contains("openid") {
        notes.push(format!(
            "An ID token signed with {} would be issued too.",
            metadata.id_token_signed_response_alg.as_str()
        ));
    }
    if for_user && !exchanged && metadata.allows_grant(GrantType::RefreshToken) {
        notes.push(if metadata.refresh_token_rotation {
            "A refresh token would be issued too (rotated at each use).".into()
        } else {
            "A refresh token would be issued too (kept at each use: rotation is off).".into()
        });
    }
    let limit = metadata.token_rate_limit.unwrap_or(settings.token_rate_limit);
    notes.push(match limit {
        0 => "Token requests are not rate-limited.".into(),
        n => format!("At most {n} token requests a minute."),
    });
    if !metadata.allowed_cidrs.is_empty() {
        let networks: Vec<String> = metadata.allowed_cidrs.iter().map(ToString::to_string).collect();
        notes.push(format!("Only from {}.", networks.join(", ")));
    }
    let header = json!({"alg": alg.as_str(), "typ": "at+jwt", "kid": kid});
    let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap_or_default();
    let object = |claims: Map<String, Value>| pretty(&Value::Object(claims));
    let mut tokens = vec![("Access token", object(access_token))];
    tokens.extend(
        id_token.map(|claims| ("ID token (its at_hash is the signed access token's)", object(claims))),
    );
    if let Some(userinfo) =
        user.and_then(|user| user.userinfo.clone()).filter(|_| for_user && scope.contains("openid"))
    {
        tokens.push(("UserInfo", object(userinfo)));
    }
    tokens.push(("Introspection", object(introspection)));
    Ok(Decision {
        issued: true,
        summary: format!(
            "Issued: a {} access token for {}",
            alg.as_str(),
            if for_user { "the user" } else { "the client itself" }
        ),
        header: pretty(&header),
        tokens,
        notes,
    })
}

/// What `grant` does beyond what the preview shows.
fn grant_notes(grant: GrantType, metadata: &ClientMetadata) -> Vec<String> {
    match grant {
        GrantType::AuthorizationCode => {
            vec!["At the token endpoint the scope is the one the user granted at /authorize.".into()]
        }
        GrantType::DeviceCode => vec![
            "The device polls with its device_code; the user approves the scope at /device first (RFC 8628 §3.4)."
                .into(),
        ],
        GrantType::TokenExchange => vec![match &metadata.token_exchange {
            None => "The client has no token_exchange policy: every exchange is refused.".into(),
            Some(policy) => format!(
                "The token would be for the subject token's subject and never outlive it; {} \
                 {} Subject tokens of this client{}; \
                 audiences: the subject token's own{}.",
                if policy.impersonation {
                    "act names the actor token's subject, and without an actor token there is none (impersonation)."
                } else {
                    "act names the actor token's subject, or this client (RFC 8693 §4.1)."
                },
                if policy.refresh_tokens && metadata.allows_grant(GrantType::RefreshToken) {
                    "A refresh token comes with an exchange of a user's token: it mints the same token \
                     again and dies with the subject token and its grant; no ID token is issued."
                } else {
                    "No refresh token or ID token is issued for an exchange."
                },
                listed(&policy.subject_clients),
                listed(&policy.audiences)
            ),
        }],
        GrantType::ClientCredentials | GrantType::RefreshToken => Vec::new(),
    }
}

/// `, a, b` for a policy's extra entries, or nothing.
fn listed(extra: &[String]) -> String {
    extra.iter().map(|entry| format!(", {entry}")).collect()
}

/// The sandbox page of `client_id`, tried with `form` when given.
async fn page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: Signed,
    client_id: String,
    form: Option<Posted>,
    settings: &TokenSettings,
    keys: &web::Data<KeyRing>,
) -> Result<HttpResponse, PageError> {
    let client = match super::found(req, ctx, &signed, client_id, "Sandbox").await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    let saved = serde_json::to_string_pretty(&Value::Object(as_object(&client.metadata))).unwrap_or_default();
    let form = form.unwrap_or_default();
    let configuration = match form.text("configuration") {
        draft if !draft.is_empty() => draft,
        _ => saved.clone(),
    };
    let draft = serde_json::from_str::<Value>(&configuration).ok()
        != Some(Value::Object(as_object(&client.metadata)));
    let grant_type = form.get("grant_type").unwrap_or(GrantType::ClientCredentials.as_str()).to_owned();
    let (scope, resource, user) = (form.text("scope"), form.text("resource"), form.text("user"));
    let requested = Requested {
        scope: (!scope.is_empty()).then(|| scope.clone()),
        resources: if resource.is_empty() { Vec::new() } else { vec![resource.clone()] },
    };
    let decision = match form.get("grant_type") {
        None => None,
        Some(_) => Some(match checked(req, ctx, &signed, (&client.client_id, &configuration)).await? {
            Err(why) => Decision::refused(why),
            Ok(metadata) => match GrantType::named(&grant_type) {
                None => Decision::refused(format!("unsupported_grant_type: {grant_type}")),
                Some(grant) => match chosen(req, ctx, &signed, (&user, keys), (&metadata, &requested)).await?
                {
                    Err(why) => Decision::refused(why),
                    Ok(chosen) => {
                        decide(&client, (metadata, grant, &requested), chosen.as_ref(), settings, keys)
                            .unwrap_or_else(|e| {
                                Decision::refused(format!(
                                    "Refused: {}: {}",
                                    e.error.as_str(),
                                    e.error_description
                                ))
                            })
                    }
                },
            },
        }),
    };
    let page = SandboxPage {
        frame: signed.frame("clients"),
        path: client_path(&client.client_id),
        grants: portcullis_oauth::grants::supported(),
        client,
        grant_type,
        scope,
        resource,
        user,
        configuration,
        draft,
        decision,
    };
    render(StatusCode::OK, &page)
}

/// The user named `username` (none when empty), with what `metadata`'s
/// mappings read and their UserInfo answer under the scope `requested`
/// (the client's whole scope when none is asked), or why there is none.
/// Reading a user takes the right to read users.
async fn chosen(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    (username, keys): (&str, &web::Data<KeyRing>),
    (metadata, requested): (&ClientMetadata, &Requested),
) -> Result<Result<Option<ChosenUser>, String>, PageError> {
    if username.is_empty() {
        return Ok(Ok(None));
    }
    let scope = match requested.scope.as_deref().map(Scope::parse) {
        None => metadata.scope.clone(),
        Some(Ok(scope)) => scope,
        Some(Err(e)) => return Ok(Err(format!("Refused: invalid_scope: {e}"))),
    };
    let (actor, username, metadata, keys) =
        (signed.actor(req, ctx), username.to_owned(), metadata.clone(), keys.clone());
    let found = ctx
        .run(move |app| {
            let user = match app.user_named(&actor, &username) {
                Ok(user) => user,
                Err(refused) => return Ok(Err(refused)),
            };
            let subject = keys.subjects().subject(&metadata, &user.user_id);
            let userinfo =
                app.userinfo((&user.user_id, &subject), &scope, (&metadata.claim_mappings, &[]))?;
            let claims = UserClaims::new(&user.claims, user.attributes);
            Ok(Ok(ChosenUser { subject, claims, userinfo }))
        })
        .await?;
    match found {
        Ok(user) => Ok(Ok(Some(user))),
        Err(error) => Ok(Err(format!("The user cannot be previewed: {}", refusal(error)?.1))),
    }
}

/// The configuration to try, checked as saving would check it, or why it
/// could not be saved.
async fn checked(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    (client_id, configuration): (&str, &str),
) -> Result<Result<ClientMetadata, String>, PageError> {
    let Ok(object) = serde_json::from_str::<Map<String, Value>>(configuration) else {
        return Ok(Err("The configuration is not a JSON object.".into()));
    };
    let actor = signed.actor(req, ctx);
    // A view's read-only members, pasted with the configuration, are left out.
    let draft = portcullis_app::clients::draft(object, Some(client_id));
    match ctx.run(move |app| Ok(app.check_client_draft(&actor, draft))).await? {
        Ok(metadata) => Ok(Ok(metadata)),
        Err(error) => Ok(Err(format!("The configuration could not be saved: {}", refusal(error)?.1))),
    }
}

/// `GET /console/clients/{client_id}/sandbox`: the form, with the saved configuration.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    page(&req, &ctx, signed, path.into_inner(), None, &settings, &keys).await
}

/// `POST /console/clients/{client_id}/sandbox`: one try (`grant_type`,
/// `scope`, `resource`, `user`, `configuration`); nothing is issued or saved.
pub async fn try_request(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    page(&req, &ctx, signed, path.into_inner(), Some(form), &settings, &keys).await
}
