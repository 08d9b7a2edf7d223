//! The embedded tool servers: MCP over loopback TCP with newline-delimited
//! JSON-RPC 2.0 (MCP's stdio framing), built on weir-mcp's own `jsonrpc`
//! and `framing` types.
//!
//! Each server speaks the legacy handshake (`initialize`, then
//! `notifications/initialized`) and, when its spec says so, the modern
//! era's `server/discover`; it lists its one tool, answers `tools/call`
//! out of order after each call's latency, reports progress on long calls,
//! stops a call's work on `notifications/cancelled`, and refuses calls over
//! its quota with a retry hint.
//!
//! They run on their own smol executor on a background thread, whatever
//! runtime the client uses, so the client's runtime is the only thing that
//! changes between runs on smol, tokio and async-std.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use smol::net::{TcpListener, TcpStream};
use smol::{Executor, Timer};
use weir::cancel::CancellationToken;
use weir::mcp::framing::{FrameError, FrameReader, FrameWriter};
use weir::mcp::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, RawValue, Request, RequestId, Response,
    from_raw, to_raw,
};
use weir::mcp::protocol::{LEGACY_VERSIONS, MODERN_VERSION, meta};
use weir::mcp::transport::{Inbound, TransportEvent};

use crate::spec::ServerSpec;

/// Server-defined error code: over the server's quota; `data.retry_after_ms`
/// says when a call would fit.
pub const RATE_LIMITED: i64 = -32029;
/// Server-defined error code: a transient failure, worth retrying.
pub const TRANSIENT: i64 = -32003;
/// The longest line a server reads; longer ones are answered with
/// `INVALID_REQUEST` and skipped.
pub const MAX_FRAME: usize = 64 * 1024;

/// What a server saw, counted on its side of the wire.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ServerCounts {
    /// Frames received (including bad ones).
    pub requests: u64,
    /// `tools/call` requests among them.
    pub tool_calls: u64,
    /// Requests refused for being over the quota.
    pub rate_limited: u64,
    /// Requests answered with a transient error.
    pub transient: u64,
    /// Connections dropped while the server was down.
    pub dropped: u64,
    /// Progress notifications sent.
    pub progress: u64,
    /// `notifications/cancelled` received.
    pub cancel_notices: u64,
    /// Calls whose work stopped because of a cancellation (the rest had
    /// already been answered when the notice came).
    pub cancelled: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    tool_calls: AtomicU64,
    rate_limited: AtomicU64,
    transient: AtomicU64,
    dropped: AtomicU64,
    progress: AtomicU64,
    cancel_notices: AtomicU64,
    cancelled: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The server's own quota: a GCRA that refuses (never waits).
#[derive(Debug)]
struct Quota {
    interval: Duration,
    tolerance: Duration,
    tat: Instant,
}

impl Quota {
    fn new(spec: &ServerSpec, start: Instant) -> Self {
        let interval = Duration::from_secs(1) / spec.quota_per_sec.max(1);
        Quota {
            interval,
            tolerance: interval * spec.burst.saturating_sub(1),
            tat: start,
        }
    }

    /// `Ok` when the call fits the quota, else how long until one would.
    fn check(&mut self, now: Instant) -> Result<(), Duration> {
        let allowed_at = self.tat.checked_sub(self.tolerance).unwrap_or(now);
        if now < allowed_at {
            return Err(allowed_at - now);
        }
        self.tat = self.tat.max(now) + self.interval;
        Ok(())
    }
}

#[derive(Debug)]
struct State {
    spec: ServerSpec,
    start: Instant,
    quota: Mutex<Quota>,
    rng: Mutex<fastrand::Rng>,
    counters: Counters,
}

/// A `tools/call` the server accepted: how long it works, how it ends.
struct Work {
    latency: Duration,
    outcome: Result<Value, ErrorObject>,
}

/// The parts of a request's params the server reads.
#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "protocolVersion")]
    protocol_version: Option<String>,
    #[serde(default, rename = "_meta")]
    meta: Option<MetaIn>,
}

#[derive(Deserialize, Default)]
struct MetaIn {
    #[serde(default, rename = "progressToken")]
    progress_token: Option<Value>,
}

