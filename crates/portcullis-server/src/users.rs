//! End users: creating them and checking their passwords, hashed with
//! argon2id at the parameters OWASP recommends (19 MiB, 2 passes).

use anyhow::{bail, Context};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_store::users::{self, UserRecord};
use portcullis_store::{Database, StoreError};

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
) -> anyhow::Result<String> {
    check_policy(password).map_err(anyhow::Error::msg)?;
    claims.validate().context("invalid claims")?;
    let now = Utc::now();
    let user = UserRecord {
        user_id: uuid::Uuid::new_v4().to_string(),
        username: username.as_str().to_owned(),
        password_hash: hash_password(password)?,
        claims: serde_json::to_string(claims)?,
        created_at: now,
        updated_at: now,
        disabled_at: None,
    };
    match users::create(&mut *db.get()?, &user) {
        Ok(()) => Ok(user.user_id),
        Err(StoreError::Conflict(_)) => bail!("the username {username} is taken"),
        Err(e) => Err(e.into()),
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
