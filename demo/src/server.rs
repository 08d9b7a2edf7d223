//! The embedded tool servers: loopback TCP, newline-delimited JSON-RPC 2.0.
//!
//! They run on their own smol executor on a background thread, whatever
//! runtime the client uses, so the client's runtime is the only thing that
//! changes between runs on smol, tokio and async-std.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::io::BufReader;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::json;
use smol::net::{TcpListener, TcpStream};
use smol::{Executor, Timer};

use crate::frame::{Frame, read_frame, write_json};
use crate::protocol::{
    INVALID_PARAMS, INVALID_REQUEST, MAX_FRAME, RATE_LIMITED, Request, Response, RpcError,
    TRANSIENT, parse_request,
};
use crate::spec::ServerSpec;

/// What a server saw, counted on its side of the wire.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ServerCounts {
    /// Frames received (including bad ones).
    pub requests: u64,
    /// Requests refused for being over the quota.
    pub rate_limited: u64,
    /// Requests answered with a transient error.
    pub transient: u64,
    /// Connections dropped while the server was down.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    transient: AtomicU64,
    dropped: AtomicU64,
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

enum Verdict {
    Answer(Response),
    After(Duration, Response),
}

impl State {
    fn is_down(&self, now: Instant) -> bool {
        self.spec.down.is_some_and(|(from, len)| {
            let t = now.saturating_duration_since(self.start);
            t >= from && t < from + len
        })
    }

