//! The portal's words, in English and German, chosen as the sign-in pages'
//! are ([`crate::locale`]: the browser's `Accept-Language`). Each language
//! is one [`PortalTexts`], checked at compile time to have every text. What
//! the application layer says (a refusal's reason) stays English, as the
//! REST API says it.

use actix_web::HttpRequest;

/// Every text of the portal's pages, in one language.
pub struct PortalTexts {
    /// The BCP 47 tag, for `<html lang>`.
    pub lang: &'static str,
    /// The skip link.
    pub skip: &'static str,
    /// The portal's name.
    pub portal: &'static str,
    /// The navigation's label, and its entry for the teams.
    pub nav: (&'static str, &'static str),
    /// The sign-out button.
    pub sign_out: &'static str,
    /// The home page: title and what it says when the user is in no team.
    pub home: (&'static str, &'static str),
    /// The role names: viewer, developer, owner.
    pub roles: [&'static str; 3],
    /// Column heads: name, role, state, expires, last used, scope, created.
    pub columns: [&'static str; 7],
    /// The team page's sections: apps, members, invitations, tokens, policy.
    pub sections: [&'static str; 5],
    /// An app's states: enabled, disabled, pending approval.
    pub states: [&'static str; 3],
    /// Buttons: new app, create, invite, change role, remove, leave, revoke, add secret, withdraw, join, make token.
    pub buttons: [&'static str; 11],
    /// Joining a team: title, question.
    pub join: (&'static str, &'static str),
    /// What an invitation says: the team, the role, who invited.
    pub join_facts: [&'static str; 3],
    /// An inviter who is an admin rather than a member.
    pub an_admin: &'static str,
    /// Something shown this once: title, warning, copy button, copied.
    pub shown_once: [&'static str; 4],
    /// An app's page: secrets, no secret (it authenticates otherwise), expires in days, never.
    pub secrets: [&'static str; 4],
    /// An app's scope request: heading, waiting text, the last decision.
    pub scope_request: [&'static str; 3],
    /// Personal access tokens: intro, name field, scope field, days field.
    pub tokens: [&'static str; 4],
    /// The invitation form: its role field, the link's lifetime in days.
    pub invite: [&'static str; 2],
    /// A form whose CSRF token does not match: title and text.
    pub form_expired: (&'static str, &'static str),
    /// After signing out: title, text, sign in again.
    pub signed_out: [&'static str; 3],
    /// Words of the policy: the most apps, second factor needed, scopes needing approval, secrets live at most (days).
    pub policy: [&'static str; 4],
    /// "Back to" before a page's name.
    pub back: &'static str,
    /// A team without an app.
    pub no_apps: &'static str,
    /// The states of tokens and requests: active, expired, revoked, pending, approved, rejected, withdrawn.
    pub token_states: [&'static str; 7],
    /// A copy that did not work: what to do instead.
    pub copy_by_hand: &'static str,
    /// The monitoring of an app.
    pub usage: UsageTexts,
    /// Regenerating secrets in bulk: what it does, its button, a box's label before the app's name.
    pub regenerate: [&'static str; 3],
    /// Changing an app: the review, versions and rollback.
    pub changes: ChangeTexts,
    /// The team's webhook endpoints.
    pub webhooks: WebhookTexts,
    /// The sign-in's pages.
    pub sign_in: crate::site_sign_in::SignInWords,
    /// A sign-in that was another site's.
    pub not_the_portals: &'static str,
    /// The owners' settings: heading, what they may do, tokens' lifetime, the button.
    pub settings: [&'static str; 4],
}

/// The page's title and text for a form whose body was not read, in German.
pub fn form_refused_in_german(why: &crate::form::BodyRefusal) -> (&'static str, String) {
    use crate::form::BodyRefusal;
    let reason = match why {
        BodyRefusal::NotForm => "es muss als application/x-www-form-urlencoded gesendet werden".to_owned(),
        BodyRefusal::TooLarge(limit) => format!("es ist größer als {limit} Bytes"),
        BodyRefusal::Unreadable => "es konnte nicht gelesen werden".to_owned(),
        BodyRefusal::TooSlow => "es kam nicht rechtzeitig an".to_owned(),
    };
    ("Formular nicht angenommen", format!("Das Formular wurde nicht angenommen: {reason}."))
}

/// The words of a team's webhook endpoints.
pub struct WebhookTexts {
    /// The pages' title and the link to them.
    pub title: &'static str,
    /// What an endpoint receives, and how it is signed.
    pub intro: &'static str,
    /// Field labels and column heads: URL, events, description.
    pub fields: [&'static str; 3],
    /// Help under the URL and the events.
    pub help: [&'static str; 2],
    /// Buttons: add, send a test event, turn off, turn on, delete.
    pub buttons: [&'static str; 5],
    /// A team without an endpoint.
    pub none: &'static str,
    /// An endpoint naming no events.
    pub every: &'static str,
    /// Before the time since which every delivery failed.
    pub failing: &'static str,
    /// Deliveries: heading, event, status, attempts, last answer.
    pub deliveries: [&'static str; 5],
    /// A delivery's statuses: pending, delivered, failed.
    pub statuses: [&'static str; 3],
}

impl WebhookTexts {
    /// The name of a delivery's `status` in this language.
    pub fn status(&self, status: &str) -> &'static str {
        ["pending", "delivered", "failed"].iter().position(|s| *s == status).map_or("", |i| self.statuses[i])
    }
}

/// The words of changing an app, its versions and rollback.
pub struct ChangeTexts {
    /// The app, after "Back to".
    pub app: &'static str,
    /// The builder's title and the link to it.
    pub edit: &'static str,
    /// The review's title and the builder's button.
    pub review: &'static str,
    /// Column heads: setting, now.
    pub setting: &'static str,
    /// The current configuration's column.
    pub now: &'static str,
    /// The changed configuration's column: after saving, after rolling back.
    pub after: [&'static str; 2],
    /// A change that changes nothing.
    pub nothing: &'static str,
    /// Before the number of the version saving writes.
    pub writes: &'static str,
    /// Before the scopes a change leaves waiting for an admin.
    pub waiting: &'static str,
    /// The save button.
    pub save: &'static str,
    /// Back to the builder with the draft.
    pub change_draft: &'static str,
    /// A version saved meanwhile: what happened, and before the settings both changed.
    pub stale: [&'static str; 2],
    /// A form without its version; a draft that could not be read.
    pub unread: [&'static str; 2],
    /// The versions' title and link.
    pub versions: &'static str,
    /// One version, before its number.
    pub version: &'static str,
    /// The current version's badge.
    pub current: &'static str,
    /// Comparing: from, to, the button.
    pub compare: [&'static str; 3],
    /// Rolling back: the title before the version, the link, what it does, the button.
    pub roll_back: [&'static str; 4],
    /// Cancel.
    pub cancel: &'static str,
    /// A setting that differs.
    pub changed: &'static str,
}

/// The words of an app's monitoring.
pub struct UsageTexts {
    /// The page's title, and the link to it.
    pub title: &'static str,
    /// The ranges' label.
    pub range: &'static str,
    /// Tiles and charts: requests, tokens issued, errors, latency p95, answers 401/403, error rate.
    pub figures: [&'static str; 6],
    /// Failed authentications with reasons: heading, reason, count, last.
    pub failures: [&'static str; 4],
    /// The errors' classes: 401 and 403, the other 4xx, 5xx.
    pub classes: [&'static str; 3],
    /// Recent events: heading, when, who, what, nothing yet.
    pub events: [&'static str; 5],
    /// The words around a chart.
    pub chart: crate::console::chart::ChartWords,
    /// What is unusual: heading on a team's page, heading on an app's page.
    pub unusual: [&'static str; 2],
}

/// English.
pub const EN: PortalTexts = PortalTexts {
    lang: "en",
    skip: "Skip to content",
    portal: "Developer portal",
    nav: ("Portal", "Teams"),
    sign_out: "Sign out",
    home: ("Your teams", "You belong to no team yet. Ask a team's owner for an invitation link."),
    roles: ["viewer", "developer", "owner"],
    columns: ["Name", "Role", "State", "Expires", "Last used", "Scope", "Created"],
    sections: ["Apps", "Members", "Open invitations", "Personal access tokens", "What this team's apps may be"],
    states: ["enabled", "disabled", "waiting for approval"],
    buttons: [
        "New app",
        "Create",
        "Invite",
        "Change role",
        "Remove",
        "Leave the team",
        "Revoke",
        "Add a secret",
        "Withdraw the request",
        "Join",
        "Make a token",
    ],
    join: ("Join a team", "You were invited to join this team. Join it?"),
    join_facts: ["Team", "Role", "Invited by"],
    an_admin: "an admin",
    shown_once: [
        "Copy it now",
        "This is shown once, now. Store it where it belongs; nobody can show it to you again.",
        "Copy",
        "Copied",
    ],
    secrets: ["Secrets", "This app authenticates without a secret.", "Expires in (days)", "never"],
    scope_request: [
        "Scopes waiting for an admin",
        "These scopes need an admin's approval. The app works without them until then.",
        "Last decision",
    ],
    tokens: [
        "A personal access token acts for you in this team, as far as its scope and your role allow: at the portal's API (/portal/v1) and, for resource servers, at introspection.",
        "Name",
        "Scope",
        "Expires in (days)",
    ],
    invite: ["Role", "Link valid for (days)"],
    form_expired: ("Form expired", "This form is no longer valid. Reload the page and try again."),
    signed_out: ["Signed out", "You signed out of the portal.", "Sign in again"],
    policy: ["At most this many apps", "Members need a second factor", "Scopes needing approval", "Secrets live at most (days)"],
    back: "Back to",
    no_apps: "No app yet.",
    token_states: ["active", "expired", "revoked", "pending", "approved", "rejected", "withdrawn"],
    copy_by_hand: "Select and copy",
    usage: UsageTexts {
        title: "Monitoring",
        range: "Range",
        figures: ["Requests", "Tokens issued", "Errors", "Latency p95", "Answered 401 or 403", "Error rate"],
        failures: ["Failed authentications, by reason", "Reason", "Count", "Last"],
        classes: ["401/403", "other 4xx", "5xx"],
        events: ["Recent events", "When", "Who", "What", "Nothing yet."],
        chart: crate::console::chart::ENGLISH,
        unusual: ["Unusual now", "Why it is flagged"],
    },
    regenerate: [
        "Choose apps (up to 50) to give each one new secret in place of all of its others, together.",
        "Regenerate their secrets",
        "Choose",
    ],
    changes: ChangeTexts {
        app: "the app",
        edit: "Edit",
        review: "Review the change",
        setting: "Setting",
        now: "Now",
        after: ["After saving", "After rolling back"],
        nothing: "Nothing changes: this is the current configuration.",
        writes: "Saving writes version",
        waiting: "These scopes then wait for an admin's approval:",
        save: "Save",
        change_draft: "Change the draft",
        stale: [
            "Someone saved a new version of this app after you opened the form. Your changes are applied to it below; nothing was saved yet.",
            "You both changed these settings, and yours would replace theirs",
        ],
        unread: ["The form does not say which version it showed.", "The draft could not be read."],
        versions: "Versions",
        version: "Version",
        current: "current",
        compare: ["compare from", "to", "Compare"],
        roll_back: [
            "Roll back to version",
            "Roll back to this version…",
            "That version's configuration is written as a new version, within the team's policy: what the policy no longer allows is refused, and a scope needing approval waits for an admin. Secrets, state and the versions stay.",
            "Roll back",
        ],
        cancel: "Cancel",
        changed: "changed",
    },
    webhooks: WebhookTexts {
        title: "Webhooks",
        intro: "An endpoint receives the team's events as its members read them (its apps, members, registration tokens and endpoints), signed as Standard Webhooks specify with a secret shown once. Deliveries are retried for about a day.",
        fields: ["URL", "Events", "Description"],
        help: [
            "https, to a public address.",
            "Event names or prefixes, one a line (client.*, team.member_added); empty: every event the team receives.",
        ],
        buttons: ["Add an endpoint", "Send a test event", "Turn off", "Turn on", "Delete"],
        none: "No endpoint yet.",
        every: "every event the team receives",
        failing: "failing since",
        deliveries: ["Latest deliveries", "Event", "Status", "Attempts", "Last answer"],
        statuses: ["pending", "delivered", "failed"],
    },
    sign_in: crate::site_sign_in::SignInWords {
        lang: "en",
        title: "Portal sign-in",
        again: "Sign in again",
        failed: [
            "This sign-in has expired.",
            "This sign-in does not match the one this browser started.",
            "The response came from another server.",
            "The sign-in was not completed.",
            "This sign-in has expired or was already used.",
        ],
    },
    not_the_portals: "This sign-in was not the portal's.",
    settings: [
        "Stricter settings",
        "Owners may make the team's policy stricter: require a second factor, shorten lifetimes. Only an admin loosens it.",
        "Tokens live at most (days)",
        "Tighten",
    ],
};

/// German.
pub const DE: PortalTexts = PortalTexts {
    lang: "de",
    skip: "Zum Inhalt",
    portal: "Entwicklerportal",
    nav: ("Portal", "Teams"),
    sign_out: "Abmelden",
    home: (
        "Ihre Teams",
        "Sie gehören noch keinem Team an. Bitten Sie die Eigentümerin oder den Eigentümer eines Teams um einen Einladungslink.",
    ),
    roles: ["Betrachter", "Entwickler", "Eigentümer"],
    columns: ["Name", "Rolle", "Zustand", "Läuft ab", "Zuletzt benutzt", "Scope", "Erstellt"],
    sections: ["Apps", "Mitglieder", "Offene Einladungen", "Persönliche Zugriffstoken", "Was die Apps dieses Teams sein dürfen"],
    states: ["aktiv", "deaktiviert", "wartet auf Freigabe"],
    buttons: [
        "Neue App",
        "Anlegen",
        "Einladen",
        "Rolle ändern",
        "Entfernen",
        "Team verlassen",
        "Widerrufen",
        "Secret hinzufügen",
        "Anfrage zurückziehen",
        "Beitreten",
        "Token erstellen",
    ],
    join: ("Einem Team beitreten", "Sie wurden in dieses Team eingeladen. Beitreten?"),
    join_facts: ["Team", "Rolle", "Eingeladen von"],
    an_admin: "ein Admin",
    shown_once: [
        "Jetzt kopieren",
        "Dies wird nur jetzt, einmal, angezeigt. Bewahren Sie es dort auf, wo es hingehört; niemand kann es Ihnen erneut zeigen.",
        "Kopieren",
        "Kopiert",
    ],
    secrets: ["Secrets", "Diese App meldet sich ohne Secret an.", "Läuft ab in (Tagen)", "nie"],
    scope_request: [
        "Scopes, die auf einen Admin warten",
        "Diese Scopes brauchen die Freigabe eines Admins. Bis dahin arbeitet die App ohne sie.",
        "Letzte Entscheidung",
    ],
    tokens: [
        "Ein persönliches Zugriffstoken handelt in diesem Team für Sie, soweit sein Scope und Ihre Rolle es erlauben: an der API des Portals (/portal/v1) und, für Resource Server, an der Introspection.",
        "Name",
        "Scope",
        "Läuft ab in (Tagen)",
    ],
    invite: ["Rolle", "Link gültig für (Tage)"],
    form_expired: (
        "Formular abgelaufen",
        "Dieses Formular ist nicht mehr gültig. Laden Sie die Seite neu und versuchen Sie es noch einmal.",
    ),
    signed_out: ["Abgemeldet", "Sie haben sich vom Portal abgemeldet.", "Wieder anmelden"],
    policy: [
        "Höchstens so viele Apps",
        "Mitglieder brauchen einen zweiten Faktor",
        "Scopes mit Freigabe",
        "Secrets leben höchstens (Tage)",
    ],
    back: "Zurück zu",
    no_apps: "Noch keine App.",
    token_states: ["aktiv", "abgelaufen", "widerrufen", "offen", "freigegeben", "abgelehnt", "zurückgezogen"],
    copy_by_hand: "Markieren und kopieren",
    usage: UsageTexts {
        title: "Überwachung",
        range: "Zeitraum",
        figures: ["Anfragen", "Ausgestellte Token", "Fehler", "Latenz p95", "Mit 401 oder 403 beantwortet", "Fehlerquote"],
        failures: ["Fehlgeschlagene Anmeldungen, nach Grund", "Grund", "Anzahl", "Zuletzt"],
        classes: ["401/403", "andere 4xx", "5xx"],
        events: ["Letzte Ereignisse", "Wann", "Wer", "Was", "Noch nichts."],
        chart: GERMAN_CHART,
        unusual: ["Derzeit auffällig", "Warum diese App auffällt"],
    },
    regenerate: [
        "Wählen Sie Apps (bis zu 50), die gemeinsam je ein neues Secret anstelle aller bisherigen erhalten.",
        "Ihre Secrets neu erzeugen",
        "Auswählen",
    ],
    changes: ChangeTexts {
        app: "der App",
        edit: "Bearbeiten",
        review: "Änderung prüfen",
        setting: "Einstellung",
        now: "Jetzt",
        after: ["Nach dem Speichern", "Nach dem Zurücksetzen"],
        nothing: "Nichts ändert sich: das ist die aktuelle Konfiguration.",
        writes: "Speichern schreibt Version",
        waiting: "Diese Scopes warten dann auf die Freigabe eines Admins:",
        save: "Speichern",
        change_draft: "Entwurf ändern",
        stale: [
            "Jemand hat eine neue Version dieser App gespeichert, nachdem Sie das Formular geöffnet haben. Ihre Änderungen sind unten auf diese Version angewendet; noch ist nichts gespeichert.",
            "Sie beide haben diese Einstellungen geändert, und Ihre würden die anderen ersetzen",
        ],
        unread: ["Das Formular nennt nicht die Version, die es gezeigt hat.", "Der Entwurf konnte nicht gelesen werden."],
        versions: "Versionen",
        version: "Version",
        current: "aktuell",
        compare: ["vergleichen ab", "bis", "Vergleichen"],
        roll_back: [
            "Zurücksetzen auf Version",
            "Auf diese Version zurücksetzen…",
            "Die Konfiguration jener Version wird als neue Version geschrieben, innerhalb der Richtlinie des Teams: was die Richtlinie nicht mehr erlaubt, wird abgelehnt, und ein Scope mit Freigabe wartet auf einen Admin. Secrets, Zustand und Versionen bleiben.",
            "Zurücksetzen",
        ],
        cancel: "Abbrechen",
        changed: "geändert",
    },
    webhooks: WebhookTexts {
        title: "Webhooks",
        intro: "Ein Endpunkt erhält die Ereignisse des Teams so, wie seine Mitglieder sie lesen (seine Apps, Mitglieder, Registrierungstoken und Endpunkte), signiert nach Standard Webhooks mit einem Secret, das einmal angezeigt wird. Zustellungen werden etwa einen Tag lang wiederholt.",
        fields: ["URL", "Ereignisse", "Beschreibung"],
        help: [
            "https, an eine öffentliche Adresse.",
            "Ereignisnamen oder Präfixe, einer pro Zeile (client.*, team.member_added); leer: jedes Ereignis, das das Team erhält.",
        ],
        buttons: ["Endpunkt hinzufügen", "Testereignis senden", "Ausschalten", "Einschalten", "Löschen"],
        none: "Noch kein Endpunkt.",
        every: "jedes Ereignis, das das Team erhält",
        failing: "fehlerhaft seit",
        deliveries: ["Letzte Zustellungen", "Ereignis", "Status", "Versuche", "Letzte Antwort"],
        statuses: ["offen", "zugestellt", "fehlgeschlagen"],
    },
    sign_in: crate::site_sign_in::SignInWords {
        lang: "de",
        title: "Anmeldung am Portal",
        again: "Erneut anmelden",
        failed: [
            "Diese Anmeldung ist abgelaufen.",
            "Diese Anmeldung passt nicht zu der, die dieser Browser begonnen hat.",
            "Die Antwort kam von einem anderen Server.",
            "Die Anmeldung wurde nicht abgeschlossen.",
            "Diese Anmeldung ist abgelaufen oder wurde schon verwendet.",
        ],
    },
    not_the_portals: "Diese Anmeldung war nicht die des Portals.",
    settings: [
        "Strengere Einstellungen",
        "Eigentümer dürfen die Richtlinie des Teams verschärfen: einen zweiten Faktor verlangen, Lebensdauern verkürzen. Nur ein Admin lockert sie.",
        "Token leben höchstens (Tage)",
        "Verschärfen",
    ],
};

/// The portal's words for the browser making `req`.
pub fn of(req: &HttpRequest) -> &'static PortalTexts {
    match crate::locale::of(req).lang {
        "de" => &DE,
        _ => &EN,
    }
}

/// The states [`PortalTexts::state`] names, in the order of `token_states`.
const STATES: [&str; 7] = ["active", "expired", "revoked", "pending", "approved", "rejected", "withdrawn"];

impl PortalTexts {
    /// The name of the state `state` (of a token or a scope request) in this language.
    pub fn state(&self, state: &str) -> &'static str {
        STATES.iter().position(|s| *s == state).map_or("", |i| self.token_states[i])
    }

    /// The name of `role` in this language.
    pub fn role(&self, role: portcullis_core::team::TeamRole) -> &'static str {
        let index = portcullis_core::team::TeamRole::ALL.iter().position(|r| *r == role).unwrap_or(0);
        self.roles[index]
    }
}

/// The words around a chart, in German.
pub const GERMAN_CHART: crate::console::chart::ChartWords = crate::console::chart::ChartWords {
    peak: "Höchstwert",
    steps: "Schritt für Schritt",
    from: "Ab",
    usual: "Üblich",
};
