//! The client of one MCP server: connection, era, policy, and the calls a
//! user makes.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_core::Stream;
use parking_lot::Mutex;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use weir_core::cancel::CancellationToken;
use weir_core::policy::{Identity, Layer, Policy};
use weir_core::resilience::Retry;
use weir_core::rt::{Runtime, deadline_after};
use weir_core::sync::Semaphore;

use crate::builder::Config;
use crate::error::{McpError, TimeoutKind};
use crate::handler::{self, BoxFuture, ClientHandler};
use crate::jsonrpc::{ErrorObject, RawValue, to_raw};
use crate::progress::ProgressQueue;
use crate::protocol::{
    self, CallToolResult, CompleteResult, GetPromptResult, Implementation, Page, Progress, Prompt,
    ReadResourceResult, Resource, ResourceTemplate, ServerInfo, Tool, meta,
};
use crate::session::{Outcome, RequestSpec, Session, WaitSpec};
use crate::stats::{Counters, Stats};
use crate::transport::{Connect, Era, TransportError};

/// Which era the client speaks to its server.
///
/// ```
/// assert_eq!(weir_mcp::ProtocolMode::default(), weir_mcp::ProtocolMode::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolMode {
    /// Probe with `server/discover`; fall back to `initialize` on any
    /// error that is not a recognised modern one, or on silence.
    #[default]
    Auto,
    /// `initialize` only (2024-11-05 to 2025-11-25).
    Legacy,
    /// 2026-07-28 only, no probe.
    Modern,
}

/// Options of one call.
///
/// ```
/// use std::time::Duration;
/// let opts = weir_mcp::CallOptions::new()
///     .idle_timeout(Some(Duration::from_secs(5)))
///     .token(weir_core::cancel::CancellationToken::new());
/// # drop(opts);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    token: Option<CancellationToken>,
    idle: Option<Option<Duration>>,
    total: Option<Option<Duration>>,
}

impl CallOptions {
    /// The client's defaults.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new();
    /// ```
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Ends every wait of the call (response, retry back-off) when `token`
    /// fires; the server is told the request was cancelled.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().token(weir_core::cancel::CancellationToken::new());
    /// ```
    pub fn token(mut self, token: CancellationToken) -> Self {
        self.token = Some(token);
        self
    }

    /// This call's idle timeout (`None`: none), instead of the client's.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().idle_timeout(None);
    /// ```
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle = Some(idle);
        self
    }

    /// This call's hard total (`None`: none), instead of the client's.
    ///
    /// ```
    /// let _ = weir_mcp::CallOptions::new().total_timeout(Some(std::time::Duration::from_secs(1)));
    /// ```
    pub fn total_timeout(mut self, total: Option<Duration>) -> Self {
        self.total = Some(total);
        self
    }
}

/// Makes sessions: a [`Connect`] with its transport type erased, so that
/// clients of stdio and HTTP servers have one type.
pub(crate) trait DynConnect<R: Runtime>: Send + Sync + 'static {
    fn open(
        &self,
        rt: R,
        handler: Arc<dyn ClientHandler>,
        counters: Arc<Counters>,
    ) -> BoxFuture<'_, Result<Session<R>, TransportError>>;
}

impl<R: Runtime, C: Connect> DynConnect<R> for C {
    fn open(
        &self,
        rt: R,
        handler: Arc<dyn ClientHandler>,
        counters: Arc<Counters>,
    ) -> BoxFuture<'_, Result<Session<R>, TransportError>> {
        Box::pin(async move {
            let transport = self.connect().await?;
            Ok(Session::start(rt, transport, handler, counters))
        })
    }
}

#[derive(Debug, Clone)]
struct ToolMeta {
    annotations: Option<protocol::ToolAnnotations>,
    schema: Arc<Value>,
}

/// The user's rule for which tools may be retried.
pub(crate) type IdempotentRule = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub(crate) struct Inner<R: Runtime, L> {
    pub(crate) rt: R,
    pub(crate) policy: Policy<R, L>,
    pub(crate) retry: Option<Retry>,
    pub(crate) connector: Box<dyn DynConnect<R>>,
    pub(crate) handler: Arc<dyn ClientHandler>,
    pub(crate) config: Config,
    pub(crate) idempotent: Option<IdempotentRule>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) current: Mutex<Option<Arc<Session<R>>>>,
    pub(crate) connecting: Semaphore,
    /// The era found for this server: a property of the server, kept
    /// across reconnections (the probe is not repeated).
    pub(crate) era: Mutex<Option<(Era, &'static str)>>,
    pub(crate) server: Mutex<Option<ServerInfo>>,
    tools: Mutex<HashMap<String, ToolMeta>>,
    pub(crate) closed: AtomicBool,
}

