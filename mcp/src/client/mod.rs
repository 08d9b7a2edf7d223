//! The client of one MCP server: connection, era, policy, and the calls a
//! user makes.

use core::fmt;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use weir_core::Retry;
use weir_core::Semaphore;
use weir_core::{
    Policy,
    policy::{Bare, Stage},
};
use weir_core::{Runtime, rt::deadline_after};

use crate::builder::Config;
use crate::error::{McpError, TimeoutKind};
use crate::handler::{self, BoxFuture, ClientHandler};
use crate::jsonrpc::{ErrorObject, RawValue, to_raw};
use crate::progress::ProgressQueue;
use crate::protocol::{self, Implementation, ServerInfo};
use crate::session::{Outcome, RequestSpec, Session, WaitSpec};
use crate::stats::{Counters, Stats};
use crate::transport::{Connect, Era, TransportError};

mod api;
mod call;
mod era;
mod options;

pub use call::{CallEvent, ProgressCall};
use era::{pick, supported_list};
pub use options::{CallOptions, ProtocolMode};

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
    /// What the handler declares, computed once.
    capabilities: Value,
    /// The server asked the whole client to wait (429/503 with
    /// Retry-After) until then.
    paused_until: Mutex<Option<Instant>>,
    /// A connection was attempted before (later ones are restarts).
    connected_once: AtomicBool,
    restarts: std::sync::atomic::AtomicU32,
    /// Why the last connection was given up.
    last_failure: Mutex<Option<TransportError>>,
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
/// use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
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
pub struct Client<R: Runtime, L = Bare> {
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

/// A request's params as sent: the call's own, then the envelope.
#[derive(Serialize)]
struct ParamsOut<'a> {
    #[serde(flatten)]
    base: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a Value>,
    #[serde(rename = "_meta")]
    meta: MetaOut<'a>,
    #[serde(rename = "inputResponses", skip_serializing_if = "Option::is_none")]
    input_responses: Option<&'a Map<String, Value>>,
    #[serde(rename = "requestState", skip_serializing_if = "Option::is_none")]
    request_state: Option<&'a str>,
}

