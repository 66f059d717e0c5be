//! Compliance reports (issue 11): SOC 2, GDPR, PCI DSS and FAPI 2.0 templates whose
//! controls map to checks of the live configuration, each with a status,
//! its evidence and when it was last verified.
//!
//! The checks read what is configured now (the server's [`Facts`], the
//! clients, keys and webhooks stored) at the time of the report, except the
//! audit chain, which is verified by a job every few hours (it may take
//! long) and reported with the time it last was. Each check is evidence for
//! a control, not a certification: the README says which parts a report
//! cannot see.

use crate::audit::{last_verification, Verification};
use crate::{Actor, App, AppError, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::{KeyState, SigningAlgorithm, TokenEndpointAuthMethod};
use portcullis_store::{clients, keys, webhooks};
use serde::Serialize;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The longest access-token lifetime the checks accept.
pub const MAX_ACCESS_TOKEN_LIFETIME: u64 = 3600;
/// The longest refresh-token lifetime (absolute) the checks accept.
pub const MAX_REFRESH_TOKEN_LIFETIME: u64 = 90 * 86_400;
/// The signing-key age the checks accept without a rotation period.
pub const DEFAULT_KEY_AGE: TimeDelta = TimeDelta::days(90);
/// The shortest audit retention the checks accept.
pub const MIN_AUDIT_RETENTION: TimeDelta = TimeDelta::days(365);
/// How recent the last audit-chain verification must be.
pub const VERIFIED_WITHIN: TimeDelta = TimeDelta::hours(24);
/// How often the job verifies the chain.
pub const VERIFY_EVERY: TimeDelta = TimeDelta::hours(6);

/// What the server is configured with, for the checks.
#[derive(Clone, Debug)]
pub struct Facts {
    /// The issuer identifier.
    pub issuer: String,
    /// The access-token lifetime of clients that set none.
    pub access_token_lifetime: Duration,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
    /// The automatic signing-key rotation period, if on.
    pub key_rotation: Option<Duration>,
    /// How long a pushed request's `request_uri` stays usable.
    pub pushed_request_lifetime: Duration,
}

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The control's requirement holds.
    Pass,
    /// It does not.
    Fail,
    /// It holds only in part, or cannot be shown yet.
    Warn,
    /// It does not apply to this installation (yet).
    NotApplicable,
}

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    /// The check's id.
    pub check: &'static str,
    /// What it verifies.
    pub title: &'static str,
    /// Its verdict.
    pub status: Status,
    /// What was found.
    pub evidence: String,
    /// When it was verified, RFC 3339.
    pub verified_at: String,
}

/// One control of a template and its checks' results.
#[derive(Clone, Debug, Serialize)]
pub struct ControlResult {
    /// The control's reference (`CC6.1`, `Art. 32(1)(a)`, `10.5.1`).
    pub control: &'static str,
    /// What it requires.
    pub title: &'static str,
    /// The worst of its checks' statuses.
    pub status: Status,
    /// Its checks.
    pub checks: Vec<CheckResult>,
}

/// How many controls have each status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Controls that pass.
    pub pass: usize,
    /// Controls that fail.
    pub fail: usize,
    /// Controls with a warning.
    pub warn: usize,
    /// Controls that do not apply.
    pub not_applicable: usize,
}

/// A report of one template.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The template's id.
    pub template: &'static str,
    /// Its name.
    pub title: &'static str,
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// Controls by status.
    pub summary: Summary,
    /// Every control, in the template's order.
    pub controls: Vec<ControlResult>,
}