/// A client of one MCP server, on any runtime, with a weir [`Policy`]
/// around every call.
///
/// Cheap to clone (clones share the connection). Many calls may be in
/// flight at once; each is matched to its response by id. Dropping a call's
/// future (or its progress stream) before the response cancels the request
/// at the server. Every call has an idle timeout (reset by progress) and a
/// hard total unless turned off.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use serde_json::json;
/// use weir_core::rt::{JoinHandle, Runtime, VirtualRuntime};
/// use weir_mcp::{memory, Client, ProtocolMode};
/// # use weir_mcp::jsonrpc::{Message, Response, to_raw};
///
/// let rt = VirtualRuntime::new();
/// let (transport, server) = memory::pair();
/// # rt.spawn(async move {
/// #     while let Some(out) = server.recv().await {
/// #         let Ok(Message::Request(r)) = Message::decode(&out.body) else { continue };
/// #         let result = match r.method.as_str() {
/// #             "initialize" => json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}),
/// #             _ => json!({"content": [{"type": "text", "text": "hi"}]}),
/// #         };
/// #         server.send(Message::Response(Response::new(r.id, to_raw(&result).unwrap()))).unwrap();
/// #     }
/// # }).detach();
/// let slot = std::sync::Mutex::new(Some(transport));
/// let client = Client::builder(rt.clone())
///     .protocol(ProtocolMode::Legacy)
///     .build(move || {
///         let t = slot.lock().unwrap().take();
///         async move { t.ok_or(weir_mcp::transport::TransportError::Closed) }
///     });
/// let reply = rt.block_on(client.call_tool("echo", json!({"message": "hi"}))).unwrap();
/// assert_eq!(reply.text(), "hi");
/// # }
/// ```
pub struct Client<R: Runtime, L = Identity> {
    pub(crate) inner: Arc<Inner<R, L>>,
}

impl<R: Runtime, L> Clone for Client<R, L> {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Runtime, L> fmt::Debug for Client<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("era", &*self.inner.era.lock())
            .field("stats", &self.inner.counters.snapshot())
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultHead {
    #[serde(default)]
    result_type: Option<String>,
    #[serde(default)]
    input_requests: Option<Map<String, Value>>,
    #[serde(default)]
    request_state: Option<String>,
}

/// One logical request, re-sent as needed (retries, re-issues, rounds).
struct Call<'a> {
    method: &'static str,
    params: Map<String, Value>,
    name: Option<String>,
    tool_schema: Option<Arc<Value>>,
    idempotent: bool,
    progress: Option<Arc<ProgressQueue>>,
    opts: &'a CallOptions,
}

