//! What is usual for a client (issue 25): for each signal, a decaying
//! average and spread of its hourly value per hour of the week, learnt hour
//! by hour, so that a nightly batch job is usual at night and unusual by
//! day.
//!
//! Each finished hour updates two baselines of the signal: its hour of the
//! week (168 slots) and its hour of the day (24 slots, learning seven times
//! as fast). An exponentially weighted mean and variance (Finch, "Incremental
//! calculation of weighted mean and variance", 2009) forgets old weeks
//! gradually: an hour [`WEIGHT`] of the way towards each new value. The hour
//! of the week judges once it has [`WEEKS_BEFORE_JUDGING`] samples; until
//! then the hour of the day stands in, once it has [`DAYS_BEFORE_JUDGING`];
//! before a week of history nothing is judged.

use serde::{Deserialize, Serialize};

/// How far each new hour moves its baseline: a value from four weeks ago
/// still weighs a third as much as the newest.
pub const WEIGHT: f64 = 0.25;
/// Samples an hour of the week needs before it judges (three weeks).
pub const WEEKS_BEFORE_JUDGING: u32 = 3;
/// Samples an hour of the day needs before it stands in (a week).
pub const DAYS_BEFORE_JUDGING: u32 = 7;
/// Spreads above the mean an hour must also be to depart: a client whose
/// traffic swings widely is judged against its swings, not its average.
pub const SPREADS: f64 = 3.0;

/// What a client's baselines are learnt of, hour by hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Requests answered.
    Requests,
    /// Errors (4xx and 5xx) in percent of requests; hours without requests
    /// teach nothing.
    ErrorRate,
    /// Failed client authentications.
    FailedAuthentications,
    /// Access tokens issued.
    TokensIssued,
    /// Distinct networks (IPv4 /24, IPv6 /48) the client authenticated from.
    Networks,
}

impl Signal {
    /// Every signal.
    pub const ALL: [Signal; 5] =
        [Self::Requests, Self::ErrorRate, Self::FailedAuthentications, Self::TokensIssued, Self::Networks];

    /// Its name, as stored and as rules name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::ErrorRate => "error_rate",
            Self::FailedAuthentications => "failed_authentications",
            Self::TokensIssued => "tokens_issued",
            Self::Networks => "networks",
        }
    }

    /// The signal named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether it is a share (of requests) rather than a count: a window's
    /// value is then not the sum of its minutes.
    pub fn is_rate(self) -> bool {
        self == Self::ErrorRate
    }
}

/// An hour of the week, 0 (Monday 00:00–01:00 UTC) to 167.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HourOfWeek(u8);

impl HourOfWeek {
    /// The hour of the week that holds `unix_seconds`.
    pub fn of(unix_seconds: i64) -> Self {
        // 1970-01-01 was a Thursday: three days after a Monday.
        let hours = unix_seconds.div_euclid(3_600) + 3 * 24;
        Self(hours.rem_euclid(168) as u8)
    }

    /// Its number, 0 to 167.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The same hour of the day, 0 to 23.
    pub fn hour_of_day(self) -> usize {
        usize::from(self.0 % 24)
    }
}

/// A decaying mean and variance of one slot's hourly values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// The weighted mean.
    pub mean: f64,
    /// The weighted variance.
    pub variance: f64,
    /// Values seen.
    pub samples: u32,
}

impl Slot {
    /// Learns one more hour's `value`.
    pub fn observe(&mut self, value: f64) {
        if self.samples == 0 {
            *self = Slot { mean: value, variance: 0.0, samples: 1 };
            return;
        }
        let difference = value - self.mean;
        let step = WEIGHT * difference;
        self.mean += step;
        self.variance = (1.0 - WEIGHT) * (self.variance + difference * step);
        self.samples = self.samples.saturating_add(1);
    }

    /// The spread: the weighted standard deviation.
    pub fn spread(&self) -> f64 {
        self.variance.max(0.0).sqrt()
    }
}

