//! The second factor of admin users (issue 12): TOTP (RFC 6238: HMAC-SHA-1,
//! six digits, 30-second steps, one step of drift either way, as every
//! authenticator app reads it) and one-time recovery codes.
//!
//! Enrolment makes a 160-bit secret (RFC 4226 §4's recommended length) from
//! the CSPRNG, sealed under the key-encryption key, pending until the user
//! types a first code; that confirms it and yields ten recovery codes,
//! shown once and kept as SHA-256 hashes. Each code is accepted once: the
//! accepted time step only moves forward, by compare-and-swap, on every
//! instance (RFC 6238 §5.2). Wrong codes are throttled like wrong passwords
//! (per account from one address, and per address), counted before the
//! code is checked. An admin with `admin:users` resets a user's second
//! factor; the user enrols again at the next sign-in.
//!
//! `totp-rs` computes and compares the codes (in constant time); it is the
//! maintained crate made for RFC 6238, and takes the time from us, so tests
//! run on a manual clock.

use crate::device_cookies::Proof;
use crate::failures::{Failure, FailureKind};
use crate::login_throttle::Attempt as Throttle;
use crate::transaction::Attempt;
use crate::users::find;
use crate::{secrets, Actor, App, AppError, Event, Permission};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use portcullis_core::ShownOnce;
use portcullis_store::totp::{self, Step, TotpRecord};
use portcullis_store::{console_sessions, sessions};
use std::net::IpAddr;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// The seconds of one step.
const STEP: u64 = 30;
/// Who records enrolment and recovery-code use: the sign-in, for the user it authenticated.
const SIGN_IN: Actor = Actor::System { job: "sign_in" };

/// A TOTP secret to enrol: the key to type and the `otpauth://` URI to scan.
#[derive(Debug)]
pub struct Enrolment {
    /// The secret, base32, for typing into an authenticator app.
    pub key: ShownOnce,
    /// The key-URI (`otpauth://totp/...`), for a QR code.
    pub uri: ShownOnce,
}

/// Where a user stands with the second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorState {
    /// No secret: enrol first.
    None,
    /// A secret awaits its first code.
    Pending,
    /// Enrolled.
    Enrolled,
}

/// What a code came to.
#[derive(Debug)]
pub enum Verdict {
    /// A TOTP code, accepted once.
    Accepted,
    /// A first TOTP code: enrolment is confirmed; the recovery codes, shown once.
    Enrolled(Vec<ShownOnce>),
    /// A recovery code, now used; how many are left.
    Recovered {
        /// Unused recovery codes left.
        left: i64,
    },
    /// Wrong, replayed, or no secret.
    Refused,
    /// Too many wrong codes (from this address, for this account, or from
    /// this browser): not checked.
    Throttled {
        /// Seconds until a code would be checked again.
        retry_after: u64,
    },
}

fn totp(secret: Vec<u8>, account: &str, issuer: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::from(secret))
        // The key-URI format (and totp-rs) keeps `:` for its own use.
        .with_account_name(account.replace(':', "-"))
        .with_issuer(Some(issuer.replace(':', "-")))
        .build()
        .map_err(|e| AppError::Corrupt(format!("a TOTP secret: {e}")))
}

fn context(user_id: &str) -> Vec<u8> {
    format!("user_totp.secret\0{user_id}").into_bytes()
}

/// A recovery code as stored: its SHA-256, hex, of the code without dashes,
/// in lower case. With 80 random bits a code needs no salt or slow hash: a
/// stolen table cannot be searched.
fn recovery_hash(code: &str) -> String {
    let normal: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    secrets::hash(&normal).iter().map(|b| format!("{b:02x}")).collect()
}

