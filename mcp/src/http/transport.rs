//! Streamable HTTP as a weir-mcp [`Transport`]: a POST per message, replies
//! as JSON or as an SSE stream, in both eras.
//!
//! Legacy (2025-03-26 to 2025-11-25): the `Mcp-Session-Id` the server hands
//! out with the `initialize` reply goes on every later request, and
//! `MCP-Protocol-Version` once negotiated; a GET stream carries the
//! server's own messages; a response stream that closes before its reply
//! is resumed with a GET carrying `Last-Event-ID`, after the server's
//! `retry` (SEP-1699); a 404 on the session is reported as
//! [`TransportEvent::SessionExpired`]; `close` deletes the session.
//! Cancelling is `notifications/cancelled`, posted on the control lane.
//!
//! Modern (2026-07-28): no session; `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` mirrors go on every POST; cancelling a request closes its
//! response stream (nothing is posted), and a stream that breaks before
//! its reply is reported as [`TransportEvent::StreamLost`] so the session
//! re-issues the request under a new id: never a resume.
//!
//! Control-lane messages (cancellations, replies to the server's requests)
//! use a connection pool of their own, so a normal lane whose every
//! connection is busy never holds them back.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_lite::{StreamExt, future};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use parking_lot::Mutex;
use serde_json::Value;
use sse_stream::SseStream;
use weir_core::io::NetRuntime;
use weir_core::queue::{Receiver, Sender, unbounded};
use weir_core::rt::JoinHandle;
use weir_core::{CancellationToken, ConfigError, Rule};

use super::headers::{mirror_params, retry_after};
use super::{HttpClient, HttpClientBuilder, HttpError, ResponseBody};
use crate::jsonrpc::{Message, RequestId};
use crate::transport::{
    CancelAction, Era, Inbound, Lane, MessageKind, MessageSink, MessageSource, Outbound, Transport,
    TransportError, TransportEvent,
};

const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const JSON_OR_SSE: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const SSE: HeaderValue = HeaderValue::from_static("text/event-stream");
/// The longest requests wait for the legacy GET stream to be answered.
const GET_STREAM_WAIT: Duration = Duration::from_secs(5);

/// A Streamable HTTP connection to one MCP endpoint.
///
/// Legacy (2025-03-26 to 2025-11-25): the `Mcp-Session-Id` the server hands
/// out with the `initialize` reply goes on every later request, and
/// `MCP-Protocol-Version` once negotiated; a GET stream carries the
/// server's own messages; a response stream that closes before its reply
/// is resumed with a GET carrying `Last-Event-ID`, after the server's
/// `retry` (SEP-1699); a 404 on the session is reported as
/// [`TransportEvent::SessionExpired`]; `close` deletes the session.
/// Cancelling is `notifications/cancelled`, posted on the control lane.
///
/// Modern (2026-07-28): no session; `Mcp-Method`, `Mcp-Name` and the
/// `Mcp-Param-*` mirrors go on every POST; cancelling a request closes its
/// response stream (nothing is posted), and a stream that breaks before
/// its reply is reported as [`TransportEvent::StreamLost`] so the session
/// re-issues the request under a new id: never a resume.
///
/// Control-lane messages (cancellations, replies to the server's requests)
/// use a connection pool of their own, so a normal lane whose every
/// connection is busy never holds them back.
///
/// ```no_run
/// use weir_mcp::http::StreamableHttpBuilder;
/// use weir_mcp::transport::Transport;
///
/// let transport = StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp").build(weir_smol::Smol)?;
/// let (sink, source) = transport.split();
/// # drop((sink, source));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamableHttp<R: NetRuntime> {
    sink: HttpSink<R>,
    source: HttpSource,
}

