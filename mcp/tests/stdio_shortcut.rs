//! `Client::stdio(program, args)…connect(rt)`, DESIGN.md's shortcut, against
//! the plain echo server (servers/plain.py): `connect` starts the process and
//! finishes the handshake before any call, the settings written before the
//! runtime was chosen are in force, a program that cannot start is an error
//! of `connect` itself, and close leaves no process behind.
#![cfg(target_os = "linux")]

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Env, assert_no_leftovers, python, server_script};
use weir_core::Bulkhead;
use weir_mcp::transport::TransportError;
use weir_mcp::{Client, McpError, ProtocolMode};

const LONG: Duration = Duration::from_secs(30);

async fn connect_starts_the_server_and_the_settings_hold<E: Env>(rt: E) {
    let Some(py) = python() else { return };
    // One permit and no queue: while the test holds the permit, a call
    // through this client's policy is turned away at once.
    let bulkhead = Bulkhead::builder()
        .max_concurrent(1)
        .queue_capacity(0)
        .build(rt)
        .unwrap();
    let script = server_script("plain.py");
    let (client, handle) = Client::stdio(&py, ["-u".as_ref(), script.as_os_str(), "echo".as_ref()])
        .protocol(ProtocolMode::Legacy)
        .bulkhead(bulkhead.clone())
        .timeout(LONG)
        .idle_timeout(LONG)
        .connect_with_handle(rt)
        .await
        .unwrap();
    // Connected before the first call: one process, the era settled.
    let stats = client.stats();
    assert_eq!((stats.connects, stats.requests), (1, 1), "{stats:?}");
    assert!(client.era().is_some());

    let held = bulkhead.try_acquire().unwrap();
    match client.call_tool("echo", json!({"message": "hi"})).await {
        Err(McpError::Rejected(_)) => {}
        other => panic!("the bulkhead given before connect must hold: {other:?}"),
    }
    drop(held);
    let reply = client
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .unwrap();
    assert_eq!(reply.text(), "hi");
    assert_eq!(client.stats().connects, 1);

    let pid = handle.pid().expect("a server runs");
    client.close();
    assert!(handle.wait_all_gone(&rt, LONG).await, "close is bounded");
    assert_no_leftovers(&rt, pid).await;
    assert_eq!(handle.spawns(), 1);
}

async fn a_program_that_cannot_start_fails_connect<E: Env>(rt: E) {
    let result = Client::<E>::stdio("/nonexistent/weir-mcp-server", ["--flag"])
        .connect(rt)
        .await;
    match result {
        Err(McpError::Transport(TransportError::Connect(e))) => {
            assert!(
                e.to_string().contains("/nonexistent/weir-mcp-server"),
                "{e}"
            );
        }
        Err(other) => panic!("expected a Connect error, got {other:?}"),
        Ok(_) => panic!("a missing program cannot connect"),
    }
}

on_real_runtimes!(
    connect_starts_the_server_and_the_settings_hold,
    a_program_that_cannot_start_fails_connect,
);
