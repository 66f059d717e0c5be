//! The languages of the sign-in pages: English, and German, chosen by the
//! browser's `Accept-Language` (RFC 9110 §12.5.4, its weights honoured);
//! English when the browser asks for neither. Each language is one
//! [`Texts`], checked at compile time to have every text. Messages meant for
//! a client's developer (an authorization request's error description)
//! stay as the protocol's English.

use actix_web::http::header;
use actix_web::HttpRequest;

/// Every text of the sign-in pages, in one language.
pub struct Texts {
    /// The BCP 47 tag, for `<html lang>`.
    pub lang: &'static str,
    /// The skip link.
    pub skip: &'static str,
    /// The login page's title and button.
    pub sign_in: &'static str,
    /// "Sign in to continue to" CLIENT ".".
    pub continue_to: (&'static str, &'static str),
    /// The username field.
    pub username: &'static str,
    /// The password field.
    pub password: &'static str,
    /// A failed login, whatever failed.
    pub wrong_password: &'static str,
    /// A login refused for too many attempts.
    pub too_many_attempts: &'static str,
    /// A browser that sends no cookies.
    pub cookies_needed: &'static str,
    /// The title of a refused sign-in request.
    pub refused_title: &'static str,
    /// What to do about it.
    pub try_again: &'static str,
    /// An interaction that expired or was completed.
    pub expired: &'static str,
    /// An interaction completed already.
    pub completed: &'static str,
    /// A client deleted during sign-in.
    pub client_gone: &'static str,
    /// A consent form without a decision.
    pub consent_incomplete: &'static str,
    /// The title of a form whose CSRF token does not match.
    pub form_expired_title: &'static str,
    /// What it says.
    pub form_expired: &'static str,
    /// The consent page's title.
    pub consent_title: &'static str,
    /// CLIENT "asks to:".
    pub asks_to: &'static str,
    /// The consent buttons.
    pub allow: &'static str,
    /// The consent buttons.
    pub deny: &'static str,
    /// What the standard scopes let a client do: `openid`, `profile`,
    /// `email`, `address`, `phone`, `offline_access`.
    pub scopes: [&'static str; 6],
    /// "Use “" SCOPE "”", for other scopes.
    pub other_scope: (&'static str, &'static str),
    /// The logout page's title and button.
    pub sign_out: &'static str,
    /// Its question.
    pub sign_out_question: &'static str,
    /// The page after logging out: title and text.
    pub signed_out: (&'static str, &'static str),
    /// The second factor's title.
    pub two_step: &'static str,
    /// How to enrol.
    pub enrol: &'static str,
    /// The QR code's link.
    pub add_to_app: &'static str,
    /// The manual key's label.
    pub key: &'static str,
    /// How to give a code.
    pub enter_code: &'static str,
    /// The code field.
    pub code: &'static str,
    /// The second factor's button.
    pub next: &'static str,
    /// A wrong code.
    pub wrong_code: &'static str,
    /// Too many wrong codes.
    pub too_many_codes: &'static str,
    /// Too many attempts from one address.
    pub wait_a_minute: &'static str,
    /// A user without an admin role at the console's second step: title and text.
    pub no_role: (&'static str, &'static str),
    /// The recovery codes: title, heading, text and the link onwards.
    pub recovery: [&'static str; 4],
    /// The client's links: home page, privacy policy, terms of service.
    pub client_links: [&'static str; 3],
    /// Before the host of a client's metadata document: who describes it.
    pub described_at: &'static str,
    /// Before the claims of the user a client's mappings share with any scope.
    pub also_shared: &'static str,
    /// The device verification page (RFC 8628 §3.3).
    pub device: DeviceTexts,
}

/// The words of the device verification page and its outcomes.
pub struct DeviceTexts {
    /// The page's title.
    pub title: &'static str,
    /// What to do.
    pub prompt: &'static str,
    /// A code that names no waiting device.
    pub wrong_code: &'static str,
    /// On the consent page: the code, and a warning against remote phishing (RFC 8628 §5.4).
    pub check: &'static str,
    /// After approving: title and text.
    pub approved: (&'static str, &'static str),
    /// After denying: title and text.
    pub denied: (&'static str, &'static str),
}

/// English.
pub const EN: Texts = Texts {
    lang: "en",
    skip: "Skip to content",
    sign_in: "Sign in",
    continue_to: ("Sign in to continue to ", "."),
    username: "Username",
    password: "Password",
    wrong_password: "The username or password is incorrect.",
    too_many_attempts: "Too many attempts. Wait a few minutes and try again.",
    cookies_needed: "Cookies must be enabled to sign in.",
    refused_title: "Sign-in request refused",
    try_again: "Return to the application and try again.",
    expired: "This sign-in request has expired or was already completed. Go back to the application and sign in again.",
    completed: "This sign-in request was already completed.",
    client_gone: "The client is no longer available.",
    consent_incomplete: "The consent form was incomplete.",
    form_expired_title: "Form expired",
    form_expired: "This form is no longer valid. Go back to the application and try again.",
    consent_title: "Allow access?",
    asks_to: " asks to:",
    allow: "Allow",
    deny: "Deny",
    scopes: [
        "Confirm who you are",
        "See your name and profile",
        "See your e-mail address",
        "See your postal address",
        "See your phone number",
        "Keep access while you are not using it",
    ],
    other_scope: ("Use “", "”"),
    sign_out: "Sign out",
    sign_out_question: "Do you want to sign out?",
    signed_out: ("Signed out", "You are signed out."),
    two_step: "Two-step sign-in",
    enrol: "This sign-in needs a second step. Scan this code with an authenticator app, or type the key into it, then enter the six-digit code it shows.",
    add_to_app: "Add to an authenticator app on this device",
    key: "Key",
    enter_code: "Enter the six-digit code from your authenticator app, or one of your recovery codes.",
    code: "Code",
    next: "Continue",
    wrong_code: "That code is not right, or was used already. Try the next one.",
    too_many_codes: "Too many wrong codes. Wait a few minutes and try again.",
    wait_a_minute: "Too many attempts. Wait a minute and try again.",
    no_role: ("No admin role", "This account holds no admin role: it cannot use the console."),
    recovery: [
        "Recovery codes",
        "Save your recovery codes",
        "Two-step sign-in is on. If you lose your authenticator, each of these codes signs you in once. They are shown only now: keep them somewhere safe.",
        "I saved them: continue",
    ],
    client_links: ["Home page", "Privacy policy", "Terms of service"],
    described_at: "Not registered here: this app describes itself at",
    also_shared: "Also shared with the app:",
    device: DeviceTexts {
        title: "Connect a device",
        prompt: "Enter the code your device shows.",
        wrong_code: "This code is not valid or has expired. Check the code on your device.",
        check: "Only allow this if you started it on a device in front of you, and it shows this code:",
        approved: ("Device connected", "Your device is signed in. You may return to it and close this page."),
        denied: ("Access denied", "The device was not given access. You may close this page."),
    },
};

/// German.
pub const DE: Texts = Texts {
    lang: "de",
    skip: "Zum Inhalt springen",
    sign_in: "Anmelden",
    continue_to: ("Melden Sie sich an, um zu ", " zu gelangen."),
    username: "Benutzername",
    password: "Passwort",
    wrong_password: "Benutzername oder Passwort ist falsch.",
    too_many_attempts: "Zu viele Versuche. Warten Sie einige Minuten und versuchen Sie es erneut.",
    cookies_needed: "Zum Anmelden müssen Cookies aktiviert sein.",
    refused_title: "Anmeldeanfrage abgelehnt",
    try_again: "Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    expired: "Diese Anmeldeanfrage ist abgelaufen oder wurde bereits abgeschlossen. Kehren Sie zur Anwendung zurück und melden Sie sich erneut an.",
    completed: "Diese Anmeldeanfrage wurde bereits abgeschlossen.",
    client_gone: "Die Anwendung ist nicht mehr verfügbar.",
    consent_incomplete: "Das Zustimmungsformular war unvollständig.",
    form_expired_title: "Formular abgelaufen",
    form_expired: "Dieses Formular ist nicht mehr gültig. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.",
    consent_title: "Zugriff erlauben?",
    asks_to: " möchte:",
    allow: "Erlauben",
    deny: "Ablehnen",
    scopes: [
        "Bestätigen, wer Sie sind",
        "Ihren Namen und Ihr Profil sehen",
        "Ihre E-Mail-Adresse sehen",
        "Ihre Postanschrift sehen",
        "Ihre Telefonnummer sehen",
        "Zugriff behalten, während Sie die Anwendung nicht nutzen",
    ],
    other_scope: ("„", "“ verwenden"),
    sign_out: "Abmelden",
    sign_out_question: "Möchten Sie sich abmelden?",
    signed_out: ("Abgemeldet", "Sie sind abgemeldet."),
    two_step: "Zweistufige Anmeldung",
    enrol: "Diese Anmeldung verlangt einen zweiten Schritt. Scannen Sie diesen Code mit einer Authenticator-App oder geben Sie den Schlüssel dort ein, dann den sechsstelligen Code, den sie anzeigt.",
    add_to_app: "Zu einer Authenticator-App auf diesem Gerät hinzufügen",
    key: "Schlüssel",
    enter_code: "Geben Sie den sechsstelligen Code aus Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.",
    code: "Code",
    next: "Weiter",
    wrong_code: "Dieser Code ist falsch oder wurde bereits verwendet. Versuchen Sie den nächsten.",
    too_many_codes: "Zu viele falsche Codes. Warten Sie einige Minuten und versuchen Sie es erneut.",
    wait_a_minute: "Zu viele Versuche. Warten Sie eine Minute und versuchen Sie es erneut.",
    no_role: (
        "Keine Administratorrolle",
        "Dieses Konto hat keine Administratorrolle: Es kann die Konsole nicht verwenden.",
    ),
    recovery: [
        "Wiederherstellungscodes",
        "Speichern Sie Ihre Wiederherstellungscodes",
        "Die zweistufige Anmeldung ist aktiv. Wenn Sie Ihren Authenticator verlieren, meldet Sie jeder dieser Codes einmal an. Sie werden nur jetzt angezeigt: Bewahren Sie sie sicher auf.",
        "Gespeichert: weiter",
    ],
    client_links: ["Startseite", "Datenschutzerklärung", "Nutzungsbedingungen"],
    described_at: "Hier nicht registriert: Diese App beschreibt sich selbst auf",
    also_shared: "Außerdem erhält die App:",
    device: DeviceTexts {
        title: "Gerät verbinden",
        prompt: "Geben Sie den Code ein, den Ihr Gerät anzeigt.",
        wrong_code: "Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät.",
        check: "Erlauben Sie dies nur, wenn Sie es selbst auf einem Gerät vor Ihnen begonnen haben und es diesen Code zeigt:",
        approved: ("Gerät verbunden", "Ihr Gerät ist angemeldet. Sie können zu ihm zurückkehren und diese Seite schließen."),
        denied: ("Zugriff abgelehnt", "Das Gerät hat keinen Zugriff erhalten. Sie können diese Seite schließen."),
    },
};

/// The languages, the default first.
const LANGUAGES: [&Texts; 2] = [&EN, &DE];

impl Texts {
    /// What the scope `scope` lets a client do, in words.
    pub fn scope_in_words(&self, scope: &str) -> String {
        let standard = ["openid", "profile", "email", "address", "phone", "offline_access"];
        match standard.iter().position(|s| *s == scope) {
            Some(i) => self.scopes[i].to_owned(),
            None => format!("{}{scope}{}", self.other_scope.0, self.other_scope.1),
        }
    }
}

/// The language `accept_language` prefers most among those there are
/// (RFC 9110 §12.5.4: weights, with `q=0` refusing; `*` for any language not
/// named; `de-CH` matching `de`); English when none is acceptable.
pub fn negotiate(accept_language: Option<&str>) -> &'static Texts {
    let mut ranges: Vec<(u16, String)> = accept_language
        .unwrap_or_default()
        .split(',')
        .take(20)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let weight = parts.find_map(|p| {
                let p = p.trim();
                p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
            });
            let weight = match weight {
                None => 1000,
                Some(q) => (q.trim().parse::<f32>().ok()?.clamp(0.0, 1.0) * 1000.0) as u16,
            };
            (!tag.is_empty()).then_some((weight, tag))
        })
        .collect();
    ranges.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    let primary = |tag: &str| tag.split('-').next().unwrap_or_default().to_owned();
    // Refusing `de-CH` refuses Swiss German only: a language is refused
    // when its bare tag is.
    let refused: Vec<String> = ranges.iter().filter(|(w, _)| *w == 0).map(|(_, tag)| tag.clone()).collect();
    let named: Vec<String> = ranges.iter().map(|(_, tag)| primary(tag)).collect();
    ranges
        .iter()
        .filter(|(weight, _)| *weight > 0)
        .find_map(|(_, tag)| {
            let wanted = primary(tag);
            LANGUAGES.iter().copied().find(|t| {
                let lang = t.lang.to_owned();
                if wanted == "*" {
                    !named.contains(&lang) && !refused.contains(&lang)
                } else {
                    lang == wanted && !refused.contains(&lang)
                }
            })
        })
        .unwrap_or(LANGUAGES[0])
}

