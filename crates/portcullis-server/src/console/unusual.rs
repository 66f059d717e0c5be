//! What is unusual now, as the console's overview, a client's monitoring
//! page and the portal show it: for each client an `anomaly` rule fires
//! for, why in one sentence (what departed from what, or what was seen for
//! the first time), and for a signal with a baseline a chart of its last
//! day, hour by hour, against what is usual, ending with the window that
//! fired. In English or German.

use super::chart::{Chart, ChartWords, Step};
use portcullis_app::alerts::Watched;
use portcullis_app::baselines::{BaselineView, JudgedBy, Recent};
use portcullis_app::unusual::UnusualNow;
use portcullis_core::baseline::Signal;
use serde_json::Value;

/// The words around a chart against what is usual, in English.
const ENGLISH_AGAINST_USUAL: ChartWords =
    ChartWords { steps: "hour by hour, against what is usual", ..crate::console::chart::ENGLISH };
/// The same, in German.
const GERMAN_AGAINST_USUAL: ChartWords = ChartWords {
    steps: "Stunde für Stunde, gegenüber dem Üblichen",
    ..crate::portal::texts::GERMAN_CHART
};

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
    /// Firing since, as the page's language writes it.
    pub since: String,
    /// "firing since", in the page's language.
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

/// A number as the sentence shows it in `language`: whole, with thousands
/// grouped, or with one decimal below 10 (a decimal comma in German).
fn number(value: f64, language: Language) -> String {
    let (group, point) = if language == Language::German { ('.', ",") } else { (',', ".") };
    if value.abs() < 10.0 && value.fract() != 0.0 {
        return format!("{value:.1}").replace('.', point);
    }
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    if value < 0.0 && digits != "0" {
        grouped.insert(0, '-');
    }
    grouped
}

/// An RFC 3339 time in UTC as `language` writes it, by its `formats`
/// (English, German); as it is when it does not read as one.
fn formatted(at: &str, language: Language, (english, german): (&str, &str)) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(at) if language == Language::German => at.to_utc().format(german).to_string(),
        Ok(at) => at.to_utc().format(english).to_string(),
        Err(_) => at.to_owned(),
    }
}

/// An RFC 3339 time as the sentence shows it: to the minute, in UTC.
fn when(at: &str, language: Language) -> String {
    formatted(at, language, ("on %Y-%m-%d at %H:%M UTC", "am %d.%m.%Y um %H:%M UTC"))
}

/// A text member of `details`, or a dash.
fn text<'a>(details: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(details, |value, key| &value[*key]).as_str().unwrap_or("—")
}

/// Where a token was used, as the sentence shows it: the country, and the
/// database's point give or take its radius.
fn place(whereabouts: &Value, language: Language) -> String {
    let country = text(whereabouts, &["country"]);
    let (Some(north), Some(east)) = (whereabouts["latitude"].as_f64(), whereabouts["longitude"].as_f64())
    else {
        return country.to_owned();
    };
    let radius = whereabouts["radius_km"].as_f64().unwrap_or(0.0);
    let coordinate =
        |v: f64| format!("{v:.2}").replace('.', if language == Language::German { "," } else { "." });
    format!(
        "{country} ({} {}, {} {} ± {} km)",
        coordinate(north.abs()),
        if north < 0.0 { "S" } else { "N" },
        coordinate(east.abs()),
        if east < 0.0 { "W" } else { "E" },
        number(radius, language)
    )
}

/// Why a baseline's signal departed, in one sentence.
fn departed(u: &portcullis_app::baselines::Unusual, language: Language) -> String {
    let n = |v: f64| number(v, language);
    let percent = if u.signal.is_rate() { " %" } else { "" };
    let (observed, usual, spread) = (format!("{}{percent}", n(u.observed)), n(u.usual), n(u.spread));
    let by_week = u.judged_by == JudgedBy::HourOfWeek;
    match language {
        Language::English => {
            let time = if by_week { "this time of the week" } else { "this time of day" };
            if u.usual > 0.0 {
                format!(
                    "{observed} in the last {} minutes, where {usual}{percent} (± {spread}{percent}) is usual at {time}: {} times as much.",
                    u.window_minutes,
                    n(u.observed / u.usual)
                )
            } else {
                format!("{observed} in the last {} minutes, where none is usual at {time}.", u.window_minutes)
            }
        }
        Language::German => {
            let time = if by_week { "zu dieser Stunde der Woche" } else { "zu dieser Tageszeit" };
            if u.usual > 0.0 {
                format!(
                    "{observed} in den letzten {} Minuten; üblich sind {time} {usual}{percent} (± {spread}{percent}): das {}-Fache.",
                    u.window_minutes,
                    n(u.observed / u.usual)
                )
            } else {
                format!("{observed} in den letzten {} Minuten; üblich ist {time} nichts.", u.window_minutes)
            }
        }
    }
}

/// Why `flagged` is unusual, in one sentence.
fn why(flagged: &UnusualNow, language: Language) -> String {
    if let Some(u) = &flagged.unusual {
        return departed(u, language);
    }
    let german = language == Language::German;
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
        (Watched::ImpossibleTravel, _) => travelled(seen, language),
        (_, false) => format!("First authenticated from network {network}{}.", in_country(seen, " in ")),
        (_, true) => format!("Erstmals aus dem Netz {network}{} angemeldet.", in_country(seen, " in ")),
    }
}

