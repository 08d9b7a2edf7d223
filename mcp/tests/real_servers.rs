//! weir-mcp against real MCP servers over stdio, on smol, tokio (both
//! flavours) and async-std: `@modelcontextprotocol/server-everything` (the
//! TypeScript SDK), a FastMCP server on the Python SDK 1.x (legacy era) and
//! an MCPServer on the Python SDK 2.x (modern era); see servers/*.py.
//!
//! The peers are installed by `bash .ci/mcp-peers.sh`. A missing peer is a
//! loud skip, or a failure with WEIR_REQUIRE_MCP_PEERS=1 (CI).
#![cfg(target_os = "linux")]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use futures_lite::StreamExt;
use serde_json::{Value, json};
use support::{Env, assert_no_leftovers, eventually, sdk_python, server_script};
use weir_core::io::{Command, ProcessGroup, Signal};
use weir_mcp::handler::{BoxFuture, ClientHandler};
use weir_mcp::jsonrpc::ErrorObject;
use weir_mcp::stdio::{Stdio, StdioHandle};
use weir_mcp::transport::{Era, TransportError};
use weir_mcp::{CallEvent, Client, McpError};

const LONG: Duration = Duration::from_secs(30);

/// The three peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Everything,
    FastMcp1,
    McpServer2,
}

impl Peer {
    fn command(self) -> Option<Command> {
        match self {
            Peer::Everything => support::everything(),
            Peer::FastMcp1 => Some(Command::new(sdk_python(1)?).arg(server_script("fastmcp1.py"))),
            Peer::McpServer2 => {
                Some(Command::new(sdk_python(2)?).arg(server_script("mcpserver2.py")))
            }
        }
    }
}

/// Answers sampling with "sampled: <the first message's text>" and accepts
/// every elicitation with only `name` filled in (the schema's defaults must
/// fill in the rest).
struct Answers;

impl ClientHandler for Answers {
    fn sampling(&self) -> bool {
        true
    }
    fn elicitation(&self) -> bool {
        true
    }
    fn create_message(&self, params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async move {
            let text = params["messages"][0]["content"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(json!({
                "role": "assistant",
                "content": {"type": "text", "text": format!("sampled: {text}")},
                "model": "weir-test",
                "stopReason": "endTurn",
            }))
        })
    }
    fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async { Ok(json!({"action": "accept", "content": {"name": "ada"}})) })
    }
}

struct Connected<E: Env> {
    client: Client<E>,
    handle: StdioHandle,
}

fn connect<E: Env>(rt: E, cmd: Command) -> Connected<E> {
    let stdio = Stdio::new(E::spawner(), rt, cmd).stderr_lines(50);
    let handle = stdio.handle();
    // The default probe timeout: Python servers can take longer than it
    // to start under load, and the era must come out right either way (a
    // modern server refuses the fallback initialize with its versions).
    let client = Client::builder(rt).handler(Answers).build(stdio);
    Connected { client, handle }
}

impl<E: Env> Connected<E> {
    async fn close(self, rt: E) {
        let pid = self.handle.pid();
        self.client.close();
        assert!(
            self.handle.wait_all_gone(&rt, LONG).await,
            "the server did not stop; stderr: {:?}",
            self.handle.stderr_tail()
        );
        if let Some(pid) = pid {
            assert_no_leftovers(&rt, pid).await;
        }
    }
}

async fn eras_are_detected<E: Env>(rt: E) {
    for (peer, era, version) in [
        (Peer::Everything, Era::Legacy, "2025-11-25"),
        (Peer::FastMcp1, Era::Legacy, "2025-11-25"),
        (Peer::McpServer2, Era::Modern, "2026-07-28"),
    ] {
        let Some(cmd) = peer.command() else { continue };
        let c = connect(rt, cmd);
        let tools = c.client.list_tools().await.unwrap();
        assert!(
            tools.iter().any(|t| t.name == "echo"),
            "{peer:?}: {tools:?}"
        );
        assert_eq!(c.client.era(), Some((era, version)), "{peer:?}");
        c.close(rt).await;
    }
}