/// What is usual for one signal of one client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Slots")]
pub struct Baseline {
    week: Vec<Slot>,
    day: Vec<Slot>,
}

/// A baseline as stored, before its slots are counted.
#[derive(Deserialize)]
struct Slots {
    week: Vec<Slot>,
    day: Vec<Slot>,
}

impl TryFrom<Slots> for Baseline {
    type Error = String;

    fn try_from(Slots { week, day }: Slots) -> Result<Self, String> {
        if week.len() != 168 || day.len() != 24 {
            return Err(format!(
                "{} hours of the week and {} of the day: 168 and 24 expected",
                week.len(),
                day.len()
            ));
        }
        Ok(Self { week, day })
    }
}

impl Default for Baseline {
    fn default() -> Self {
        Self { week: vec![Slot::default(); 168], day: vec![Slot::default(); 24] }
    }
}

/// An hour that departs from what is usual, for the alert to name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Departure {
    /// What was seen.
    pub observed: f64,
    /// What is usual for this window.
    pub usual: f64,
    /// How widely it usually varies.
    pub spread: f64,
    /// Whether the hour of the week judged, rather than the hour of the day.
    pub by_hour_of_week: bool,
}

/// How far a window must depart before it counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// The factor over the usual value (e.g. 4: four times as many requests).
    pub factor: f64,
    /// The least volume that may depart at all (e.g. 200 requests): a client
    /// of 1 request an hour making 5 is not news.
    pub min_volume: f64,
}

/// What is usual for a window: its slots' means and spreads, weighted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usual {
    /// The usual value.
    pub mean: f64,
    /// How widely it usually varies.
    pub spread: f64,
    /// Whether every hour was judged by its hour of the week.
    pub by_hour_of_week: bool,
}

impl Usual {
    /// Whether `observed` departs: `volume` (the value itself for counts;
    /// the requests for a rate) at least the tolerance's, `observed` more
    /// than its factor times the usual value and more than [`SPREADS`]
    /// spreads above it.
    pub fn departure(&self, observed: f64, volume: f64, tolerance: Tolerance) -> Option<Departure> {
        let beyond = volume >= tolerance.min_volume
            && observed > tolerance.factor * self.mean
            && observed > self.mean + SPREADS * self.spread;
        beyond.then_some(Departure {
            observed,
            usual: self.mean,
            spread: self.spread,
            by_hour_of_week: self.by_hour_of_week,
        })
    }
}

/// The hours of the week a window of `minutes` minutes starting at
/// `unix_seconds` (a whole minute) spans, each with its minutes in it.
pub fn window_hours(unix_seconds: i64, minutes: u32) -> Vec<(HourOfWeek, u32)> {
    let mut parts: Vec<(HourOfWeek, u32)> = Vec::new();
    for minute in 0..i64::from(minutes) {
        let hour = HourOfWeek::of(unix_seconds + minute * 60);
        match parts.last_mut() {
            Some((last, count)) if *last == hour => *count += 1,
            _ => parts.push((hour, 1)),
        }
    }
    parts
}

impl Baseline {
    /// Learns the `value` of the hour `hour`.
    pub fn observe(&mut self, hour: HourOfWeek, value: f64) {
        self.week[hour.index()].observe(value);
        self.day[hour.hour_of_day()].observe(value);
    }

    /// The slot that judges `hour`, and whether it is the hour of the week;
    /// `None` before there is history enough.
    pub fn judge_by(&self, hour: HourOfWeek) -> Option<(&Slot, bool)> {
        let week = &self.week[hour.index()];
        let day = &self.day[hour.hour_of_day()];
        if week.samples >= WEEKS_BEFORE_JUDGING {
            Some((week, true))
        } else if day.samples >= DAYS_BEFORE_JUDGING {
            Some((day, false))
        } else {
            None
        }
    }