impl<R: Runtime, L> Client<R, L> {
    pub(crate) fn from_inner(inner: Inner<R, L>) -> Self {
        Client {
            inner: Arc::new(inner),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_inner(
        rt: R,
        policy: Policy<R, L>,
        retry: Option<Retry>,
        connector: Box<dyn DynConnect<R>>,
        handler: Arc<dyn ClientHandler>,
        config: Config,
        idempotent: Option<IdempotentRule>,
    ) -> Inner<R, L> {
        let era = match config.protocol {
            ProtocolMode::Modern => Some((Era::Modern, protocol::MODERN_VERSION)),
            _ => None,
        };
        Inner {
            rt,
            policy,
            retry,
            connector,
            handler,
            config,
            idempotent,
            counters: Arc::new(Counters::default()),
            current: Mutex::new(None),
            connecting: Semaphore::new(1),
            era: Mutex::new(era),
            server: Mutex::new(None),
            tools: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// The counters of this client, across its connections.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// let s = c.stats();
    /// assert!(s.responses <= s.requests);
    /// # }
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// The era and protocol version settled with the server, once known.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// if let Some((era, version)) = c.era() { println!("{era:?} {version}"); }
    /// # }
    /// ```
    pub fn era(&self) -> Option<(Era, &'static str)> {
        *self.inner.era.lock()
    }

    /// What the server said about itself, once connected.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// let name = c.server_info().and_then(|s| s.implementation).map(|i| i.name);
    /// # }
    /// ```
    pub fn server_info(&self) -> Option<ServerInfo> {
        self.inner.server.lock().clone()
    }

    /// Closes the connection; calls in flight fail with
    /// [`McpError::Closed`], and so does every later call.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// c.close();
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        if let Some(s) = self.inner.current.lock().take() {
            s.close();
        }
        self.inner.connecting.close();
    }

    fn drop_session(&self, s: &Arc<Session<R>>) {
        let mut cur = self.inner.current.lock();
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, s)) {
            *cur = None;
        }
    }

    /// The live session, connecting (and settling the era) if there is
    /// none.
    async fn session(&self) -> Result<Arc<Session<R>>, McpError> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(McpError::Closed);
        }
        if let Some(s) = inner.current.lock().clone()
            && s.is_alive()
        {
            return Ok(s);
        }
        let Ok(_permit) = inner.connecting.acquire(1).await else {
            return Err(McpError::Closed);
        };
        // Whoever held the permit before may have connected already.
        if let Some(s) = inner.current.lock().clone()
            && s.is_alive()
        {
            return Ok(s);
        }
        let s = inner
            .connector
            .open(
                inner.rt.clone(),
                inner.handler.clone(),
                inner.counters.clone(),
            )
            .await
            .map_err(McpError::from)?;
        Counters::bump(&inner.counters.connects);
        let s = Arc::new(s);
        if let Err(e) = self.handshake(&s).await {
            s.close();
            return Err(e);
        }
        if inner.closed.load(Ordering::SeqCst) {
            s.close();
            return Err(McpError::Closed);
        }
        *inner.current.lock() = Some(s.clone());
        Ok(s)
    }

    fn client_info(&self) -> Value {
        serde_json::to_value(&self.inner.config.client_info).unwrap_or(Value::Null)
    }

    fn modern_meta(&self, version: &'static str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(meta::PROTOCOL_VERSION.into(), Value::String(version.into()));
        m.insert(
            meta::CLIENT_CAPABILITIES.into(),
            handler::capabilities(&*self.inner.handler),
        );
        m.insert(meta::CLIENT_INFO.into(), self.client_info());
        m
    }

    async fn handshake(&self, s: &Session<R>) -> Result<(), McpError> {
        let cached = *self.inner.era.lock();
        match (cached, self.inner.config.protocol) {
            (Some((Era::Modern, v)), _) => {
                s.set_era(Era::Modern, v);
                Ok(())
            }
            (Some((Era::Legacy, _)), _) | (None, ProtocolMode::Legacy) => self.initialize(s).await,
            (None, _) => match self.discover(s, protocol::MODERN_VERSION).await? {
                Some(v) => {
                    s.set_era(Era::Modern, v);
                    *self.inner.era.lock() = Some((Era::Modern, v));
                    Ok(())
                }
                None => self.initialize(s).await,
            },
        }
    }

    /// The `server/discover` probe. `Some(version)`: modern; `None`: fall
    /// back to `initialize`.
    async fn discover(
        &self,
        s: &Session<R>,
        preferred: &'static str,
    ) -> Result<Option<&'static str>, McpError> {
        // The probe travels as a modern request (HTTP headers included).
        s.set_era(Era::Modern, preferred);
        let mut version = preferred;
        for _ in 0..2 {
            let id = s.next_id();
            let params = json!({"_meta": self.modern_meta(version)});
            let wait = WaitSpec {
                deadline: Some(deadline_after(
                    self.inner.rt.now(),
                    self.inner.config.probe_timeout,
                )),
                deadline_kind: Some(TimeoutKind::Handshake),
                cancellable: false,
                ..WaitSpec::default()
            };
            let spec = RequestSpec {
                method: Cow::Borrowed("server/discover"),
                params: to_raw(&params).ok(),
                name: None,
                tool_schema: None,
            };
            let outcome = match s.request(id, spec, wait).await {
                Ok(o) => o,
                // Silence: a legacy server that ignores unknown methods.
                Err(McpError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            match outcome {
                Outcome::Result(raw) => {
                    #[derive(Deserialize)]
                    #[serde(rename_all = "camelCase")]
                    struct Discover {
                        #[serde(default)]
                        supported_versions: Vec<String>,
                        #[serde(default)]
                        capabilities: Value,
                        #[serde(default)]
                        instructions: Option<String>,
                        #[serde(default, rename = "_meta")]
                        meta: Map<String, Value>,
                    }
                    let d: Discover = serde_json::from_str(raw.get())
                        .map_err(|e| McpError::Decode(e.to_string()))?;
                    let chosen = pick(&d.supported_versions, &protocol::MODERN_VERSIONS);
                    *self.inner.server.lock() = Some(ServerInfo {
                        implementation: d
                            .meta
                            .get(meta::SERVER_INFO)
                            .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok()),
                        capabilities: d.capabilities,
                        instructions: d.instructions,
                        versions: d.supported_versions.clone(),
                    });
                    return match chosen {
                        Some(v) => Ok(Some(v)),
                        // A server that lists only legacy versions: initialise.
                        None if pick(&d.supported_versions, &protocol::LEGACY_VERSIONS)
                            .is_some() =>
                        {
                            Ok(None)
                        }
                        None => Err(McpError::Protocol(format!(
                            "no common protocol version; server supports {:?}",
                            d.supported_versions
                        ))),
                    };
                }
                Outcome::Error(e) if is_modern_error(&e) => {
                    let supported = supported_list(&e);
                    match pick(&supported, &protocol::MODERN_VERSIONS) {
                        Some(v) if v != version => {
                            version = v;
                            s.set_era(Era::Modern, v);
                            continue;
                        }
                        Some(v) => return Ok(Some(v)),
                        None if pick(&supported, &protocol::LEGACY_VERSIONS).is_some() => {
                            return Ok(None);
                        }
                        None => return Err(McpError::Server(e)),
                    }
                }
                // Any other error, whatever its code: a legacy server.
                Outcome::Error(_) => return Ok(None),
                Outcome::Failed(e) if !e.is_fatal() => return Ok(None),
                Outcome::Failed(e) => return Err(McpError::from(e)),
                Outcome::StreamLost | Outcome::SessionExpired => return Ok(None),
            }
        }
        Ok(Some(version))
    }

    async fn initialize(&self, s: &Session<R>) -> Result<(), McpError> {
        let id = s.next_id();
        let params = json!({
            "protocolVersion": protocol::LEGACY_VERSIONS[0],
            "capabilities": handler::capabilities(&*self.inner.handler),
            "clientInfo": self.client_info(),
        });
        let wait = WaitSpec {
            deadline: Some(deadline_after(
                self.inner.rt.now(),
                self.inner.config.handshake_timeout,
            )),
            deadline_kind: Some(TimeoutKind::Handshake),
            // `initialize` is never cancelled.
            cancellable: false,
            ..WaitSpec::default()
        };
        let spec = RequestSpec {
            method: Cow::Borrowed("initialize"),
            params: to_raw(&params).ok(),
            name: None,
            tool_schema: None,
        };
        match s.request(id, spec, wait).await? {
            Outcome::Result(raw) => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Init {
                    protocol_version: String,
                    #[serde(default)]
                    capabilities: Value,
                    #[serde(default)]
                    server_info: Option<Implementation>,
                    #[serde(default)]
                    instructions: Option<String>,
                }
                let init: Init =
                    serde_json::from_str(raw.get()).map_err(|e| McpError::Decode(e.to_string()))?;
                let Some(v) = protocol::LEGACY_VERSIONS
                    .iter()
                    .copied()
                    .find(|v| *v == init.protocol_version)
                else {
                    return Err(McpError::Protocol(format!(
                        "server chose protocol version {:?}, which this client does not speak",
                        init.protocol_version
                    )));
                };
                s.set_era(Era::Legacy, v);
                *self.inner.era.lock() = Some((Era::Legacy, v));
                *self.inner.server.lock() = Some(ServerInfo {
                    implementation: init.server_info,
                    capabilities: init.capabilities,
                    instructions: init.instructions,
                    versions: vec![init.protocol_version],
                });
                s.notify("notifications/initialized", None);
                Ok(())
            }
            Outcome::Error(e) => Err(McpError::Server(e)),
            Outcome::Failed(e) => Err(McpError::from(e)),
            Outcome::StreamLost | Outcome::SessionExpired => {
                Err(McpError::Protocol("initialize interrupted".into()))
            }
        }
    }

    /// One attempt of a logical call: re-issues after a lost stream,
    /// re-initialises once after an expired session, answers input-required
    /// rounds, and adopts a version the server names.
    async fn attempt(
        &self,
        call: &Call<'_>,
        deadline: Option<Instant>,
    ) -> Result<Box<RawValue>, McpError> {
        let cfg = &self.inner.config;
        let mut rounds = 0u32;
        let mut reissues = 0u32;
        let mut reinits = 0u32;
        let mut version_switched = false;
        let mut input_responses: Option<Map<String, Value>> = None;
        let mut request_state: Option<String> = None;
        loop {
            let s = self.session().await?;
            let (era, version) = s
                .era()
                .unwrap_or((Era::Legacy, protocol::LEGACY_VERSIONS[0]));
            let id = s.next_id();
            let mut params = call.params.clone();
            let mut m = match params.remove("_meta") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            m.insert("progressToken".into(), Value::from(id));
            if era == Era::Modern {
                m.extend(self.modern_meta(version));
                if let Some(r) = &input_responses {
                    params.insert("inputResponses".into(), Value::Object(r.clone()));
                }
                if let Some(st) = &request_state {
                    params.insert("requestState".into(), Value::String(st.clone()));
                }
            }
            params.insert("_meta".into(), Value::Object(m));
            let spec = RequestSpec {
                method: Cow::Borrowed(call.method),
                params: Some(to_raw(&params).map_err(|e| McpError::Decode(e.to_string()))?),
                name: call.name.clone(),
                tool_schema: call.tool_schema.clone(),
            };
            let wait = WaitSpec {
                idle: call.opts.idle.unwrap_or(cfg.idle_timeout),
                deadline,
                token: call.opts.token.clone(),
                progress: call.progress.clone(),
                cancellable: true,
                deadline_kind: Some(TimeoutKind::Total),
            };
            match s.request(id, spec, wait).await? {
                Outcome::Result(raw) => {
                    if era == Era::Modern {
                        let head: ResultHead = serde_json::from_str(raw.get())
                            .map_err(|e| McpError::Decode(e.to_string()))?;
                        if head.result_type.as_deref() == Some("input_required") {
                            rounds += 1;
                            if rounds > cfg.max_input_rounds {
                                return Err(McpError::Protocol(format!(
                                    "server still requires input after {} rounds",
                                    cfg.max_input_rounds
                                )));
                            }
                            input_responses = match head.input_requests {
                                Some(reqs) => Some(self.answer_inputs(reqs).await?),
                                None => None,
                            };
                            request_state = head.request_state;
                            continue;
                        }
                    }
                    return Ok(raw);
                }
                Outcome::Error(e)
                    if era == Era::Modern
                        && e.code == ErrorObject::UNSUPPORTED_PROTOCOL_VERSION
                        && !version_switched =>
                {
                    match pick(&supported_list(&e), &protocol::MODERN_VERSIONS) {
                        Some(v) => {
                            version_switched = true;
                            s.set_era(Era::Modern, v);
                            *self.inner.era.lock() = Some((Era::Modern, v));
                            continue;
                        }
                        None => return Err(McpError::Server(e)),
                    }
                }
                Outcome::Error(e) => return Err(McpError::Server(e)),
                Outcome::Failed(e) => {
                    if e.is_fatal() {
                        self.drop_session(&s);
                    }
                    return Err(McpError::from(e));
                }
                Outcome::StreamLost => {
                    reissues += 1;
                    if reissues > cfg.max_reissues {
                        return Err(McpError::Transport(TransportError::Protocol(
                            "response stream lost repeatedly".into(),
                        )));
                    }
                }
                Outcome::SessionExpired => {
                    reinits += 1;
                    self.drop_session(&s);
                    s.close();
                    if reinits > 1 {
                        return Err(McpError::Transport(TransportError::Http {
                            status: 404,
                            body: "session expired again after re-initialising".into(),
                        }));
                    }
                }
            }
        }
    }

    async fn answer_inputs(
        &self,
        reqs: Map<String, Value>,
    ) -> Result<Map<String, Value>, McpError> {
        let mut out = Map::new();
        for (key, req) in reqs {
            let method = req
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let params = req.get("params").cloned().unwrap_or(Value::Null);
            let answer = match handler::answer(&*self.inner.handler, &method, params).await {
                Ok(v) => v,
                // A refused elicitation is a decline, which the server can
                // act on; other refusals end the call.
                Err(_) if method == "elicitation/create" => json!({"action": "decline"}),
                Err(e) => return Err(McpError::Server(e)),
            };
            out.insert(key, answer);
        }
        Ok(out)
    }

    fn tool_is_idempotent(&self, name: &str) -> bool {
        if let Some(rule) = &self.inner.idempotent {
            return rule(name);
        }
        if !self.inner.config.trust_annotations {
            return false;
        }
        self.inner
            .tools
            .lock()
            .get(name)
            .and_then(|t| t.annotations.as_ref())
            .is_some_and(|a| a.read_only_hint == Some(true) || a.idempotent_hint == Some(true))
    }
}

