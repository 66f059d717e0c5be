//! JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the admin API's request
//! bodies and parameters. They state the rules the handlers enforce, so
//! that a request the document calls valid is accepted: members, types,
//! formats, ranges, and the rules between members (as `if`/`then`). Where a
//! rule cannot be said in JSON Schema the schema is narrower than the server
//! and says so in its description (a `default_resource` must be one of
//! `resources`; `jwks` keys are described as RSA keys, which random bytes can
//! form, while the server also takes EC P-256 keys).

use portcullis_core::client_fields::{Shape, CLIENT_FIELDS};
use portcullis_core::SigningAlgorithm;
use serde_json::{json, Value};

/// The largest version or cursor: the largest integer JSON numbers carry
/// exactly (RFC 8259 §6), well within the server's 64 bits.
pub const MAX_NUMBER: u64 = (1 << 53) - 1;

/// A scope token list (RFC 6749 §3.3): NQCHAR tokens separated by spaces.
const SCOPE: &str = r"^([!#-\[\]-~]+( [!#-\[\]-~]+)*)?$";
/// A host name: lower-case labels of letters, digits and inner hyphens, the
/// last starting with a letter (a numeric last label makes an IPv4 address).
const HOST: &str = r"([a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\.){0,3}[a-z]([a-z0-9-]{0,20}[a-z0-9])?";
/// A path without a query or fragment.
const PATH: &str = r"(/[A-Za-z0-9._~-]{0,20}){0,4}";
/// A port below 10000.
const PORT: &str = r"(:[1-9][0-9]{0,3})?";
/// Text of visible characters: no control characters, not blank at either end.
const TEXT: &str = r"^[^\s\x00-\x1f\x7f-\x9f]([^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$";

/// An https URL (or http to loopback) that a browser may be sent to.
fn web_url() -> Value {
    json!({"type": "string", "format": "uri",
           "pattern": format!("^(https://{HOST}|http://(localhost|127\\.0\\.0\\.1)){PORT}{PATH}$")})
}

/// Visible text of at most `max` characters.
fn text(max: u64) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": TEXT})
}

fn seconds(max: u64) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": max})
}

fn alg() -> Value {
    json!({"type": "string", "enum": SigningAlgorithm::NAMES})
}

/// An RFC 7517 public RSA key, 2048 bits.
fn rsa_jwk() -> Value {
    json!({"type": "object", "required": ["kty", "n", "e"], "additionalProperties": false, "properties": {
        "kty": {"const": "RSA"}, "e": {"const": "AQAB"},
        "n": {"type": "string", "pattern": "^[g-z0-9_-][A-Za-z0-9_-]{340}[AQgw]$"},
        "alg": {"const": "RS256"}, "use": {"const": "sig"}, "kid": text(64)}})
}

/// A redirect URI for a web client: https, or http to loopback.
fn web_redirect() -> Value {
    json!({"type": "string", "pattern": format!("^(https://{HOST}|http://(localhost|127\\.0\\.0\\.1){PORT}){PATH}$")})
}

/// A redirect URI for a native client: http to loopback, or a private-use scheme.
fn native_redirect() -> Value {
    json!({"type": "string",
           "pattern": format!("^(http://(localhost|127\\.0\\.0\\.1){PORT}|com\\.example\\.[a-z]{{1,10}}:){PATH}$")})
}

fn uris(item: Value, min: u64) -> Value {
    json!({"type": "array", "items": item, "minItems": min, "maxItems": 5, "uniqueItems": true})
}