/// How a token travelled, in one sentence: both places and times when the
/// reader may see them, else how far in how long.
fn travelled(seen: &Value, language: Language) -> String {
    let n = |v: Option<f64>| v.map_or("—".into(), |v| number(v, language));
    let (km, hours) = (n(seen["distance_km"].as_f64()), n(seen["hours"].as_f64()));
    let refresh = seen["token_kind"] == "refresh_family";
    let places = seen.get("from").zip(seen.get("to"));
    match (language, places) {
        (Language::English, Some((from, to))) => format!(
            "{} was used in {} {} and in {} {}: {km} km in {hours} h.",
            if refresh { "A refresh-token family" } else { "An access token" },
            place(from, language),
            when(text(from, &["at"]), language),
            place(to, language),
            when(text(to, &["at"]), language)
        ),
        (Language::German, Some((from, to))) => format!(
            "{} wurde in {} {} und in {} {} verwendet: {km} km in {hours} h.",
            if refresh { "Eine Refresh-Token-Familie" } else { "Ein Access-Token" },
            place(from, language),
            when(text(from, &["at"]), language),
            place(to, language),
            when(text(to, &["at"]), language)
        ),
        (Language::English, None) => format!(
            "{} was used in two places {km} km apart within {hours} h.",
            if refresh { "A refresh-token family" } else { "An access token" }
        ),
        (Language::German, None) => format!(
            "{} wurde an zwei Orten {km} km voneinander entfernt innerhalb von {hours} h verwendet.",
            if refresh { "Eine Refresh-Token-Familie" } else { "Ein Access-Token" }
        ),
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
    let chart = Chart::of_steps(signal_words(Watched::from(signal), language), steps, format_of(signal));
    chart.in_words(match language {
        Language::German => &GERMAN_AGAINST_USUAL,
        Language::English => &ENGLISH_AGAINST_USUAL,
    })
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
            // A count over the window, drawn per hour beside the hours before it.
            let per_hour = if u.signal.is_rate() || u.signal == Signal::Networks {
                1.0
            } else {
                60.0 / f64::from(u.window_minutes.max(1))
            };
            let now = match language {
                Language::German => format!("jetzt, {} Minuten", u.window_minutes),
                Language::English => format!("now, {} minutes", u.window_minutes),
            };
            let now = Step { start: now, value: u.observed * per_hour, usual: Some(u.usual * per_hour) };
            against_usual(u.signal, &flagged.recent, Some(now), language)
        });
        Self {
            client_id: flagged.client_id.clone(),
            client_name: flagged.client_name.clone(),
            path,
            signal,
            since: formatted(&flagged.since, language, ("%Y-%m-%d %H:%M UTC", "%d.%m.%Y, %H:%M UTC")),
            since_word: if language == Language::German { "seit" } else { "firing since" },
            why: why(flagged, language),
            chart,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_app::baselines::Unusual;

    #[test]
    fn numbers_read_as_each_language_writes_them() {
        assert_eq!(
            (number(4_800.0, Language::English), number(4_800.0, Language::German)),
            ("4,800".into(), "4.800".into())
        );
        assert_eq!(
            (number(6.14, Language::English), number(6.14, Language::German)),
            ("6.1".into(), "6,1".into())
        );
        assert_eq!(number(1_234_567.0, Language::English), "1,234,567");
        assert_eq!(number(12.0, Language::German), "12");
    }

    #[test]
    fn a_departure_says_what_is_usual_and_how_much_more() {
        let mut u = Unusual {
            signal: Signal::Requests,
            observed: 4_800.0,
            usual: 790.0,
            spread: 95.0,
            window_minutes: 60,
            judged_by: JudgedBy::HourOfWeek,
        };
        assert_eq!(
            departed(&u, Language::English),
            "4,800 in the last 60 minutes, where 790 (± 95) is usual at this time of the week: 6.1 times as much."
        );
        assert_eq!(
            departed(&u, Language::German),
            "4.800 in den letzten 60 Minuten; üblich sind zu dieser Stunde der Woche 790 (± 95): das 6,1-Fache."
        );
        (u.signal, u.observed, u.usual, u.spread, u.judged_by) =
            (Signal::ErrorRate, 35.0, 0.0, 0.0, JudgedBy::HourOfDay);
        assert_eq!(
            departed(&u, Language::English),
            "35 % in the last 60 minutes, where none is usual at this time of day."
        );
    }

    #[test]
    fn travel_names_both_places_and_times_for_admins_and_only_how_far_for_teams() {
        let seen = serde_json::json!({"token_kind": "refresh_family", "distance_km": 16090.0, "hours": 0.5,
            "from": {"country": "DE", "latitude": 52.52, "longitude": 13.405, "radius_km": 20, "at": "2026-11-30T10:05:00Z"},
            "to": {"country": "AU", "latitude": -33.8688, "longitude": 151.2093, "radius_km": 50, "at": "2026-11-30T10:35:00Z"}});
        assert_eq!(
            travelled(&seen, Language::English),
            "A refresh-token family was used in DE (52.52 N, 13.40 E ± 20 km) on 2026-11-30 at 10:05 UTC and in AU (33.87 S, 151.21 E ± 50 km) on 2026-11-30 at 10:35 UTC: 16,090 km in 0.5 h."
        );
        let for_team =
            serde_json::json!({"token_kind": "access_token", "distance_km": 16090.0, "hours": 0.5});
        assert_eq!(
            travelled(&for_team, Language::German),
            "Ein Access-Token wurde an zwei Orten 16.090 km voneinander entfernt innerhalb von 0,5 h verwendet."
        );
    }
}