/// Ten fresh recovery codes: 80 random bits each, sixteen characters of a
/// 32-letter alphabet without look-alikes (five bits each, so unbiased),
/// as `xxxx-xxxx-xxxx-xxxx`.
fn new_recovery_codes() -> Vec<ShownOnce> {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            OsRng.fill_bytes(&mut bytes);
            let bits = bytes.iter().fold(0u128, |acc, b| acc << 8 | u128::from(*b));
            let letters: Vec<char> =
                (0..16).map(|i| char::from(ALPHABET[(bits >> (75 - 5 * i) & 31) as usize])).collect();
            let groups: Vec<String> = letters.chunks(4).map(|g| g.iter().collect()).collect();
            ShownOnce::new(groups.join("-"))
        })
        .collect()
}

impl App {
    /// The stored secret of `record`, opened: base32, and its bytes.
    fn secret_of(&self, record: &TotpRecord) -> Result<(String, Vec<u8>), AppError> {
        let unreadable =
            |why: &str| AppError::Corrupt(format!("the TOTP secret of {}: {why}", record.user_id));
        let key =
            self.sealing.open_required(&record.secret, &context(&record.user_id)).map_err(unreadable)?;
        let secret = Secret::try_from_base32(&key).map_err(|_| unreadable("not base32"))?;
        Ok((key, secret.as_ref().to_vec()))
    }

    /// Where `user_id` stands with the second factor, as an admin reads it.
    pub fn user_second_factor(&self, actor: &Actor, user_id: &str) -> Result<FactorState, AppError> {
        actor.require(Permission::Users)?;
        self.second_factor_state(user_id)
    }

    /// Where `user_id` stands with the second factor.
    pub fn second_factor_state(&self, user_id: &str) -> Result<FactorState, AppError> {
        Ok(match totp::find(&mut *self.db.get()?, user_id)? {
            None => FactorState::None,
            Some(record) if record.confirmed_at.is_none() => FactorState::Pending,
            Some(_) => FactorState::Enrolled,
        })
    }

    /// Enrols `user_id` (authenticated by password): the secret pending
    /// until [`App::verify_second_factor`] accepts its first code, a new one
    /// when none is. Refused once enrolled (an admin resets).
    pub fn start_enrolment(&self, user_id: &str, issuer: &str) -> Result<Enrolment, AppError> {
        let conn = &mut *self.db.get()?;
        let user = find(conn, user_id)?;
        if let Some(pending) = totp::find(conn, user_id)?.filter(|record| record.confirmed_at.is_none()) {
            let (key, secret) = self.secret_of(&pending)?;
            let uri = totp(secret, &user.username, issuer)?
                .to_url()
                .map_err(|e| AppError::Corrupt(format!("a TOTP URI: {e}")))?;
            return Ok(Enrolment { key: ShownOnce::new(key), uri: ShownOnce::new(uri) });
        }
        let mut secret = vec![0u8; 20];
        OsRng.fill_bytes(&mut secret);
        let key = Secret::from(secret.clone()).to_base32();
        let generator = totp(secret, &user.username, issuer)?;
        let uri = generator.to_url().map_err(|e| AppError::Corrupt(format!("a TOTP URI: {e}")))?;
        let record = TotpRecord {
            user_id: user_id.to_owned(),
            secret: self.sealing.seal_required(&key, &context(user_id))?,
            created_at: self.now().naive_utc(),
            confirmed_at: None,
            last_step: 0,
        };
        if !totp::put_pending(conn, &record)? {
            return Err(AppError::Conflict(
                "a second factor is enrolled already; an admin can reset it".into(),
            ));
        }
        Ok(Enrolment { key: ShownOnce::new(key), uri: ShownOnce::new(uri) })
    }