/// Builds a [`StreamableHttp`] transport.
///
/// ```
/// use std::time::Duration;
/// use weir_mcp::http::StreamableHttpBuilder;
///
/// let t = StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp")
///     .max_connections(32)
///     .max_retry_after(Duration::from_secs(30))
///     .build(weir_smol::Smol);
/// assert!(t.is_ok());
/// assert!(StreamableHttpBuilder::new("nope").build(weir_smol::Smol).is_err());
/// ```
#[must_use = "builder does nothing itself, use .build() to build it"]
#[derive(Debug, Clone)]
pub struct StreamableHttpBuilder {
    url: String,
    headers: HeaderMap,
    max_connections: usize,
    control_connections: usize,
    max_retry_after: Duration,
    default_retry: Duration,
    max_resumes: u32,
    get_stream: bool,
    http: Option<HttpClientBuilder>,
}

impl StreamableHttpBuilder {
    /// A builder for the endpoint `url` (`http://` or `https://`).
    ///
    /// Defaults: 64 connections for requests and 4 more for the control
    /// lane, `Retry-After` bounded at 60 s, 1 s before a resume when the
    /// server named no `retry`, 3 resumes per stream, the legacy GET stream
    /// on.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp");
    /// # drop(b);
    /// ```
    pub fn new(url: impl Into<String>) -> StreamableHttpBuilder {
        StreamableHttpBuilder {
            url: url.into(),
            headers: HeaderMap::new(),
            max_connections: 64,
            control_connections: 4,
            max_retry_after: Duration::from_secs(60),
            default_retry: Duration::from_secs(1),
            max_resumes: 3,
            get_stream: true,
            http: None,
        }
    }
}

impl StreamableHttpBuilder {
    /// A header sent on every request (an `Authorization`, say).
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp")
    ///     .header(http::header::AUTHORIZATION, http::HeaderValue::from_static("Bearer t"));
    /// # drop(b);
    /// ```
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Requests (and streams) open at once; default 64.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").max_connections(256);
    /// # drop(b);
    /// ```
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Connections kept for the control lane; default 4.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").control_connections(2);
    /// # drop(b);
    /// ```
    pub fn control_connections(mut self, n: usize) -> Self {
        self.control_connections = n;
        self
    }

    /// The longest `Retry-After` honoured; longer hints are cut to it. Default 60 s.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").max_retry_after(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// The wait before resuming a stream whose server sent no `retry`; default 1 s.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").default_retry(std::time::Duration::from_millis(200));
    /// # drop(b);
    /// ```
    pub fn default_retry(mut self, d: Duration) -> Self {
        self.default_retry = d;
        self
    }

    /// How often one legacy stream is resumed before its request fails; default 3.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").max_resumes(1);
    /// # drop(b);
    /// ```
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.max_resumes = n;
        self
    }

    /// Whether a legacy session opens the GET stream for the server's own
    /// messages; default on.
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").get_stream(false);
    /// # drop(b);
    /// ```
    pub fn get_stream(mut self, on: bool) -> Self {
        self.get_stream = on;
        self
    }

    /// The HTTP client settings (timeouts, body limit, TLS); its connection
    /// count is replaced by [`max_connections`](Self::max_connections).
    ///
    /// ```
    /// let b = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp")
    ///     .http(weir_mcp::http::HttpClientBuilder::new().max_body_bytes(1 << 20));
    /// # drop(b);
    /// ```
    pub fn http(mut self, http: HttpClientBuilder) -> Self {
        self.http = Some(http);
        self
    }

    /// The transport, on runtime `rt`. Nothing is sent until the session sends.
    ///
    /// # Errors
    ///
    /// [`ConfigError`]: a URL that is not `http(s)://host/...` (`url`), zero connections.
    ///
    /// ```
    /// let e = weir_mcp::http::StreamableHttpBuilder::new("http://h/mcp").control_connections(0).build(weir_smol::Smol);
    /// assert_eq!(e.unwrap_err().field(), "control_connections");
    /// ```
    pub fn build<R: NetRuntime>(self, rt: R) -> Result<StreamableHttp<R>, ConfigError> {
        let url: Uri = self.url.parse().map_err(|_| {
            ConfigError::new(
                "StreamableHttp",
                "url",
                Rule::Other("must be an http:// or https:// URL"),
            )
        })?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(ConfigError::new(
                "StreamableHttp",
                "url",
                Rule::Other("must be an http:// or https:// URL"),
            ));
        }
        if self.control_connections == 0 {
            return Err(ConfigError::new(
                "StreamableHttp",
                "control_connections",
                Rule::Zero,
            ));
        }
        let http = self.http.unwrap_or_default();
        let client = http
            .clone()
            .max_connections_per_origin(self.max_connections)
            .build(rt.clone())?;
        let control = http
            .clone()
            .max_connections_per_origin(self.control_connections)
            .build(rt.clone())?;
        // The legacy GET stream lives as long as the session: it gets a
        // connection of its own instead of holding one of the requests'.
        let listener = http.max_connections_per_origin(1).build(rt.clone())?;
        let (tx, rx) = unbounded();
        let shared = Arc::new(Shared {
            rt,
            url,
            headers: self.headers,
            client,
            control,
            listener,
            inbox: tx,
            max_retry_after: self.max_retry_after,
            default_retry: self.default_retry,
            max_resumes: self.max_resumes,
            get_stream: self.get_stream,
            state: Mutex::new(State::default()),
        });
        Ok(StreamableHttp {
            sink: HttpSink { shared },
            source: HttpSource { inbox: rx },
        })
    }
}

