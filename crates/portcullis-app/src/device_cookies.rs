//! Device cookies (OWASP, "Slow down online guessing attacks with device
//! cookies"): a browser that signed in to an account before carries a
//! signed token naming it, and is judged on its own failures instead of the
//! account's and its address's. So failures that strangers cause, even from
//! the same shared address, never lock the real user out, while a stolen or
//! copied cookie earns its holder only a few guesses of its own.
//!
//! One cookie holds up to [`MAX_ENTRIES`] entries, one per account signed in
//! from this browser: `issued.proof.nonce.mac`, the MAC an HMAC-SHA256 over
//! the username, the time it was issued, what the sign-in proved (a
//! password, or a second factor too) and a random nonce, keyed from the
//! key-encryption key, so every instance recognises every other's. The
//! second factor honours only entries issued after one: knowing the
//! password earns no exemption from the second factor's throttle.

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The cookie's name.
pub const DEVICE_COOKIE: &str = "portcullis_devices";
/// How long an entry is honoured after the sign-in that issued it.
pub const DEVICE_LIFETIME: TimeDelta = TimeDelta::days(180);
/// The most accounts one cookie remembers; the oldest gives way.
pub const MAX_ENTRIES: usize = 5;

/// What a sign-in proved when its entry was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proof {
    /// The password.
    Password,
    /// The password and a second factor.
    SecondFactor,
}

impl Proof {
    fn tag(self) -> &'static str {
        match self {
            Self::Password => "p",
            Self::SecondFactor => "f",
        }
    }

    fn of(tag: &str) -> Option<Self> {
        match tag {
            "p" => Some(Self::Password),
            "f" => Some(Self::SecondFactor),
            _ => None,
        }
    }
}

/// The key entries are signed with; never printed.
pub struct DeviceKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

/// One entry, parsed.
struct Entry<'a> {
    issued: i64,
    proof: Proof,
    nonce: &'a str,
    mac: &'a str,
}

impl<'a> Entry<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.split('.');
        let (issued, proof, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Self { issued: issued.parse().ok()?, proof: Proof::of(proof)?, nonce, mac })
    }
}

impl DeviceKey {
    /// The key derived from the key-encryption key.
    pub fn derived(kek: &portcullis_jose::KeyEncryptionKey) -> Self {
        Self(kek.derive("device cookies"))
    }

    fn mac(&self, username: &str, issued: i64, proof: Proof, nonce: &str) -> String {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(self.0.as_ref()).expect("HMAC takes any key length");
        mac.update(format!("{username}\0{issued}\0{}\0{nonce}", proof.tag()).as_bytes());
        let bytes = mac.finalize().into_bytes();
        bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `entry` was signed for `username` with this key.
    fn names(&self, entry: &Entry<'_>, username: &str) -> bool {
        let expected = self.mac(username, entry.issued, entry.proof, entry.nonce);
        expected.as_bytes().ct_eq(entry.mac.as_bytes()).into()
    }

    /// The entry of `cookie` that names `username`, unexpired at `now` and
    /// proving at least `proof`: its nonce, the device's identity for
    /// throttling.
    pub fn recognise(
        &self,
        cookie: &str,
        username: &str,
        proof: Proof,
        now: DateTime<Utc>,
    ) -> Option<String> {
        cookie.split('~').take(MAX_ENTRIES).filter_map(Entry::parse).find_map(|entry| {
            let age = now.timestamp().checked_sub(entry.issued);
            let fresh = age.is_some_and(|age| (-60..DEVICE_LIFETIME.num_seconds()).contains(&age));
            (fresh && entry.proof >= proof && self.names(&entry, username)).then(|| entry.nonce.to_owned())
        })
    }

    /// The cookie's value once `username` signed in at `now` having shown
    /// `proof`: a new entry for it first (proving as much as its entry
    /// there did, if that proved more: a password step does not undo this
    /// browser's second factor), its older ones and the oldest past
    /// [`MAX_ENTRIES`] dropped.
    pub fn remember(&self, cookie: Option<&str>, username: &str, proof: Proof, now: DateTime<Utc>) -> String {
        let proven = self.recognise(cookie.unwrap_or_default(), username, Proof::SecondFactor, now);
        let proof = if proven.is_some() { Proof::SecondFactor } else { proof };
        let issued = now.timestamp();
        let nonce = crate::secrets::random_token();
        let entry = format!("{issued}.{}.{nonce}.{}", proof.tag(), self.mac(username, issued, proof, &nonce));
        let others = cookie
            .unwrap_or_default()
            .split('~')
            .filter(|text| Entry::parse(text).is_some_and(|entry| !self.names(&entry, username)));
        std::iter::once(entry.as_str()).chain(others).take(MAX_ENTRIES).collect::<Vec<_>>().join("~")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DeviceKey {
        DeviceKey::derived(&portcullis_jose::KeyEncryptionKey::generate())
    }

    #[test]
    fn an_entry_is_recognised_for_its_account_its_proof_and_its_lifetime_only() {
        let (key, now) = (key(), Utc::now());
        let cookie = key.remember(None, "alice", Proof::Password, now);
        let device = key.recognise(&cookie, "alice", Proof::Password, now).expect("recognised");
        assert_eq!(key.recognise(&cookie, "alice", Proof::Password, now + TimeDelta::days(1)), Some(device));
        assert_eq!(key.recognise(&cookie, "bob", Proof::Password, now), None, "another account");
        assert_eq!(
            key.recognise(&cookie, "alice", Proof::SecondFactor, now),
            None,
            "a password proves no second factor"
        );
        assert_eq!(key.recognise(&cookie, "alice", Proof::Password, now + DEVICE_LIFETIME), None, "expired");
        assert_eq!(self::key().recognise(&cookie, "alice", Proof::Password, now), None, "another key");
        let forged = cookie.replacen(".p.", ".f.", 1);
        assert_eq!(key.recognise(&forged, "alice", Proof::SecondFactor, now), None, "the proof is signed");
    }

    #[test]
    fn a_cookie_remembers_several_accounts_the_newest_first() {
        let (key, now) = (key(), Utc::now());
        let mut cookie = key.remember(None, "alice", Proof::Password, now);
        for n in 0..MAX_ENTRIES {
            cookie = key.remember(Some(&cookie), &format!("user{n}"), Proof::Password, now);
        }
        assert_eq!(cookie.split('~').count(), MAX_ENTRIES);
        assert!(key.recognise(&cookie, "alice", Proof::Password, now).is_none(), "the oldest gave way");
        let again = key.remember(Some(&cookie), "user4", Proof::SecondFactor, now);
        assert_eq!(again.split('~').count(), MAX_ENTRIES, "an account's older entry is replaced");
        assert!(key.recognise(&again, "user4", Proof::SecondFactor, now).is_some());
        let password_again = key.remember(Some(&again), "user4", Proof::Password, now);
        assert!(
            key.recognise(&password_again, "user4", Proof::SecondFactor, now).is_some(),
            "the password step keeps the second factor's proof"
        );
        assert!(
            key.recognise(&format!("{}.f.n.{}", i64::MIN, "0".repeat(32)), "user4", Proof::Password, now)
                .is_none(),
            "no overflow"
        );
        assert!(key.recognise(&again, "user0", Proof::Password, now).is_some());
        assert!(key.recognise("garbage~1.x.y.z~", "user0", Proof::Password, now).is_none());
    }
}