#[derive(Deserialize)]
struct Cancelled {
    #[serde(rename = "requestId")]
    request_id: RequestId,
}

fn error(id: RequestId, code: i64, message: &str) -> Message {
    Message::Error(ErrorResponse {
        id: Some(id),
        error: ErrorObject::new(code, message),
    })
}

fn result(id: RequestId, value: &Value) -> Message {
    match to_raw(value) {
        Ok(raw) => Message::Response(Response::new(id, raw)),
        Err(_) => error(id, ErrorObject::INTERNAL_ERROR, "unencodable result"),
    }
}

impl State {
    fn is_down(&self, now: Instant) -> bool {
        self.spec.down.is_some_and(|(from, len)| {
            let t = now.saturating_duration_since(self.start);
            t >= from && t < from + len
        })
    }

    fn server_info(&self) -> Value {
        json!({ "name": format!("weir-demo-{}", self.spec.name), "version": env!("CARGO_PKG_VERSION") })
    }

    fn initialize(&self, params: &Params) -> Value {
        // The client's version when we speak it, else our newest.
        let version = params
            .protocol_version
            .as_deref()
            .and_then(|v| LEGACY_VERSIONS.iter().find(|l| **l == v))
            .copied()
            .unwrap_or(LEGACY_VERSIONS[0]);
        json!({
            "protocolVersion": version,
            "capabilities": { "tools": {} },
            "serverInfo": self.server_info(),
        })
    }

    fn discover(&self) -> Value {
        let mut versions = vec![MODERN_VERSION];
        versions.extend(LEGACY_VERSIONS);
        json!({
            "supportedVersions": versions,
            "capabilities": { "tools": {} },
            "_meta": { (meta::SERVER_INFO): self.server_info() },
        })
    }

    fn tools(&self) -> Value {
        let schema = match self.spec.name {
            "search" => {
                json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})
            }
            "fetch" => {
                json!({"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]})
            }
            _ => {
                json!({"type": "object", "properties": {"language": {"type": "string"}, "source": {"type": "string"}}})
            }
        };
        json!({ "tools": [{
            "name": self.spec.name,
            "description": format!("the demo's {} tool", self.spec.name),
            "inputSchema": schema,
            "annotations": { "readOnlyHint": true },
        }]})
    }

    /// Quota, then the call's draws: latency, tail, transient failure.
    fn accept(&self, id: &RequestId, params: &Params) -> Result<Work, ErrorObject> {
        if params.name.as_deref() != Some(self.spec.name) {
            return Err(ErrorObject::new(
                ErrorObject::INVALID_PARAMS,
                "unknown tool",
            ));
        }
        if let Err(wait) = self.quota.lock().check(Instant::now()) {
            bump(&self.counters.rate_limited);
            let mut e = ErrorObject::new(RATE_LIMITED, "rate limit exceeded");
            // Round up so a client that waits exactly this long fits.
            e.data = Some(json!({ "retry_after_ms": wait.as_millis() as u64 + 1 }));
            return Err(e);
        }
        let mut rng = self.rng.lock();
        let (lo, hi) = self.spec.latency;
        let base = lo + (hi.saturating_sub(lo)).mul_f64(rng.f64());
        let slow = rng.f64() < self.spec.slow_share;
        let transient = rng.f64() < self.spec.transient_share;
        let latency = if slow { self.spec.slow } else { base };
        if transient {
            bump(&self.counters.transient);
            return Ok(Work {
                latency: latency / 2,
                outcome: Err(ErrorObject::new(TRANSIENT, "transient failure, try again")),
            });
        }
        let text = format!("{} result for call {id}", self.spec.name);
        Ok(Work {
            latency,
            outcome: Ok(json!({ "content": [{ "type": "text", "text": text }], "isError": false })),
        })
    }
}

