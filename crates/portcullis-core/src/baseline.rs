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
pub struct Baseline {
    week: Vec<Slot>,
    day: Vec<Slot>,
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
    /// What is usual for this hour.
    pub usual: f64,
    /// How widely it usually varies.
    pub spread: f64,
    /// Whether the hour of the week judged, rather than the hour of the day.
    pub by_hour_of_week: bool,
}

/// How far an hour must depart before it counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// The factor over the usual value (e.g. 4: four times as many requests).
    pub factor: f64,
    /// The least value that may depart at all (e.g. 200 requests): a client
    /// of 1 request an hour making 5 is not news.
    pub min_volume: f64,
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

    /// Whether `observed` in `hour` departs from what is usual: at least
    /// `min_volume`, more than `factor` times the usual value, and more than
    /// [`SPREADS`] spreads above it.
    pub fn departure(&self, hour: HourOfWeek, observed: f64, tolerance: Tolerance) -> Option<Departure> {
        let (slot, by_hour_of_week) = self.judge_by(hour)?;
        let beyond = observed >= tolerance.min_volume
            && observed > tolerance.factor * slot.mean
            && observed > slot.mean + SPREADS * slot.spread();
        beyond.then(|| Departure { observed, usual: slot.mean, spread: slot.spread(), by_hour_of_week })
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

    #[test]
    fn nothing_is_judged_before_a_week_of_history() {
        let baseline = nightly(6);
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(baseline.departure(noon, 100_000.0, FOUR_TIMES), None);
        assert!(nightly(7).departure(noon, 100_000.0, FOUR_TIMES).is_some());
    }

    #[test]
    fn a_nightly_job_is_usual_at_night_and_unusual_by_day() {
        let baseline = nightly(21);
        let night = HourOfWeek::of(MONDAY + 2 * HOUR);
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(baseline.departure(night, 1_000.0, FOUR_TIMES), None);
        let departure =
            baseline.departure(noon, 1_000.0, FOUR_TIMES).expect("the job's volume by day departs");
        assert!(departure.by_hour_of_week, "three weeks of history judge by the hour of the week");
        assert!((departure.usual - 20.0).abs() < 1e-9 && departure.observed == 1_000.0, "{departure:?}");
    }

    #[test]
    fn a_departure_needs_the_volume_the_factor_and_the_spread() {
        let baseline = nightly(21);
        let noon = HourOfWeek::of(MONDAY + 12 * HOUR);
        assert_eq!(baseline.departure(noon, 150.0, FOUR_TIMES), None, "under the volume");
        let mut swinging = Baseline::default();
        for (hour, value) in (0..21 * 24).map(|h| (h, if (h / 24) % 2 == 0 { 100.0 } else { 900.0 })) {
            swinging.observe(HourOfWeek::of(MONDAY + hour * HOUR), value);
        }
        let slot = swinging.judge_by(noon).unwrap().0;
        let four_times = 4.0 * slot.mean + 1.0;
        assert!(four_times < slot.mean + SPREADS * slot.spread(), "a swinging client: {slot:?}");
        assert_eq!(swinging.departure(noon, four_times, FOUR_TIMES), None, "within its swings");
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
