//! A real browser for the console's tests: Debian's headless Chromium,
//! driven over WebDriver (W3C) through its `chromedriver` with `fantoccini`,
//! a maintained async WebDriver client (lighter to build than a CDP client,
//! and what `chromedriver` speaks). Each test gets its own driver and
//! browser; screenshots are saved under `target/screenshots/` as artifacts.
//! Without Chromium and its driver the tests fail and say why.

use fantoccini::{Client, ClientBuilder};
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

    /// Saves a screenshot of the page as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}
