//! A real browser for the console's tests: Debian's headless Chromium,
//! driven over WebDriver (W3C) through its `chromedriver` with `fantoccini`,
//! a maintained async WebDriver client (lighter to build than a CDP client,
//! and what `chromedriver` speaks). Each test gets its own driver and
//! browser; screenshots are saved under `target/screenshots/` as artifacts.
//! Without Chromium and its driver the tests fail and say why.

use fantoccini::{Client, ClientBuilder};

/// axe-core, injected into the pages to audit them (see `axe/README.md`).
const AXE: &str = include_str!("axe/axe.min.js");
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A headless Chromium, closed with its driver when dropped.
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Chromium {
    /// Starts `chromedriver` on a free port and a headless Chromium session.
    pub async fn start() -> Self {
        let port = portcullis_server::test_support::free_port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs: install Debian's chromium and chromium-driver (see the README)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1100,850", "--lang=en-US"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(client) = ClientBuilder::native().capabilities(capabilities.clone()).connect(&url).await
            {
                return Self { client, driver };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        let _ = driver.wait();
        panic!("chromedriver did not start a Chromium session on port {port}");
    }

    /// Waits (up to 10 s) until the page's path is `path`: a click that
    /// submits a form returns before the next page has loaded.
    pub async fn arrive_at(&self, path: &str) {
        let mut at = String::new();
        for _ in 0..100 {
            at = self.client.current_url().await.expect("a page").path().to_owned();
            if at == path {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the browser is at {at}, not at {path}");
    }

    /// The origin of the page shown (`http://127.0.0.1:PORT`).
    pub async fn origin(&self) -> String {
        let url = self.client.current_url().await.expect("a page");
        url.origin().ascii_serialization()
    }

    /// Shows the pages as on a phone (390 × 844) in the dark theme, or as
    /// at the start: a desktop window in the light theme.
    pub async fn as_phone_in_the_dark(&self, on: bool) {
        let (width, height, scheme) = if on { (390, 844, "dark") } else { (1100, 850, "light") };
        self.client.set_window_size(width, height).await.expect("a window size");
        let media = DevTools {
            cmd: "Emulation.setEmulatedMedia",
            params: serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        };
        self.client.issue_cmd(media).await.expect("Chromium emulates the colour scheme");
    }

    /// Whether the page is wider than the window (a phone would scroll sideways).
    pub async fn overflows(&self) -> bool {
        let wide = "return document.documentElement.scrollWidth > window.innerWidth";
        self.client.execute(wide, vec![]).await.expect("a page") == serde_json::Value::Bool(true)
    }

    /// Types `text` into the field with id `id`, after clearing it.
    pub async fn fill(&self, id: &str, text: &str) {
        let field =
            self.client.find(fantoccini::Locator::Id(id)).await.unwrap_or_else(|_| panic!("no #{id}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let element =
            self.client.find(fantoccini::Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        element.click().await.unwrap();
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element =
            self.client.find(fantoccini::Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        element.text().await.unwrap()
    }

    /// What axe-core finds on the page against WCAG 2.1 A and AA and its
    /// best practices: each violation's rule, help and where it is.
    pub async fn violations(&self) -> Vec<String> {
        let loaded = self.client.execute("return typeof axe !== 'undefined'", vec![]).await.expect("a page");
        if loaded != serde_json::Value::Bool(true) {
            self.client.execute(&format!("{AXE}\nreturn true;"), vec![]).await.expect("axe-core loads");
        }
        let run = "const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
              .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))),
                    e => done(['axe-core failed: ' + e]));";
        let found = self.client.execute_async(run, vec![]).await.expect("axe-core runs");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// Audits the page with axe-core and panics naming each violation.
    pub async fn audit(&self, name: &str) {
        let violations = self.violations().await;
        assert!(violations.is_empty(), "{name}: accessibility violations:\n{}", violations.join("\n"));
    }

    /// Audits the page (see [`Chromium::audit`]) and saves a screenshot of
    /// it as `target/screenshots/{name}.png`.
    pub async fn check(&self, name: &str) {
        self.audit(name).await;
        self.screenshot(name).await;
    }

    /// Saves a screenshot of the page as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// A Chrome DevTools Protocol command, sent through chromedriver's
/// `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