    /// Checks `code` for `user_id` (authenticated by password) from
    /// `source`, in a browser whose device cookie is `device_cookie`: a TOTP
    /// code of its secret (a first one confirms enrolment) or, once
    /// enrolled, an unused recovery code. Throttled like passwords; a
    /// browser is exempt from the account's and address's throttles only by
    /// a device cookie issued after a second factor.
    pub fn verify_second_factor(
        &self,
        user_id: &str,
        code: &str,
        source: Option<IpAddr>,
        device_cookie: Option<&str>,
    ) -> Result<Verdict, AppError> {
        let now = self.now();
        let username = find(&mut *self.db.get()?, user_id)?.username;
        let device = self.recognised_device(device_cookie, &username, Proof::SecondFactor);
        let throttle = Throttle::new(&format!("second-factor:{user_id}"), source, device.as_deref());
        let (reservation, record) = {
            let conn = &mut *self.db.get()?;
            let reservation = match throttle.reserve(conn, now)? {
                Ok(reservation) => reservation,
                Err(throttled) => {
                    self.failures.count(&Failure {
                        kind: FailureKind::LoginThrottled,
                        known: Some(&username),
                        presented: &username,
                        source,
                        reason: throttled.reason,
                        at: now,
                    });
                    return Ok(Verdict::Throttled { retry_after: throttled.retry_after });
                }
            };
            (reservation, totp::find(conn, user_id)?)
        };
        let wrong = || {
            // Summarised with failed logins: wrong codes show in the audit log and alerts.
            let failure = Failure {
                kind: FailureKind::Login,
                known: Some(&username),
                presented: &username,
                source,
                reason: "wrong second factor",
                at: now,
            };
            self.failures.count(&failure);
            Ok(Verdict::Refused)
        };
        let Some(record) = record else { return wrong() };
        let generator = totp(self.secret_of(&record)?.1, "-", "-")?;
        let step = u64::try_from(now.timestamp()).ok().and_then(|at| generator.check(code.trim(), at));
        let enrolled = record.confirmed_at.is_some();
        let verdict = self.commit(&SIGN_IN, |tx| {
            tx.from(source);
            if let Some(step) = step.and_then(|s| i64::try_from(s).ok()) {
                match totp::accept_step(tx.conn, user_id, step, tx.now)? {
                    Step::Refused => return Ok(Verdict::Refused),
                    Step::Accepted => return Ok(Verdict::Accepted),
                    Step::Confirmed => {}
                }
                let codes = new_recovery_codes();
                let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c.expose())).collect();
                totp::put_recovery_codes(tx.conn, user_id, &hashes)?;
                tx.emit(Event::UserSecondFactorEnrolled { user_id: user_id.to_owned() });
                return Ok(Verdict::Enrolled(codes));
            }
            if enrolled && totp::use_recovery_code(tx.conn, user_id, &recovery_hash(code), tx.now)? {
                let left = totp::recovery_codes_left(tx.conn, user_id)?;
                tx.emit(Event::UserRecoveryCodeUsed { user_id: user_id.to_owned(), left });
                return Ok(Verdict::Recovered { left });
            }
            Ok(Verdict::Refused)
        })?;
        if matches!(verdict, Verdict::Refused) {
            return wrong();
        }
        throttle.succeeded(&mut *self.db.get()?, reservation)?;
        Ok(verdict)
    }

    /// Removes `user_id`'s second factor and recovery codes and ends the
    /// user's login and console sessions: the user signs in with the
    /// password and enrols again. The actor must hold every admin role the
    /// user holds.
    pub fn reset_second_factor(&self, actor: &Actor, user_id: &str) -> Result<(), AppError> {
        let attempt =
            Attempt { permission: Permission::Users, action: "user.second_factor_reset", target: user_id };
        self.change(actor, attempt, |tx| {
            find(tx.conn, user_id)?;
            crate::admin_roles::ensure_outranks(tx.conn, actor, user_id)?;
            if totp::remove(tx.conn, user_id)? {
                sessions::end_user_sessions(tx.conn, user_id, tx.now)?;
                console_sessions::end_user_sessions(tx.conn, user_id, tx.now)?;
                tx.emit(Event::UserSecondFactorReset { user_id: user_id.to_owned() });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_random_and_typed_forgivingly() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut distinct: Vec<&str> = codes.iter().map(ShownOnce::expose).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.expose().len() == 19 && c.expose().split('-').all(|g| g.len() == 4)));
        assert_eq!(recovery_hash("ABCD-efgh-jkmn-pqrs"), recovery_hash(" abcdefghjkmnpqrs "));
        assert_eq!(format!("{:?}", codes[0]), "ShownOnce([redacted])");
    }
}
