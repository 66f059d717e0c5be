//! Discovery: OpenID Connect Discovery 1.0 and RFC 8414 metadata.

use crate::helpers::{new_kek, settings, spawn_app, spawn_with, ISSUER};
use portcullis_core::Issuer;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;

backend_tests! {
    #[tokio::test]
    async fn both_documents_carry_the_issuer_byte_for_byte(db) {
        let app = spawn_app(&db);
        for path in [endpoints::OPENID_CONFIGURATION, endpoints::OAUTH_AUTHORIZATION_SERVER] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/json");
            assert!(response.headers()["cache-control"].to_str().unwrap().contains("max-age="));
            let document: serde_json::Value = response.json().await.unwrap();
            assert_eq!(document["issuer"].as_str(), Some(ISSUER), "{path}");
            assert_eq!(document["jwks_uri"], format!("{ISSUER}/jwks"));
        }
    }

    #[tokio::test]
    async fn a_trailing_slash_in_the_issuer_is_kept_and_not_doubled(db) {
        let mut settings = settings(&db, &new_kek());
        settings.issuer = Issuer::parse("https://issuer.test/").unwrap();
        let app = spawn_with(settings);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        assert_eq!(document["issuer"], "https://issuer.test/");
        assert_eq!(document["jwks_uri"], "https://issuer.test/jwks");
    }

    #[tokio::test]
    async fn metadata_states_what_the_server_supports(db) {
        let document = spawn_app(&db).get_json(endpoints::OPENID_CONFIGURATION).await;
        assert_eq!(document["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(document["subject_types_supported"], serde_json::json!(["public", "pairwise"]));
        assert_eq!(document["userinfo_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(document["authorization_response_iss_parameter_supported"], true);
        assert_eq!(document["request_uri_parameter_supported"], true);
        assert_eq!(document["request_parameter_supported"], true);
        assert_eq!(document["require_request_uri_registration"], true);
        assert_eq!(document["request_object_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["require_pushed_authorization_requests"], false);
        assert_eq!(document["claims_parameter_supported"], true);
        assert_eq!(document["response_modes_supported"], serde_json::json!(["query"]));
        assert_eq!(document["grant_types_supported"], serde_json::json!(["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"]));
        assert_eq!(document["scopes_supported"], serde_json::json!(["openid", "profile", "email", "address", "phone"]));
        let claims: Vec<&str> = document["claims_supported"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        for claim in ["sub", "auth_time", "nonce", "name", "email_verified", "address", "phone_number", "updated_at"] {
            assert!(claims.contains(&claim), "{claim}");
        }
        for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint"] {
            assert!(document[endpoint].is_string(), "{endpoint}");
        }
    }

    #[tokio::test]
    async fn every_advertised_grant_type_and_signing_algorithm_is_served(db) {
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let listed = |name: &str| -> Vec<String> {
            document[name].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        let grants = listed("grant_types_supported");
        let policy = serde_json::json!({"subject_clients": [], "audiences": []});
        let (id, secret) = crate::token::register(&db, serde_json::json!({"client_name": "every grant", "grant_types": grants,
            "redirect_uris": ["https://app.example/cb"], "scope": "openid", "token_exchange": policy}));
        // Each grant type is served: a request missing its parameters is the grant's own
        // invalid_request (or, for client credentials, a token), never unsupported_grant_type.
        for grant in &grants {
            let url = format!("{}{}", app.address, endpoints::TOKEN);
            let response = app.client.post(url).basic_auth(&id, Some(&secret)).form(&[("grant_type", grant)]).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            let served = status == 200 || body["error"] == "invalid_request";
            assert!(served, "{grant}: {status} {body}");
        }
        // Each signing algorithm advertised has an active key in the JWKS.
        let jwks = app.get_json(endpoints::JWKS).await;
        let published: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
        for list in ["id_token_signing_alg_values_supported", "userinfo_signing_alg_values_supported", "introspection_signing_alg_values_supported"] {
            for alg in listed(list) {
                assert!(published.contains(&alg.as_str()), "{list}: {alg} has no published key");
            }
        }
    }

    #[tokio::test]
    async fn every_advertised_endpoint_answers_as_its_protocol_says(db) {
        use std::collections::{BTreeMap, BTreeSet};
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let advertised: BTreeMap<&str, &str> = document
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.ends_with("_endpoint") || name.ends_with("_uri"))
            .map(|(name, value)| {
                let url = value.as_str().unwrap_or_else(|| panic!("{name} is not a string"));
                let path = url.strip_prefix(ISSUER).unwrap_or_else(|| panic!("{url} is not under the issuer"));
                (name.as_str(), path)
            })
            .collect();
        assert_eq!(
            advertised,
            BTreeMap::from([
                ("authorization_endpoint", endpoints::AUTHORIZE),
                ("device_authorization_endpoint", endpoints::DEVICE_AUTHORIZATION),
                ("end_session_endpoint", endpoints::END_SESSION),
                ("introspection_endpoint", endpoints::INTROSPECT),
                ("jwks_uri", endpoints::JWKS),
                ("pushed_authorization_request_endpoint", endpoints::PUSHED_AUTHORIZATION_REQUEST),
                ("revocation_endpoint", endpoints::REVOKE),
                ("token_endpoint", endpoints::TOKEN),
                ("userinfo_endpoint", endpoints::USERINFO),
            ]),
            "a newly advertised endpoint needs its check below"
        );

        // Without a client_id nothing can be sent back: a page (RFC 6749 §4.1.2.1).
        let response = app.get(endpoints::AUTHORIZE).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        let page = response.text().await.unwrap();
        assert!(page.contains("The request has no client_id."), "{page}");

        let response = app.get(endpoints::JWKS).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let jwks: serde_json::Value = response.json().await.unwrap();
        let algs: BTreeSet<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
        assert_eq!(algs, BTreeSet::from(["ES256", "EdDSA", "PS256", "RS256"]));

        // UserInfo without a token: the bare challenges (RFC 6750 §3.1, RFC 9449 §7.2).
        let response = app.get(endpoints::USERINFO).await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="portcullis", DPoP realm="portcullis", algs="RS256 ES256 PS256 EdDSA""#);
        assert_eq!(response.headers()["cache-control"], "no-store");

        // Logout without a hint asks the user (RP-Initiated Logout §2).
        let response = app.get(endpoints::END_SESSION).await;
        assert_eq!(response.status(), 200);
        let page = response.text().await.unwrap();
        assert!(page.contains(r#"name="confirm" value="yes""#) && page.contains("Do you want to sign out?"), "{page}");

        // Token, pushed requests, device authorization, introspection and revocation:
        // POST only; naming no client is invalid_client.
        for path in [endpoints::TOKEN, endpoints::PUSHED_AUTHORIZATION_REQUEST, endpoints::DEVICE_AUTHORIZATION,
                     endpoints::INTROSPECT, endpoints::REVOKE] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 405, "GET {path}");
            assert_eq!(response.headers()["allow"], "POST", "GET {path}");
            let response = app.post_form(path, "").send().await.unwrap();
            assert_eq!(response.status(), 401, "POST {path}");
            assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="portcullis""#, "POST {path}");
            assert_eq!(response.headers()["cache-control"], "no-store", "POST {path}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client", "POST {path}");
        }
    }
}
