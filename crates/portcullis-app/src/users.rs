//! End users: creating, reading and changing them, disabling them (which
//! ends their sessions and revokes their refresh families), and their
//! passwords, hashed with argon2id at the parameters OWASP recommends
//! (19 MiB, 2 passes). Hashing runs before the transaction, never in it.

use crate::transaction::{Attempt, Tx};
use crate::{secrets, time, Actor, App, AppError, Event, Permission};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::TimeDelta;
use portcullis_core::claim_mappings::{self, ClaimMapping, TokenKind, UserClaims};
use portcullis_core::claims_request;
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::{Password, Scope, StandardClaims, Username};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::users::{self, UserChange, UserRecord};
use portcullis_store::{refresh, sessions, DbConnection, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};

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

/// A user as views show it: never the password hash.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// Its id, the `sub` of its tokens.
    pub user_id: String,
    /// Its login name.
    pub username: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Its OpenID Connect standard claims.
    pub claims: StandardClaims,
    /// Its custom attributes, by name.
    pub attributes: Map<String, Value>,
}

pub(crate) fn view(user: UserRecord) -> UserView {
    UserView {
        claims: user.claims,
        attributes: user.attributes,
        user_id: user.user_id,
        username: user.username,
        disabled: user.disabled_at.is_some(),
        created_at: time(user.created_at),
        updated_at: time(user.updated_at),
    }
}

pub(crate) fn find(conn: &mut DbConnection, user_id: &str) -> Result<UserRecord, AppError> {
    users::find(conn, user_id)?.ok_or_else(|| AppError::NotFound(format!("there is no user {user_id}")))
}

/// Which users to list.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only those whose username contains this (any case).
    pub username: Option<String>,
    /// Only those after this username.
    pub after: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// A page of users, by username.
#[derive(Clone, Debug, Serialize)]
pub struct UserPage {
    /// The users.
    pub users: Vec<UserView>,
    /// The last username of this page, when there are more.
    pub next_cursor: Option<String>,
}

/// A user just created, with the password generated for it, if one was.
#[derive(Debug)]
pub struct CreatedUser {
    /// The user.
    pub user: UserView,
    /// The generated password, shown this once.
    pub generated_password: Option<Password>,
}

/// What a user operation attempts: `action` on `target`, with `admin:users`.
pub(crate) fn users_attempt<'a>(action: &'static str, target: &'a str) -> Attempt<'a> {
    Attempt { permission: Permission::Users, action, target }
}

fn invalid_claims(claims: &StandardClaims) -> Result<(), AppError> {
    claims.validate().map_err(|e| AppError::Invalid(format!("invalid claims: {e}")))
}

impl App {
    /// Creates a user; without a password, one is generated and returned.
    pub fn create_user(
        &self,
        actor: &Actor,
        username: &Username,
        password: Option<Password>,
        claims: &StandardClaims,
    ) -> Result<CreatedUser, AppError> {
        self.permit(actor, &users_attempt("user.created", username.as_str()))?;
        let (password, generated) = match password {
            Some(password) => (password, false),
            None => (Password::new(secrets::random_token()), true),
        };
        let checked =
            check_policy(&password).map_err(AppError::Invalid).and_then(|()| invalid_claims(claims));
        let hash = checked.and_then(|()| hash_password(&password).map_err(AppError::Unavailable));
        self.change(actor, users_attempt("user.created", username.as_str()), |tx| {
            let hash = hash?;
            let user = UserRecord {
                user_id: uuid::Uuid::new_v4().to_string(),
                username: username.as_str().to_owned(),
                password_hash: hash,
                claims: claims.clone(),
                attributes: Map::new(),
                created_at: tx.now,
                updated_at: tx.now,
                disabled_at: None,
            };
            match users::create(tx.conn, &user) {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => {
                    return Err(AppError::Conflict(format!("the username {} is taken", username.as_str())))
                }
                Err(e) => return Err(e.into()),
            }
            tx.emit(Event::UserCreated { user_id: user.user_id.clone(), username: user.username.clone() });
            Ok(CreatedUser { user: view(user), generated_password: generated.then_some(password) })
        })
    }

    /// One user.
    pub fn user(&self, actor: &Actor, user_id: &str) -> Result<UserView, AppError> {
        self.read(actor, Permission::Users, |conn| Ok(view(find(conn, user_id)?)))
    }

    /// The user who signs in as `username` (any case).
    pub fn user_named(&self, actor: &Actor, username: &str) -> Result<UserView, AppError> {
        self.read(actor, Permission::Users, |conn| {
            let user = users::find_by_username(conn, &username.to_lowercase())?;
            user.map(view).ok_or_else(|| AppError::NotFound(format!("there is no user {username}")))
        })
    }

    /// A page of users.
    pub fn users(&self, actor: &Actor, query: &UserQuery) -> Result<UserPage, AppError> {
        self.read(actor, Permission::Users, |conn| {
            let filter = query.username.as_deref().map(str::to_lowercase);
            let mut page = users::all(conn)?
                .into_iter()
                .filter(|u| query.after.as_deref().is_none_or(|after| u.username.as_str() > after))
                .filter(|u| filter.as_deref().is_none_or(|name| u.username.contains(name)))
                .take(query.limit + 1)
                .map(view)
                .collect::<Vec<_>>();
            let next_cursor = (page.len() > query.limit).then(|| {
                page.truncate(query.limit);
                page.last().map(|u| u.username.clone())
            });
            Ok(UserPage { users: page, next_cursor: next_cursor.flatten() })
        })
    }

