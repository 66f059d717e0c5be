//! The one HTTP client for requests the server makes on someone's behalf:
//! webhook deliveries and clients' `jwks_uri` keys now, and every fetch of
//! a URL that someone else chose after them (metadata documents, sector
//! identifiers, request objects). DESIGN.md, "Layers", asks for exactly one;
//! a crate of its own, so that the layers below the adapters that fetch
//! (the protocol engine) use it without the application layer knowing HTTP.
//!
//! It applies [`OutboundPolicy`] at the last moment that counts: a URL's
//! literal address before sending, and a name on every address it resolves
//! to, inside the resolver reqwest connects through, so the connection goes
//! only to addresses that were checked (a second, rebinding answer is never
//! asked for). It ignores proxy settings from the environment (a proxy
//! would resolve names itself), follows no redirect, bounds each request's
//! time and the body it reads, and reports a refusal in the same words for
//! every inside address, so its answers are no map of the network.
//!
//! reqwest (already the server's HTTP client, with OpenSSL as josekit
//! links it) takes a resolver of our own through [`reqwest::dns::Resolve`];
//! names are resolved by the system, as reqwest's default resolver does.

use portcullis_core::outbound::{OutboundPolicy, OutboundRefusal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
/// The method of an [`OutboundRequest`], so callers need not depend on reqwest.
pub use reqwest::Method;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How one request ended without an answer the caller can use.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL or an address its host resolves to is not admitted.
    #[error("{0}")]
    Refused(OutboundRefusal),
    /// No answer (or not the whole body) within the time given.
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The body is larger than the caller reads.
    #[error("the answer exceeds {0} bytes")]
    TooLarge(usize),
    /// The host could not be resolved or reached.
    #[error("the endpoint could not be reached")]
    Unreachable,
    /// Anything else (TLS, a broken answer); without the URL, which may
    /// carry a token of the receiver's.
    #[error("the request failed")]
    Failed,
}

/// What was asked for.
pub struct OutboundRequest<'a> {
    /// GET or POST.
    pub method: reqwest::Method,
    /// The URL, as someone configured it.
    pub url: &'a str,
    /// Headers to send.
    pub headers: Vec<(&'static str, String)>,
    /// The body to send (POST).
    pub body: Option<String>,
    /// How long the whole exchange may take, the body included.
    pub timeout: Duration,
    /// The most bytes of the answer's body that are read.
    pub max_body: usize,
    /// What a longer body means: an error ([`OutboundError::TooLarge`]),
    /// or only that the rest is not read (the status is what counts).
    pub longer_body: LongerBody,
}

/// What an answer's body longer than the caller reads means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongerBody {
    /// The answer is refused.
    Refused,
    /// The first bytes are kept and the rest is not read.
    CutOff,
}

/// An answer: its status and body.
#[derive(Debug)]
pub struct OutboundResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, at most the request's `max_body` bytes.
    pub body: Vec<u8>,
    /// Its `Cache-Control` header, when it has one readable.
    pub cache_control: Option<String>,
}

/// The guarded client; cheap to share.
pub struct Outbound {
    policy: Arc<OutboundPolicy>,
    /// For https (public or allowed addresses) and for http (allowed only);
    /// each resolver knows which scheme it serves. Built on first use: the
    /// CLI never sends anything.
    clients: OnceLock<Result<[reqwest::Client; 2], String>>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new(OutboundPolicy::default())
    }
}

impl Outbound {
    /// A client applying `policy`.
    pub fn new(policy: OutboundPolicy) -> Self {
        Self { policy: Arc::new(policy), clients: OnceLock::new() }
    }