/// Opens a fresh [`StreamableHttp`] transport each time the client
/// connects (first call, and again after the connection died): what
/// [`Client::builder(..).build(..)`](crate::ClientBuilder::build) takes.
///
/// ```no_run
/// use weir_mcp::Client;
/// use weir_mcp::http::StreamableHttpBuilder;
///
/// # smol::block_on(async {
/// let rt = weir_smol::Smol;
/// let client = Client::builder(rt).build(StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp").connector(rt));
/// let tools = client.list_tools().await?;
/// # drop(tools);
/// # Ok::<(), weir_mcp::McpError>(())
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct HttpConnect<R> {
    builder: StreamableHttpBuilder,
    rt: R,
}

impl StreamableHttpBuilder {
    /// A connector for weir-mcp's [`Client`](crate::Client) that builds this
    /// transport on `rt` for every connection. A bad URL surfaces as
    /// [`TransportError::Connect`] on the first call.
    ///
    /// ```
    /// let c = weir_mcp::http::StreamableHttpBuilder::new("http://127.0.0.1:8000/mcp").connector(weir_smol::Smol);
    /// # drop(c);
    /// ```
    pub fn connector<R: NetRuntime>(self, rt: R) -> HttpConnect<R> {
        HttpConnect { builder: self, rt }
    }
}

impl<R: NetRuntime> crate::transport::Connect for HttpConnect<R> {
    type Transport = StreamableHttp<R>;

    async fn connect(&self) -> Result<StreamableHttp<R>, TransportError> {
        self.builder
            .clone()
            .build(self.rt.clone())
            .map_err(|e| TransportError::Connect(Arc::new(e)))
    }
}

impl<R: NetRuntime> Transport for StreamableHttp<R> {
    type Sink = HttpSink<R>;
    type Source = HttpSource;

    fn split(self) -> (HttpSink<R>, HttpSource) {
        (self.sink, self.source)
    }
}

impl<R: NetRuntime> fmt::Debug for StreamableHttp<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamableHttp")
            .field("url", &self.sink.shared.url)
            .finish()
    }
}

struct Shared<R: NetRuntime> {
    rt: R,
    url: Uri,
    headers: HeaderMap,
    client: HttpClient<R>,
    control: HttpClient<R>,
    listener: HttpClient<R>,
    inbox: Sender<Inbound>,
    max_retry_after: Duration,
    default_retry: Duration,
    max_resumes: u32,
    get_stream: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    session: Option<HeaderValue>,
    era: Option<Era>,
    version: Option<&'static str>,
    /// Requests whose exchange is still open, so `cancel` can end it.
    open: HashMap<RequestId, CancellationToken>,
    get_stream_open: bool,
    /// Fires once the legacy GET stream's answer (or failure) is in: a
    /// server sends its own requests only on an open GET stream and drops
    /// them otherwise, so requests wait for it (once per session).
    get_ready: Option<CancellationToken>,
    closed: bool,
}

