//! The diesel schema, identical on both backends.

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        state -> Text,
        public_jwk -> Text,
        private_key_sealed -> Binary,
        kek_id -> Text,
        created_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        retired_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        current_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        tokens_revoked_before -> Nullable<Timestamp>,
        change_seq -> BigInt,
        team_id -> Nullable<Text>,
        disabled_by_team -> Bool,
    }
}

diesel::table! {
    client_versions (client_id, version) {
        client_id -> Text,
        version -> BigInt,
        metadata -> Text,
        author -> Text,
        summary -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    client_secrets (secret_id) {
        secret_id -> Text,
        client_id -> Text,
        secret_hash -> Binary,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    change_log (seq) {
        seq -> BigInt,
        kind -> Text,
        subject -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    retired_redirect_uris (client_id, redirect_uri) {
        client_id -> Text,
        redirect_uri -> Text,
        retired_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(client_versions -> clients (client_id));
diesel::joinable!(client_secrets -> clients (client_id));
diesel::allow_tables_to_appear_in_same_query!(clients, client_versions, client_secrets);

diesel::table! {
    client_assertion_jtis (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    users (user_id) {
        user_id -> Text,
        username -> Text,
        password_hash -> Text,
        claims -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        attributes -> Text,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Binary,
        grant_id -> Text,
        client_id -> Text,
        details -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
        user_id -> Nullable<Text>,
    }
}

diesel::table! {
    dpop_proofs (proof_hash) {
        proof_hash -> Binary,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    device_grants (device_code_hash) {
        device_code_hash -> Binary,
        user_code -> Text,
        grant_id -> Text,
        client_id -> Text,
        scope -> Text,
        status -> Text,
        details -> Nullable<Text>,
        interval_seconds -> Integer,
        polled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    pushed_requests (request_hash) {
        request_hash -> Binary,
        client_id -> Text,
        request -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    refresh_families (family_id) {
        family_id -> Text,
        grant_id -> Text,
        client_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Binary,
        family_id -> Text,
        details -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> refresh_families (family_id));
diesel::allow_tables_to_appear_in_same_query!(refresh_families, refresh_tokens);

diesel::table! {
    sessions (session_hash) {
        session_hash -> Binary,
        session_id -> Text,
        user_id -> Text,
        auth_time -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        second_factor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    interactions (interaction_hash) {
        interaction_hash -> Binary,
        request -> Text,
        csrf_hash -> Binary,
        session_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        pushed_hash -> Nullable<Binary>,
        pushed_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    auth_failures (id) {
        id -> Text,
        subject_hash -> Binary,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    server_settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        source -> Text,
        outcome -> Text,
        details -> Text,
        prev_hash -> Binary,
        hash -> Binary,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    client_lockouts (client_id) {
        client_id -> Text,
        failures -> BigInt,
        lockouts -> BigInt,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    usage_rollups (id) {
        id -> Text,
        client_id -> Text,
        minute -> Timestamp,
        requests -> BigInt,
        auth_errors -> BigInt,
        other_errors -> BigInt,
        server_errors -> BigInt,
        tokens_issued -> BigInt,
        latency -> Text,
    }
}

diesel::table! {
    client_baselines (client_id, signal) {
        client_id -> Text,
        signal -> Text,
        learnt_through -> Timestamp,
        model -> Text,
    }
}

diesel::table! {
    network_sightings (sighting_id) {
        sighting_id -> Text,
        client_id -> Text,
        minute -> Timestamp,
        network -> Text,
        judged -> BigInt,
    }
}

diesel::table! {
    client_networks (client_id, network) {
        client_id -> Text,
        network -> Text,
        country -> Nullable<Text>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        announced -> Nullable<Text>,
        announced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    token_sightings (sighting_id) {
        sighting_id -> Text,
        token -> Text,
        token_kind -> Text,
        client_id -> Text,
        seen_at -> Timestamp,
        country -> Text,
        latitude_e6 -> BigInt,
        longitude_e6 -> BigInt,
        radius_km -> BigInt,
        judged -> BigInt,
        judged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_counts (key_hash, window_start, instance_id) {
        key_hash -> Binary,
        window_start -> Timestamp,
        instance_id -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    webhooks (webhook_id) {
        webhook_id -> Text,
        url -> Text,
        description -> Text,
        events -> Text,
        secret_sealed -> Binary,
        kek_id -> Text,
        enabled -> Bool,
        since_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        failing_since -> Nullable<Timestamp>,
        team_id -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (delivery_id) {
        delivery_id -> Text,
        webhook_id -> Text,
        event -> Text,
        payload -> Text,
        created_at -> Timestamp,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_cursor (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    alert_rules (rule_id) {
        rule_id -> Text,
        description -> Text,
        config -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alert_states (rule_id, subject) {
        rule_id -> Text,
        subject -> Text,
        firing -> Bool,
        since -> Timestamp,
        last_fired_at -> Timestamp,
    }
}

diesel::table! {
    remediations (remediation_id) {
        remediation_id -> Text,
        rule_id -> Text,
        client_id -> Text,
        action -> Text,
        reason -> Text,
        applied_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        undone_at -> Nullable<Timestamp>,
        undone_by -> Nullable<Text>,
    }
}

diesel::table! {
    user_admin_roles (user_id, permission) {
        user_id -> Text,
        permission -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> Text,
        secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> BigInt,
    }
}

diesel::table! {
    user_recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    console_sessions (session_hash) {
        session_hash -> Binary,
        session_id -> Text,
        user_id -> Text,
        csrf_hash -> Binary,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        kind -> Text,
        second_factor -> Bool,
    }
}

diesel::table! {
    address_lockouts (client_id, address) {
        client_id -> Text,
        address -> Text,
        lockouts -> BigInt,
        locked_until -> Timestamp,
    }
}

diesel::table! {
    initial_access_tokens (token_id) {
        token_id -> Text,
        token_hash -> Binary,
        description -> Text,
        policy -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        max_uses -> Nullable<BigInt>,
        uses -> BigInt,
        revoked_at -> Nullable<Timestamp>,
        team_id -> Nullable<Text>,
    }
}

diesel::table! {
    client_registrations (client_id) {
        client_id -> Text,
        token_hash -> Binary,
        admitted_by -> Text,
        policy -> Text,
        created_at -> Timestamp,
        token_issued_at -> Timestamp,
    }
}

diesel::table! {
    user_attribute_definitions (name) {
        name -> Text,
        kind -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teams (team_id) {
        team_id -> Text,
        name -> Text,
        policy -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
        role -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    team_invitations (invitation_hash) {
        invitation_hash -> Binary,
        invitation_id -> Text,
        team_id -> Text,
        role -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_by -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scope_requests (request_id) {
        request_id -> Text,
        client_id -> Text,
        team_id -> Text,
        scopes -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        state -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    personal_access_tokens (token_id) {
        token_id -> Text,
        token_hash -> Binary,
        user_id -> Text,
        team_id -> Text,
        name -> Text,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        second_factor -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    teams,
    team_members,
    team_invitations,
    users,
    clients,
    personal_access_tokens
);
diesel::allow_tables_to_appear_in_same_query!(audit_log, clients);
diesel::allow_tables_to_appear_in_same_query!(usage_rollups, clients);
diesel::allow_tables_to_appear_in_same_query!(client_baselines, clients);
diesel::allow_tables_to_appear_in_same_query!(audit_log, personal_access_tokens);
diesel::allow_tables_to_appear_in_same_query!(audit_log, initial_access_tokens);
diesel::allow_tables_to_appear_in_same_query!(audit_log, webhooks);
