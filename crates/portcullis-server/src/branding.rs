//! The server's branding on the sign-in pages: its product name, a logo
//! and accent colours from configuration (`--brand-name`, `--brand-logo`,
//! `--brand-color`, `--brand-color-dark`). The logo is read once at start
//! and served from `/assets/brand-logo`, the colours as a stylesheet of
//! their own (`/assets/branding.css`), so the pages' CSP stays `'self'`
//! with no inline style.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The name shown without configuration.
pub const DEFAULT_NAME: &str = "Portcullis";
/// The largest logo file accepted.
const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// The branding as configured.
#[derive(Clone, Debug)]
pub struct BrandSettings {
    /// The product name.
    pub name: String,
    /// A logo file: SVG, PNG or WebP.
    pub logo: Option<PathBuf>,
    /// The accent colour (`#rgb` or `#rrggbb`) of the light theme.
    pub color: Option<String>,
    /// The accent colour of the dark theme.
    pub color_dark: Option<String>,
}

impl Default for BrandSettings {
    fn default() -> Self {
        Self { name: DEFAULT_NAME.into(), logo: None, color: None, color_dark: None }
    }
}

/// A colour from the command line: `#rgb` or `#rrggbb`, nothing a
/// stylesheet could read as more than a colour.
pub fn parse_color(raw: &str) -> Result<String, String> {
    let hex = raw.strip_prefix('#').unwrap_or_default();
    if matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(format!("`{raw}` is not a colour such as #1f5fbf"))
    }
}

/// The panels the accent colour sits on, in each theme, and the two button texts.
const LIGHT_PANEL: &str = "#ffffff";
const DARK_PANEL: &str = "#1a1d24";
const WHITE: &str = "#ffffff";
/// The dark theme's own accent (`portcullis.css`).
const BUILT_IN_DARK: &str = "#6ea2ff";
const INK: &str = "#0b1220";

/// The red, green and blue of a colour [`parse_color`] accepted, 0 to 1.
fn rgb(color: &str) -> [f64; 3] {
    let digits: Vec<u8> = color.chars().filter_map(|c| c.to_digit(16).map(|d| d as u8)).collect();
    let channel = |i: usize| match digits.len() {
        3 => f64::from(digits[i] * 17) / 255.0,
        _ => f64::from(digits[2 * i] * 16 + digits[2 * i + 1]) / 255.0,
    };
    [channel(0), channel(1), channel(2)]
}

/// The contrast ratio of two colours (WCAG 2.1, by relative luminance).
fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let luminance = |c: [f64; 3]| {
        let linear = |v: f64| if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) };
        0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2])
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// A logo: its media type and bytes.
#[derive(Clone)]
struct Logo {
    content_type: &'static str,
    bytes: web::Bytes,
}

/// The branding the pages show.
#[derive(Clone)]
pub struct Branding {
    /// The product name.
    pub name: String,
    logo: Option<Logo>,
    stylesheet: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self { name: DEFAULT_NAME.into(), logo: None, stylesheet: String::new() }
    }
}

impl Branding {
    /// The branding `settings` describe, its logo read now.
    pub fn load(settings: &BrandSettings) -> anyhow::Result<Self> {
        let logo = settings.logo.as_deref().map(read_logo).transpose()?;
        let mut stylesheet = String::from("/* Portcullis: the configured branding. */\n");
        // Each theme's accent, with the button text that reads best on it;
        // the dark theme keeps its own accent unless one is given for it.
        // A light accent alone would hold in the dark theme too (a media
        // query adds no weight): the dark theme's own is then restored.
        let dark =
            settings.color_dark.clone().or_else(|| settings.color.as_ref().map(|_| BUILT_IN_DARK.to_owned()));
        let themes = [(&settings.color, false, LIGHT_PANEL), (&dark, true, DARK_PANEL)];
        for (color, dark, background) in themes {
            let Some(color) = color else { continue };
            let accent = rgb(color);
            let text = if contrast(accent, rgb(WHITE)) >= contrast(accent, rgb(INK)) { WHITE } else { INK };
            let rule = format!(":root {{ --accent: {color}; --accent-text: {text}; }}");
            stylesheet += &if dark {
                format!("@media (prefers-color-scheme: dark) {{ {rule} }}\n")
            } else {
                rule + "\n"
            };
            let on_panel = contrast(accent, rgb(background));
            if on_panel < 4.5 {
                let theme = if dark { "dark" } else { "light" };
                tracing::warn!(color = %color, theme, contrast = %format!("{on_panel:.1}"),
                    "links in the brand colour are hard to read on the sign-in pages (WCAG asks for 4.5:1)");
            }
        }
        Ok(Self { name: settings.name.clone(), logo, stylesheet })
    }