/// 10,000 echo calls with 256 in flight (1,000 against the Python servers,
/// which answer ~300 calls/s here: 10,000 would take half a minute each, per
/// runtime): every reply is the caller's own message, and the client's
/// counters agree that none was lost.
async fn ten_thousand_calls_none_lost<E: Env>(rt: E) {
    const IN_FLIGHT: usize = 256;
    for (peer, calls) in [
        (Peer::Everything, 10_000),
        (Peer::FastMcp1, 1_000),
        (Peer::McpServer2, 1_000),
    ] {
        let Some(cmd) = peer.command() else { continue };
        let c = connect(rt, cmd);
        c.client.list_tools().await.unwrap();
        let before = c.client.stats();
        let t0 = std::time::Instant::now();
        let workers: Vec<_> = (0..IN_FLIGHT)
            .map(|w| {
                let client = c.client.clone();
                rt.spawn(async move {
                    let mut ok = 0usize;
                    for i in (w..calls).step_by(IN_FLIGHT) {
                        let msg = format!("call-{i}");
                        let reply = client.call_tool("echo", json!({"message": msg})).await;
                        match reply {
                            Ok(r) if r.text().contains(&msg) => ok += 1,
                            other => panic!("call {i}: {other:?}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let mut ok = 0;
        for w in workers {
            ok += w.await.unwrap();
        }
        assert_eq!(ok, calls, "{peer:?}");
        eprintln!(
            "{peer:?}: {calls} calls, {IN_FLIGHT} in flight, {:?}",
            t0.elapsed()
        );
        let after = c.client.stats();
        assert_eq!(
            after.responses - before.responses,
            calls as u64,
            "{peer:?}: {after:?}"
        );
        assert_eq!(after.in_flight, 0);
        assert_eq!(after.connects, 1, "{peer:?}: one connection throughout");
        c.close(rt).await;
    }
}

async fn progress_reports_arrive_before_the_result<E: Env>(rt: E) {
    for (peer, tool, args, steps) in [
        (
            Peer::FastMcp1,
            "slow",
            json!({"steps": 5, "delay_ms": 10}),
            5,
        ),
        (
            Peer::McpServer2,
            "slow",
            json!({"steps": 5, "delay_ms": 10}),
            5,
        ),
        (
            Peer::Everything,
            "trigger-long-running-operation",
            json!({"duration": 0.5, "steps": 5}),
            5,
        ),
    ] {
        let Some(cmd) = peer.command() else { continue };
        let c = connect(rt, cmd);
        let mut call = c.client.call_tool_with_progress(tool, args);
        let mut seen = Vec::new();
        let result = loop {
            match call.next().await.expect("a Done item ends the stream") {
                CallEvent::Progress(p) => seen.push(p.progress),
                CallEvent::Done(r) => break r.unwrap(),
            }
        };
        assert!(call.next().await.is_none());
        assert_eq!(seen.len(), steps, "{peer:?}: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{peer:?}: {seen:?}");
        assert!(!result.is_error, "{peer:?}: {result:?}");
        c.close(rt).await;
    }
}

fn cancel_log() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "weir-mcp-cancel-{}-{}.log",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Dropping a call in the middle of a long tool sends
/// `notifications/cancelled`, and the server's tool sees it.
async fn cancel_in_the_middle_of_a_long_tool<E: Env>(rt: E) {
    for peer in [Peer::FastMcp1, Peer::McpServer2] {
        let Some(cmd) = peer.command() else { continue };
        let log = cancel_log();
        let c = connect(rt, cmd.env("WEIR_CANCEL_LOG", &log));
        let mut call = c
            .client
            .call_tool_with_progress("wait_for_cancel", json!({"tag": "t1"}));
        // The first report says the tool is running.
        match call.next().await {
            Some(CallEvent::Progress(p)) => assert_eq!(p.message.as_deref(), Some("waiting")),
            other => panic!("{peer:?}: expected progress, got {other:?}"),
        }
        drop(call);
        eventually(&rt, "the server saw the cancellation", || {
            std::fs::read_to_string(&log).is_ok_and(|s| s == "cancelled t1\n")
        })
        .await;
        assert_eq!(c.client.stats().cancels, 1);
        // The connection is fine afterwards.
        let r = c
            .client
            .call_tool("echo", json!({"message": "after"}))
            .await
            .unwrap();
        assert!(r.text().contains("after"));
        c.close(rt).await;
        let _ = std::fs::remove_file(&log);
    }
}

/// A server killed in the middle of a call: the call fails with the exit,
/// and the next call restarts the server.
async fn a_server_killed_mid_call<E: Env>(rt: E) {
    let peer = Peer::FastMcp1;
    let Some(cmd) = peer.command() else { return };
    let c = connect(rt, cmd);
    let mut call = c
        .client
        .call_tool_with_progress("wait_for_cancel", json!({"tag": "k"}));
    assert!(matches!(call.next().await, Some(CallEvent::Progress(_))));
    let first = c.handle.pid().unwrap();
    ProcessGroup::led_by(first)
        .unwrap()
        .signal(Signal::Kill)
        .unwrap();
    match call.next().await {
        Some(CallEvent::Done(Err(McpError::Transport(TransportError::Exited { status })))) => {
            assert_eq!(status, "signal: 9 (SIGKILL)");
        }
        other => panic!("expected the exit, got {other:?}"),
    }
    assert_no_leftovers(&rt, first).await;
    let r = c
        .client
        .call_tool("echo", json!({"message": "back"}))
        .await
        .unwrap();
    assert_eq!(r.text(), "back");
    assert_eq!(c.handle.spawns(), 2);
    c.close(rt).await;
}

/// Sampling and elicitation requests from the server, answered by the
/// handler; elicitation gets the schema's defaults for the fields left out.
async fn server_requests_are_answered<E: Env>(rt: E) {
    let expected = r#"{"count": 3, "loud": false, "name": "ada"}"#;
    if let Some(cmd) = Peer::FastMcp1.command() {
        let c = connect(rt, cmd);
        let r = c
            .client
            .call_tool("ask_llm", json!({"prompt": "hello"}))
            .await
            .unwrap();
        assert_eq!(r.text(), "sampled: hello");
        let r = c
            .client
            .call_tool("ask_user", json!({"question": "who?"}))
            .await
            .unwrap();
        assert_eq!(r.text(), expected);
        assert!(c.client.stats().server_requests >= 2);
        c.close(rt).await;
    }
    if let Some(cmd) = Peer::McpServer2.command() {
        // The modern era asks inside the result (input-required), and the
        // client retries with the answers.
        let c = connect(rt, cmd);
        let r = c
            .client
            .call_tool("ask_user", json!({"question": "who?"}))
            .await
            .unwrap();
        assert_eq!(r.text(), expected);
        assert_eq!(c.client.era().map(|e| e.0), Some(Era::Modern));
        c.close(rt).await;
    }
    if let Some(cmd) = Peer::Everything.command() {
        let c = connect(rt, cmd);
        let r = c
            .client
            .call_tool("trigger-sampling-request", json!({"prompt": "hi"}))
            .await
            .unwrap();
        assert!(r.text().contains("sampled: "), "{r:?}");
        let r = c
            .client
            .call_tool("trigger-elicitation-request", json!({}))
            .await
            .unwrap();
        assert!(r.text().contains("ada"), "{r:?}");
        c.close(rt).await;
    }
}

on_real_runtimes!(
    eras_are_detected,
    ten_thousand_calls_none_lost,
    progress_reports_arrive_before_the_result,
    cancel_in_the_middle_of_a_long_tool,
    a_server_killed_mid_call,
    server_requests_are_answered,
);