/// Claim mappings, narrower than the server: one mapping, of a claim
/// named `x_…` (never a reserved one), from a standard claim or a small
/// constant. The server also maps custom attributes (which must be defined)
/// and gates a claim by a scope (which the client must have).
fn claim_mappings() -> Value {
    let standard: Vec<&str> = portcullis_core::user::CLAIMS_BY_SCOPE
        .iter()
        .flat_map(|(_, claims)| claims.iter().copied())
        .filter(|claim| portcullis_core::claim_mappings::is_standard_claim(claim))
        .collect();
    let tokens: Vec<&str> =
        portcullis_core::claim_mappings::TokenKind::ALL.iter().map(|t| t.as_str()).collect();
    let constant =
        json!({"oneOf": [{"type": "string", "maxLength": 50}, {"type": "integer"}, {"type": "boolean"}]});
    json!({"type": "array", "maxItems": 1, "items": {
        "type": "object", "additionalProperties": false, "required": ["claim", "from", "tokens"],
        "properties": {
            "claim": {"type": "string", "pattern": "^x_[a-z0-9_]{1,30}$"},
            "from": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["standard"],
                 "properties": {"standard": {"enum": standard}}},
                {"type": "object", "additionalProperties": false, "required": ["value"],
                 "properties": {"value": constant}}]},
            "tokens": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"enum": tokens}}}}})
}

/// Members whose shape alone would be common but whose schema depends on
/// the kind of client (see [`client_kinds`]).
const BY_KIND: [&str; 7] = [
    "require_pkce",
    "token_endpoint_auth_signing_alg",
    "jwks_uri",
    "require_pushed_authorization_requests",
    "require_signed_request_object",
    "request_object_signing_alg",
    "request_uris",
];