    /// The policy it applies.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    fn client(&self, plain_http: bool) -> Result<&reqwest::Client, OutboundError> {
        let built = self.clients.get_or_init(|| {
            let build = |plain_http| {
                let resolver = Arc::new(GuardedResolver { policy: self.policy.clone(), plain_http });
                reqwest::Client::builder()
                    .no_proxy()
                    .redirect(reqwest::redirect::Policy::none())
                    .dns_resolver(resolver)
                    .user_agent(concat!("Portcullis/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| e.to_string())
            };
            Ok([build(false)?, build(true)?])
        });
        match built {
            Ok(clients) => Ok(&clients[usize::from(plain_http)]),
            Err(e) => {
                tracing::error!(error = %e, "the outbound HTTP client could not be built");
                Err(OutboundError::Failed)
            }
        }
    }

    /// Sends `request` if the policy admits where it goes; reads at most
    /// its `max_body` bytes of the answer, whatever the status.
    pub async fn send(&self, request: OutboundRequest<'_>) -> Result<OutboundResponse, OutboundError> {
        let url = url::Url::parse(request.url).map_err(|_| OutboundError::Failed)?;
        self.policy.check_url(&url).map_err(OutboundError::Refused)?;
        let plain_http = url.scheme() == "http";
        let mut builder = self.client(plain_http)?.request(request.method, url).timeout(request.timeout);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let failed = |e: reqwest::Error| classify(&e, request.timeout);
        let mut response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let cache_control = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while body.len() < request.max_body || request.longer_body == LongerBody::Refused {
            let Some(chunk) = response.chunk().await.map_err(failed)? else { break };
            if body.len() + chunk.len() > request.max_body {
                if request.longer_body == LongerBody::Refused {
                    return Err(OutboundError::TooLarge(request.max_body));
                }
                body.extend_from_slice(&chunk[..request.max_body - body.len()]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(OutboundResponse { status, body, cache_control })
    }
}

/// What a failed request means for its caller: a refusal by the resolver
/// is found in the error's causes.
fn classify(error: &reqwest::Error, timeout: Duration) -> OutboundError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return OutboundError::Refused(refusal.0);
        }
        cause = e.source();
    }
    if error.is_timeout() {
        OutboundError::Timeout(timeout)
    } else if error.is_connect() {
        OutboundError::Unreachable
    } else {
        OutboundError::Failed
    }
}

/// A resolver's refusal, carried through reqwest to [`classify`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(OutboundRefusal);

/// Resolves a name with the system's resolver and hands reqwest its
/// addresses only when every one of them is admitted: a name that points
/// inside even once is refused whole.
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
    plain_http: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, plain_http) = (self.policy.clone(), self.plain_http);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for address in &addresses {
                policy.admits(address.ip(), plain_http).map_err(Refusal)?;
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on a loopback port answering every request with `status`;
    /// returns its port and a count of the connections it accepted.
    async fn answering(status: u16) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let answer =
                    format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (port, accepted)
    }

    fn get(url: &str) -> OutboundRequest<'_> {
        OutboundRequest {
            method: reqwest::Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(5),
            max_body: 1024,
            longer_body: LongerBody::Refused,
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_without_a_connection() {
        let (port, accepted) = answering(204).await;
        let outbound = Outbound::default();
        // Past the URL check (which knows `localhost`), as any name that
        // resolves to loopback would be: the resolver refuses it.
        let client = outbound.client(false).unwrap();
        let error = client.get(format!("https://localhost:{port}/")).send().await.unwrap_err();
        assert!(
            matches!(
                classify(&error, Duration::from_secs(5)),
                OutboundError::Refused(OutboundRefusal::NotPublic)
            ),
            "{error:?}"
        );
        let error = outbound.send(get(&format!("http://127.0.0.1:{port}/"))).await.unwrap_err();
        assert_eq!(error.to_string(), portcullis_core::outbound::NOT_PUBLIC);
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn allowed_networks_are_reached_and_answers_are_bounded() {
        let (port, accepted) = answering(202).await;
        let outbound = Outbound::new(OutboundPolicy::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]));
        let response = outbound.send(get(&format!("http://localhost:{port}/"))).await.unwrap();
        assert_eq!((response.status, response.body.as_slice()), (202, &b"ok"[..]));
        let url = format!("http://127.0.0.1:{port}/");
        let short = OutboundRequest { max_body: 1, ..get(&url) };
        assert!(matches!(outbound.send(short).await, Err(OutboundError::TooLarge(1))));
        let status_only = OutboundRequest { max_body: 0, longer_body: LongerBody::CutOff, ..get(&url) };
        let answered = outbound.send(status_only).await.unwrap();
        assert_eq!(
            (answered.status, answered.body.len()),
            (202, 0),
            "a longer body is not read, and no error"
        );
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
