//! What is unusual now, as the console's overview, a client's monitoring
//! page and the portal show it: for each client an `anomaly` rule fires
//! for, why in one sentence (what departed from what, or what was seen for
//! the first time), and for a signal with a baseline a chart of its last
//! day, hour by hour, against what is usual, ending with the window that
//! fired. In English or German.

use super::chart::{Chart, Step};
use portcullis_app::alerts::Watched;
use portcullis_app::baselines::{BaselineView, JudgedBy, Recent};
use portcullis_app::unusual::UnusualNow;
use portcullis_core::baseline::Signal;
use serde_json::Value;

/// The hours of history a chart shows before the window that fired.
const CHART_HOURS: usize = 24;

/// A client flagged, as a page shows it.
pub struct Flagged {
    /// The client.
    pub client_id: String,
    /// Its name.
    pub client_name: String,
    /// The page that explains it.
    pub path: String,
    /// What the rule watches, in words.
    pub signal: &'static str,
    /// Firing since, RFC 3339.
    pub since: String,
    /// "since", in the page's language.
    pub since_word: &'static str,
    /// Why, in one sentence.
    pub why: String,
    /// Its last hours against what is usual, for a signal with a baseline.
    pub chart: Option<Chart>,
}

/// The language a page is in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English.
    English,
    /// German.
    German,
}

impl Language {
    /// The language of the BCP 47 tag `lang`.
    pub fn of(lang: &str) -> Self {
        if lang == "de" {
            Self::German
        } else {
            Self::English
        }
    }
}

/// What `signal` watches, in words.
fn signal_words(signal: Watched, language: Language) -> &'static str {
    let german = language == Language::German;
    match signal {
        Watched::Requests if german => "Anfragen",
        Watched::Requests => "Requests",
        Watched::ErrorRate if german => "Fehlerquote",
        Watched::ErrorRate => "Error rate",
        Watched::FailedAuthentications if german => "Fehlgeschlagene Anmeldungen",
        Watched::FailedAuthentications => "Failed authentications",
        Watched::TokensIssued if german => "Ausgestellte Token",
        Watched::TokensIssued => "Tokens issued",
        Watched::Networks if german => "Netze",
        Watched::Networks => "Networks",
        Watched::NewNetwork if german => "Neues Netz",
        Watched::NewNetwork => "New network",
        Watched::NewCountry if german => "Neues Land",
        Watched::NewCountry => "New country",
        Watched::ImpossibleTravel if german => "Unmögliche Reise",
        Watched::ImpossibleTravel => "Impossible travel",
    }
}

/// A number as the sentence shows it: whole, or with one decimal below 10.
fn number(value: f64) -> String {
    if value.abs() < 10.0 && value.fract() != 0.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// A text member of `details`, or a dash.
fn text<'a>(details: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(details, |value, key| &value[*key]).as_str().unwrap_or("—")
}

/// Why `flagged` is unusual, in one sentence.
fn why(flagged: &UnusualNow, language: Language) -> String {
    let german = language == Language::German;
    if let Some(u) = &flagged.unusual {
        let percent = if u.signal.is_rate() { " %" } else { "" };
        let ratio = if u.usual > 0.0 { number(u.observed / u.usual) } else { "∞".into() };
        let (observed, usual, spread) =
            (format!("{}{percent}", number(u.observed)), number(u.usual), number(u.spread));
        return match (german, u.judged_by) {
            (false, by) => format!(
                "{observed} in the last {} minutes against a usual {usual}{percent} (± {spread}) for this hour of the {}: {ratio} times as much.",
                u.window_minutes,
                if by == JudgedBy::HourOfWeek { "week" } else { "day" }
            ),
            (true, by) => format!(
                "{observed} in den letzten {} Minuten gegenüber üblichen {usual}{percent} (± {spread}) für diese Stunde {}: das {ratio}-Fache.",
                u.window_minutes,
                if by == JudgedBy::HourOfWeek { "der Woche" } else { "des Tages" }
            ),
        };
    }
    let Some(seen) = &flagged.sighting else { return String::new() };
    let (network, country) = (text(seen, &["network"]), text(seen, &["country"]));
    match (flagged.signal, german) {
        (Watched::NewCountry, false) => format!(
            "First authenticated from {country} (network {network}); before only from {}.",
            list(&seen["known_countries"])
        ),
        (Watched::NewCountry, true) => format!(
            "Erstmals aus {country} angemeldet (Netz {network}); bisher nur aus {}.",
            list(&seen["known_countries"])
        ),
        (Watched::ImpossibleTravel, _) => {
            let (from, to) = (
                (text(seen, &["from", "country"]), text(seen, &["from", "at"])),
                (text(seen, &["to", "country"]), text(seen, &["to", "at"])),
            );
            let km = seen["distance_km"].as_f64().map_or("—".into(), number);
            let hours = seen["hours"].as_f64().map_or("—".into(), number);
            let refresh = seen["token_kind"] == "refresh_family";
            if german {
                let token = if refresh { "Eine Refresh-Token-Familie" } else { "Ein Access Token" };
                format!(
                    "{token} wurde in {} um {} und in {} um {} benutzt: {km} km in {hours} h.",
                    from.0, from.1, to.0, to.1
                )
            } else {
                let token = if refresh { "A refresh-token family" } else { "An access token" };
                format!(
                    "{token} was used in {} at {} and in {} at {}: {km} km in {hours} h.",
                    from.0, from.1, to.0, to.1
                )
            }
        }
        (_, false) => format!("First authenticated from network {network}{}.", in_country(seen, " in ")),
        (_, true) => format!("Erstmals aus dem Netz {network}{} angemeldet.", in_country(seen, " in ")),
    }
}