/// A template: its id, name and controls (reference, requirement, checks).
pub struct Template {
    /// Its id in the URL.
    pub id: &'static str,
    /// Its name.
    pub title: &'static str,
    /// Its controls.
    pub controls: &'static [(&'static str, &'static str, &'static [&'static str])],
}

/// The longest `request_uri` lifetime FAPI 2.0 allows, exclusive (§5.3.2.2 item 12).
pub const FAPI2_PUSHED_REQUEST_LIFETIME: Duration = Duration::from_secs(600);

/// The templates.
pub const TEMPLATES: [Template; 4] = [
    Template {
        id: "soc2",
        title: "SOC 2 (Trust Services Criteria 2017, security)",
        controls: &[
            (
                "CC6.1",
                "Logical access is restricted to authorised users and software",
                &["pkce_public_clients", "client_secrets_expire", "admin_mfa"],
            ),
            (
                "CC6.6",
                "Access from outside the system boundary is protected",
                &["issuer_https", "access_token_lifetime", "refresh_token_lifetime"],
            ),
            ("CC6.7", "Information is protected in transmission", &["issuer_https", "webhooks_tls"]),
            (
                "CC6.8",
                "Credentials and keys are managed to prevent unauthorised use",
                &["signing_key_age", "client_secrets_expire"],
            ),
            (
                "CC7.2",
                "System activity is monitored and anomalies evaluated",
                &["audit_retention", "audit_chain_verified"],
            ),
        ],
    },
    Template {
        id: "gdpr",
        title: "GDPR (Regulation (EU) 2016/679)",
        controls: &[
            (
                "Art. 5(1)(f)",
                "Personal data is processed with integrity and confidentiality",
                &["issuer_https", "pkce_public_clients"],
            ),
            (
                "Art. 5(2)",
                "The controller can demonstrate compliance (accountability)",
                &["audit_retention", "audit_chain_verified"],
            ),
            (
                "Art. 25",
                "Data protection by design and by default",
                &["access_token_lifetime", "refresh_token_lifetime"],
            ),
            (
                "Art. 32(1)(a)",
                "Encryption of personal data",
                &["issuer_https", "webhooks_tls", "signing_key_age"],
            ),
            (
                "Art. 32(1)(b)",
                "Ongoing confidentiality and integrity of processing systems",
                &["client_secrets_expire", "admin_mfa"],
            ),
        ],
    },
    Template {
        id: "pci-dss",
        title: "PCI DSS v4.0",
        controls: &[
            ("3.7", "Cryptographic keys are managed through their life", &["signing_key_age"]),
            (
                "4.2.1",
                "Strong cryptography protects data in transit over open networks",
                &["issuer_https", "webhooks_tls"],
            ),
            ("8.3.9", "Authentication factors are changed periodically", &["client_secrets_expire"]),
            ("8.4.2", "MFA for all access into the cardholder data environment", &["admin_mfa"]),
            ("8.2.8", "Idle sessions are ended", &["access_token_lifetime", "refresh_token_lifetime"]),
            ("8.3.1", "Strong authentication for users and applications", &["pkce_public_clients"]),
            ("10.3.2", "Audit logs are protected from modification", &["audit_chain_verified"]),
            ("10.5.1", "Audit logs are kept at least 12 months", &["audit_retention"]),
        ],
    },
    Template {
        id: "fapi2",
        title: "FAPI 2.0 Security Profile (Final), for the clients of the fapi2 profile",
        controls: &[
            ("5.2.1", "Every endpoint is served over TLS", &["issuer_https"]),
            (
                "5.3.2.1",
                "Confidential clients authenticate with private_key_jwt, get DPoP-bound tokens, no rotation",
                &["fapi2_clients"],
            ),
            (
                "5.3.2.2",
                "Authorization requests are pushed, with PKCE S256; a request_uri lives under 600 s",
                &["fapi2_clients", "pushed_request_lifetime"],
            ),
            ("5.4.1", "JWTs are signed with PS256, ES256 or EdDSA", &["fapi2_signing_keys"]),
            ("6", "Access tokens are short-lived", &["access_token_lifetime"]),
        ],
    },
];

/// Checks against what is stored and configured at `now`.
struct Checks<'a> {
    facts: &'a Facts,
    now: DateTime<Utc>,
    clients: Vec<clients::ClientRecord>,
    keys: Vec<portcullis_store::keys::SigningKeyRecord>,
    webhooks: Vec<portcullis_store::webhooks::WebhookRecord>,
    verification: Option<Verification>,
    /// The audit chain's head now.
    head: i64,
    admins: usize,
    admins_enrolled: usize,
}

