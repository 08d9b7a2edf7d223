//! The servers on the wire, spoken to line by line.

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
