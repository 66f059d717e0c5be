//! What the relying party publishes for the server to fetch: its JWK Set
//! (`jwks_uri`, for `private_key_jwt`), sector identifier documents and
//! request objects passed by reference.
//! A small HTTP/1.1 server on a loopback port, so the server under test
//! must be able to reach the machine the suite runs on (for a remote
//! deployment, run the suite where the server can reach it).

use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The documents the relying party serves, by path.
#[derive(Clone)]
pub struct RpDocuments {
    base: String,
    served: Arc<Mutex<HashMap<String, Served>>>,
    fetches: Arc<Mutex<HashMap<String, usize>>>,
}

/// A document: its media type and body.
type Served = (&'static str, String);

impl RpDocuments {
    /// Starts serving on a free loopback port (until the runtime ends).
    pub async fn start() -> Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.context("a loopback port for the RP's documents")?;
        let base = format!("http://{}", listener.local_addr()?);
        let served: Arc<Mutex<HashMap<String, Served>>> = Arc::default();
        let fetches: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (documents, counts) = (served.clone(), fetches.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (documents, counts) = (documents.clone(), counts.clone());
                tokio::spawn(async move {
                    let mut request = vec![0u8; 4096];
                    let read = stream.read(&mut request).await.unwrap_or_default();
                    let head = String::from_utf8_lossy(&request[..read]);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *counts.lock().expect("fetches lock").entry(path.clone()).or_default() += 1;
                    let body = documents.lock().expect("documents lock").get(&path).cloned();
                    let response = match body {
                        Some((media_type, body)) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {media_type}\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Ok(Self { base, served, fetches })
    }

    /// Serves `document` at `path` (replacing what was there); its URL.
    pub fn publish(&self, path: &str, document: &Value) -> String {
        self.served
            .lock()
            .expect("documents lock")
            .insert(path.to_owned(), ("application/json", document.to_string()));
        self.url(path)
    }

    /// Serves the signed request object `jwt` at `path` (as the suite
    /// does, `application/jwt`).
    pub fn publish_jwt(&self, path: &str, jwt: &str) {
        self.served
            .lock()
            .expect("documents lock")
            .insert(path.to_owned(), ("application/jwt", jwt.to_owned()));
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How often the server fetched `path`.
    pub fn fetched(&self, path: &str) -> usize {
        self.fetches.lock().expect("fetches lock").get(path).copied().unwrap_or_default()
    }
}
