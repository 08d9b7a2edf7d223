//! The HTTP/1.1 client under the Streamable HTTP transports: requests over
//! pooled connections, one pool per origin.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use parking_lot::Mutex;
use weir_core::io::NetRuntime;
use weir_core::{ConfigError, Rule};
use weir_core::{
    ResourcePool,
    pool::{PoolError, PoolStats},
};

use super::HttpError;
use super::body::ResponseBody;
use super::conn::OriginManager;
use super::origin::Origin;
#[cfg(feature = "rustls")]
use super::tls::Tls;

/// An HTTP/1.1 client on any [`NetRuntime`]: hyper's connection protocol
/// over the runtime's TCP streams (TLS with feature `rustls`), connections
/// kept per origin in weir's [`ResourcePool`].
///
/// HTTP/1.1 carries one exchange per connection at a time, so a connection
/// is held from the request until its response body ends; a pool of
/// `max_connections_per_origin` bounds how many exchanges run at once and
/// makes the rest wait (at most `acquire_timeout`). Cloning shares the pools.
///
/// ```no_run
/// use weir_mcp::http::HttpClientBuilder;
///
/// # smol::block_on(async {
/// let client = HttpClientBuilder::new().max_connections_per_origin(32).build(weir_smol::Smol)?;
/// let reply = client.send(http::Request::get("http://127.0.0.1:8000/").body(bytes::Bytes::new())?).await?;
/// let body = client.read_to_end(reply.into_body()).await?;
/// # drop(body);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
pub struct HttpClient<R: NetRuntime> {
    inner: Arc<Inner<R>>,
}

struct Inner<R: NetRuntime> {
    rt: R,
    cfg: Config,
    pools: Mutex<HashMap<Origin, ResourcePool<OriginManager<R>, R>>>,
    #[cfg(feature = "rustls")]
    tls: Tls,
}

#[derive(Debug, Clone)]
struct Config {
    max_connections_per_origin: usize,
    acquire_timeout: Duration,
    idle_timeout: Duration,
    max_body_bytes: usize,
}

