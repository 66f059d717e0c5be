//! The client builder's words in German: each field's label and help, and
//! the groups' headings, keyed by the member's name in the shared field
//! table ([`portcullis_core::client_fields::CLIENT_FIELDS`]), whose words
//! are English. A test checks that every field has its German words.

/// The headings of [`portcullis_core::client_fields::Group::SHOWN`], in its order.
pub const GROUPS: [&str; 5] = ["Identität", "Anmeldung", "Grants und Authentifizierung", "Token", "Netzwerk"];

/// Each field's German label and help (empty where the English has none), by name.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("client_name", "Name", "Wird Nutzerinnen und Nutzern bei der Anmeldung gezeigt."),
    (
        "application_type",
        "Anwendungstyp",
        "Native Apps dürfen auf localhost und eigene URI-Schemes weiterleiten.",
    ),
    ("logo_uri", "Logo-URL", "https; wird auf den Anmeldeseiten gezeigt."),
    ("client_uri", "Startseite", ""),
    ("policy_uri", "Datenschutzerklärung", ""),
    ("tos_uri", "Nutzungsbedingungen", ""),
    ("contacts", "Kontakte", "Eine E-Mail-Adresse pro Zeile."),
    (
        "redirect_uris",
        "Redirect-URIs",
        "Eine pro Zeile: exakte https-URLs (localhost und eigene URI-Schemes für native Apps).",
    ),
    ("post_logout_redirect_uris", "Post-Logout-Redirect-URIs", "Eine pro Zeile."),
    ("require_pkce", "PKCE verlangen", "Für Public Clients immer aktiv (RFC 9700 §2.1.1)."),
    ("pkce_plain_allowed", "PKCE-Methode plain erlauben", "Wenn deaktiviert, nur S256."),
    ("skip_consent", "First-Party: Zustimmung überspringen", ""),
    (
        "subject_type",
        "Subject-Typ",
        "public: derselbe sub für alle Clients; pairwise: ein eigener pro Sektor (OpenID Connect Core §8.1).",
    ),
    (
        "sector_identifier_uri",
        "Sector-Identifier-URL",
        "Für pairwise: eine https-URL mit einem JSON-Array der Redirect-URIs; ihr Host ist der Sektor.",
    ),
    ("grant_types", "Grant-Typen", ""),
    (
        "token_endpoint_auth_method",
        "Authentifizierungsmethode",
        "Mit none wird der Client ein Public Client.",
    ),
    ("token_endpoint_auth_signing_alg", "Assertion-Algorithmus", "Für private_key_jwt; wenn leer, jeder."),
    ("jwks_uri", "JWKS-URL", "Wo der Client seine Schlüssel veröffentlicht, für private_key_jwt."),
    ("jwks", "JWKS", "Die öffentlichen Schlüssel des Clients als JWK Set, statt einer URL."),
    ("scope", "Scopes", "Durch Leerzeichen getrennt; zugleich der Standard, wenn der Client keine anfragt."),
    (
        "require_pushed_authorization_requests",
        "Pushed Requests verlangen (PAR)",
        "Autorisierungsanfragen müssen zuerst an den PAR-Endpunkt übermittelt werden (RFC 9126).",
    ),
    (
        "require_signed_request_object",
        "Signierte Request Objects verlangen",
        "Autorisierungsanfragen müssen als JWTs kommen, signiert mit den Schlüsseln des Clients (RFC 9101).",
    ),
    ("request_object_signing_alg", "Request-Object-Algorithmus", "Wenn leer, jeder unterstützte."),
    (
        "request_uris",
        "Request-Object-URLs",
        "https-URLs (http auf Loopback), die der Client als request_uri übergeben darf, eine pro Zeile; werden bei Verwendung abgerufen.",
    ),
    ("introspection_allowed", "Darf Introspection aufrufen", ""),
    (
        "introspection_signed_response_alg",
        "Introspection-JWT-Algorithmus",
        "Signiert Introspection-Antworten, die als JWT angefragt werden (RFC 9701); wenn leer, RS256.",
    ),
    ("access_token_signed_response_alg", "Access-Token-Algorithmus", ""),
    ("id_token_signed_response_alg", "ID-Token-Algorithmus", ""),
    (
        "profile",
        "Profil",
        "fapi2: das FAPI 2.0 Security Profile (private_key_jwt, PAR, PKCE S256, DPoP, PS256/ES256/EdDSA, Refresh Token ohne Rotation).",
    ),
    (
        "dpop_bound_access_tokens",
        "DPoP verlangen",
        "Access Token nur an den DPoP-Schlüssel des Clients gebunden (RFC 9449); eine Token-Anfrage ohne Proof wird abgelehnt.",
    ),
    ("access_token_lifetime", "Access-Token-Lebensdauer (s)", "Wenn leer, gilt der Server-Standard."),
    (
        "refresh_token_idle_lifetime",
        "Refresh-Token-Lebensdauer bei Inaktivität (s)",
        "Wenn leer, gilt der Server-Standard.",
    ),
    (
        "refresh_token_absolute_lifetime",
        "Absolute Refresh-Token-Lebensdauer (s)",
        "Wenn leer, gilt der Server-Standard.",
    ),
    (
        "refresh_token_rotation",
        "Refresh Token rotieren",
        "Jede Verwendung liefert ein neues Refresh Token (RFC 9700 §4.14.2); deaktiviert bleibt das Token dasselbe (FAPI 2.0).",
    ),
    (
        "refresh_token_reuse_interval",
        "Refresh-Wiederverwendungsintervall (s)",
        "Bei aktiver Rotation darf ein rotiertes Token so lange erneut vorgelegt werden (0–60).",
    ),
    (
        "resources",
        "Ressourcen",
        "Resource Indicators nach RFC 8707, die der Client anfragen darf, einer pro Zeile.",
    ),
    (
        "default_resource",
        "Standard-Ressource",
        "Die Audience, wenn keine angefragt wird; wenn leer, der Issuer.",
    ),
    (
        "token_exchange",
        "Token-Exchange-Richtlinie",
        r#"Für den Token-Exchange-Grant (RFC 8693), als JSON: {"subject_clients": ["web"], "audiences": ["https://api.example/orders"], "id_token_subjects": false, "impersonation": false, "refresh_tokens": false}; nur für Admins."#,
    ),
    (
        "claim_mappings",
        "Claim-Mappings",
        r#"Eine JSON-Liste, z. B. [{"claim": "department", "from": {"attribute": "department"}, "tokens": ["id_token", "userinfo"], "scope": "hr"}]; aus einem Attribut, einem Standard-Claim ("standard": "email") oder einer Konstante ("value"); tokens: id_token, access_token, userinfo, introspection."#,
    ),
    ("allowed_cidrs", "Erlaubte Netzwerke", "CIDR-Bereiche, einer pro Zeile; wenn leer, jede Adresse."),
    (
        "allowed_origins",
        "Erlaubte Web-Origins (CORS)",
        "Origins wie https://app.example, einer pro Zeile; wenn leer, die Origins der Redirect-URIs.",
    ),
    ("allowed_countries", "Erlaubte Länder", "ISO-3166-Codes (DE FR); Nutzung von anderswo wird gemeldet."),
    (
        "token_rate_limit",
        "Rate-Limit (Token-Anfragen pro Minute)",
        "0: unbegrenzt; wenn leer, gilt der Server-Standard.",
    ),
    ("response_types", "Response-Typen", ""),
    ("initiate_login_uri", "URL zum Starten der Anmeldung", ""),
    ("software_id", "Software-ID", ""),
    ("software_version", "Software-Version", ""),
    (
        "userinfo_signed_response_alg",
        "UserInfo-Algorithmus",
        "Signiert UserInfo-Antworten (application/jwt); wenn leer, einfaches JSON.",
    ),
    ("require_auth_time", "auth_time verlangen", ""),
];