/// The writing half of [`StreamableHttp`]: each message is its own POST,
/// run as a task on the runtime.
pub struct HttpSink<R: NetRuntime> {
    shared: Arc<Shared<R>>,
}

/// The reading half of [`StreamableHttp`]: replies, server messages and
/// transport events from every open exchange, in arrival order.
pub struct HttpSource {
    inbox: Receiver<Inbound>,
}

impl MessageSource for HttpSource {
    async fn recv(&mut self) -> Result<Inbound, TransportError> {
        self.inbox.recv().await.map_err(|_| TransportError::Closed)
    }
}

impl fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HttpSource")
    }
}

impl<R: NetRuntime> fmt::Debug for HttpSink<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSink")
            .field("url", &self.shared.url)
            .finish()
    }
}

impl<R: NetRuntime> MessageSink for HttpSink<R> {
    async fn send(&mut self, mut msg: Outbound) -> Result<(), TransportError> {
        let shared = self.shared.clone();
        let get_ready = shared.state.lock().get_ready.clone();
        if let Some(ready) = get_ready.filter(|r| !r.is_cancelled()) {
            // Bounded: a server that never answers the GET must not stall
            // every request.
            future::or(ready.cancelled(), shared.rt.sleep(GET_STREAM_WAIT)).await;
        }
        let id = (msg.kind == MessageKind::Request)
            .then(|| msg.id.clone())
            .flatten();
        let token = CancellationToken::new();
        {
            let mut state = shared.state.lock();
            if state.closed {
                return Err(TransportError::Closed);
            }
            if let Some(id) = &id {
                state.open.insert(id.clone(), token.clone());
            }
        }
        let req = shared
            .post_request(&mut msg)
            .map_err(|e| TransportError::Protocol(e.to_string()))?;
        let task_shared = shared.clone();
        let exchange = async move {
            let shared = task_shared;
            let lane = msg.lane;
            let done_id = id.clone();
            future::or(async { shared.exchange(req, lane, id).await }, async {
                // Cancelled (modern): dropping the exchange drops its response
                // body, which closes the connection: the server's cancel signal.
                token.cancelled().await;
            })
            .await;
            if let Some(id) = done_id {
                shared.state.lock().open.remove(&id);
            }
        };
        shared.rt.spawn(exchange).detach();
        Ok(())
    }

    fn cancel(&mut self, id: &RequestId) -> CancelAction {
        let mut state = self.shared.state.lock();
        if state.era == Some(Era::Modern) {
            if let Some(token) = state.open.remove(id) {
                token.cancel();
            }
            CancelAction::Done
        } else {
            // Legacy: the session posts notifications/cancelled on the
            // control lane; the request's own stream stays open for
            // whatever the server still sends.
            CancelAction::Notify
        }
    }

    fn negotiated(&mut self, era: Era, protocol_version: &'static str) {
        let open_get = {
            let mut state = self.shared.state.lock();
            state.era = Some(era);
            state.version = Some(protocol_version);
            let open = era == Era::Legacy && self.shared.get_stream && !state.get_stream_open;
            state.get_stream_open |= open;
            if open {
                state.get_ready = Some(CancellationToken::new());
            }
            open
        };
        if open_get {
            let shared = self.shared.clone();
            self.shared
                .rt
                .spawn(async move { shared.listen().await })
                .detach();
        }
    }

    async fn close(&mut self) {
        let (session, open) = {
            let mut state = self.shared.state.lock();
            state.closed = true;
            (state.session.take(), std::mem::take(&mut state.open))
        };
        for token in open.into_values() {
            token.cancel();
        }
        if let Some(session) = session {
            // Legacy: tell the server the session is over, bounded so a
            // dead server cannot hold the close.
            let mut req = self.shared.base_request(Method::DELETE);
            req.headers_mut().insert(SESSION_ID, session);
            let client = self.shared.control.clone();
            let delete = async move {
                if let Ok(resp) = client.send(req).await {
                    drop(resp);
                }
            };
            future::or(delete, self.shared.rt.sleep(Duration::from_secs(2))).await;
        }
        self.shared.inbox.close();
    }
}