impl<R: Runtime, L> Client<R, L>
where
    L: Layer<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    /// Runs a logical call through the policy, retrying only what may be
    /// retried.
    async fn run(&self, call: Call<'_>) -> Result<Box<RawValue>, McpError> {
        let inner = &self.inner;
        let total = call.opts.total.unwrap_or(inner.config.total_timeout);
        let deadline = total.map(|t| deadline_after(inner.rt.now(), t));
        let once = || self.attempt(&call, deadline);
        let first = inner.policy.call(once).await.map_err(McpError::from_policy);
        let retry = match (&inner.retry, first) {
            (Some(retry), Err(e)) if call.idempotent && e.is_transient() => (retry, e),
            (_, r) => return r,
        };
        let (retry, mut err) = retry;
        let mut state = retry.start(inner.rt.now());
        loop {
            let Ok(delay) = retry.next_delay(&mut state, inner.rt.now(), err.retry_after()) else {
                return Err(err);
            };
            if let Some(d) = deadline
                && deadline_after(inner.rt.now(), delay) >= d
            {
                return Err(err);
            }
            let sleep = inner.rt.sleep(delay);
            match &call.opts.token {
                Some(t) => {
                    if t.run_until_cancelled(sleep).await.is_none() {
                        return Err(McpError::Cancelled);
                    }
                }
                None => sleep.await,
            }
            // Each attempt sends a request with a new id.
            match inner.policy.call(once).await.map_err(McpError::from_policy) {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() => err = e,
                Err(e) => return Err(e),
            }
        }
    }

    async fn typed<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, McpError> {
        let raw = self.run(call).await?;
        serde_json::from_str(raw.get()).map_err(|e| McpError::Decode(e.to_string()))
    }

    fn call<'a>(&self, method: &'static str, params: Value, opts: &'a CallOptions) -> Call<'a> {
        Call {
            method,
            params: match params {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            name: None,
            tool_schema: None,
            idempotent: true,
            progress: None,
            opts,
        }
    }

    async fn list_all<T: DeserializeOwned>(
        &self,
        method: &'static str,
    ) -> Result<Vec<T>, McpError> {
        let opts = CallOptions::default();
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        // Bounded: a server that hands out cursors forever cannot loop us.
        for _ in 0..self.inner.config.max_pages {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page: Page<T> = self.typed(self.call(method, params, &opts)).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return Ok(items),
            }
        }
        Err(McpError::Protocol(format!(
            "{method}: more than {} pages",
            self.inner.config.max_pages
        )))
    }

    /// Every tool the server offers, all pages. Remembers each tool's
    /// annotations and schema for later calls.
    ///
    /// # Errors
    ///
    /// As for any call: transport, timeout, server error, policy outcome.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// for tool in c.list_tools().await? {
    ///     println!("{}", tool.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_tools(&self) -> Result<Vec<Tool>, McpError> {
        let tools: Vec<Tool> = self.list_all("tools/list").await?;
        let mut known = self.inner.tools.lock();
        for t in &tools {
            known.insert(
                t.name.clone(),
                ToolMeta {
                    annotations: t.annotations.clone(),
                    schema: Arc::new(t.input_schema.clone()),
                },
            );
        }
        Ok(tools)
    }

    fn tool_call<'a>(&self, name: &str, arguments: Value, opts: &'a CallOptions) -> Call<'a> {
        let schema = self.inner.tools.lock().get(name).map(|t| t.schema.clone());
        Call {
            method: "tools/call",
            params: {
                let mut m = Map::new();
                m.insert("name".into(), Value::String(name.to_owned()));
                m.insert("arguments".into(), arguments);
                m
            },
            name: Some(name.to_owned()),
            tool_schema: schema,
            idempotent: self.tool_is_idempotent(name),
            progress: None,
            opts,
        }
    }

    /// Calls tool `name` with `arguments` (a JSON object).
    ///
    /// Not retried unless the tool is idempotent by the client's rule (see
    /// [`ClientBuilder::idempotent_if`](crate::ClientBuilder::idempotent_if)
    /// and [`trust_annotations`](crate::ClientBuilder::trust_annotations)).
    /// A tool's own failure is `Ok` with
    /// [`is_error`](CallToolResult::is_error) set.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let reply = c.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
    /// println!("{}", reply.text());
    /// # Ok(()) }
    /// ```
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, McpError> {
        self.call_tool_with(name, arguments, &CallOptions::default())
            .await
    }

    /// [`call_tool`](Self::call_tool) with per-call options (a
    /// cancellation token, other deadlines).
    ///
    /// # Errors
    ///
    /// As for any call; [`McpError::Cancelled`] when the token fires.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// let token = weir_core::cancel::CancellationToken::new();
    /// let opts = weir_mcp::CallOptions::new().token(token.clone());
    /// let _ = c.call_tool_with("slow", serde_json::json!({}), &opts).await;
    /// # }
    /// ```
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: &CallOptions,
    ) -> Result<CallToolResult, McpError> {
        self.typed(self.tool_call(name, arguments, opts)).await
    }

    /// Calls tool `name`; the stream yields its progress reports, then
    /// [`CallEvent::Done`] with the result, then ends. Dropping the stream
    /// before the end cancels the call at the server.
    ///
    /// Reports beyond the client's progress capacity drop the oldest.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// use futures_lite::StreamExt;
    /// use weir_mcp::CallEvent;
    /// let mut call = c.call_tool_with_progress("long", serde_json::json!({}));
    /// while let Some(ev) = call.next().await {
    ///     match ev {
    ///         CallEvent::Progress(p) => println!("{} of {:?}", p.progress, p.total),
    ///         CallEvent::Done(result) => println!("{result:?}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn call_tool_with_progress(&self, name: &str, arguments: Value) -> ProgressCall
    where
        L: 'static,
    {
        self.call_tool_with_progress_opts(name, arguments, CallOptions::default())
    }

    /// [`call_tool_with_progress`](Self::call_tool_with_progress) with
    /// per-call options.
    ///
    /// ```
    /// # fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) {
    /// let call = c.call_tool_with_progress_opts("long", serde_json::json!({}), weir_mcp::CallOptions::new());
    /// drop(call); // nothing was sent yet: nothing to cancel
    /// # }
    /// ```
    pub fn call_tool_with_progress_opts(
        &self,
        name: &str,
        arguments: Value,
        opts: CallOptions,
    ) -> ProgressCall
    where
        L: 'static,
    {
        let queue = Arc::new(ProgressQueue::new(self.inner.config.progress_capacity));
        let client = self.clone();
        let name = name.to_owned();
        let q = queue.clone();
        let fut = async move {
            let mut call = client.tool_call(&name, arguments, &opts);
            call.progress = Some(q);
            client.typed::<CallToolResult>(call).await
        };
        ProgressCall {
            queue,
            fut: Some(Box::pin(fut)),
            done: None,
        }
    }

    /// Every resource the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let resources = c.list_resources().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_resources(&self) -> Result<Vec<Resource>, McpError> {
        self.list_all("resources/list").await
    }

    /// Every resource template the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let templates = c.list_resource_templates().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, McpError> {
        self.list_all("resources/templates/list").await
    }

    /// Reads the resource at `uri`.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let r = c.read_resource("file:///etc/motd").await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call("resources/read", json!({"uri": uri}), &opts);
        call.name = Some(uri.to_owned());
        self.typed(call).await
    }

    /// Every prompt the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let prompts = c.list_prompts().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, McpError> {
        self.list_all("prompts/list").await
    }

    /// Gets prompt `name` with `arguments` (a JSON object of strings).
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let p = c.get_prompt("greet", serde_json::json!({"who": "you"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<GetPromptResult, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call(
            "prompts/get",
            json!({"name": name, "arguments": arguments}),
            &opts,
        );
        call.name = Some(name.to_owned());
        self.typed(call).await
    }

    /// Completion suggestions for argument `argument` (now `value`) of
    /// `reference` (`{"type":"ref/prompt","name":..}` or
    /// `{"type":"ref/resource","uri":..}`).
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let r = c.complete(serde_json::json!({"type": "ref/prompt", "name": "greet"}), "who", "yo").await?;
    /// println!("{:?}", r.values());
    /// # Ok(()) }
    /// ```
    pub async fn complete(
        &self,
        reference: Value,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, McpError> {
        let opts = CallOptions::default();
        let params = json!({"ref": reference, "argument": {"name": argument, "value": value}});
        self.typed(self.call("completion/complete", params, &opts))
            .await
    }

    /// Sends any request and returns its raw result: for methods this
    /// client has no call for. Retried when `idempotent` says so.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let raw = c.request("logging/setLevel", serde_json::json!({"level": "info"}), false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &self,
        method: &'static str,
        params: Value,
        idempotent: bool,
    ) -> Result<Value, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call(method, params, &opts);
        call.idempotent = idempotent;
        self.typed(call).await
    }

    /// Connects now (and settles the era) instead of on the first call.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or the handshake fails.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::rt::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// c.connect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<(), McpError> {
        self.session().await.map(drop)
    }
}