/// Builds an [`HttpClient`].
///
/// ```
/// use std::time::Duration;
/// use weir_mcp::http::HttpClientBuilder;
///
/// let err = HttpClientBuilder::new().max_connections_per_origin(0).build(weir_smol::Smol).unwrap_err();
/// assert_eq!(err.field(), "max_connections_per_origin");
/// let ok = HttpClientBuilder::new().acquire_timeout(Duration::from_secs(1)).build(weir_smol::Smol);
/// assert!(ok.is_ok());
/// ```
#[must_use = "builder does nothing itself, use .build() to build it"]
#[derive(Clone)]
pub struct HttpClientBuilder {
    cfg: Config,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<futures_rustls::rustls::ClientConfig>>,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClientBuilder {
    /// A builder with the defaults: 64 connections per origin, 30 s to get
    /// one, idle connections closed after 90 s, bodies up to 16 MiB.
    ///
    /// ```
    /// let b = weir_mcp::http::HttpClientBuilder::new();
    /// # drop(b);
    /// ```
    pub fn new() -> Self {
        HttpClientBuilder {
            cfg: Config {
                max_connections_per_origin: 64,
                acquire_timeout: Duration::from_secs(30),
                idle_timeout: Duration::from_secs(90),
                max_body_bytes: 16 << 20,
            },
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

impl HttpClientBuilder {
    /// Connections kept (and exchanges run at once) per origin; default 64.
    ///
    /// ```
    /// let b = weir_mcp::http::HttpClientBuilder::new().max_connections_per_origin(256);
    /// # drop(b);
    /// ```
    pub fn max_connections_per_origin(mut self, n: usize) -> Self {
        self.cfg.max_connections_per_origin = n;
        self
    }

    /// How long a request waits for a free connection; default 30 s.
    ///
    /// ```
    /// let b = weir_mcp::http::HttpClientBuilder::new().acquire_timeout(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn acquire_timeout(mut self, d: std::time::Duration) -> Self {
        self.cfg.acquire_timeout = d;
        self
    }

    /// Idle connections are closed after this long; default 90 s.
    ///
    /// ```
    /// let b = weir_mcp::http::HttpClientBuilder::new().idle_timeout(std::time::Duration::from_secs(10));
    /// # drop(b);
    /// ```
    pub fn idle_timeout(mut self, d: std::time::Duration) -> Self {
        self.cfg.idle_timeout = d;
        self
    }

    /// The largest JSON body [`HttpClient::read_to_end`] accepts; default 16 MiB.
    ///
    /// ```
    /// let b = weir_mcp::http::HttpClientBuilder::new().max_body_bytes(1 << 20);
    /// # drop(b);
    /// ```
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.cfg.max_body_bytes = n;
        self
    }

    /// The rustls configuration for `https://` (default: the webpki roots,
    /// ring, TLS 1.2 and 1.3). Feature `rustls`.
    ///
    /// ```
    /// # #[cfg(feature = "rustls")] {
    /// use std::sync::Arc;
    /// use futures_rustls::rustls::{ClientConfig, RootCertStore};
    ///
    /// let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    /// let config = ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions().unwrap()
    ///     .with_root_certificates(RootCertStore::empty())
    ///     .with_no_client_auth();
    /// let b = weir_mcp::http::HttpClientBuilder::new().tls_config(Arc::new(config));
    /// # drop(b);
    /// # }
    /// ```
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: Arc<futures_rustls::rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The client, on runtime `rt`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the field: zero connections, a zero body limit.
    ///
    /// ```
    /// let c = weir_mcp::http::HttpClientBuilder::new().build(weir_smol::Smol).unwrap();
    /// # drop(c);
    /// ```
    pub fn build<R: NetRuntime>(self, rt: R) -> Result<HttpClient<R>, ConfigError> {
        if self.cfg.max_connections_per_origin == 0 {
            return Err(ConfigError::new(
                "HttpClient",
                "max_connections_per_origin",
                Rule::Zero,
            ));
        }
        if self.cfg.max_body_bytes == 0 {
            return Err(ConfigError::new("HttpClient", "max_body_bytes", Rule::Zero));
        }
        Ok(HttpClient {
            inner: Arc::new(Inner {
                rt,
                cfg: self.cfg,
                pools: Mutex::new(HashMap::new()),
                #[cfg(feature = "rustls")]
                tls: Tls::new(self.tls),
            }),
        })
    }
}

impl<R: NetRuntime> HttpClient<R> {
    /// A client with [`HttpClientBuilder`]'s defaults.
    ///
    /// ```
    /// let c = weir_mcp::http::HttpClient::new(weir_smol::Smol);
    /// # drop(c);
    /// ```
    pub fn new(rt: R) -> Self {
        HttpClientBuilder::new()
            .build(rt)
            .expect("the defaults are valid")
    }

    /// The runtime the client runs on.
    ///
    /// ```
    /// let c = weir_mcp::http::HttpClient::new(weir_smol::Smol);
    /// assert_eq!(*c.runtime(), weir_smol::Smol);
    /// ```
    pub fn runtime(&self) -> &R {
        &self.inner.rt
    }

    /// Sends `req` (an absolute `http://` or `https://` URI) on a pooled
    /// connection to its origin and returns the response head with its
    /// body still to read. `Host` is set from the URI.
    ///
    /// A request that never left because its pooled connection had closed
    /// meanwhile is sent again on a fresh one; a request that may have
    /// reached the server is never sent twice.
    ///
    /// # Errors
    ///
    /// [`HttpError::InvalidUrl`], [`HttpError::Pool`] (no connection in
    /// time), [`HttpError::Connect`], [`HttpError::Http`].
    ///
    /// ```no_run
    /// # smol::block_on(async {
    /// let client = weir_mcp::http::HttpClient::new(weir_smol::Smol);
    /// let req = http::Request::post("http://127.0.0.1:8000/mcp").body(bytes::Bytes::from_static(b"{}"))?;
    /// let reply = client.send(req).await?;
    /// assert!(reply.status().is_success());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    pub async fn send(&self, req: Request<Bytes>) -> Result<Response<ResponseBody<R>>, HttpError> {
        let (origin, target) = Origin::split(req.uri())?;
        let pool = self.pool_for(&origin);
        let (mut parts, body) = req.into_parts();
        parts.uri = target
            .parse::<Uri>()
            .map_err(|_| HttpError::InvalidUrl(target.clone()))?;
        let host = HeaderValue::from_str(&origin.host_header())
            .map_err(|_| HttpError::InvalidUrl(origin.host.clone()))?;
        parts.headers.insert(HOST, host);
        let mut req = Request::from_parts(parts, Full::new(body));
        let mut fresh_tried = false;
        loop {
            let mut conn = pool.get().await.map_err(pool_error)?;
            match conn.try_send_request(req).await {
                Ok(resp) => return Ok(resp.map(|incoming| ResponseBody::new(incoming, conn))),
                Err(mut e) => {
                    drop(conn.detach());
                    match e.take_message() {
                        Some(unsent) if !fresh_tried => {
                            fresh_tried = true;
                            req = unsent;
                        }
                        _ => return Err(HttpError::Http(e.into_error())),
                    }
                }
            }
        }
    }

    /// Reads a body to its end, refusing more than `max_body_bytes`.
    ///
    /// # Errors
    ///
    /// [`HttpError::TooLarge`], or [`HttpError::Http`] when the connection fails mid-body.
    ///
    /// ```no_run
    /// # smol::block_on(async {
    /// let client = weir_mcp::http::HttpClient::new(weir_smol::Smol);
    /// let reply = client.send(http::Request::get("http://127.0.0.1:8000/").body(bytes::Bytes::new())?).await?;
    /// let bytes = client.read_to_end(reply.into_body()).await?;
    /// # drop(bytes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # });
    /// ```
    pub async fn read_to_end(&self, body: ResponseBody<R>) -> Result<Bytes, HttpError> {
        let limit = self.inner.cfg.max_body_bytes;
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) => match e.downcast::<hyper::Error>() {
                Ok(e) => Err(HttpError::Http(*e)),
                Err(_) => Err(HttpError::TooLarge { limit }),
            },
        }
    }

    /// The connection pool's figures for `url`'s origin (connections
    /// open, idle, in use, created, discarded); `None` before the first
    /// request there.
    ///
    /// ```
    /// let c = weir_mcp::http::HttpClient::new(weir_smol::Smol);
    /// assert!(c.pool_stats("http://127.0.0.1:1/").is_none());
    /// ```
    pub fn pool_stats(&self, url: &str) -> Option<PoolStats> {
        let uri = url.parse::<Uri>().ok()?;
        let (origin, _) = Origin::split(&uri).ok()?;
        self.inner
            .pools
            .lock()
            .get(&origin)
            .map(ResourcePool::stats)
    }

    fn pool_for(&self, origin: &Origin) -> ResourcePool<OriginManager<R>, R> {
        let mut pools = self.inner.pools.lock();
        if let Some(pool) = pools.get(origin) {
            return pool.clone();
        }
        let cfg = &self.inner.cfg;
        let manager = OriginManager {
            rt: self.inner.rt.clone(),
            origin: origin.clone(),
            #[cfg(feature = "rustls")]
            tls: self.inner.tls.clone(),
        };
        let pool = ResourcePool::builder(manager)
            .max_size(cfg.max_connections_per_origin)
            .acquire_timeout(cfg.acquire_timeout)
            .idle_timeout(cfg.idle_timeout)
            .build(self.inner.rt.clone())
            .expect("validated by HttpClientBuilder::build");
        pools.insert(origin.clone(), pool.clone());
        pool
    }
}

fn pool_error(e: PoolError<HttpError>) -> HttpError {
    match e {
        PoolError::Create(e) => e,
        PoolError::Timeout => HttpError::Pool("timed out waiting for a free connection"),
        PoolError::Closed => HttpError::Pool("the client is closed"),
        _ => HttpError::Pool("connection pool error"),
    }
}

impl<R: NetRuntime> Clone for HttpClient<R> {
    fn clone(&self) -> Self {
        HttpClient {
            inner: self.inner.clone(),
        }
    }
}

impl<R: NetRuntime> fmt::Debug for HttpClient<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.inner.cfg)
            .field("origins", &self.inner.pools.lock().len())
            .finish()
    }
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("config", &self.cfg)
            .finish()
    }
}