    /// What is usual over the hours `parts` of a window, each weighing
    /// what it is given (for a count over a window, the share of an hour
    /// the window spends in it; for a rate, the share of the window);
    /// `None` unless every hour has history enough.
    pub fn usual(&self, parts: &[(HourOfWeek, f64)]) -> Option<Usual> {
        let mut usual = Usual { mean: 0.0, spread: 0.0, by_hour_of_week: true };
        for (hour, weight) in parts {
            let (slot, by_week) = self.judge_by(*hour)?;
            usual.mean += weight * slot.mean;
            usual.spread += weight * slot.spread();
            usual.by_hour_of_week &= by_week;
        }
        (!parts.is_empty()).then_some(usual)
    }

    /// What is usual for the whole hour `hour`.
    pub fn usual_hour(&self, hour: HourOfWeek) -> Option<Usual> {
        self.usual(&[(hour, 1.0)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600;
    /// Monday 2026-12-07 00:00 UTC.
    const MONDAY: i64 = 1_796_601_600;
    const FOUR_TIMES: Tolerance = Tolerance { factor: 4.0, min_volume: 200.0 };

    /// A nightly batch job: 1,000 requests an hour from 01:00 to 04:00 UTC,
    /// 20 otherwise, for `days` days from Monday.
    fn nightly(days: i64) -> Baseline {
        let mut baseline = Baseline::default();
        for hour in 0..days * 24 {
            let value = if (1..4).contains(&(hour % 24)) { 1_000.0 } else { 20.0 };
            baseline.observe(HourOfWeek::of(MONDAY + hour * HOUR), value);
        }
        baseline
    }

    #[test]
    fn hours_of_the_week_start_on_monday_in_utc() {
        assert_eq!(HourOfWeek::of(MONDAY).index(), 0);
        assert_eq!(HourOfWeek::of(MONDAY - 1).index(), 167, "Sunday 23:59:59");
        assert_eq!(HourOfWeek::of(MONDAY + 7 * 24 * HOUR + 5 * HOUR).index(), 5);
        assert_eq!(HourOfWeek::of(0).index(), 3 * 24, "1970-01-01 was a Thursday");
        assert_eq!(HourOfWeek::of(MONDAY + 26 * HOUR).hour_of_day(), 2);
    }

    /// Whether `observed` departs from the whole hour `hour`'s usual value.
    fn departs(baseline: &Baseline, hour: HourOfWeek, observed: f64) -> Option<Departure> {
        baseline.usual_hour(hour)?.departure(observed, observed, FOUR_TIMES)
    }

    #[test]
    fn nothing_is_judged_before_a_week_of_history() {
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(departs(&nightly(6), noon, 100_000.0), None);
        assert!(departs(&nightly(7), noon, 100_000.0).is_some());
    }

    #[test]
    fn a_window_across_hours_expects_a_share_of_each() {
        let baseline = nightly(21);
        // 03:30–04:30: half the job's last hour, half a quiet one.
        let parts = window_hours(MONDAY + 3 * HOUR + 30 * 60, 60);
        assert_eq!(parts.iter().map(|(h, m)| (h.index(), *m)).collect::<Vec<_>>(), [(3, 30), (4, 30)]);
        let weighted: Vec<(HourOfWeek, f64)> =
            parts.iter().map(|(h, m)| (*h, f64::from(*m) / 60.0)).collect();
        let usual = baseline.usual(&weighted).unwrap();
        assert!((usual.mean - 510.0).abs() < 1e-6, "{usual:?}");
        assert_eq!(usual.departure(500.0, 500.0, FOUR_TIMES), None, "the job winding down is usual");
        assert!(usual.departure(2_500.0, 2_500.0, FOUR_TIMES).is_some());
    }

    #[test]
    fn a_nightly_job_is_usual_at_night_and_unusual_by_day() {
        let baseline = nightly(21);
        let night = HourOfWeek::of(MONDAY + 2 * HOUR);
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(departs(&baseline, night, 1_000.0), None);
        let departure = departs(&baseline, noon, 1_000.0).expect("the job's volume by day departs");
        assert!(departure.by_hour_of_week, "three weeks of history judge by the hour of the week");
        assert!((departure.usual - 20.0).abs() < 1e-9 && departure.observed == 1_000.0, "{departure:?}");
    }

    #[test]
    fn a_departure_needs_the_volume_the_factor_and_the_spread() {
        let baseline = nightly(21);
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(departs(&baseline, noon, 150.0), None, "under the volume");
        let mut swinging = Baseline::default();
        for (hour, value) in (0..21 * 24).map(|h| (h, if (h / 24) % 2 == 0 { 100.0 } else { 900.0 })) {
            swinging.observe(HourOfWeek::of(MONDAY + hour * HOUR), value);
        }
        let slot = swinging.judge_by(noon).unwrap().0;
        let four_times = 4.0 * slot.mean + 1.0;
        assert!(four_times < slot.mean + SPREADS * slot.spread(), "a swinging client: {slot:?}");
        assert_eq!(departs(&swinging, noon, four_times), None, "within its swings");
    }

    #[test]
    fn a_stored_baseline_has_every_slot() {
        let stored = serde_json::to_string(&nightly(1)).unwrap();
        assert_eq!(serde_json::from_str::<Baseline>(&stored).unwrap(), nightly(1));
        let short = r#"{"week": [], "day": []}"#;
        assert!(serde_json::from_str::<Baseline>(short).is_err(), "a damaged row is refused, not indexed");
    }

    /// The false-positive rate the README reports: 500 synthetic clients of
    /// four shapes (office hours, a nightly job, steady, jittery), their
    /// hourly requests noisy by ±30 % and, for the jittery ones, doubled in
    /// 15 % of hours at random; three weeks learnt, then three weeks judged
    /// hour by hour at the default tolerance (4 times, from 200).
    #[test]
    fn normal_weeks_of_noisy_clients_rarely_depart() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        };
        let tolerances = [2.0, 3.0, 4.0].map(|factor| Tolerance { factor, min_volume: 200.0 });
        let (mut judged, mut departed) = (0u32, [0u32; 3]);
        for client in 0..500 {
            let scale = 100.0 + 3_000.0 * random();
            let mut baseline = Baseline::default();
            for hour in 0..6 * 7 * 24 {
                let (of_day, weekday) = (hour % 24, (hour / 24) % 7);
                let usual = match client % 4 {
                    0 if weekday < 5 && (8..18).contains(&of_day) => 1.0,
                    0 if weekday < 5 => 0.08,
                    0 => 0.04,
                    1 if (1..4).contains(&of_day) => 1.0,
                    1 => 0.01,
                    2 => 1.0,
                    _ if random() < 0.15 => 2.0,
                    _ => 1.0,
                };
                let value = (scale * usual * (1.0 + 0.3 * (2.0 * random() - 1.0))).round();
                let at = HourOfWeek::of(MONDAY + hour * HOUR);
                if hour >= 3 * 7 * 24 {
                    if let Some(usual) = baseline.usual_hour(at) {
                        judged += 1;
                        for (count, tolerance) in departed.iter_mut().zip(tolerances) {
                            *count += u32::from(usual.departure(value, value, tolerance).is_some());
                        }
                    }
                }
                baseline.observe(at, value);
            }
        }
        assert_eq!(judged, 500 * 3 * 7 * 24);
        // The README's figures: 1.1 % at twice the usual, 0.015 % at three times, none at four.
        assert_eq!(departed, [2_788, 38, 0], "of {judged} normal hours, departed at 2, 3 and 4 times");
    }

    #[test]
    fn old_weeks_fade() {
        let mut slot = Slot::default();
        (0..4).for_each(|_| slot.observe(1_000.0));
        (0..12).for_each(|_| slot.observe(100.0));
        assert!(slot.mean < 150.0, "twelve weeks at 100 outweigh four at 1,000: {slot:?}");
        assert_eq!(slot.samples, 16);
    }
}