#[derive(Serialize)]
struct MetaOut<'a> {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    user: Option<&'a Map<String, Value>>,
    #[serde(rename = "progressToken")]
    progress_token: i64,
    #[serde(
        rename = "io.modelcontextprotocol/protocolVersion",
        skip_serializing_if = "Option::is_none"
    )]
    protocol_version: Option<&'static str>,
    #[serde(
        rename = "io.modelcontextprotocol/clientCapabilities",
        skip_serializing_if = "Option::is_none"
    )]
    capabilities: Option<&'a Value>,
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        skip_serializing_if = "Option::is_none"
    )]
    client_info: Option<&'a Implementation>,
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
    /// The params, without `_meta`.
    params: Map<String, Value>,
    /// `tools/call`: the arguments, written beside `name` (from `name`).
    arguments: Option<Value>,
    /// The caller's own `_meta`, merged under the client's keys.
    meta: Option<Map<String, Value>>,
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
        let capabilities = handler::capabilities(&*handler);
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
            capabilities,
            paused_until: Mutex::new(None),
            connected_once: AtomicBool::new(false),
            restarts: std::sync::atomic::AtomicU32::new(0),
            last_failure: Mutex::new(None),
        }
    }

    /// The counters of this client, across its connections.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
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
    /// # fn f(c: &weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// if let Some((era, version)) = c.era() { println!("{era:?} {version}"); }
    /// # }
    /// ```
    pub fn era(&self) -> Option<(Era, &'static str)> {
        *self.inner.era.lock()
    }

    /// What the server said about itself, once connected.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// let name = c.server_info().and_then(|s| s.implementation).map(|i| i.name);
    /// # }
    /// ```
    pub fn server_info(&self) -> Option<ServerInfo> {
        self.inner.server.lock().clone()
    }

    /// Whether the server announced (`notifications/tools/list_changed`)
    /// that its tools changed since the last [`list_tools`](Self::list_tools).
    /// Until the next listing, tools are not retried on the strength of
    /// their old annotations, and a manager lists again before routing.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// if c.tools_changed() { /* list again */ }
    /// # }
    /// ```
    pub fn tools_changed(&self) -> bool {
        self.inner.counters.tools_changed.load(Ordering::SeqCst)
    }

    /// Closes the connection; calls in flight fail with
    /// [`McpError::Closed`], and so does every later call.
    ///
    /// ```
    /// # fn f(c: &weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
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

    fn drop_session(&self, s: &Arc<Session<R>>, why: TransportError) {
        *self.inner.last_failure.lock() = Some(why);
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
        let Ok(_permit) = inner.connecting.acquire().await else {
            return Err(McpError::Closed);
        };
        // Whoever held the permit before may have connected already.
        let previous = inner.current.lock().clone();
        if let Some(s) = &previous
            && s.is_alive()
        {
            return Ok(s.clone());
        }
        // A connection was made before: this one is a restart.
        if inner.connected_once.load(Ordering::SeqCst) {
            let restarts = inner.restarts.load(Ordering::SeqCst);
            if inner.config.max_restarts.is_some_and(|max| restarts >= max) {
                let why = previous
                    .and_then(|s| s.failure())
                    .or_else(|| inner.last_failure.lock().clone());
                return Err(why.map_or(McpError::Closed, McpError::from));
            }
            inner.restarts.fetch_add(1, Ordering::SeqCst);
        }
        inner.connected_once.store(true, Ordering::SeqCst);
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
            self.wait_for_server(deadline).await?;
            let s = self.session().await?;
            let (era, version) = s
                .era()
                .unwrap_or((Era::Legacy, protocol::LEGACY_VERSIONS[0]));
            let id = s.next_id();
            // Serialized from borrowed parts: no copy of the arguments.
            let modern = era == Era::Modern;
            let params = ParamsOut {
                base: &call.params,
                name: call.arguments.as_ref().and(call.name.as_deref()),
                arguments: call.arguments.as_ref(),
                meta: MetaOut {
                    user: call.meta.as_ref(),
                    progress_token: id,
                    protocol_version: modern.then_some(version),
                    capabilities: modern.then_some(&self.inner.capabilities),
                    client_info: modern.then_some(&self.inner.config.client_info),
                },
                input_responses: if modern {
                    input_responses.as_ref()
                } else {
                    None
                },
                request_state: if modern {
                    request_state.as_deref()
                } else {
                    None
                },
            };
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
                    // The user closed the client: say so, not "connection closed".
                    if self.inner.closed.load(Ordering::SeqCst) {
                        return Err(McpError::Closed);
                    }
                    if e.is_fatal() {
                        self.drop_session(&s, e.clone());
                    }
                    let e = McpError::from(e);
                    if let McpError::RateLimited { retry_after } = e {
                        self.pause_until(deadline_after(self.inner.rt.now(), retry_after));
                    }
                    return Err(e);
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
                    self.drop_session(
                        &s,
                        TransportError::Http {
                            status: 404,
                            body: "session expired".into(),
                        },
                    );
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

    /// The server said "slow down": no attempt of any call goes out
    /// before `until` (the pause only ever grows).
    fn pause_until(&self, until: Instant) {
        let mut p = self.inner.paused_until.lock();
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
    }

    /// Waits out the server's pause, if any; a pause past the call's
    /// deadline fails the call at once with the server's wait.
    async fn wait_for_server(&self, deadline: Option<Instant>) -> Result<(), McpError> {
        let Some(until) = *self.inner.paused_until.lock() else {
            return Ok(());
        };
        let now = self.inner.rt.now();
        if until <= now {
            return Ok(());
        }
        if deadline.is_some_and(|d| until > d) {
            return Err(McpError::RateLimited {
                retry_after: until - now,
            });
        }
        self.inner.rt.sleep_until(until).await;
        Ok(())
    }

    /// Whether a failure may be retried: weir's rule, or the user's for the
    /// server's own errors.
    fn transient(&self, e: &McpError) -> bool {
        e.is_transient() || self.server_rule(e).is_some()
    }

    /// The wait a failure asks for: weir's reading, or the user's rule's
    /// hint for a server error.
    fn hint(&self, e: &McpError) -> Option<std::time::Duration> {
        e.retry_after().or_else(|| self.server_rule(e).flatten())
    }

    fn server_rule(&self, e: &McpError) -> Option<Option<std::time::Duration>> {
        match (e, &self.inner.config.server_error_rule) {
            (McpError::Server(obj), Some(rule)) => (rule.0)(obj),
            _ => None,
        }
    }

    fn tool_is_idempotent(&self, name: &str) -> bool {
        if let Some(rule) = &self.inner.idempotent {
            return rule(name);
        }
        if !self.inner.config.trust_annotations || self.tools_changed() {
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
    L: Stage<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    /// Runs a logical call; the call's token ends every wait in it (a
    /// rate-limit slot, a bulkhead queue, a connection, a back-off, the
    /// response).
    async fn run(&self, call: Call<'_>) -> Result<Box<RawValue>, McpError> {
        let own = call.opts.token.clone();
        let inner = async move {
            match own {
                Some(token) => token
                    .run_until_cancelled(self.run_policy(call))
                    .await
                    .unwrap_or(Err(McpError::Cancelled)),
                None => self.run_policy(call).await,
            }
        };
        match &self.inner.config.token {
            Some(all) => all
                .run_until_cancelled(inner)
                .await
                .unwrap_or(Err(McpError::Cancelled)),
            None => inner.await,
        }
    }

    /// Runs a logical call through the policy, retrying only what may be
    /// retried.
    async fn run_policy(&self, call: Call<'_>) -> Result<Box<RawValue>, McpError> {
        let inner = &self.inner;
        let total = call.opts.total.unwrap_or(inner.config.total_timeout);
        let deadline = total.map(|t| deadline_after(inner.rt.now(), t));
        let once = || self.attempt(&call, deadline);
        let first = inner.policy.call(once).await.map_err(McpError::from_policy);
        let retry = match (&inner.retry, first) {
            (Some(retry), Err(e)) if call.idempotent && self.transient(&e) => (retry, e),
            (_, r) => return r,
        };
        let (retry, mut err) = retry;
        let mut state = retry.start(inner.rt.now());
        loop {
            let Ok(delay) = retry.next_delay(&mut state, inner.rt.now(), self.hint(&err)) else {
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
                Err(e) if self.transient(&e) => err = e,
                Err(e) => return Err(e),
            }
        }
    }

    async fn typed<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, McpError> {
        let raw = self.run(call).await?;
        serde_json::from_str(raw.get()).map_err(|e| McpError::Decode(e.to_string()))
    }

    fn call<'a>(&self, method: &'static str, params: Value, opts: &'a CallOptions) -> Call<'a> {
        let mut params = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let meta = match params.remove("_meta") {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        Call {
            method,
            params,
            arguments: None,
            meta,
            name: None,
            tool_schema: None,
            idempotent: true,
            progress: None,
            opts,
        }
    }
}
