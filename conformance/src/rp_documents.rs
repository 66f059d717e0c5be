//! What the relying party publishes for the server to fetch: its JWK Set
//! (`jwks_uri`, for `private_key_jwt`) and sector identifier documents.
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
    served: Arc<Mutex<HashMap<String, String>>>,
}

impl RpDocuments {
    /// Starts serving on a free loopback port (until the runtime ends).
    pub async fn start() -> Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.context("a loopback port for the RP's documents")?;
        let base = format!("http://{}", listener.local_addr()?);
        let served: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let documents = served.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let documents = documents.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 4096];
                    let read = stream.read(&mut request).await.unwrap_or_default();
                    let head = String::from_utf8_lossy(&request[..read]);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let body = documents.lock().expect("documents lock").get(&path).cloned();
                    let response = match body {
                        Some(body) => format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Ok(Self { base, served })
    }

    /// Serves `document` at `path` (replacing what was there); its URL.
    pub fn publish(&self, path: &str, document: &Value) -> String {
        self.served.lock().expect("documents lock").insert(path.to_owned(), document.to_string());
        format!("{}{path}", self.base)
    }
}
