//! Bar charts drawn by the server as SVG: no script, nothing from another
//! host. The drawing is for the eye; a table of the same values, hidden
//! from sight, is for screen readers. Colours come from the stylesheet, so
//! they follow the light and dark themes.

use portcullis_app::usage::UsagePoint;

/// The drawing's width and height, in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;

/// One bar.
pub struct Bar {
    /// Its step's start.
    pub start: String,
    /// Its value, as text.
    pub value: String,
    /// Its left edge.
    pub x: String,
    /// Its top.
    pub y: String,
    /// Its width.
    pub width: String,
    /// Its height.
    pub height: String,
}

/// The words around a chart, in one language.
pub struct ChartWords {
    /// Before the highest value.
    pub peak: &'static str,
    /// After the title, for the table of values.
    pub steps: &'static str,
    /// The table's column of each step's start.
    pub from: &'static str,
}

/// English.
pub const ENGLISH: ChartWords = ChartWords { peak: "peak", steps: "step by step", from: "From" };

/// A chart: its title, bars and what a reader needs to read it.
pub struct Chart {
    /// What it shows.
    pub title: &'static str,
    /// The bars, oldest first.
    pub bars: Vec<Bar>,
    /// The highest value, as text.
    pub peak: String,
    /// The first step's start and the last's.
    pub span: (String, String),
    /// The words around it.
    pub words: &'static ChartWords,
}

impl Chart {
    /// The chart of `value` of each of `points`, shown by `format`.
    pub fn of(
        title: &'static str,
        points: &[UsagePoint],
        value: impl Fn(&UsagePoint) -> f64,
        format: impl Fn(f64) -> String,
    ) -> Self {
        let values: Vec<f64> = points.iter().map(&value).collect();
        let peak = values.iter().copied().fold(0.0, f64::max);
        let slot = WIDTH / values.len().max(1) as f64;
        let bars = points
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(i, (point, v))| {
                let height = if peak > 0.0 {
                    (v / peak * (HEIGHT - 2.0)).max(if *v > 0.0 { 1.0 } else { 0.0 })
                } else {
                    0.0
                };
                Bar {
                    x: format!("{:.1}", i as f64 * slot + slot * 0.1),
                    y: format!("{:.1}", HEIGHT - height),
                    width: format!("{:.1}", slot * 0.8),
                    height: format!("{height:.1}"),
                    start: point.start.clone(),
                    value: format(*v),
                }
            })
            .collect();
        let span = (
            points.first().map(|p| p.start.clone()).unwrap_or_default(),
            points.last().map(|p| p.start.clone()).unwrap_or_default(),
        );
        Self { title, bars, peak: format(peak), span, words: &ENGLISH }
    }

    /// The chart with the words of another language.
    pub fn in_words(self, words: &'static ChartWords) -> Self {
        Self { words, ..self }
    }

    /// Counts: tokens issued, requests, failures.
    pub fn counts(title: &'static str, points: &[UsagePoint], value: impl Fn(&UsagePoint) -> i64) -> Self {
        Self::of(title, points, |p| value(p) as f64, |v| format!("{v:.0}"))
    }

    /// The share of requests answered with an error, in percent, titled `title`.
    pub fn error_rate(title: &'static str, points: &[UsagePoint]) -> Self {
        Self::of(
            title,
            points,
            |p| {
                if p.requests == 0 {
                    0.0
                } else {
                    p.errors.total() as f64 * 100.0 / p.requests as f64
                }
            },
            |v| format!("{v:.1} %"),
        )
    }
}
