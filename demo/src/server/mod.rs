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
use weir::CancellationToken;
use weir::mcp::framing::{FrameError, FrameReader, FrameWriter};
use weir::mcp::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, RawValue, Request, RequestId, Response,
    from_raw, to_raw,
};
use weir::mcp::protocol::{LEGACY_VERSIONS, MODERN_VERSION, meta};
use weir::mcp::transport::{Inbound, TransportEvent};

use crate::spec::ServerSpec;

mod conn;
mod state;
#[cfg(test)]
mod tests;

use conn::serve;
use state::{Counters, Quota, State, bump};

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
