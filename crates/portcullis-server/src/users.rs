//! End users: creating and changing them, and checking their passwords,
//! hashed with argon2id at the parameters OWASP recommends (19 MiB, 2 passes).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{TimeDelta, Utc};
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::users::{self, UserRecord};
use portcullis_store::{refresh, sessions, Database, StoreError};

/// The fewest characters a password may have (NIST SP 800-63B §5.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The most bytes a password may have, so hashing cannot be made expensive.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks a new password against the policy.
pub fn check_policy(password: &Password) -> Result<(), String> {
    let password = password.expose();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("a password has at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("a password has at most {MAX_PASSWORD_BYTES} bytes"));
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?
        .to_string())
}

/// Whether `password` matches the stored PHC string (compared in constant
/// time by argon2). An unreadable hash never matches.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    if password.expose().len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(phc)
        .is_ok_and(|hash| Argon2::default().verify_password(password.expose().as_bytes(), &hash).is_ok())
}

/// Creates a user and returns its id, the `sub` it will have.
pub fn create(
    db: &Database,
    username: &Username,
    password: &Password,
    claims: &StandardClaims,
) -> Result<String, UserError> {
    check_policy(password).map_err(UserError::Invalid)?;
    claims.validate().map_err(|e| UserError::Invalid(format!("invalid claims: {e}")))?;
    let now = Utc::now();
    let user = UserRecord {
        user_id: uuid::Uuid::new_v4().to_string(),
        username: username.as_str().to_owned(),
        password_hash: hash_password(password)?,
        claims: serde_json::to_string(claims).map_err(anyhow::Error::from)?,
        created_at: now,
        updated_at: now,
        disabled_at: None,
    };
    match users::create(&mut *db.get()?, &user) {
        Ok(()) => Ok(user.user_id),
        Err(StoreError::Conflict(_)) => Err(UserError::Taken(username.as_str().to_owned())),
        Err(e) => Err(e.into()),
    }
}

/// Why a change to a user was not made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No such user.
    #[error("there is no user {0}")]
    NotFound(String),
    /// The username belongs to another user.
    #[error("the username {0} is taken")]
    Taken(String),
    /// The claims or the password are not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        Self::Storage(error.into())
    }
}

fn changed(db: &Database, user_id: &str, change: users::UserChange<'_>) -> Result<(), UserError> {
    if users::update(&mut *db.get()?, user_id, change)? {
        Ok(())
    } else {
        Err(UserError::NotFound(user_id.to_owned()))
    }
}

/// Replaces a user's standard claims.
pub fn set_claims(db: &Database, user_id: &str, claims: &StandardClaims) -> Result<(), UserError> {
    claims.validate().map_err(|e| UserError::Invalid(format!("invalid claims: {e}")))?;
    let json = serde_json::to_string(claims).map_err(anyhow::Error::from)?;
    changed(db, user_id, users::UserChange { claims: Some(&json), ..Default::default() })
}

/// Sets a user's password (the same policy as at creation).
pub fn set_password(db: &Database, user_id: &str, password: &Password) -> Result<(), UserError> {
    check_policy(password).map_err(UserError::Invalid)?;
    let hash = hash_password(password)?;
    changed(db, user_id, users::UserChange { password_hash: Some(&hash), ..Default::default() })
}

/// Disables (or enables again) a user. Disabling ends the user's sessions
/// and revokes every refresh-token family with its access tokens, on every
/// instance within a second; the user can no longer log in.
pub fn set_disabled(db: &Database, user_id: &str, disabled: bool) -> Result<(), UserError> {
    let mut conn = db.get()?;
    let found = conn.in_transaction(|conn| {
        if !users::update(
            conn,
            user_id,
            users::UserChange { disabled: Some(disabled), ..Default::default() },
        )? {
            return Ok(false);
        }
        if disabled {
            let now = Utc::now();
            sessions::end_user_sessions(conn, user_id, now)?;
            let until = now + TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64);
            for grant in refresh::user_grants(conn, user_id)? {
                refresh::revoke_grant_families(conn, &grant, "user disabled", now)?;
                change_log::append(conn, ChangeKind::Grant, &grant, Some(until))?;
            }
        }
        Ok(true)
    })?;
    if found {
        Ok(())
    } else {
        Err(UserError::NotFound(user_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(s: &str) -> Password {
        Password::new(s.to_owned())
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password(&password("correct horse")).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&password("correct horse"), &hash));
        assert!(!verify_password(&password("correct horsE"), &hash));
        assert!(!verify_password(&password("correct horse"), "not a hash"));
        assert_ne!(hash, hash_password(&password("correct horse")).unwrap(), "salts differ");
    }

    #[test]
    fn the_policy_bounds_length() {
        assert!(check_policy(&password("seven77")).is_err());
        assert!(check_policy(&password("eight888")).is_ok());
        assert!(check_policy(&password("ééééééé")).is_err(), "characters, not bytes, count");
        assert!(check_policy(&password(&"x".repeat(MAX_PASSWORD_BYTES + 1))).is_err());
        assert!(!verify_password(&password(&"x".repeat(MAX_PASSWORD_BYTES + 1)), "$argon2id$"));
    }
}