    fn decide(&self, req: Request) -> Verdict {
        let id = req.id;
        if req.params.name != self.spec.name {
            return Verdict::Answer(Response::err(
                Some(id),
                RpcError::new(INVALID_PARAMS, "unknown tool"),
            ));
        }
        if let Err(wait) = self.quota.lock().check(Instant::now()) {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut e = RpcError::new(RATE_LIMITED, "rate limit exceeded");
            // Round up so a client that waits exactly this long fits.
            e.data = Some(json!({ "retry_after_ms": wait.as_millis() as u64 + 1 }));
            return Verdict::Answer(Response::err(Some(id), e));
        }
        let (latency, transient) = {
            let mut rng = self.rng.lock();
            let (lo, hi) = self.spec.latency;
            let base = lo + (hi.saturating_sub(lo)).mul_f64(rng.f64());
            let slow = rng.f64() < self.spec.slow_share;
            let transient = rng.f64() < self.spec.transient_share;
            (if slow { self.spec.slow } else { base }, transient)
        };
        if transient {
            self.counters.transient.fetch_add(1, Ordering::Relaxed);
            let e = RpcError::new(TRANSIENT, "transient failure, try again");
            return Verdict::After(latency / 2, Response::err(Some(id), e));
        }
        let text = format!("{} result for call {id}", self.spec.name);
        let result = json!({ "content": [{ "type": "text", "text": text }], "isError": false });
        Verdict::After(latency, Response::ok(id, result))
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
            ServerCounts {
                requests: c.requests.load(Ordering::Relaxed),
                rate_limited: c.rate_limited.load(Ordering::Relaxed),
                transient: c.transient.load(Ordering::Relaxed),
                dropped: c.dropped.load(Ordering::Relaxed),
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
            state.counters.dropped.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        ex.spawn(serve(stream, state.clone(), ex.clone())).detach();
    }
}

/// Serves one connection: requests are answered out of order, each after
/// its own latency, so the client must route responses by id.
async fn serve(stream: TcpStream, state: Arc<State>, ex: Arc<Executor<'static>>) {
    let (tx, rx) = async_channel::unbounded::<Response>();
    let mut out = stream.clone();
    ex.spawn(async move {
        while let Ok(resp) = rx.recv().await {
            if write_json(&mut out, &resp).await.is_err() {
                break;
            }
        }
    })
    .detach();
    let mut reader = BufReader::new(stream.clone());
    let mut buf = Vec::with_capacity(1024);
    loop {
        let frame = match read_frame(&mut reader, &mut buf, MAX_FRAME).await {
            Ok(f) => f,
            Err(_) => break,
        };
        if frame != Frame::Eof {
            state.counters.requests.fetch_add(1, Ordering::Relaxed);
        }
        if state.is_down(Instant::now()) {
            state.counters.dropped.fetch_add(1, Ordering::Relaxed);
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
        let verdict = match frame {
            Frame::Eof => break,
            Frame::TooLong => Verdict::Answer(Response::err(
                None,
                RpcError::new(INVALID_REQUEST, "frame too large"),
            )),
            Frame::Line => match parse_request(&buf) {
                Err(bad) => Verdict::Answer(bad.response()),
                Ok(req) => state.decide(req),
            },
        };
        match verdict {
            Verdict::Answer(resp) => {
                let _ = tx.send(resp).await;
            }
            Verdict::After(latency, resp) => {
                let tx = tx.clone();
                ex.spawn(async move {
                    Timer::after(latency).await;
                    let _ = tx.send(resp).await;
                })
                .detach();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PARSE_ERROR, RpcError};
    use futures_lite::io::AsyncWriteExt;

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
        }
    }

    async fn roundtrip(
        reader: &mut BufReader<TcpStream>,
        writer: &mut TcpStream,
        line: &[u8],
    ) -> Response {
        writer.write_all(line).await.unwrap();
        let mut buf = Vec::new();
        assert_eq!(
            read_frame(reader, &mut buf, MAX_FRAME).await.unwrap(),
            Frame::Line
        );
        serde_json::from_slice(&buf).unwrap()
    }

    #[test]
    fn malformed_and_oversized_frames_get_errors_and_the_connection_lives_on() {
        let farm = ServerFarm::start(&[quiet()], 1).unwrap();
        smol::block_on(async {
            let s = TcpStream::connect(farm.addr("echo").unwrap())
                .await
                .unwrap();
            let mut w = s.clone();
            let mut r = BufReader::new(s);
            let resp = roundtrip(&mut r, &mut w, b"{oops\n").await;
            assert_eq!(resp.error.unwrap().code, PARSE_ERROR);
            let mut huge = vec![b'x'; MAX_FRAME + 10];
            huge.push(b'\n');
            let resp = roundtrip(&mut r, &mut w, &huge).await;
            assert_eq!(resp.error.unwrap().code, INVALID_REQUEST);
            let call = serde_json::to_vec(&Request::tools_call(3, "echo", json!({}))).unwrap();
            let resp = roundtrip(&mut r, &mut w, &[&call[..], b"\n"].concat()).await;
            assert_eq!(resp.id, Some(3));
            assert!(resp.result.is_some());
            let wrong = serde_json::to_vec(&Request::tools_call(4, "nope", json!({}))).unwrap();
            let resp = roundtrip(&mut r, &mut w, &[&wrong[..], b"\n"].concat()).await;
            assert_eq!(resp.error.map(|e| e.code), Some(INVALID_PARAMS));
        });
        assert_eq!(farm.counts("echo").unwrap().requests, 4);
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
            let s = TcpStream::connect(farm.addr("echo").unwrap())
                .await
                .unwrap();
            let mut w = s.clone();
            let mut r = BufReader::new(s);
            let mut errors: Vec<Option<RpcError>> = Vec::new();
            for id in 0..3 {
                let call = serde_json::to_vec(&Request::tools_call(id, "echo", json!({}))).unwrap();
                let resp = roundtrip(&mut r, &mut w, &[&call[..], b"\n"].concat()).await;
                errors.push(resp.error);
            }
            assert!(errors[0].is_none() && errors[1].is_none());
            let e = errors[2].take().expect("third call refused");
            assert_eq!(e.code, RATE_LIMITED);
            assert!(
                e.retry_after_ms()
                    .is_some_and(|ms| (1..=1001).contains(&ms))
            );
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
            let mut buf = Vec::new();
            // Either the accept-time drop or a reset: never an answer.
            assert!(!matches!(
                read_frame(&mut r, &mut buf, MAX_FRAME).await,
                Ok(Frame::Line)
            ));
        });
        assert!(farm.counts("echo").unwrap().dropped >= 1);
    }
}