/// The language of the browser making `req` (every `Accept-Language` it sent).
pub fn of(req: &HttpRequest) -> &'static Texts {
    let headers: Vec<&str> =
        req.headers().get_all(header::ACCEPT_LANGUAGE).filter_map(|v| v.to_str().ok()).collect();
    negotiate(Some(&headers.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_wanted_language_there_is_wins() {
        let lang = |header: Option<&str>| negotiate(header).lang;
        assert_eq!(lang(None), "en");
        assert_eq!(lang(Some("de-CH, de;q=0.9, en;q=0.8")), "de");
        assert_eq!(lang(Some("fr, de;q=0.5, en;q=0.4")), "de", "French is not there; German is wanted more");
        assert_eq!(lang(Some("en;q=0.2, DE;q=0.7")), "de", "by weight, any case");
        assert_eq!(lang(Some("de;q=0, *")), "en", "q=0 refuses");
        assert_eq!(lang(Some("en;q=0, *")), "de", "any language but English");
        assert_eq!(lang(Some("fr, *;q=0.5")), "en", "any language: the first there is");
        assert_eq!(lang(Some("de;Q=0.9, en;Q=0.1")), "de");
        assert_eq!(lang(Some("de-CH;q=0, de")), "de", "only Swiss German is refused");
        assert_eq!(lang(Some("en-US;q=0, en-GB, de;q=0.5")), "en");
        assert_eq!(lang(Some("fr")), "en");
        assert_eq!(lang(Some(";;;q=x,,")), "en", "nonsense is ignored");
    }

    #[test]
    fn scopes_are_put_in_words() {
        assert_eq!(DE.scope_in_words("email"), "Ihre E-Mail-Adresse sehen");
        assert_eq!(EN.scope_in_words("orders:read"), "Use “orders:read”");
    }
}