    /// Replaces a user's standard claims. The actor must hold every admin
    /// role the user holds (claims such as `email` recover accounts).
    pub fn set_user_claims(
        &self,
        actor: &Actor,
        user_id: &str,
        claims: &StandardClaims,
    ) -> Result<UserView, AppError> {
        self.change(actor, users_attempt("user.updated", user_id), |tx| {
            crate::admin_roles::ensure_outranks(tx.conn, actor, user_id)?;
            invalid_claims(claims)?;
            changed(tx, user_id, UserChange { claims: Some(claims), ..Default::default() })?;
            tx.emit(Event::UserUpdated { user_id: user_id.to_owned(), changed: "claims" });
            Ok(view(find(tx.conn, user_id)?))
        })
    }

    /// Sets a user's password (the same policy as at creation). The actor
    /// must hold every admin role the user holds.
    pub fn set_user_password(
        &self,
        actor: &Actor,
        user_id: &str,
        password: &Password,
    ) -> Result<(), AppError> {
        self.permit(actor, &users_attempt("user.updated", user_id))?;
        let hash = check_policy(password)
            .map_err(AppError::Invalid)
            .and_then(|()| hash_password(password).map_err(AppError::Unavailable));
        self.change(actor, users_attempt("user.updated", user_id), |tx| {
            crate::admin_roles::ensure_outranks(tx.conn, actor, user_id)?;
            changed(tx, user_id, UserChange { password_hash: Some(&hash?), ..Default::default() })?;
            tx.emit(Event::UserUpdated { user_id: user_id.to_owned(), changed: "password" });
            Ok(())
        })
    }

    /// Disables (or enables again) a user. Disabling ends the user's
    /// sessions and revokes every refresh-token family with its access
    /// tokens, on every instance within a second, and ends the user's console
    /// sessions; the user can no longer log in. The actor must hold every
    /// admin role the user holds.
    pub fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: &str,
        disabled: bool,
    ) -> Result<UserView, AppError> {
        let action = if disabled { "user.disabled" } else { "user.enabled" };
        self.change(actor, users_attempt(action, user_id), |tx| {
            crate::admin_roles::ensure_outranks(tx.conn, actor, user_id)?;
            changed(tx, user_id, UserChange { disabled: Some(disabled), ..Default::default() })?;
            if disabled {
                sessions::end_user_sessions(tx.conn, user_id, tx.now)?;
                portcullis_store::console_sessions::end_user_sessions(tx.conn, user_id, tx.now)?;
                // Nobody joins a team, nor registers into it, by what they made as its owner.
                crate::teams::forget_as_owner(tx, user_id)?;
                // Codes issued for the user and not yet redeemed give no tokens now.
                portcullis_store::codes::withdraw_user_codes(tx.conn, user_id)?;
                let until = tx.now + TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64);
                let grants = refresh::user_grants(tx.conn, user_id)?;
                for grant in &grants {
                    refresh::revoke_grant_families(tx.conn, grant, "user disabled", tx.now)?;
                    change_log::append(tx.conn, ChangeKind::Grant, grant, Some(until))?;
                }
                tx.emit(Event::UserDisabled { user_id: user_id.to_owned(), grants_revoked: grants.len() });
            } else {
                tx.emit(Event::UserEnabled { user_id: user_id.to_owned() });
            }
            Ok(view(find(tx.conn, user_id)?))
        })
    }
}

impl App {
    /// OpenID Connect Core §5.3: the claims `scope` releases of the enabled
    /// user `user_id`, with `sub` their `subject` at the client (and
    /// `updated_at` under `profile`), the
    /// standard claims `asked` for by name (§5.5), and what the client's
    /// `mappings` release into UserInfo; `None` once the user is gone or
    /// disabled. The access token naming the user, checked by the caller,
    /// is the authority for this read.
    pub fn userinfo(
        &self,
        (user_id, subject): (&str, &str),
        scope: &Scope,
        (mappings, asked): (&[ClaimMapping], &[String]),
    ) -> Result<Option<Map<String, Value>>, AppError> {
        let user = users::find(&mut *self.db.get()?, user_id)?.filter(|user| user.disabled_at.is_none());
        Ok(user.map(|user| {
            let mut released = user.claims.released_for(scope);
            let mapped = UserClaims::new(&user.claims, user.attributes);
            claims_request::release(asked, &mapped.standard, &mut released);
            claim_mappings::release(mappings, TokenKind::Userinfo, scope, Some(&mapped), &mut released);
            released.insert("sub".to_owned(), subject.into());
            if scope.contains("profile") {
                released.insert("updated_at".to_owned(), user.updated_at.timestamp().into());
            }
            released
        }))
    }

    /// What the claim mappings of a token for the enabled user `user_id`
    /// read; `None` once the user is gone or disabled. Read by the grants,
    /// as the token endpoint mints a token, and by introspection.
    pub fn user_claims(&self, user_id: &str) -> Result<Option<UserClaims>, AppError> {
        let user = users::find(&mut *self.db.get()?, user_id)?.filter(|user| user.disabled_at.is_none());
        Ok(user.map(|user| UserClaims::new(&user.claims, user.attributes)))
    }
}

pub(crate) fn changed(tx: &mut Tx<'_>, user_id: &str, change: UserChange<'_>) -> Result<(), AppError> {
    if users::update(tx.conn, user_id, change)? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("there is no user {user_id}")))
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