impl<R: NetRuntime> Shared<R> {
    fn base_request(&self, method: Method) -> Request<Bytes> {
        let mut req = Request::new(Bytes::new());
        *req.method_mut() = method;
        *req.uri_mut() = self.url.clone();
        *req.headers_mut() = self.headers.clone();
        let state = self.state.lock();
        if let Some(version) = state.version.filter(|_| state.era == Some(Era::Legacy)) {
            req.headers_mut()
                .insert(PROTOCOL_VERSION, HeaderValue::from_static(version));
        }
        if let Some(session) = &state.session {
            req.headers_mut().insert(SESSION_ID, session.clone());
        }
        req
    }

    /// The POST carrying `msg`, with the headers its era asks for.
    fn post_request(&self, msg: &mut Outbound) -> Result<Request<Bytes>, http::Error> {
        let mut req = self.base_request(Method::POST);
        let headers = req.headers_mut();
        headers.insert(CONTENT_TYPE, JSON);
        headers.insert(ACCEPT, JSON_OR_SSE);
        let era = msg.era.or(self.state.lock().era);
        // `initialize` exists only in the legacy era, whatever a probe left
        // the state at.
        let modern = msg.method.as_deref() != Some("initialize")
            && (era == Some(Era::Modern)
                || msg.protocol_version.is_some_and(|v| v >= "2026-07-28"));
        if let Some(version) = msg.protocol_version {
            headers.insert(PROTOCOL_VERSION, HeaderValue::from_static(version));
        }
        if modern {
            headers.remove(SESSION_ID);
            if let Some(method) = &msg.method {
                headers.insert(MCP_METHOD, HeaderValue::try_from(method.as_ref())?);
            }
            let params = parse_params(&msg.body);
            let name = msg
                .name
                .clone()
                .or_else(|| name_of(msg.method.as_deref(), params.as_ref()));
            if let Some(name) = name {
                // Names and URIs are header text only when they are visible
                // ASCII; anything else travels in the same encoded form as
                // the parameter mirrors.
                headers.insert(
                    MCP_NAME,
                    HeaderValue::try_from(super::headers::encode_value(&name))?,
                );
            }
            if let (Some(schema), Some(params)) = (&msg.tool_schema, &params) {
                mirror_params(schema, params.get("arguments"), headers);
            }
        }
        // The body moves into the request: no copy of the message.
        *req.body_mut() = Bytes::from(std::mem::take(&mut msg.body));
        Ok(req)
    }

    fn push(&self, item: Inbound) {
        // The source is gone only when the session is: nothing to tell.
        let _ = self.inbox.try_send(item);
    }

    fn fail(&self, id: Option<RequestId>, error: TransportError) {
        if let Some(id) = id {
            self.push(Inbound::Event(TransportEvent::RequestFailed { id, error }));
        }
    }

    fn overload(&self, resp: &Response<ResponseBody<R>>) -> TransportError {
        TransportError::Overloaded {
            retry_after: retry_after(resp.headers(), SystemTime::now(), self.max_retry_after),
        }
    }

