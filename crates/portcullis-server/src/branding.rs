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
        if let Some(color) = &settings.color {
            stylesheet += &format!(":root {{ --accent: {color}; }}\n");
        }
        if let Some(color) = settings.color_dark.as_ref().or(settings.color.as_ref()) {
            stylesheet +=
                &format!("@media (prefers-color-scheme: dark) {{ :root {{ --accent: {color}; }} }}\n");
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
        assert!(branding.stylesheet.contains(":root { --accent: #0a7d45; }"), "{}", branding.stylesheet);
        assert!(branding.stylesheet.contains("prefers-color-scheme: dark"), "the dark theme too");
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("logo.txt");
        std::fs::write(&text, "hello").unwrap();
        let settings = BrandSettings { logo: Some(text), ..BrandSettings::default() };
        assert!(Branding::load(&settings).err().unwrap().to_string().contains(".svg, .png or .webp"));
    }
}
