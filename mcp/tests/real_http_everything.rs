//! `@modelcontextprotocol/server-everything` in `streamableHttp` mode (the
//! pinned peer `.ci/mcp-peers.sh` installs under target/mcp-peers/npm),
//! through weir-mcp's Client over Streamable HTTP, on every runtime: tools,
//! many calls in flight, progress, cancellation, and a server restarted
//! between calls.
//!
//! Without the peer the tests say so loudly and pass, unless
//! `WEIR_REQUIRE_MCP_PEERS=1` (CI), where a missing peer fails them.

mod http_support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_lite::StreamExt;
use serde_json::json;
use weir_core::io::NetRuntime;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::{CallEvent, Client};

fn everything() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/mcp-peers/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if root.exists() {
        return Some(root);
    }
    if std::env::var("WEIR_REQUIRE_MCP_PEERS").as_deref() == Ok("1") {
        panic!(
            "server-everything missing at {} (run bash .ci/mcp-peers.sh)",
            root.display()
        );
    }
    eprintln!(
        "\n!!! SKIPPED: server-everything not installed at {}; run bash .ci/mcp-peers.sh !!!\n",
        root.display()
    );
    None
}

/// A running server-everything; killed on drop.
struct Peer {
    child: Child,
}

impl Peer {
    /// Starts the server on `port` and returns once it says it listens.
    fn start(script: &PathBuf, port: u16) -> Peer {
        let mut child = Command::new("node")
            .arg(script)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node on PATH");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref() {
            let line = line.expect("server stderr");
            assert!(!line.contains("Failed to start"), "{line}");
            if line.contains("listening on port") {
                break;
            }
        }
        // Keep draining its stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Peer { child }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client<R: NetRuntime>(rt: R, url: String) -> Client<R> {
    let transport = StreamableHttpBuilder::new(url).max_connections(256);
    Client::builder(rt.clone())
        .timeout(Some(Duration::from_secs(60)))
        .build(transport.connector(rt))
}

async fn everything_over_http<R: NetRuntime>(rt: R) {
    let Some(script) = everything() else { return };
    let port = free_port();
    let peer = Peer::start(&script, port);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let client = client(rt.clone(), url);

    let tools = client.list_tools().await.unwrap();
    for wanted in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(tools.iter().any(|t| t.name == wanted), "{wanted} listed");
    }
    let reply = client
        .call_tool("echo", json!({"message": "hi from weir"}))
        .await
        .unwrap();
    assert!(reply.text().contains("hi from weir"), "{}", reply.text());

    // 10,240 calls, 256 in flight, each answer checked (issue 12: 10,000 at 256).
    const WORKERS: i64 = 256;
    const PER_WORKER: i64 = 40;
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let client = client.clone();
        workers.push(rt.spawn(async move {
            for i in 0..PER_WORKER {
                let (a, b) = (w, i);
                let reply = client
                    .call_tool("get-sum", json!({"a": a, "b": b}))
                    .await
                    .unwrap();
                assert!(
                    reply.text().contains(&(a + b).to_string()),
                    "{a}+{b}: {}",
                    reply.text()
                );
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }

    // Progress: every step reported, then the result.
    let mut call = client.call_tool_with_progress(
        "trigger-long-running-operation",
        json!({"duration": 0.2, "steps": 4}),
    );
    let mut progress = Vec::new();
    let done = loop {
        match call.next().await.expect("the stream ends with Done") {
            CallEvent::Progress(p) => progress.push(p.progress),
            CallEvent::Done(result) => break result,
        }
    };
    assert!(done.is_ok());
    assert_eq!(progress, vec![1.0, 2.0, 3.0, 4.0]);

    // Cancellation: dropped after its first report; the client goes on.
    let mut long = client.call_tool_with_progress(
        "trigger-long-running-operation",
        json!({"duration": 30, "steps": 300}),
    );
    assert!(matches!(long.next().await, Some(CallEvent::Progress(_))));
    drop(long);
    assert!(
        client
            .call_tool("echo", json!({"message": "after cancel"}))
            .await
            .is_ok()
    );

    // A restarted server: its sessions are gone (404), the client
    // initialises again on the next call.
    // (Off the executor thread, so the runtime keeps driving the client's
    // connections while the server goes down and comes back.)
    let restarted = rt
        .spawn_blocking(move || {
            drop(peer);
            Peer::start(&script, port)
        })
        .await
        .unwrap();
    let reply = client
        .call_tool("echo", json!({"message": "after restart"}))
        .await
        .unwrap();
    assert!(reply.text().contains("after restart"));
    client.close();
    drop(restarted);
}

on_every_net_runtime!(everything_over_http);
