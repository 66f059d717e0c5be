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
    /// Its right edge.
    pub x2: String,
    /// The height of what is usual for its step, and that value as text
    /// (a chart against a baseline).
    pub usual: Option<(String, String)>,
}

/// The words around a chart, in one language.
pub struct ChartWords {
    /// Before the highest value.
    pub peak: &'static str,
    /// After the title, for the table of values.
    pub steps: &'static str,
    /// The table's column of each step's start.
    pub from: &'static str,
    /// The table's column of what is usual (a chart against a baseline).
    pub usual: &'static str,
}

/// English.
pub const ENGLISH: ChartWords =
    ChartWords { peak: "peak", steps: "step by step", from: "From", usual: "Usual" };

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
    /// Whether its bars are drawn against what is usual.
    pub against_usual: bool,
}

/// One step of a chart: its start, its value and what is usual for it.
pub struct Step {
    /// Its start (or a name, such as "now").
    pub start: String,
    /// Its value.
    pub value: f64,
    /// What is usual for it, if known.
    pub usual: Option<f64>,
}

impl Chart {
    /// The chart of `value` of each of `points`, shown by `format`.
    pub fn of(
        title: &'static str,
        points: &[UsagePoint],
        value: impl Fn(&UsagePoint) -> f64,
        format: impl Fn(f64) -> String,
    ) -> Self {
        let steps = points.iter().map(|p| Step { start: p.start.clone(), value: value(p), usual: None });
        Self::of_steps(title, steps.collect(), format)
    }

    /// The chart of `steps`, each bar with a mark at what is usual for it
    /// where that is known, shown by `format`.
    pub fn of_steps(title: &'static str, steps: Vec<Step>, format: impl Fn(f64) -> String) -> Self {
        let peak = steps.iter().flat_map(|s| [s.value, s.usual.unwrap_or(0.0)]).fold(0.0, f64::max);
        let slot = WIDTH / steps.len().max(1) as f64;
        let height_of = |v: f64| {
            if peak > 0.0 {
                (v / peak * (HEIGHT - 2.0)).max(if v > 0.0 { 1.0 } else { 0.0 })
            } else {
                0.0
            }
        };
        let bars = steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let height = height_of(step.value);
                let x = i as f64 * slot + slot * 0.1;
                Bar {
                    x: format!("{x:.1}"),
                    y: format!("{:.1}", HEIGHT - height),
                    width: format!("{:.1}", slot * 0.8),
                    height: format!("{height:.1}"),
                    x2: format!("{:.1}", x + slot * 0.8),
                    usual: step.usual.map(|u| (format!("{:.1}", HEIGHT - height_of(u)), format(u))),
                    start: step.start.clone(),
                    value: format(step.value),
                }
            })
            .collect();
        let span = (
            steps.first().map(|s| s.start.clone()).unwrap_or_default(),
            steps.last().map(|s| s.start.clone()).unwrap_or_default(),
        );
        let against_usual = steps.iter().any(|s| s.usual.is_some());
        Self { title, bars, peak: format(peak), span, words: &ENGLISH, against_usual }
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