/// One item of a [`ProgressCall`].
///
/// ```
/// use weir_mcp::CallEvent;
/// let ev = CallEvent::Progress(weir_mcp::protocol::Progress { progress: 1.0, total: None, message: None });
/// assert!(matches!(ev, CallEvent::Progress(_)));
/// ```
#[derive(Debug)]
pub enum CallEvent {
    /// A progress report.
    Progress(Progress),
    /// The call's result; the last item.
    Done(Result<CallToolResult, McpError>),
}

/// A tool call reporting progress: a [`Stream`] of [`CallEvent`]s.
/// Dropping it before [`CallEvent::Done`] cancels the call.
pub struct ProgressCall {
    queue: Arc<ProgressQueue>,
    fut: Option<BoxFuture<'static, Result<CallToolResult, McpError>>>,
    done: Option<Result<CallToolResult, McpError>>,
}

impl fmt::Debug for ProgressCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressCall")
            .field("running", &self.fut.is_some())
            .field("dropped_reports", &self.queue.dropped())
            .finish()
    }
}

impl ProgressCall {
    /// Progress reports dropped so far because the queue was full.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::ProgressCall) {
    /// println!("{}", c.dropped_reports());
    /// # }
    /// ```
    pub fn dropped_reports(&self) -> u64 {
        self.queue.dropped()
    }
}