/// A set of running tool servers; dropping it stops them and closes every
/// connection.
///
/// ```
/// use weir_demo::{server::ServerFarm, spec::ServerSpec};
/// let farm = ServerFarm::start(&ServerSpec::quick_set(), 1).unwrap();
/// assert!(farm.addr("search").unwrap().ip().is_loopback());
/// assert_eq!(farm.counts("search").unwrap().requests, 0);
/// ```
#[derive(Debug)]
pub struct ServerFarm {
    servers: Vec<(SocketAddr, Arc<State>)>,
    stop: Option<async_channel::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerFarm {
    /// Binds one server per spec on `127.0.0.1:0` and starts them on a
    /// background thread; `seed` seeds each server's latency and failure
    /// draws.
    ///
    /// # Errors
    ///
    /// When a listener cannot be bound or the thread cannot start.
    pub fn start(specs: &[ServerSpec], seed: u64) -> io::Result<ServerFarm> {
        let start = Instant::now();
        let mut servers = Vec::new();
        let mut listeners = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let std = StdListener::bind("127.0.0.1:0")?;
            let addr = std.local_addr()?;
            let state = Arc::new(State {
                spec: spec.clone(),
                start,
                quota: Mutex::new(Quota::new(spec, start)),
                rng: Mutex::new(fastrand::Rng::with_seed(seed ^ ((i as u64 + 1) << 32))),
                counters: Counters::default(),
            });
            servers.push((addr, state.clone()));
            listeners.push((std, state));
        }
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let thread = thread::Builder::new()
            .name("weir-demo-servers".into())
            .spawn(move || {
                let ex = Arc::new(Executor::new());
                for (std, state) in listeners {
                    let ex2 = ex.clone();
                    ex.spawn(async move {
                        if let Ok(listener) = TcpListener::try_from(std) {
                            accept_loop(listener, state, ex2).await;
                        }
                    })
                    .detach();
                }
                smol::block_on(ex.run(async { stopped.recv().await.ok() }));
            })?;
        Ok(ServerFarm {
            servers,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address of the server named `name`.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        self.find(name).map(|(a, _)| *a)
    }

    /// What the server named `name` has counted so far.
    pub fn counts(&self, name: &str) -> Option<ServerCounts> {
        self.find(name).map(|(_, s)| {
            let c = &s.counters;
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            ServerCounts {
                requests: get(&c.requests),
                tool_calls: get(&c.tool_calls),
                rate_limited: get(&c.rate_limited),
                transient: get(&c.transient),
                dropped: get(&c.dropped),
                progress: get(&c.progress),
                cancel_notices: get(&c.cancel_notices),
                cancelled: get(&c.cancelled),
            }
        })
    }

    fn find(&self, name: &str) -> Option<&(SocketAddr, Arc<State>)> {
        self.servers.iter().find(|(_, s)| s.spec.name == name)
    }
}

impl Drop for ServerFarm {
    fn drop(&mut self) {
        // Closing the channel ends `ex.run`; the executor and every
        // connection task drop with the thread.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, ex: Arc<Executor<'static>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if state.is_down(Instant::now()) {
            bump(&state.counters.dropped);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        ex.spawn(serve(stream, state.clone(), ex.clone())).detach();
    }
}

/// One connection's calls in progress, by id, each with the token that
/// stops its work.
type InFlight = Arc<Mutex<HashMap<RequestId, CancellationToken>>>;

/// Serves one connection: requests are answered out of order, each after
/// its own latency, so the client must route responses by id.
async fn serve(stream: TcpStream, state: Arc<State>, ex: Arc<Executor<'static>>) {
    let (tx, rx) = async_channel::unbounded::<Message>();
    let mut writer = FrameWriter::new(stream.clone());
    ex.spawn(async move {
        while let Ok(msg) = rx.recv().await {
            let mut next = Some(msg);
            // Everything queued goes out in one flush.
            while let Some(m) = next.take() {
                if let Ok(body) = m.encode()
                    && writer.write_line(&body).await.is_err()
                {
                    return;
                }
                next = rx.try_recv().ok();
            }
            if writer.flush_lines().await.is_err() {
                return;
            }
        }
    })
    .detach();
    let inflight: InFlight = Arc::default();
    let mut reader = FrameReader::new(stream.clone()).max_frame(MAX_FRAME);
    while let Ok(inbound) = reader.next().await {
        bump(&state.counters.requests);
        if state.is_down(Instant::now()) {
            bump(&state.counters.dropped);
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
        let reply = match inbound {
            Inbound::Event(TransportEvent::Malformed(e)) => Some(malformed(&e)),
            Inbound::Event(_) => None,
            Inbound::Message(Message::Request(req)) => handle(req, &state, &tx, &inflight, &ex),
            Inbound::Message(Message::Notification(n)) => {
                notified(&n, &state, &inflight);
                None
            }
            // No requests of ours are outstanding: stray answers are ignored.
            Inbound::Message(_) => None,
        };
        if let Some(m) = reply {
            let _ = tx.send(m).await;
        }
    }
    // Calls still working finish into a closed channel; they are not
    // counted as cancelled, which only a client's notice does.
}

fn malformed(e: &FrameError) -> Message {
    let (code, message) = match e {
        FrameError::TooLarge { .. } => (ErrorObject::INVALID_REQUEST, "frame too large"),
        FrameError::Invalid {
            error: weir::mcp::jsonrpc::DecodeError::NotAMessage,
            ..
        } => (ErrorObject::INVALID_REQUEST, "not a JSON-RPC message"),
        _ => (ErrorObject::PARSE_ERROR, "parse error"),
    };
    Message::Error(ErrorResponse {
        id: None,
        error: ErrorObject::new(code, message),
    })
}

fn notified(n: &Notification, state: &State, inflight: &InFlight) {
    if n.method != "notifications/cancelled" {
        // `notifications/initialized` and anything else: nothing to do.
        return;
    }
    bump(&state.counters.cancel_notices);
    if let Ok(c) = from_raw::<Cancelled>(n.params.as_deref())
        && let Some(token) = inflight.lock().remove(&c.request_id)
    {
        token.cancel();
    }
}

fn handle(
    req: Request,
    state: &Arc<State>,
    tx: &async_channel::Sender<Message>,
    inflight: &InFlight,
    ex: &Executor<'static>,
) -> Option<Message> {
    let params: Params = from_raw(req.params.as_deref()).unwrap_or_default();
    let id = req.id;
    let value = match req.method.as_str() {
        "initialize" => state.initialize(&params),
        "server/discover" if state.spec.modern => state.discover(),
        "ping" => json!({}),
        "tools/list" => state.tools(),
        "tools/call" => {
            bump(&state.counters.tool_calls);
            let work = match state.accept(&id, &params) {
                Ok(w) => w,
                Err(e) => {
                    return Some(Message::Error(ErrorResponse {
                        id: Some(id),
                        error: e,
                    }));
                }
            };
            let token = CancellationToken::new();
            inflight.lock().insert(id.clone(), token.clone());
            let progress_token = params.meta.and_then(|m| m.progress_token);
            let (state, tx, inflight) = (state.clone(), tx.clone(), inflight.clone());
            ex.spawn(async move {
                let reply = work_on(&state, &tx, progress_token, work.latency);
                match token.run_until_cancelled(reply).await {
                    Some(()) => {
                        // Answered before any cancel: the call is no longer
                        // ours to stop.
                        if inflight.lock().remove(&id).is_some() {
                            let m = match work.outcome {
                                Ok(v) => result(id, &v),
                                Err(e) => Message::Error(ErrorResponse {
                                    id: Some(id),
                                    error: e,
                                }),
                            };
                            let _ = tx.send(m).await;
                        } else {
                            bump(&state.counters.cancelled);
                        }
                    }
                    None => bump(&state.counters.cancelled),
                }
            })
            .detach();
            return None;
        }
        _ => return Some(error(id, ErrorObject::METHOD_NOT_FOUND, "method not found")),
    };
    Some(result(id, &value))
}

/// Works for `latency`, reporting progress every `progress_every` when the
/// client gave a progress token.
async fn work_on(
    state: &State,
    tx: &async_channel::Sender<Message>,
    progress_token: Option<Value>,
    latency: Duration,
) {
    let every = state.spec.progress_every;
    let mut done = Duration::ZERO;
    if let Some(token) = progress_token
        && !every.is_zero()
    {
        let steps = (latency.as_nanos() / every.as_nanos().max(1)) as u64;
        for step in 1..=steps {
            Timer::after(every).await;
            done += every;
            if done >= latency {
                break;
            }
            let params = json!({
                "progressToken": token,
                "progress": step,
                "total": steps + 1,
                "message": format!("{} working", state.spec.name),
            });
            let raw: Option<Box<RawValue>> = to_raw(&params).ok();
            bump(&state.counters.progress);
            let _ = tx
                .send(Message::Notification(Notification::new(
                    "notifications/progress",
                    raw,
                )))
                .await;
        }
    }
    Timer::after(latency.saturating_sub(done)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    fn quiet() -> ServerSpec {
        ServerSpec {
            name: "echo",
            weight: 1,
            latency: (Duration::ZERO, Duration::ZERO),
            slow_share: 0.0,
            slow: Duration::ZERO,
            quota_per_sec: 1_000,
            burst: 100,
            transient_share: 0.0,
            down: None,
            progress_every: Duration::from_millis(10),
            modern: false,
        }
    }

    struct Conn {
        r: BufReader<TcpStream>,
        w: TcpStream,
    }

    impl Conn {
        async fn open(farm: &ServerFarm) -> Conn {
            let s = TcpStream::connect(farm.addr("echo").unwrap())
                .await
                .unwrap();
            Conn {
                r: BufReader::new(s.clone()),
                w: s,
            }
        }

        async fn send(&mut self, line: &[u8]) {
            self.w.write_all(line).await.unwrap();
            self.w.write_all(b"\n").await.unwrap();
        }

        async fn recv(&mut self) -> Message {
            let mut line = String::new();
            self.r.read_line(&mut line).await.unwrap();
            Message::decode(line.trim_end().as_bytes()).unwrap()
        }
    }

    fn call(id: i64, tool: &str, progress: bool) -> Vec<u8> {
        let mut params = json!({ "name": tool, "arguments": {} });
        if progress {
            params["_meta"] = json!({ "progressToken": id });
        }
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
            .to_string()
            .into_bytes()
    }

    fn code(m: &Message) -> Option<i64> {
        match m {
            Message::Error(e) => Some(e.error.code),
            _ => None,
        }
    }

    #[test]
    fn malformed_and_oversized_frames_get_errors_and_the_connection_lives_on() {
        let farm = ServerFarm::start(&[quiet()], 1).unwrap();
        smol::block_on(async {
            let mut c = Conn::open(&farm).await;
            c.send(b"{oops").await;
            assert_eq!(code(&c.recv().await), Some(ErrorObject::PARSE_ERROR));
            c.send(&vec![b'x'; MAX_FRAME + 10]).await;
            assert_eq!(code(&c.recv().await), Some(ErrorObject::INVALID_REQUEST));
            c.send(&call(3, "echo", false)).await;
            assert!(matches!(c.recv().await, Message::Response(r) if r.id == RequestId::Number(3)));
            c.send(&call(4, "nope", false)).await;
            assert_eq!(code(&c.recv().await), Some(ErrorObject::INVALID_PARAMS));
        });
        assert_eq!(farm.counts("echo").unwrap().requests, 4);
    }

    #[test]
    fn the_legacy_handshake_and_the_modern_probe() {
        let farm = ServerFarm::start(&[quiet()], 1).unwrap();
        smol::block_on(async {
            let mut c = Conn::open(&farm).await;
            c.send(br#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#)
                .await;
            // A legacy server: the probe is refused, so the client initialises.
            assert_eq!(code(&c.recv().await), Some(ErrorObject::METHOD_NOT_FOUND));
            c.send(br#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#).await;
            let Message::Response(r) = c.recv().await else {
                panic!("initialize refused")
            };
            let v: Value = serde_json::from_str(r.result.get()).unwrap();
            assert_eq!(v["protocolVersion"], "2025-06-18");
            c.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                .await;
            c.send(br#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
                .await;
            let Message::Response(r) = c.recv().await else {
                panic!("tools/list refused")
            };
            let v: Value = serde_json::from_str(r.result.get()).unwrap();
            assert_eq!(v["tools"][0]["name"], "echo");
        });
        let mut modern = quiet();
        modern.modern = true;
        let farm = ServerFarm::start(&[modern], 1).unwrap();
        smol::block_on(async {
            let mut c = Conn::open(&farm).await;
            c.send(br#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#)
                .await;
            let Message::Response(r) = c.recv().await else {
                panic!("probe refused")
            };
            let v: Value = serde_json::from_str(r.result.get()).unwrap();
            assert_eq!(v["supportedVersions"][0], MODERN_VERSION);
        });
    }

    #[test]
    fn long_calls_report_progress_and_cancelled_calls_stop_without_an_answer() {
        let mut spec = quiet();
        spec.latency = (Duration::from_millis(35), Duration::from_millis(35));
        let farm = ServerFarm::start(&[spec], 1).unwrap();
        smol::block_on(async {
            let mut c = Conn::open(&farm).await;
            c.send(&call(1, "echo", true)).await;
            // Progress at 10, 20 and 30 ms, then the answer.
            for step in 1..=3 {
                let Message::Notification(n) = c.recv().await else {
                    panic!("no progress before the answer")
                };
                assert_eq!(n.method, "notifications/progress");
                let p: Value = serde_json::from_str(n.params.unwrap().get()).unwrap();
                assert_eq!(
                    (p["progressToken"].as_i64(), p["progress"].as_i64()),
                    (Some(1), Some(step))
                );
            }
            assert!(matches!(c.recv().await, Message::Response(_)));
            // Without a token: no progress.
            c.send(&call(2, "echo", false)).await;
            assert!(matches!(c.recv().await, Message::Response(r) if r.id == RequestId::Number(2)));
            // Cancelled: the next thing on the wire is the answer to call 4.
            c.send(&call(3, "echo", false)).await;
            c.send(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"test"}}"#).await;
            c.send(&call(4, "echo", false)).await;
            assert!(matches!(c.recv().await, Message::Response(r) if r.id == RequestId::Number(4)));
        });
        let counts = farm.counts("echo").unwrap();
        assert_eq!(
            (counts.progress, counts.cancel_notices, counts.cancelled),
            (3, 1, 1)
        );
    }

    #[test]
    fn over_quota_calls_get_retry_after() {
        let mut spec = quiet();
        // One call a second, two at once: the third of a quick burst is
        // refused unless a whole second passed, which loopback never takes.
        spec.quota_per_sec = 1;
        spec.burst = 2;
        let farm = ServerFarm::start(&[spec], 1).unwrap();
        smol::block_on(async {
            let mut c = Conn::open(&farm).await;
            let mut replies = Vec::new();
            for id in 0..3 {
                c.send(&call(id, "echo", false)).await;
                replies.push(c.recv().await);
            }
            assert!(matches!(replies[0], Message::Response(_)));
            assert!(matches!(replies[1], Message::Response(_)));
            let Message::Error(e) = &replies[2] else {
                panic!("third call not refused")
            };
            assert_eq!(e.error.code, RATE_LIMITED);
            let ms = e.error.data.as_ref().unwrap()["retry_after_ms"].as_u64();
            assert!(ms.is_some_and(|ms| (1..=1001).contains(&ms)), "{ms:?}");
        });
        assert_eq!(farm.counts("echo").unwrap().rate_limited, 1);
    }

    #[test]
    fn quota_refuses_past_the_burst_and_says_when() {
        let t0 = Instant::now();
        let mut spec = quiet();
        spec.quota_per_sec = 10;
        spec.burst = 3;
        let mut q = Quota::new(&spec, t0);
        for _ in 0..3 {
            assert_eq!(q.check(t0), Ok(()));
        }
        assert_eq!(q.check(t0), Err(Duration::from_millis(100)));
        assert_eq!(q.check(t0 + Duration::from_millis(100)), Ok(()));
    }

    #[test]
    fn a_down_server_drops_connections() {
        let mut spec = quiet();
        spec.down = Some((Duration::ZERO, Duration::from_secs(60)));
        let farm = ServerFarm::start(&[spec], 1).unwrap();
        smol::block_on(async {
            let s = TcpStream::connect(farm.addr("echo").unwrap())
                .await
                .unwrap();
            let mut w = s.clone();
            let mut r = BufReader::new(s);
            let _ = w.write_all(b"{}\n").await;
            let mut line = String::new();
            // Either the accept-time drop or a reset: never an answer.
            let n = r.read_line(&mut line).await.unwrap_or(0);
            assert_eq!(n, 0);
        });
        assert!(farm.counts("echo").unwrap().dropped >= 1);
    }
}