    /// Whether a logo is configured.
    pub fn has_logo(&self) -> bool {
        self.logo.is_some()
    }
}

/// The logo at `path`, if it is an SVG, PNG or WebP file of at most
/// [`MAX_LOGO_BYTES`].
fn read_logo(path: &Path) -> anyhow::Result<Logo> {
    let content_type = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref()
    {
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => bail!("--brand-logo {}: the logo is an .svg, .png or .webp file", path.display()),
    };
    let size = std::fs::metadata(path).with_context(|| format!("--brand-logo {}", path.display()))?.len();
    if size > MAX_LOGO_BYTES {
        bail!("--brand-logo {}: {size} bytes, more than {MAX_LOGO_BYTES}", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("--brand-logo {}", path.display()))?;
    Ok(Logo { content_type, bytes: bytes.into() })
}

/// `GET /assets/branding.css`: the accent colours (empty without any).
pub async fn stylesheet(branding: web::Data<Branding>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(branding.stylesheet.clone())
}

/// `GET /assets/brand-logo`: the logo, or 404 without one. An SVG logo
/// may run no script: it is served with a CSP of its own.
pub async fn logo(branding: web::Data<Branding>) -> HttpResponse {
    match &branding.logo {
        Some(logo) => HttpResponse::Ok()
            .content_type(logo.content_type)
            .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ))
            .body(logo.bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_only_colours() {
        assert_eq!(parse_color("#1F5FBF").unwrap(), "#1f5fbf");
        assert!(parse_color("#abc").is_ok());
        for bad in ["red", "#12345", "#1f5fbf; } body { display: none", "1f5fbf", "#ggg"] {
            assert!(parse_color(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stylesheet_carries_the_colours_and_a_logo_must_be_an_image() {
        let settings = BrandSettings { color: Some("#0a7d45".into()), ..BrandSettings::default() };
        let branding = Branding::load(&settings).unwrap();
        assert!(
            branding.stylesheet.contains(":root { --accent: #0a7d45; --accent-text: #ffffff; }"),
            "{}",
            branding.stylesheet
        );
        assert!(
            branding.stylesheet.contains(
                "(prefers-color-scheme: dark) { :root { --accent: #6ea2ff; --accent-text: #0b1220; }"
            ),
            "the dark theme keeps its own accent: {}",
            branding.stylesheet
        );
        let settings = BrandSettings {
            color: Some("#ffd400".into()),
            color_dark: Some("#7fb2ff".into()),
            ..BrandSettings::default()
        };
        let branding = Branding::load(&settings).unwrap();
        assert!(
            branding.stylesheet.contains("--accent: #ffd400; --accent-text: #0b1220;"),
            "ink on yellow: {}",
            branding.stylesheet
        );
        assert!(branding
            .stylesheet
            .contains("(prefers-color-scheme: dark) { :root { --accent: #7fb2ff; --accent-text: #0b1220; }"));
        assert!((contrast(rgb("#000"), rgb("#fff")) - 21.0).abs() < 0.01);
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("logo.txt");
        std::fs::write(&text, "hello").unwrap();
        let settings = BrandSettings { logo: Some(text), ..BrandSettings::default() };
        assert!(Branding::load(&settings).err().unwrap().to_string().contains(".svg, .png or .webp"));
    }
}