impl Stream for ProgressCall {
    type Item = CallEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<CallEvent>> {
        let this = &mut *self;
        if let Some(p) = this.queue.pop_or_register(cx.waker()) {
            return Poll::Ready(Some(CallEvent::Progress(p)));
        }
        if let Some(fut) = &mut this.fut {
            match fut.as_mut().poll(cx) {
                Poll::Ready(r) => {
                    this.fut = None;
                    this.done = Some(r);
                    // Reports that came before the result go out first.
                    if let Some(p) = this.queue.pop() {
                        return Poll::Ready(Some(CallEvent::Progress(p)));
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        if let Some(p) = this.queue.pop() {
            return Poll::Ready(Some(CallEvent::Progress(p)));
        }
        Poll::Ready(this.done.take().map(CallEvent::Done))
    }
}

/// The newest of `ours` that `theirs` lists.
fn pick(theirs: &[String], ours: &[&'static str]) -> Option<&'static str> {
    ours.iter().copied().find(|o| theirs.iter().any(|t| t == o))
}

/// The `supported` list of an `UnsupportedProtocolVersionError`.
fn supported_list(e: &ErrorObject) -> Vec<String> {
    e.data
        .as_ref()
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Errors only a modern server sends: the codes the 2026-07-28 revision
/// allocated (-32020 onwards). Any other code, whatever it is, is no
/// evidence of a modern server.
fn is_modern_error(e: &ErrorObject) -> bool {
    matches!(
        e.code,
        ErrorObject::HEADER_MISMATCH
            | ErrorObject::MISSING_REQUIRED_CLIENT_CAPABILITY
            | ErrorObject::UNSUPPORTED_PROTOCOL_VERSION
    )
}
