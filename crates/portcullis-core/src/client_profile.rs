//! Client profiles: a named set of rules a client opts into, which its
//! configuration must then keep. The one profile is the FAPI 2.0 Security
//! Profile (Final), `fapi2`: what it needs of a configuration is filled in
//! where the configuration says nothing, and refused, with the section
//! that asks for it, where it says otherwise. What it needs of requests
//! (the client assertion's `aud`, a `redirect_uri` in every request,
//! request objects with `exp` and `nbf`) the protocol layer checks through
//! [`ClientMetadata::is_fapi2`](crate::ClientMetadata::is_fapi2).

use crate::client::{ClientMetadata, MetadataError, TokenEndpointAuthMethod};
use crate::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A profile a client follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientProfile {
    /// The FAPI 2.0 Security Profile (Final), with DPoP and `private_key_jwt`.
    #[serde(rename = "fapi2")]
    Fapi2,
}

/// The names of the profiles, for forms and schemas.
pub const PROFILES: &[&str] = &["fapi2"];

/// What `fapi2` means for each member a configuration leaves out.
fn fapi2_defaults() -> [(&'static str, Value); 8] {
    [
        ("token_endpoint_auth_method", json!("private_key_jwt")),
        ("require_pushed_authorization_requests", json!(true)),
        ("dpop_bound_access_tokens", json!(true)),
        ("access_token_signed_response_alg", json!("PS256")),
        ("id_token_signed_response_alg", json!("PS256")),
        ("introspection_signed_response_alg", json!("PS256")),
        ("refresh_token_rotation", json!(false)),
        ("require_pkce", json!(true)),
    ]
}

/// Fills in, for a configuration `object` that names the `fapi2` profile,
/// what the profile needs of each member the configuration leaves out.
pub fn fill_defaults(object: &mut Map<String, Value>) {
    if object.get("profile").and_then(Value::as_str) == Some("fapi2") {
        for (name, value) in fapi2_defaults() {
            object.entry(name).or_insert(value);
        }
    }
}

/// Brings a configuration `object` that has just chosen the `fapi2`
/// profile (a form's choice, its other members as they were) to the
/// profile: each member that contradicts it takes the profile's value (RS256
/// becomes PS256; the device grant is dropped), and what it leaves out is
/// filled in. What already agrees (an ES256 choice, say) is kept. A
/// configuration that followed the profile before is not adopted again: a
/// change against it is refused by [`check`] instead.
pub fn adopt(object: &mut Map<String, Value>) {
    if object.get("profile").and_then(Value::as_str) != Some("fapi2") {
        return;
    }
    for (name, value) in fapi2_defaults() {
        let agrees = match object.get(name) {
            None => false,
            Some(Value::String(alg)) if name.ends_with("_alg") => alg != "RS256",
            Some(current) => *current == value,
        };
        if !agrees {
            object.insert(name.to_owned(), value);
        }
    }
    object.insert("pkce_plain_allowed".to_owned(), json!(false));
    for name in
        ["userinfo_signed_response_alg", "token_endpoint_auth_signing_alg", "request_object_signing_alg"]
    {
        if object.get(name).and_then(Value::as_str) == Some("RS256") {
            object.insert(name.to_owned(), json!("PS256"));
        }
    }
    if let Some(Value::Array(grants)) = object.get_mut("grant_types") {
        grants.retain(|grant| grant != crate::GrantType::DeviceCode.as_str());
    }
}

fn refused(field: &'static str, message: &str) -> Result<(), MetadataError> {
    Err(MetadataError::new(field, format!("{message} (profile fapi2)")))
}

/// The rules of the profile `metadata` follows, if any.
pub fn check(metadata: &ClientMetadata) -> Result<(), MetadataError> {
    if metadata.profile != Some(ClientProfile::Fapi2) {
        return Ok(());
    }
    // FAPI 2.0 §5.3.2.1 items 3 and 6: confidential clients, authenticated by private_key_jwt.
    if metadata.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt {
        return refused("token_endpoint_auth_method", "must be private_key_jwt (FAPI 2.0 §5.3.2.1)");
    }
    // §5.3.2.2 item 3: every authorization request is pushed.
    if !metadata.require_pushed_authorization_requests {
        return refused("require_pushed_authorization_requests", "must be true (FAPI 2.0 §5.3.2.2)");
    }
    // §5.3.2.1 items 4 and 5: sender-constrained access tokens only, here by DPoP.
    if !metadata.dpop_bound_access_tokens {
        return refused("dpop_bound_access_tokens", "must be true (FAPI 2.0 §5.3.2.1)");
    }
    // §5.3.2.2 item 5: PKCE with S256.
    if !metadata.require_pkce || metadata.pkce_plain_allowed {
        return refused("require_pkce", "PKCE with S256 only (FAPI 2.0 §5.3.2.2)");
    }
    // §5.3.2.1 item 9: no refresh-token rotation.
    if metadata.refresh_token_rotation {
        return refused("refresh_token_rotation", "must be false (FAPI 2.0 §5.3.2.1)");
    }
    // §5.3.2.2 items 3 and 5: every authorization is pushed, with PKCE; the device grant is neither.
    if metadata.allows_grant(crate::GrantType::DeviceCode) {
        return refused("grant_types", "the device grant skips pushed requests and PKCE (FAPI 2.0 §5.3.2.2)");
    }
    // §5.4.1: PS256, ES256 or EdDSA only.
    let algorithms = [
        ("access_token_signed_response_alg", Some(metadata.access_token_signed_response_alg)),
        ("id_token_signed_response_alg", Some(metadata.id_token_signed_response_alg)),
        ("userinfo_signed_response_alg", metadata.userinfo_signed_response_alg),
        ("introspection_signed_response_alg", metadata.introspection_signed_response_alg),
        ("token_endpoint_auth_signing_alg", metadata.token_endpoint_auth_signing_alg),
        ("request_object_signing_alg", metadata.request_object_signing_alg),
    ];
    if let Some((field, _)) = algorithms.iter().find(|(_, alg)| *alg == Some(SigningAlgorithm::Rs256)) {
        return refused(field, "PS256, ES256 or EdDSA, not RS256 (FAPI 2.0 §5.4.1)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fapi2(extra: Value) -> Result<ClientMetadata, MetadataError> {
        let mut object = json!({
            "client_name": "bank", "profile": "fapi2", "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["https://app.example/cb"],
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
        });
        for (name, value) in extra.as_object().unwrap() {
            object[name] = value.clone();
        }
        ClientMetadata::parse(object.as_object().unwrap().clone())
    }

    #[test]
    fn the_profile_fills_in_what_a_configuration_leaves_out() {
        let metadata = fapi2(json!({})).unwrap();
        assert!(metadata.is_fapi2());
        assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::PrivateKeyJwt);
        assert!(metadata.require_pushed_authorization_requests && metadata.dpop_bound_access_tokens);
        assert!(!metadata.refresh_token_rotation && metadata.require_pkce);
        assert_eq!(metadata.access_token_signed_response_alg, SigningAlgorithm::Ps256);
        assert_eq!(metadata.id_token_signed_response_alg, SigningAlgorithm::Ps256);
        assert_eq!(metadata.introspection_signed_response_alg, Some(SigningAlgorithm::Ps256));
        let eddsa = fapi2(json!({"id_token_signed_response_alg": "EdDSA"})).unwrap();
        assert_eq!(eddsa.id_token_signed_response_alg, SigningAlgorithm::EdDsa);
    }

    #[test]
    fn what_contradicts_the_profile_is_refused_by_name() {
        for (member, value) in [
            ("token_endpoint_auth_method", json!("client_secret_basic")),
            ("require_pushed_authorization_requests", json!(false)),
            ("dpop_bound_access_tokens", json!(false)),
            ("require_pkce", json!(false)),
            ("pkce_plain_allowed", json!(true)),
            ("refresh_token_rotation", json!(true)),
            ("id_token_signed_response_alg", json!("RS256")),
            ("access_token_signed_response_alg", json!("RS256")),
            ("userinfo_signed_response_alg", json!("RS256")),
            ("token_endpoint_auth_signing_alg", json!("RS256")),
            ("grant_types", json!(["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])),
        ] {
            let refused = fapi2(json!({member: value})).unwrap_err();
            let expected = if member == "pkce_plain_allowed" { "require_pkce" } else { member };
            assert_eq!(refused.field, expected, "{member}: {refused}");
            assert!(refused.message.contains("profile fapi2"), "{refused}");
        }
        assert!(fapi2(json!({"profile": "fapi1"})).is_err(), "an unknown profile");
    }

    #[test]
    fn a_configuration_choosing_the_profile_is_brought_to_it_keeping_what_agrees() {
        let mut object = json!({
            "client_name": "bank", "profile": "fapi2", "grant_types": ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
            "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "client_secret_basic",
            "require_pushed_authorization_requests": false, "dpop_bound_access_tokens": false, "refresh_token_rotation": true,
            "require_pkce": true, "pkce_plain_allowed": true, "access_token_signed_response_alg": "ES256",
            "id_token_signed_response_alg": "RS256", "userinfo_signed_response_alg": "RS256",
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
        })
        .as_object()
        .unwrap()
        .clone();
        assert!(
            ClientMetadata::parse(object.clone()).is_err(),
            "as the form left it, it contradicts the profile"
        );
        adopt(&mut object);
        let metadata = ClientMetadata::parse(object).unwrap();
        assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::PrivateKeyJwt);
        assert!(metadata.require_pushed_authorization_requests && metadata.dpop_bound_access_tokens);
        assert!(!metadata.refresh_token_rotation && !metadata.pkce_plain_allowed);
        assert_eq!(metadata.access_token_signed_response_alg, SigningAlgorithm::Es256, "ES256 agrees: kept");
        assert_eq!(metadata.id_token_signed_response_alg, SigningAlgorithm::Ps256);
        assert_eq!(metadata.userinfo_signed_response_alg, Some(SigningAlgorithm::Ps256));
        assert!(!metadata.allows_grant(crate::GrantType::DeviceCode));
        // Without the profile, nothing changes.
        let mut plain =
            json!({"client_name": "svc", "refresh_token_rotation": true}).as_object().unwrap().clone();
        let before = plain.clone();
        adopt(&mut plain);
        assert_eq!(plain, before);
    }

    #[test]
    fn without_a_profile_nothing_is_filled_in() {
        let mut object = Map::new();
        object.insert("client_name".into(), json!("svc"));
        fill_defaults(&mut object);
        assert_eq!(object.len(), 1);
        let metadata = ClientMetadata::parse(object).unwrap();
        assert!(metadata.refresh_token_rotation && !metadata.is_fapi2());
    }
}
