//! The Python SDK 2.x (`mcp`, the pinned venv `.ci/mcp-peers.sh` installs
//! under target/mcp-peers/py-mcp2) serving Streamable HTTP, through weir-mcp's
//! Client with era detection (`server/discover`), on every runtime: the
//! modern era is chosen, tools are called many at once, progress arrives,
//! and a dropped call leaves the client usable.
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
use weir_mcp::transport::Era;
use weir_mcp::{CallEvent, Client};

fn python() -> Option<(PathBuf, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../target/mcp-peers/py-mcp2/bin/python");
    let script = root.join("tests/servers/http_mcpserver2.py");
    if python.exists() {
        return Some((python, script));
    }
    if std::env::var("WEIR_REQUIRE_MCP_PEERS").as_deref() == Ok("1") {
        panic!(
            "the Python mcp 2.x venv is missing at {} (run bash .ci/mcp-peers.sh)",
            python.display()
        );
    }
    eprintln!(
        "\n!!! SKIPPED: Python mcp 2.x not installed at {}; run bash .ci/mcp-peers.sh !!!\n",
        python.display()
    );
    None
}

/// A running Python server; killed on drop.
struct Peer(Child);

impl Peer {
    fn start(python: &PathBuf, script: &PathBuf, port: u16) -> Peer {
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the venv's python");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        for line in lines.by_ref() {
            if line.expect("server stderr").contains("Uvicorn running on") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Peer(child)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn python_sdk_over_http_is_modern<R: NetRuntime>(rt: R) {
    let Some((python, script)) = python() else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _peer = Peer::start(&python, &script, port);
    let transport =
        StreamableHttpBuilder::new(format!("http://127.0.0.1:{port}/mcp")).max_connections(64);
    let client = Client::builder(rt.clone())
        .timeout(Some(Duration::from_secs(60)))
        .build(transport.connector(rt.clone()));

    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    assert_eq!(client.era(), Some((Era::Modern, "2026-07-28")));
    assert_eq!(
        client
            .call_tool("echo", json!({"message": "modern"}))
            .await
            .unwrap()
            .text(),
        "modern"
    );

    // 256 calls, 64 in flight.
    let mut workers = Vec::new();
    for w in 0..64 {
        let client = client.clone();
        workers.push(weir_core::Runtime::spawn(&rt, async move {
            for i in 0..4 {
                let message = format!("{w}-{i}");
                let reply = client
                    .call_tool("echo", json!({"message": message}))
                    .await
                    .unwrap();
                assert_eq!(reply.text(), message);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }

    // Progress rides the request's own stream.
    let mut call = client.call_tool_with_progress("slow", json!({"steps": 3, "delay_ms": 10}));
    let mut reports = 0;
    let done = loop {
        match call.next().await.expect("ends with Done") {
            CallEvent::Progress(_) => reports += 1,
            CallEvent::Done(result) => break result.unwrap(),
        }
    };
    assert_eq!((reports, done.text().as_str()), (3, "done"));

    // A dropped call closes its stream (the modern cancel); the client goes on.
    let mut long = client.call_tool_with_progress("slow", json!({"steps": 1000, "delay_ms": 50}));
    assert!(matches!(long.next().await, Some(CallEvent::Progress(_))));
    drop(long);
    assert_eq!(
        client
            .call_tool("echo", json!({"message": "after"}))
            .await
            .unwrap()
            .text(),
        "after"
    );
    client.close();
}

on_every_net_runtime!(python_sdk_over_http_is_modern);