/// The schema of a member of `shape` valid for every kind of client; `None`
/// for the shapes each kind describes itself (choices, redirect URIs, keys)
/// and for a default resource, which JSON Schema cannot tie to `resources`.
fn member(shape: Shape) -> Option<Value> {
    Some(match shape {
        Shape::Text(max) => text(max as u64),
        Shape::Texts { items, length } => {
            json!({"type": "array", "maxItems": items, "items": text(length as u64)})
        }
        Shape::WebUrl => web_url(),
        Shape::WebUrls(max) => json!({"type": "array", "maxItems": max, "items": web_url()}),
        Shape::Seconds(max) => seconds(max),
        Shape::UpToSeconds(max) => json!({"type": "integer", "minimum": 0, "maximum": max}),
        Shape::PerMinute => json!({"type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64}),
        Shape::Flag => json!({"type": "boolean"}),
        Shape::Algorithm => alg(),
        Shape::Scope => json!({"type": "string", "maxLength": 200, "pattern": SCOPE}),
        Shape::Networks => json!({"type": "array", "maxItems": 5, "items": {"type": "string",
            "pattern": r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$"}}),
        Shape::Countries => json!({"type": "array", "maxItems": portcullis_core::client::MAX_COUNTRIES,
            "uniqueItems": true, "items": {"type": "string", "pattern": "^[A-Z]{2}$"}}),
        Shape::Origins => json!({"type": "array", "maxItems": portcullis_core::client::MAX_ORIGINS,
            "items": {"type": "string", "pattern": format!("^https://{HOST}$")}}),
        Shape::Resources => uris(json!({"type": "string", "pattern": format!("^https://{HOST}{PATH}$")}), 0),
        Shape::ClaimMappings => claim_mappings(),
        Shape::OneOf(_)
        | Shape::AnyOf(_)
        | Shape::RedirectUris
        | Shape::Jwks
        | Shape::Resource
        | Shape::ExchangePolicy => return None,
    })
}

/// Members described narrower than the server takes them: a pairwise
/// client needs one sector, which JSON Schema cannot tie to its redirect URIs.
fn narrowed(name: &str) -> Option<Value> {
    (name == "subject_type").then(|| json!({"const": "public", "description":
        "public here; the server also takes pairwise, given a sector_identifier_uri or redirect URIs on one host"}))
}

/// The members every kind of client may carry, each valid on its own, from
/// the table of client metadata (its help as each one's description).
fn common_members() -> serde_json::Map<String, Value> {
    CLIENT_FIELDS
        .iter()
        .filter(|field| !BY_KIND.contains(&field.name))
        .filter_map(|field| {
            let mut schema = narrowed(field.name).or_else(|| member(field.shape))?;
            if !field.help.is_empty() {
                schema["description"] = json!(field.help);
            }
            Some((field.name.to_owned(), schema))
        })
        .collect()
}

/// Grant-type lists of clients that use the code flow.
fn code_grants(with_client_credentials: bool) -> Value {
    let mut lists = vec![json!(["authorization_code"]), json!(["authorization_code", "refresh_token"])];
    if with_client_credentials {
        lists.push(json!(["client_credentials", "authorization_code"]));
        lists.push(json!(["client_credentials", "authorization_code", "refresh_token"]));
    }
    json!({"enum": lists})
}

/// One kind of client: the common members and `specific` ones, with `required`.
fn kind(title: &str, specific: Value, required: &[&str]) -> Value {
    let mut properties = common_members();
    if let Value::Object(specific) = specific {
        properties.extend(specific);
    }
    let mut required: Vec<&str> = required.to_vec();
    required.insert(0, "client_name");
    json!({"title": title, "type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

/// The token-exchange grant's `grant_type` (RFC 8693 §2.1).
const TOKEN_EXCHANGE: &str = portcullis_core::GrantType::TokenExchange.as_str();
/// The device grant's `grant_type` (RFC 8628 §3.4).
const DEVICE_CODE: &str = portcullis_core::GrantType::DeviceCode.as_str();

/// A web client of the code flow that authenticates with `method`.
fn web_code(method: Value, grants: Value) -> Value {
    json!({"token_endpoint_auth_method": method, "grant_types": grants,
           "response_types": {"type": "array", "maxItems": 1, "items": {"const": "code"}},
           "application_type": {"const": "web"}, "redirect_uris": uris(web_redirect(), 1),
           "post_logout_redirect_uris": uris(web_redirect(), 0), "require_pkce": {"type": "boolean"},
           "require_pushed_authorization_requests": {"type": "boolean"}})
}

/// A client of the FAPI 2.0 profile: what the profile fills in may be
/// given, as the profile has it; its algorithms are never RS256.
fn fapi2(jwks: &Value) -> Value {
    let mut fapi2 = web_code(json!({"const": "private_key_jwt"}), code_grants(false));
    let algorithm = json!({"enum": ["PS256", "ES256", "EdDSA"]});
    let mut members = json!({"profile": {"const": "fapi2"}, "jwks": jwks, "require_pkce": {"const": true},
        "pkce_plain_allowed": {"const": false}, "require_pushed_authorization_requests": {"const": true},
        "dpop_bound_access_tokens": {"const": true}, "refresh_token_rotation": {"const": false}});
    for name in [
        "access_token_signed_response_alg",
        "id_token_signed_response_alg",
        "userinfo_signed_response_alg",
        "introspection_signed_response_alg",
        "token_endpoint_auth_signing_alg",
    ] {
        members[name] = algorithm.clone();
    }
    fapi2.as_object_mut().expect("an object").extend(members.as_object().expect("an object").clone());
    fapi2
}

/// The kinds of client, each fully described: what `POST /clients` and
/// `PUT /clients/{id}` take is any one of them.
fn client_kinds() -> Vec<Value> {
    let secret = json!({"enum": ["client_secret_basic", "client_secret_post"]});
    let jwks = json!({"type": "object", "required": ["keys"], "additionalProperties": false,
                      "properties": {"keys": {"type": "array", "minItems": 1, "maxItems": 2, "items": rsa_jwk()}},
                      "description": "public keys only; EC P-256 keys are accepted too"});
    vec![
        kind(
            "service",
            json!({"token_endpoint_auth_method": secret, "grant_types": {"const": ["client_credentials"]}}),
            &[],
        ),
        kind(
            "service signing its assertions (private_key_jwt)",
            json!({
            "token_endpoint_auth_method": {"const": "private_key_jwt"}, "grant_types": {"const": ["client_credentials"]},
            "jwks": jwks, "token_endpoint_auth_signing_alg": alg()}),
            &["token_endpoint_auth_method", "jwks"],
        ),
        kind(
            "service with a jwks_uri",
            json!({
            "token_endpoint_auth_method": {"const": "private_key_jwt"}, "grant_types": {"const": ["client_credentials"]},
            "jwks_uri": web_url(), "token_endpoint_auth_signing_alg": alg()}),
            &["token_endpoint_auth_method", "jwks_uri"],
        ),
        kind("web application", web_code(secret, code_grants(true)), &["grant_types", "redirect_uris"]),
        kind(
            "web application signing its assertions and requests (private_key_jwt, RFC 9101)",
            {
                let mut signing = web_code(json!({"const": "private_key_jwt"}), code_grants(true));
                let members = json!({"jwks": jwks.clone(), "token_endpoint_auth_signing_alg": alg(),
                    "require_signed_request_object": {"type": "boolean"}, "request_object_signing_alg": alg(),
                    "request_uris": uris(web_url(), 0)});
                signing
                    .as_object_mut()
                    .expect("an object")
                    .extend(members.as_object().expect("an object").clone());
                signing
            },
            &["token_endpoint_auth_method", "jwks", "grant_types", "redirect_uris"],
        ),
        kind(
            "FAPI 2.0 web application (profile fapi2)",
            fapi2(&jwks),
            &["profile", "jwks", "grant_types", "redirect_uris"],
        ),
        kind(
            "browser application (public, PKCE)",
            {
                let mut spa = web_code(json!({"const": "none"}), code_grants(false));
                spa["require_pkce"] = json!({"const": true});
                spa["refresh_token_rotation"] = json!({"const": true});
                spa
            },
            &["token_endpoint_auth_method", "grant_types", "redirect_uris"],
        ),
        kind(
            "service exchanging tokens (RFC 8693)",
            json!({"token_endpoint_auth_method": {"enum": ["client_secret_basic", "client_secret_post"]},
                   "grant_types": {"const": [TOKEN_EXCHANGE]},
                   "token_exchange": {"type": "object", "additionalProperties": false, "properties": {
                       "subject_clients": {"type": "array", "maxItems": 5, "items": text(64)},
                       "audiences": {"type": "array", "maxItems": 5,
                                     "items": {"type": "string", "pattern": format!("^https://{HOST}{PATH}$")}},
                       "id_token_subjects": {"type": "boolean"}, "impersonation": {"type": "boolean"},
                       "refresh_tokens": {"type": "boolean"}}}}),
            &["grant_types", "token_exchange"],
        ),
        kind(
            "device application (public, RFC 8628 device grant)",
            json!({"token_endpoint_auth_method": {"const": "none"},
                   "grant_types": {"enum": [[DEVICE_CODE], [DEVICE_CODE, "refresh_token"]]},
                   "refresh_token_rotation": {"const": true}}),
            &["token_endpoint_auth_method", "grant_types"],
        ),
        kind(
            "native application (public, PKCE)",
            json!({
            "token_endpoint_auth_method": {"const": "none"}, "grant_types": code_grants(false),
            "response_types": {"type": "array", "maxItems": 1, "items": {"const": "code"}},
            "application_type": {"const": "native"}, "redirect_uris": uris(native_redirect(), 1),
            "post_logout_redirect_uris": uris(native_redirect(), 0), "require_pkce": {"const": true},
            "refresh_token_rotation": {"const": true},
            "require_pushed_authorization_requests": {"type": "boolean"}}),
            &["token_endpoint_auth_method", "grant_types", "application_type", "redirect_uris"],
        ),
    ]
}

/// A whole client configuration, as `POST /clients` and `PUT /clients/{id}`
/// take it (RFC 7591 names): one of the kinds of client. The server checks
/// the same rules on any combination of members; what JSON Schema cannot
/// say is left out (`default_resource`, one of `resources`; EC keys in `jwks`).
pub fn client_metadata(with_version: bool) -> Value {
    let mut kinds = client_kinds();
    if with_version {
        for kind in &mut kinds {
            kind["properties"]["version"] = json!({"type": "integer", "minimum": 1, "maximum": MAX_NUMBER,
                                                    "description": "the version this replaces (or If-Match)"});
        }
    }
    json!({"anyOf": kinds})
}

/// An RFC 7396 merge patch of a client configuration. The merged
/// configuration must satisfy the rules of a whole one; the schema lists the
/// members that can be changed on their own (the others, such as
/// `grant_types` or `redirect_uris`, are accepted too when the result is valid).
pub fn client_patch() -> Value {
    let mut members = common_members();
    for (name, member) in members.iter_mut() {
        if name != "client_name" {
            *member = json!({"anyOf": [member.clone(), {"type": "null"}]});
        }
    }
    json!({"type": "object", "additionalProperties": false, "properties": members})
}

/// `{"version": n}`.
pub fn rollback() -> Value {
    json!({"type": "object", "required": ["version"], "additionalProperties": false,
           "properties": {"version": {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}}})
}

/// `{"expires_at": "…"}`, in the future.
pub fn new_secret() -> Value {
    json!({"type": "object", "additionalProperties": false,
           "properties": {"expires_at": {"type": "string", "format": "date-time",
               "pattern": "^2[1-9][0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
               "description": "in the future (the pattern says so narrowly: from 2100 on)"}}})
}

/// An initial access token request: what it is for, the registration
/// policy of the clients it admits, when it expires and how often it admits.
pub fn initial_access_token() -> Value {
    let mut expires_at = new_secret()["properties"]["expires_at"].clone();
    expires_at["description"] = "when it stops admitting; in the future".into();
    json!({"type": "object", "required": ["description"], "additionalProperties": false, "properties": {
        "description": text(200),
        "policy": registration_policy(),
        "expires_at": expires_at,
        "max_uses": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}})
}

/// What clients registering themselves (or a team's clients) may be.
fn registration_policy() -> Value {
    use portcullis_core::client::{MAX_ACCESS_TOKEN_LIFETIME, MAX_REFRESH_TOKEN_LIFETIME};
    use portcullis_core::client_fields::{AUTH_METHODS, GRANT_TYPES};
    json!({"type": "object", "additionalProperties": false, "properties": {
        "grant_types": policy_list(json!({"enum": GRANT_TYPES})),
        "token_endpoint_auth_methods": policy_list(json!({"enum": AUTH_METHODS})),
        "scopes": policy_list(scope_token()),
        "redirect_uri_patterns": policy_list(json!({"type": "string", "pattern": "^[\\x21-\\x7e]{1,500}$",
            "description": "`*` stands for any run of characters"})),
        "max_access_token_lifetime": seconds(MAX_ACCESS_TOKEN_LIFETIME),
        "max_refresh_token_lifetime": seconds(MAX_REFRESH_TOKEN_LIFETIME)}})
}

fn policy_list(items: Value) -> Value {
    use portcullis_core::registration::MAX_POLICY_ENTRIES;
    json!({"type": "array", "minItems": 1, "maxItems": MAX_POLICY_ENTRIES, "uniqueItems": true, "items": items})
}

fn scope_token() -> Value {
    json!({"type": "string", "pattern": "^[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,200}$"})
}

/// An initial access token of a team: its clients follow the team's policy.
pub fn team_initial_access_token() -> Value {
    let mut schema = initial_access_token();
    if let Some(properties) = schema["properties"].as_object_mut() {
        properties.remove("policy");
    }
    schema
}

/// A team's policy: what its clients may be, how many, second factors,
/// scopes needing approval, secret lifetimes.
pub fn team_policy() -> Value {
    use portcullis_core::registration::MAX_POLICY_ENTRIES;
    use portcullis_core::team::{MAX_CLIENTS, MAX_SECRET_DAYS, MAX_TOKEN_DAYS};
    json!({"type": "object", "additionalProperties": false, "properties": {
        "clients": registration_policy(),
        "max_clients": {"type": "integer", "minimum": 0, "maximum": MAX_CLIENTS},
        "second_factor_required": {"type": "boolean"},
        "approval_scopes": {"type": "array", "maxItems": MAX_POLICY_ENTRIES, "items": scope_token()},
        "max_secret_lifetime_days": {"type": "integer", "minimum": 1, "maximum": MAX_SECRET_DAYS},
        "max_token_lifetime_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS}}})
}

/// A new team: a name and, optionally, its policy.
pub fn new_team() -> Value {
    use portcullis_core::team::MAX_NAME_CHARS;
    json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
        "name": text(MAX_NAME_CHARS as u64), "policy": team_policy()}})
}

fn team_role() -> Value {
    json!({"enum": ["viewer", "developer", "owner"]})
}

/// An invitation: the role it gives, and how long it is accepted.
pub fn invitation() -> Value {
    let most = portcullis_app::teams::MAX_INVITATION_LIFETIME.as_secs();
    json!({"type": "object", "required": ["role"], "additionalProperties": false, "properties": {
        "role": team_role(), "expires_in": {"type": "integer", "minimum": 1, "maximum": most,
            "description": "seconds; a week when left out"}}})
}

/// A member's new role.
pub fn member_role() -> Value {
    json!({"type": "object", "required": ["role"], "additionalProperties": false, "properties": {"role": team_role()}})
}

/// What a team's owners set of its policy, each only tighter.
pub fn team_settings() -> Value {
    use portcullis_core::team::MAX_TOKEN_DAYS;
    json!({"type": "object", "additionalProperties": false, "properties": {
        "second_factor_required": {"const": true, "description": "only an admin waives it"},
        "max_secret_lifetime_days": {"type": "integer", "minimum": 1, "maximum": 3650, "description": "only shorter than the policy's"},
        "max_token_lifetime_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS, "description": "only shorter than the policy's"}}})
}

/// The clients whose secrets to regenerate together.
pub fn regeneration() -> Value {
    json!({"type": "object", "required": ["client_ids"], "additionalProperties": false, "properties": {
        "client_ids": {"type": "array", "minItems": 1, "maxItems": portcullis_app::client_secrets::MAX_REGENERATED,
                       "uniqueItems": true, "items": text(200)}}})
}

/// A personal access token to make: its name, scope and lifetime.
pub fn personal_token() -> Value {
    use portcullis_core::team::MAX_TOKEN_DAYS;
    json!({"type": "object", "required": ["name", "scope", "expires_in_days"], "additionalProperties": false, "properties": {
        "name": text(100),
        "scope": {"type": "string", "pattern": "^[\\x21\\x23-\\x5b\\x5d-\\x7e]+( [\\x21\\x23-\\x5b\\x5d-\\x7e]+)*$",
                  "description": "portal:read, portal:apps, portal:members (as the role allows) and API scopes of the team's policy"},
        "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS}}})
}

/// An admin's decision on a scope request: why, optionally.
pub fn decision() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"reason": text(500)}})
}

/// Text without control characters.
const VISIBLE: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
/// A custom user attribute's name.
const ATTRIBUTE_NAME: &str = "^[a-z][a-z0-9_]{0,63}$";

/// A custom user attribute's definition: a name that is no claim the
/// server asserts, a type, a description.
pub fn user_attribute() -> Value {
    use portcullis_core::user_attributes::{reserved_claims, AttributeType, MAX_DESCRIPTION};
    let reserved: Vec<&str> = reserved_claims().collect();
    let types: Vec<&str> = AttributeType::ALL.iter().map(|kind| kind.as_str()).collect();
    json!({"type": "object", "required": ["name", "type"], "additionalProperties": false, "properties": {
        "name": {"type": "string", "pattern": ATTRIBUTE_NAME, "not": {"enum": reserved},
                 "description": "a claim name the protocol and OpenID Connect leave free"},
        "type": {"enum": types},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION, "pattern": VISIBLE}}})
}

/// `{"attributes": {name: value}}`: a user's custom attribute values.
pub fn user_attribute_values() -> Value {
    // Narrower than the server (texts of 1,000 characters, lists of 100,
    // 64 KiB of values): what this document calls valid always fits.
    let text = json!({"type": "string", "maxLength": 200, "pattern": VISIBLE});
    json!({"type": "object", "required": ["attributes"], "additionalProperties": false, "properties": {
        "attributes": {"type": "object", "maxProperties": 10, "propertyNames": {"pattern": ATTRIBUTE_NAME},
            "additionalProperties": {"anyOf": [
            text.clone(), {"type": "number"}, {"type": "boolean"},
            {"type": "array", "maxItems": 5, "items": text}]},
            "description": "every value by its attribute's name; each must be defined"}}})
}

/// `{"alg": "RS256" | "ES256" | "PS256" | "EdDSA"}`.
pub fn key_algorithm() -> Value {
    json!({"type": "object", "required": ["alg"], "additionalProperties": false, "properties": {"alg": alg()}})
}

/// A password: 8 characters or more (at most 1024 bytes).
fn password() -> Value {
    json!({"type": "string", "minLength": 8, "maxLength": 256})
}

/// The OpenID Connect standard claims (Core §5.1) a user may carry.
fn claims() -> Value {
    let mut properties = serde_json::Map::new();
    for name in [
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "gender",
        "zoneinfo",
        "locale",
        "phone_number",
    ] {
        properties.insert(name.to_owned(), json!({"type": "string", "maxLength": 200}));
    }
    for name in ["profile", "picture", "website"] {
        properties.insert(name.to_owned(), web_url());
    }
    properties.insert(
        "email".into(),
        json!({"type": "string", "pattern": r"^[a-z0-9._-]{1,30}@[a-z0-9.-]{1,30}$"}),
    );
    properties
        .insert("birthdate".into(), json!({"type": "string", "pattern": r"^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$"}));
    for name in ["email_verified", "phone_number_verified"] {
        properties.insert(name.to_owned(), json!({"type": "boolean"}));
    }
    let line = json!({"type": "string", "maxLength": 200});
    properties.insert(
        "address".into(),
        json!({"type": "object", "additionalProperties": false, "properties": {
        "formatted": line, "street_address": line, "locality": line, "region": line,
        "postal_code": line, "country": line}}),
    );
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}

/// `{"username", "password"?, "claims"?}`.
pub fn new_user() -> Value {
    json!({"type": "object", "required": ["username"], "additionalProperties": false, "properties": {
        "username": text(254), "password": password(), "claims": claims()}})
}

/// `{"claims"}`.
pub fn user_claims() -> Value {
    json!({"type": "object", "required": ["claims"], "additionalProperties": false, "properties": {"claims": claims()}})
}

/// `{"password"}`.
pub fn user_password() -> Value {
    json!({"type": "object", "required": ["password"], "additionalProperties": false, "properties": {"password": password()}})
}

/// A webhook's members; `required` names those a registration must send.
pub fn webhook(required: &[&str]) -> Value {
    webhook_of(required, false)
}

/// A webhook endpoint of a team (`team`: only the events a team receives)
/// or the admins', with the members `required`.
fn webhook_of(required: &[&str], team: bool) -> Value {
    let mut events: Vec<String> =
        portcullis_app::event::CATALOGUE.iter().map(|(name, _, _)| (*name).to_owned()).collect();
    let prefixes: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|name| name.split_once('.'))
        .map(|(prefix, _)| format!("{prefix}.*"))
        .collect();
    events.extend(prefixes);
    events.push(portcullis_app::webhooks::TEST_EVENT.to_owned());
    if team {
        events.retain(|name| portcullis_app::audit::team_reads_action(name));
    }
    events.push("*".to_owned());
    json!({"type": "object", "additionalProperties": false, "required": required,
           "properties": {
               "url": web_url(),
               "description": text(200),
               "events": {"type": "array", "maxItems": 50, "items": {"enum": events},
                          "description": "event names and prefixes; empty or absent: every event"},
               "enabled": {"type": "boolean"}}})
}

/// A webhook registration: its URL at least.
pub fn new_webhook() -> Value {
    webhook(&["url"])
}

/// A webhook change: any of its members.
pub fn webhook_change() -> Value {
    webhook(&[])
}

/// A team's webhook endpoint to register: its `url`, and events among those a team receives.
pub fn new_team_webhook() -> Value {
    webhook_of(&["url"], true)
}

/// A change of a team's webhook endpoint: any of its members.
pub fn team_webhook_change() -> Value {
    webhook_of(&[], true)
}

/// `schema` (a client configuration's, or of its kinds) without the
/// members only admins set: what a team's member sends. A rate limit an
/// admin set is sent back as it is (a replacement without it would lift it).
fn without_admin_only(mut schema: Value) -> Value {
    let objects = match schema.get_mut("anyOf").and_then(Value::as_array_mut) {
        Some(kinds) => kinds.iter_mut().collect(),
        None => vec![&mut schema],
    };
    for object in objects {
        if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
            properties.retain(|name, _| {
                name == "token_rate_limit"
                    || !portcullis_core::registration::ADMIN_ONLY.contains(&name.as_str())
            });
        }
    }
    schema
}

/// A client configuration as a team's member sends it ([`client_metadata`]
/// without what only admins set).
pub fn member_client_metadata(with_version: bool) -> Value {
    without_admin_only(client_metadata(with_version))
}

/// A merge patch of a client as a team's member sends it.
pub fn member_client_patch() -> Value {
    without_admin_only(client_patch())
}

/// An alert rule: its `kind` and that kind's parameters.
pub fn alert_rule() -> Value {
    let common = json!({"description": text(200), "enabled": {"type": "boolean"}, "client_id": text(200)});
    let kind = |name: &str, required: &[&str], extra: Value| {
        let mut properties = common.as_object().cloned().unwrap_or_default();
        properties.insert("kind".into(), json!({"const": name}));
        properties.extend(extra.as_object().cloned().unwrap_or_default());
        let mut needed = vec!["kind"];
        needed.extend(required);
        json!({"type": "object", "additionalProperties": false, "required": needed, "properties": properties})
    };
    json!({"anyOf": [
        kind("error_rate", &[], json!({
            "threshold_percent": {"type": "number", "minimum": 0, "maximum": 100, "default": 5},
            "window_minutes": {"type": "integer", "minimum": 1, "maximum": 1440, "default": 5},
            "min_requests": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000_u64, "default": 20}})),
        kind("auth_failures", &["per_minute"], json!({"per_minute": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000_u64}})),
        json!({"type": "object", "additionalProperties": false, "required": ["kind", "per_minute"], "properties": {
            "kind": {"const": "login_failures"}, "description": text(200), "enabled": {"type": "boolean"},
            "per_minute": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000_u64}}}),
        kind("outside_cidrs", &[], json!({"action": {"enum": ["disable", "revoke_tokens"]}})),
        kind("outside_countries", &[], json!({"action": {"enum": ["disable", "revoke_tokens"]}})),
        kind("consecutive_failures", &[], json!({
            "threshold": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 10},
            "action": {"enum": ["lock", "disable"], "default": "lock"}})),
        kind("malformed_requests", &[], json!({"seconds": {"type": "integer", "minimum": 1, "maximum": 86_400, "default": 60}})),
        // Only signals a stranger cannot produce may act.
        kind("anomaly", &["signal"], anomaly(&["requests", "error_rate", "failed_authentications", "impossible_travel"], (180, false))),
        kind("anomaly", &["signal"], anomaly(&["tokens_issued", "new_network", "new_country"], (180, true))),
        // Distinct networks do not add up over hours: a window of an hour at most.
        kind("anomaly", &["signal"], anomaly(&["networks"], (60, true))),
    ]})
}

/// The parameters of an `anomaly` rule over `signals`, with windows up to
/// `longest` minutes, and an `action` when it `acts`.
fn anomaly(signals: &[&str], (longest, acts): (u32, bool)) -> Value {
    let mut parameters = json!({
        "signal": {"enum": signals},
        "factor": {"type": "number", "minimum": 1, "maximum": 1000, "default": 4},
        "min_volume": {"type": "number", "minimum": 1, "maximum": 1_000_000_000_u64},
        "window_minutes": {"type": "integer", "minimum": 5, "maximum": longest, "default": 60}});
    if acts {
        parameters["action"] = json!({"enum": ["disable", "revoke_tokens"]});
    }
    parameters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_of_the_table_is_in_some_kind_of_client() {
        let kinds = client_kinds();
        for field in CLIENT_FIELDS.iter().filter(|f| f.name != "default_resource") {
            assert!(
                kinds.iter().any(|kind| kind["properties"].get(field.name).is_some()),
                "{} is in no kind of client",
                field.name
            );
        }
    }
}