/// `prefix` and the country `seen` names, if it names one.
fn in_country(seen: &Value, prefix: &str) -> String {
    seen["country"].as_str().map(|country| format!("{prefix}{country}")).unwrap_or_default()
}

/// The strings of a JSON array, joined.
fn list(values: &Value) -> String {
    let texts: Vec<&str> = values.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if texts.is_empty() {
        "—".into()
    } else {
        texts.join(", ")
    }
}

/// The watched signal a baseline is of.
fn watched(signal: Signal) -> Watched {
    match signal {
        Signal::Requests => Watched::Requests,
        Signal::ErrorRate => Watched::ErrorRate,
        Signal::FailedAuthentications => Watched::FailedAuthentications,
        Signal::TokensIssued => Watched::TokensIssued,
        Signal::Networks => Watched::Networks,
    }
}

/// How `signal`'s values read: a rate in percent, else a count.
fn format_of(signal: Signal) -> impl Fn(f64) -> String {
    let percent = signal.is_rate();
    move |v: f64| if percent { format!("{v:.1} %") } else { format!("{v:.0}") }
}

/// The chart of `hours` (the last [`CHART_HOURS`]) of `signal`, then `now`.
fn against_usual(signal: Signal, hours: &[Recent], now: Option<Step>, language: Language) -> Chart {
    let skip = hours.len().saturating_sub(CHART_HOURS);
    let mut steps: Vec<Step> = hours[skip..]
        .iter()
        .map(|hour| Step { start: hour.start.clone(), value: hour.observed, usual: hour.usual })
        .collect();
    steps.extend(now);
    let chart = Chart::of_steps(signal_words(watched(signal), language), steps, format_of(signal));
    match language {
        Language::German => chart.in_words(&crate::portal::texts::GERMAN_CHART),
        Language::English => chart,
    }
}

/// The chart of a client's baseline of one signal: its last day learnt,
/// hour by hour, against what was usual for each hour.
pub fn baseline_chart(view: &BaselineView, language: Language) -> Chart {
    against_usual(view.signal, &view.recent, None, language)
}

impl Flagged {
    /// `flagged` as a page in `language` shows it, linking to `path`.
    pub fn of(flagged: &UnusualNow, language: Language, path: String) -> Self {
        let signal = signal_words(flagged.signal, language);
        let chart = flagged.unusual.as_ref().map(|u| {
            let now = if language == Language::German { "jetzt" } else { "now" };
            let now = Step { start: now.into(), value: u.observed, usual: Some(u.usual) };
            against_usual(u.signal, &flagged.recent, Some(now), language)
        });
        Self {
            client_id: flagged.client_id.clone(),
            client_name: flagged.client_name.clone(),
            path,
            signal,
            since: flagged.since.clone(),
            since_word: if language == Language::German { "seit" } else { "since" },
            why: why(flagged, language),
            chart,
        }
    }
}