    /// One POST and everything its reply carries.
    async fn exchange(&self, req: Request<Bytes>, lane: Lane, id: Option<RequestId>) {
        let had_session = req.headers().contains_key(SESSION_ID);
        // Only a legacy request opens or continues a session.
        let sent_modern = req.headers().contains_key(MCP_METHOD);
        let client = if lane == Lane::Control {
            &self.control
        } else {
            &self.client
        };
        let resp = match client.send(req).await {
            Ok(resp) => resp,
            Err(e) => return self.fail(id, http_error(e)),
        };
        if let Some(session) = resp.headers().get(SESSION_ID).filter(|_| !sent_modern) {
            self.state.lock().session = Some(session.clone());
        }
        let status = resp.status();
        match status {
            StatusCode::ACCEPTED | StatusCode::NO_CONTENT => {}
            StatusCode::NOT_FOUND if had_session => {
                self.state.lock().session = None;
                self.push(Inbound::Event(TransportEvent::SessionExpired { id }));
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let error = self.overload(&resp);
                self.fail(id, error);
            }
            _ if is_sse(&resp) && status.is_success() => {
                self.read_stream(resp.into_body(), id).await
            }
            _ => {
                let json = is_json(&resp);
                let body = match client.read_to_end(resp.into_body()).await {
                    Ok(body) => body,
                    Err(e) => return self.fail(id, http_error(e)),
                };
                // A JSON-RPC reply travels even on an error status (a modern
                // server answers an unsupported version with HTTP 400 and
                // the error the session retries on).
                match Message::decode(&body) {
                    Ok(mut message) if json || status.is_success() => {
                        // An error with a null id in the reply to a POST
                        // answers that POST's request (servers that reject a
                        // request before parsing it cannot name its id).
                        if let (Message::Error(e), Some(id)) = (&mut message, &id)
                            && e.id.is_none()
                        {
                            // A session the server no longer knows, refused
                            // before dispatch with 400 instead of the 404 the
                            // spec asks for (servers built on the TypeScript
                            // SDK's example do this after a restart): the
                            // same as an expiry.
                            if status == StatusCode::BAD_REQUEST && had_session && !sent_modern {
                                self.state.lock().session = None;
                                return self.push(Inbound::Event(TransportEvent::SessionExpired {
                                    id: Some(id.clone()),
                                }));
                            }
                            e.id = Some(id.clone());
                        }
                        self.push(Inbound::Message(message))
                    }
                    _ if status.is_success() => self.fail(
                        id,
                        TransportError::Protocol(format!(
                            "a {status} reply that is neither JSON-RPC nor SSE"
                        )),
                    ),
                    _ => self.fail(
                        id,
                        TransportError::Http {
                            status: status.as_u16(),
                            body: String::from_utf8_lossy(&body[..body.len().min(512)])
                                .into_owned(),
                        },
                    ),
                }
            }
        }
    }