impl Checks<'_> {
    fn run(&self, check: &'static str) -> CheckResult {
        let now = crate::time(self.now);
        let (title, status, evidence) = match check {
            "issuer_https" => self.issuer_https(),
            "pkce_public_clients" => self.pkce(),
            "access_token_lifetime" => self.access_tokens(),
            "refresh_token_lifetime" => self.refresh_tokens(),
            "signing_key_age" => self.key_age(),
            "client_secrets_expire" => self.secrets(),
            "audit_retention" => self.retention(),
            "audit_chain_verified" => return self.chain(),
            "webhooks_tls" => self.webhooks_tls(),
            "admin_mfa" => admin_mfa(self.admins, self.admins_enrolled),
            "fapi2_clients" => self.fapi2_clients(),
            "pushed_request_lifetime" => self.pushed_request_lifetime(),
            "fapi2_signing_keys" => self.fapi2_signing_keys(),
            other => ("An unknown check", Status::Fail, format!("no check `{other}`")),
        };
        CheckResult { check, title, status, evidence, verified_at: now }
    }

    fn issuer_https(&self) -> Verdict {
        let https = self.facts.issuer.starts_with("https://");
        let status = if https { Status::Pass } else { Status::Fail };
        (
            "The issuer and every endpoint are served over https",
            status,
            format!("issuer {}", self.facts.issuer),
        )
    }

    fn pkce(&self) -> Verdict {
        let public: Vec<&clients::ClientRecord> = self
            .clients
            .iter()
            .filter(|c| c.disabled_at.is_none())
            .filter(|c| c.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None)
            .collect();
        let without: Vec<&str> = public
            .iter()
            .filter(|c| !c.metadata.require_pkce || c.metadata.pkce_plain_allowed)
            .map(|c| c.client_id.as_str())
            .collect();
        let status = if without.is_empty() { Status::Pass } else { Status::Fail };
        let evidence = if without.is_empty() {
            format!("{} public clients, all require PKCE with S256", public.len())
        } else {
            format!("public clients without S256 PKCE: {}", without.join(", "))
        };
        ("Public clients must use PKCE with S256 (RFC 9700 §2.1.1)", status, evidence)
    }

    fn access_tokens(&self) -> Verdict {
        let default = self.facts.access_token_lifetime.as_secs();
        let longest = self
            .clients
            .iter()
            .map(|c| c.metadata.access_token_lifetime.unwrap_or(default))
            .max()
            .unwrap_or(default)
            .max(default);
        let status = if longest <= MAX_ACCESS_TOKEN_LIFETIME { Status::Pass } else { Status::Fail };
        let evidence =
            format!("default {default} s, longest {longest} s (at most {MAX_ACCESS_TOKEN_LIFETIME} s)");
        ("Access tokens live at most an hour", status, evidence)
    }

    fn refresh_tokens(&self) -> Verdict {
        let absolute = |c: &clients::ClientRecord| {
            c.metadata.refresh_token_absolute_lifetime.unwrap_or(crate::grants::DEFAULT_REFRESH_ABSOLUTE)
        };
        let longest =
            self.clients.iter().map(absolute).max().unwrap_or(crate::grants::DEFAULT_REFRESH_ABSOLUTE);
        let days = |seconds: u64| seconds / 86_400;
        let status = if longest <= MAX_REFRESH_TOKEN_LIFETIME { Status::Pass } else { Status::Fail };
        let evidence = format!(
            "longest refresh family {} days (at most {} days)",
            days(longest),
            days(MAX_REFRESH_TOKEN_LIFETIME)
        );
        ("Refresh tokens expire, idle and absolutely", status, evidence)
    }

    fn key_age(&self) -> Verdict {
        let limit = self
            .facts
            .key_rotation
            .and_then(|period| TimeDelta::from_std(period).ok())
            .unwrap_or(DEFAULT_KEY_AGE);
        let active: Vec<(String, TimeDelta)> = self
            .keys
            .iter()
            .filter(|k| k.state == KeyState::Active)
            .map(|k| (k.kid.clone(), self.now - k.activated_at.unwrap_or(k.created_at)))
            .collect();
        let old: Vec<String> = active
            .iter()
            .filter(|(_, age)| *age > limit)
            .map(|(kid, age)| format!("{kid} ({} days)", age.num_days()))
            .collect();
        let status = if !old.is_empty() {
            Status::Fail
        } else if self.facts.key_rotation.is_none() {
            Status::Warn
        } else {
            Status::Pass
        };
        let oldest = active.iter().map(|(_, age)| age.num_days()).max().unwrap_or(0);
        let evidence = match (old.is_empty(), self.facts.key_rotation) {
            (false, _) => format!("older than {} days: {}", limit.num_days(), old.join(", ")),
            (true, Some(_)) => format!(
                "{} active keys, the oldest {oldest} days; rotated every {} days",
                active.len(),
                limit.num_days()
            ),
            (true, None) => format!(
                "{} active keys, the oldest {oldest} days; no automatic rotation (--key-rotation-days)",
                active.len()
            ),
        };
        ("Signing keys are younger than the rotation period", status, evidence)
    }

    /// The enabled clients of the fapi2 profile.
    fn fapi2(&self) -> impl Iterator<Item = &clients::ClientRecord> {
        self.clients.iter().filter(|c| c.disabled_at.is_none() && c.metadata.is_fapi2())
    }

    fn fapi2_clients(&self) -> Verdict {
        let title = "Clients of the fapi2 profile keep its rules";
        let all: Vec<&clients::ClientRecord> = self.fapi2().collect();
        if all.is_empty() {
            return (title, Status::NotApplicable, "no enabled client has the fapi2 profile".into());
        }
        let broken: Vec<String> = all
            .iter()
            .filter_map(|c| {
                portcullis_core::client_profile::check(&c.metadata)
                    .err()
                    .map(|e| format!("{} ({e})", c.client_id))
            })
            .collect();
        if !broken.is_empty() {
            return (title, Status::Fail, format!("breaking the profile: {}", broken.join(", ")));
        }
        let evidence = format!(
            "{} clients, each with private_key_jwt, pushed requests, PKCE S256, DPoP-bound tokens, refresh tokens not rotated and no RS256",
            all.len()
        );
        (title, Status::Pass, evidence)
    }

    fn pushed_request_lifetime(&self) -> Verdict {
        let lifetime = self.facts.pushed_request_lifetime;
        let status = if lifetime < FAPI2_PUSHED_REQUEST_LIFETIME { Status::Pass } else { Status::Fail };
        let evidence = format!("a request_uri lives {} s (--par-lifetime)", lifetime.as_secs());
        ("A pushed request's request_uri lives under 600 s", status, evidence)
    }

    fn fapi2_signing_keys(&self) -> Verdict {
        let title = "The algorithms fapi2 clients sign with have active keys";
        let mut used: Vec<SigningAlgorithm> = self
            .fapi2()
            .flat_map(|c| {
                let m = &c.metadata;
                [Some(m.access_token_signed_response_alg), Some(m.id_token_signed_response_alg)]
                    .into_iter()
                    .chain([m.userinfo_signed_response_alg, m.introspection_signed_response_alg])
                    .flatten()
            })
            .collect();
        used.sort();
        used.dedup();
        if used.is_empty() {
            return (title, Status::NotApplicable, "no enabled client has the fapi2 profile".into());
        }
        let active =
            |alg: &SigningAlgorithm| self.keys.iter().any(|k| k.alg == *alg && k.state == KeyState::Active);
        let names =
            |algs: &[&SigningAlgorithm]| algs.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
        let (with, without): (Vec<_>, Vec<_>) = used.iter().partition(|alg| active(alg));
        if without.is_empty() {
            (title, Status::Pass, format!("active keys for {}", names(&with)))
        } else {
            (title, Status::Fail, format!("no active key for {}", names(&without)))
        }
    }

    fn secrets(&self) -> Verdict {
        let live: Vec<(&str, &clients::SecretRecord)> = self
            .clients
            .iter()
            .filter(|c| c.disabled_at.is_none())
            .flat_map(|c| c.secrets.iter().map(move |s| (c.client_id.as_str(), s)))
            .filter(|(_, s)| s.expires_at.is_none_or(|at| at > self.now))
            .collect();
        let forever: Vec<&str> =
            live.iter().filter(|(_, s)| s.expires_at.is_none()).map(|(id, _)| *id).collect();
        let status = if forever.is_empty() { Status::Pass } else { Status::Fail };
        let evidence = if forever.is_empty() {
            format!("{} live client secrets, all with an expiry", live.len())
        } else {
            let mut clients = forever.clone();
            clients.dedup();
            format!(
                "{} of {} live client secrets never expire (clients: {})",
                forever.len(),
                live.len(),
                clients.join(", ")
            )
        };
        ("Client secrets have an expiry", status, evidence)
    }

    fn retention(&self) -> Verdict {
        let days = self.facts.audit_retention.as_secs() / 86_400;
        let status = if days as i64 >= MIN_AUDIT_RETENTION.num_days() { Status::Pass } else { Status::Fail };
        (
            "Audit entries are kept at least a year",
            status,
            format!("kept {days} days (--audit-retention-days)"),
        )
    }

    /// Passes only on a verification that read entries: one that found
    /// the log empty says nothing of the entries written since.
    fn chain(&self) -> CheckResult {
        let title = "The audit chain was verified intact within 24 hours";
        let (status, evidence, verified_at) = match &self.verification {
            None => (Status::Fail, "never verified".to_owned(), crate::time(self.now)),
            Some(v) if !v.ok => (Status::Fail, v.detail.clone(), crate::time(v.at())),
            Some(v) if self.now - v.at() > VERIFIED_WITHIN => (
                Status::Fail,
                format!("last verified more than 24 hours ago: {}", v.detail),
                crate::time(v.at()),
            ),
            Some(v) if v.entries == 0 && self.head > 0 => (
                Status::Fail,
                format!(
                    "the last verification read no entries; the {} written since are not verified yet",
                    self.head
                ),
                crate::time(v.at()),
            ),
            Some(v) => {
                let since = (self.head - v.last).max(0);
                let evidence =
                    format!("{} entries intact, up to #{}; {since} written since", v.entries, v.last);
                (Status::Pass, evidence, crate::time(v.at()))
            }
        };
        CheckResult { check: "audit_chain_verified", title, status, evidence, verified_at }
    }

    fn webhooks_tls(&self) -> Verdict {
        let plain: Vec<&str> = self
            .webhooks
            .iter()
            .filter(|w| !w.url.starts_with("https://"))
            .map(|w| w.webhook_id.as_str())
            .collect();
        let status = if plain.is_empty() { Status::Pass } else { Status::Warn };
        let evidence = if plain.is_empty() {
            format!("{} webhook endpoints, all https", self.webhooks.len())
        } else {
            format!("over loopback http: {}", plain.join(", "))
        };
        ("Webhooks are delivered over TLS", status, evidence)
    }
}

