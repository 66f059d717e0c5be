//! Discovery: OpenID Connect Discovery 1.0 and RFC 8414 metadata.

use crate::helpers::{new_kek, settings, spawn_app, spawn_with, ISSUER};
use portcullis_core::Issuer;
use portcullis_server::endpoints;
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
        assert_eq!(document["subject_types_supported"], serde_json::json!(["public"]));
        assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256"]));
        assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(document["authorization_response_iss_parameter_supported"], true);
        // Discovery §3 defaults request_uri_parameter_supported to true: it must be said.
        assert_eq!(document["request_uri_parameter_supported"], false);
        assert_eq!(document["request_parameter_supported"], false);
        assert_eq!(document["claims_parameter_supported"], false);
        assert_eq!(document["response_modes_supported"], serde_json::json!(["query"]));
        assert_eq!(document["grant_types_supported"], serde_json::json!(["authorization_code", "client_credentials", "refresh_token"]));
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
    async fn every_advertised_endpoint_is_served(db) {
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let urls: Vec<&str> = document
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.ends_with("_endpoint") || name.ends_with("_uri"))
            .filter_map(|(_, value)| value.as_str())
            .collect();
        assert!(!urls.is_empty());
        for url in urls {
            let path = url.strip_prefix(ISSUER).unwrap_or_else(|| panic!("{url} is not under the issuer"));
            assert_ne!(app.get(path).await.status(), 404, "{url} is advertised but not served");
        }
    }
}