    /// Reads an SSE reply stream; in the legacy era a stream that ends
    /// before the reply to `id` is resumed from its last event id.
    async fn read_stream(&self, body: ResponseBody<R>, id: Option<RequestId>) {
        let mut cursor = Cursor {
            last_id: None,
            retry: self.default_retry,
            answered: false,
        };
        self.drain(body, id.as_ref(), &mut cursor).await;
        if cursor.answered || id.is_none() {
            return;
        }
        if self.state.lock().era == Some(Era::Modern) {
            // Never resumed: the session sends the request again, new id.
            return self.push(Inbound::Event(TransportEvent::StreamLost {
                id: id.expect("checked"),
            }));
        }
        for _ in 0..self.max_resumes {
            let Some(last) = cursor.last_id.clone() else {
                break;
            };
            self.rt.sleep(cursor.retry).await;
            match self.resume(&last).await {
                Ok(Some(body)) => {
                    self.drain(body, id.as_ref(), &mut cursor).await;
                    if cursor.answered {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => return self.fail(id, e),
            }
        }
        self.fail(
            id,
            TransportError::Protocol("the response stream closed before the response".into()),
        );
    }

    /// A GET that continues a stream after event `last`; `None` when the
    /// server does not offer GET streams.
    async fn resume(&self, last: &str) -> Result<Option<ResponseBody<R>>, TransportError> {
        let mut req = self.base_request(Method::GET);
        req.headers_mut().insert(ACCEPT, SSE);
        if let Ok(v) = HeaderValue::try_from(last) {
            req.headers_mut().insert(LAST_EVENT_ID, v);
        }
        let resp = self.client.send(req).await.map_err(http_error)?;
        match resp.status() {
            s if s.is_success() && is_sse(&resp) => Ok(Some(resp.into_body())),
            StatusCode::METHOD_NOT_ALLOWED => Ok(None),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                Err(self.overload(&resp))
            }
            s => Err(TransportError::Http {
                status: s.as_u16(),
                body: String::new(),
            }),
        }
    }

    /// The legacy GET stream: the server's own requests and notifications,
    /// resumed from its last event id when the server closes it.
    async fn listen(&self) {
        let ready = self.state.lock().get_ready.clone();
        // However listening ends, requests stop waiting for it.
        let _ready_on_exit = ready.clone().map(CancellationToken::drop_guard);
        let mut cursor = Cursor {
            last_id: None,
            retry: self.default_retry,
            answered: false,
        };
        let mut failures = 0;
        loop {
            if self.state.lock().closed {
                return;
            }
            let mut req = self.base_request(Method::GET);
            req.headers_mut().insert(ACCEPT, SSE);
            if let Some(last) = cursor
                .last_id
                .as_deref()
                .and_then(|l| HeaderValue::try_from(l).ok())
            {
                req.headers_mut().insert(LAST_EVENT_ID, last);
            }
            let answer = self.listener.send(req).await;
            if let Some(ready) = &ready {
                ready.cancel();
            }
            match answer {
                Ok(resp) if resp.status().is_success() && is_sse(&resp) => {
                    failures = 0;
                    self.drain(resp.into_body(), None, &mut cursor).await;
                }
                // 405: this server has no GET stream; any other answer: stop
                // after a few tries rather than hammer it.
                Ok(resp) if resp.status() == StatusCode::METHOD_NOT_ALLOWED => return,
                _ => {
                    failures += 1;
                    if failures > self.max_resumes {
                        return;
                    }
                }
            }
            self.rt.sleep(cursor.retry).await;
        }
    }

    /// Delivers every message of one SSE body, noting ids, `retry`, and
    /// whether the reply to `id` came.
    async fn drain(&self, body: ResponseBody<R>, id: Option<&RequestId>, cursor: &mut Cursor) {
        let mut events = SseStream::new(body);
        while let Some(event) = events.next().await {
            let Ok(event) = event else { return };
            if let Some(last) = event.id {
                cursor.last_id = (!last.is_empty()).then_some(last);
            }
            if let Some(ms) = event.retry {
                cursor.retry = Duration::from_millis(ms);
            }
            let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
                continue;
            };
            match Message::decode(data.as_bytes()) {
                Ok(message) => {
                    let replies = matches!(message, Message::Response(_) | Message::Error(_));
                    if replies && id.is_some() && message.id() == id {
                        cursor.answered = true;
                    }
                    self.push(Inbound::Message(message));
                }
                Err(e) => self.push(Inbound::Event(TransportEvent::Malformed(
                    crate::framing::FrameError::Invalid {
                        error: e,
                        line: data.chars().take(200).collect(),
                    },
                ))),
            }
        }
    }
}

struct Cursor {
    last_id: Option<String>,
    retry: Duration,
    answered: bool,
}

fn content_type<R: NetRuntime>(resp: &Response<ResponseBody<R>>) -> &str {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn is_sse<R: NetRuntime>(resp: &Response<ResponseBody<R>>) -> bool {
    content_type(resp)
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/event-stream")
}

fn is_json<R: NetRuntime>(resp: &Response<ResponseBody<R>>) -> bool {
    content_type(resp)
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/json")
}

fn parse_params(body: &[u8]) -> Option<Value> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    value.get_mut("params").map(Value::take)
}

/// What `Mcp-Name` carries for `method`: the tool, the resource URI, the prompt.
fn name_of(method: Option<&str>, params: Option<&Value>) -> Option<String> {
    let key = match method? {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return None,
    };
    params?.get(key)?.as_str().map(str::to_owned)
}

fn http_error(e: HttpError) -> TransportError {
    match e {
        HttpError::Connect(io) => TransportError::Connect(Arc::new(io)),
        e @ HttpError::TooLarge { .. } => TransportError::Protocol(e.to_string()),
        other => TransportError::Connect(Arc::new(other)),
    }
}