/// A check's title, status and evidence.
type Verdict = (&'static str, Status, String);

/// Admin users: the console asks each for a TOTP code at every sign-in,
/// and one not enrolled yet enrols before it opens.
fn admin_mfa(admins: usize, enrolled: usize) -> Verdict {
    let title = "Admin users sign in with a second factor";
    let machines = "admin API clients are machine identities with client credentials";
    if admins == 0 {
        return (title, Status::NotApplicable, format!("no user holds an admin role; {machines}"));
    }
    let evidence = format!(
        "the console asks every admin user for a TOTP code at every sign-in; {enrolled} of {admins} enrolled; {machines}"
    );
    // One not enrolled yet has only a password until it enrols: whoever
    // knows it would register their own authenticator.
    let status = if enrolled == admins { Status::Pass } else { Status::Warn };
    (title, status, evidence)
}

/// The worst of `statuses`: fail, then warn, then pass; not applicable only alone.
fn worst(statuses: impl Iterator<Item = Status>) -> Status {
    statuses.fold(Status::NotApplicable, |worst, status| match (worst, status) {
        (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
        (Status::Warn, _) | (_, Status::Warn) => Status::Warn,
        (Status::Pass, _) | (_, Status::Pass) => Status::Pass,
        _ => Status::NotApplicable,
    })
}

impl App {
    /// The report of `template` (`soc2`, `gdpr`, `pci-dss`, `fapi2`) for this
    /// installation, configured with `facts`.
    pub fn compliance_report(
        &self,
        actor: &Actor,
        template: &str,
        facts: &Facts,
    ) -> Result<Report, AppError> {
        let template = TEMPLATES.iter().find(|t| t.id == template).ok_or_else(|| {
            AppError::NotFound(format!("no template `{template}`: soc2, gdpr, pci-dss or fapi2"))
        })?;
        self.read(actor, Permission::Monitoring, |conn| {
            let admins = portcullis_store::admin_roles::holders(conn)?;
            let mut admins_enrolled = 0;
            for user_id in &admins {
                let totp = portcullis_store::totp::find(conn, user_id)?;
                admins_enrolled += usize::from(totp.is_some_and(|t| t.confirmed_at.is_some()));
            }
            let checks = Checks {
                facts,
                now: self.now(),
                clients: clients::all(conn)?,
                keys: keys::all(conn)?,
                webhooks: webhooks::all(conn)?,
                verification: last_verification(conn)?,
                head: portcullis_store::audit::head(conn)?.0,
                admins: admins.len(),
                admins_enrolled,
            };
            let mut summary = Summary::default();
            let controls: Vec<ControlResult> = template
                .controls
                .iter()
                .map(|(control, title, ids)| {
                    let results: Vec<CheckResult> = ids.iter().map(|id| checks.run(id)).collect();
                    let status = worst(results.iter().map(|r| r.status));
                    *match status {
                        Status::Pass => &mut summary.pass,
                        Status::Fail => &mut summary.fail,
                        Status::Warn => &mut summary.warn,
                        Status::NotApplicable => &mut summary.not_applicable,
                    } += 1;
                    ControlResult { control, title, status, checks: results }
                })
                .collect();
            Ok(Report {
                template: template.id,
                title: template.title,
                generated_at: crate::time(checks.now),
                summary,
                controls,
            })
        })
    }

    /// Verifies the audit chain, as the system, if the last verification
    /// (by anyone: the CLI's counts) is older than [`VERIFY_EVERY`].
    pub fn verify_audit_chain_if_due(&self) -> Result<(), AppError> {
        let mut conn = self.db.get()?;
        let last = last_verification(&mut conn)?;
        let head = portcullis_store::audit::head(&mut conn)?.0;
        drop(conn);
        // A verification of an empty log is renewed once there are entries.
        let covered = |v: &Verification| v.entries > 0 || head == 0;
        if last.is_some_and(|v| self.now() - v.at() < VERIFY_EVERY && covered(&v)) {
            return Ok(());
        }
        if let Err(e) = self.verify_audit_log(&Actor::System { job: "audit_verify" }) {
            tracing::error!(error = %e, "the audit log was not verified intact");
        }
        Ok(())
    }
}

/// Verifies the audit chain when due, checking every ten minutes, for as long as
/// `alive` exists.
pub fn spawn(app: Arc<App>, alive: Weak<dyn std::any::Any + Send + Sync>) {
    crate::periodic::spawn("audit-verify", Duration::from_secs(600), alive, move || {
        if let Err(e) = app.verify_audit_chain_if_due() {
            tracing::warn!(error = %e, "the audit chain could not be verified; it will be tried again");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_templates_checks_exist_and_the_worst_status_wins() {
        let known = [
            "issuer_https",
            "pkce_public_clients",
            "access_token_lifetime",
            "refresh_token_lifetime",
            "signing_key_age",
            "client_secrets_expire",
            "audit_retention",
            "audit_chain_verified",
            "webhooks_tls",
            "admin_mfa",
            "fapi2_clients",
            "pushed_request_lifetime",
            "fapi2_signing_keys",
        ];
        for template in &TEMPLATES {
            for (control, _, checks) in template.controls {
                assert!(!checks.is_empty(), "{control}");
                assert!(checks.iter().all(|c| known.contains(c)), "{}: {control}", template.id);
            }
        }
        assert_eq!(worst([Status::Pass, Status::Warn].into_iter()), Status::Warn);
        assert_eq!(worst([Status::NotApplicable, Status::Pass, Status::Fail].into_iter()), Status::Fail);
        assert_eq!(worst([Status::NotApplicable].into_iter()), Status::NotApplicable);
    }
}
