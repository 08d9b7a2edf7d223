//! Deadlines by default, on the virtual clock with exact instants: an idle
//! timeout that progress resets, a hard total, a cancellation token, and
//! `initialize` never cancelled.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use weir_core::CancellationToken;
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::{CallOptions, Client, McpError, ProtocolMode, TimeoutKind, memory};

use common::{Server, connector, token};

fn client(
    rt: &VirtualRuntime,
    idle: Option<Duration>,
    total: Option<Duration>,
) -> (Client<VirtualRuntime>, Arc<Server>) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .idle_timeout(idle)
        .timeout(total)
        .build(connector(vec![t]));
    (client, Server::new(peer))
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn idle_timeout_is_reset_by_progress() {
    let rt = VirtualRuntime::new();
    let (client, server) = client(&rt, Some(S(10)), None);
    let srv = server.clone();
    let clock = rt.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        for _ in 0..2 {
            clock.sleep(S(8)).await;
            srv.progress(&token(&r), 1.0);
        }
        // Then silence; keep the connection open.
        let _ = srv.request().await;
    })
    .detach();
    let out = rt.block_on(client.call_tool("slow", json!({})));
    assert!(
        matches!(out, Err(McpError::Timeout(TimeoutKind::Idle))),
        "{out:?}"
    );
    // Progress at 8 s and 16 s; idle 10 s after the last one.
    assert_eq!(rt.elapsed(), S(26));
    rt.block_on(async { rt.sleep(Duration::from_millis(1)).await });
    assert_eq!(
        server.cancelled().len(),
        1,
        "the server heard one cancellation"
    );
    assert_eq!(client.stats().timeouts, 1);
    assert_eq!(client.stats().cancels, 1);
}

#[test]
fn hard_total_ends_a_call_that_keeps_reporting_progress() {
    let rt = VirtualRuntime::new();
    let (client, server) = client(&rt, Some(S(10)), Some(S(30)));
    let srv = server.clone();
    let clock = rt.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        loop {
            clock.sleep(S(5)).await;
            srv.progress(&token(&r), 1.0);
            if clock.elapsed() > S(60) {
                break;
            }
        }
    })
    .detach();
    let out = rt.block_on(client.call_tool("endless", json!({})));
    assert!(
        matches!(out, Err(McpError::Timeout(TimeoutKind::Total))),
        "{out:?}"
    );
    assert_eq!(rt.elapsed(), S(30));
    assert_eq!(client.stats().cancels, 1);
}

#[test]
fn a_cancellation_token_ends_the_wait_and_cancels_once() {
    let rt = VirtualRuntime::new();
    let (client, server) = client(&rt, Some(S(60)), None);
    let srv = server.clone();
    let ctl = CancellationToken::new();
    ctl.cancel_at(&rt, rt.now() + S(3));
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let _r = srv.request().await.unwrap();
        let _ = srv.request().await;
    })
    .detach();
    let opts = CallOptions::new().token(ctl);
    let out = rt.block_on(client.call_tool_with("t", json!({}), &opts));
    assert!(matches!(out, Err(McpError::Cancelled)), "{out:?}");
    assert_eq!(rt.elapsed(), S(3));
    assert_eq!(client.stats().cancels, 1);
    // Let the writer hand the cancellation to the transport.
    rt.block_on(async { rt.sleep(Duration::from_millis(1)).await });
    assert_eq!(server.peer.cancels(), 1);
}

#[test]
fn initialize_is_never_cancelled_even_when_it_times_out() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .handshake_timeout(S(7))
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let got = rt.spawn(async move { srv.request().await.unwrap().method });
    let out = rt.block_on(client.call_tool("t", json!({})));
    assert!(
        matches!(out, Err(McpError::Timeout(TimeoutKind::Handshake))),
        "{out:?}"
    );
    assert_eq!(rt.elapsed(), S(7));
    assert_eq!(rt.block_on(got).unwrap(), "initialize");
    assert_eq!(server.peer.cancels(), 0);
    assert!(
        server.peer.try_recv().is_none(),
        "no notifications/cancelled for initialize"
    );
}

/// Every call has deadlines unless turned off: the defaults end a call to
/// a server that accepts the request and never answers.
#[test]
fn default_deadlines_end_a_silent_call() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let _r = srv.request().await;
        let _ = srv.request().await;
    })
    .detach();
    let out = rt.block_on(client.call_tool("t", json!({})));
    assert!(
        matches!(out, Err(McpError::Timeout(TimeoutKind::Idle))),
        "{out:?}"
    );
    assert_eq!(rt.elapsed(), weir_mcp::DEFAULT_IDLE_TIMEOUT);
}

/// The token also ends a wait in the policy (here a bulkhead queue behind
/// a call that holds the only permit).
#[test]
fn a_cancellation_token_ends_a_wait_in_the_bulkhead_queue() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .one_at_a_time()
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let holding = rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        srv.request().await.unwrap()
    });
    let c = client.clone();
    let holder = rt.spawn(async move { c.call_tool("hold", json!({})).await });
    let ctl = CancellationToken::new();
    ctl.cancel_at(&rt, rt.now() + S(4));
    let opts = CallOptions::new().token(ctl);
    let out = rt.block_on(async {
        // The holder's request is at the server: it has the only permit.
        let held = holding.await.unwrap();
        assert_eq!(common::params(held.params.as_deref())["name"], "hold");
        client.call_tool_with("queued", json!({}), &opts).await
    });
    assert!(matches!(out, Err(McpError::Cancelled)), "{out:?}");
    assert_eq!(rt.elapsed(), S(4));
    assert_eq!(
        client.stats().requests,
        2,
        "initialize and the holder; the queued call never went out"
    );
    drop(holder);
}

/// A client-wide token ends every call in flight, each cancelled once.
#[test]
fn a_client_token_ends_every_call() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let shutdown = CancellationToken::new();
    shutdown.cancel_at(&rt, rt.now() + S(2));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .cancellation(shutdown.child_token())
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        while srv.request().await.is_some() {}
    })
    .detach();
    let (a, b) = rt.block_on(futures_lite::future::zip(
        client.call_tool("a", json!({})),
        client.call_tool("b", json!({})),
    ));
    assert!(
        matches!(a, Err(McpError::Cancelled)) && matches!(b, Err(McpError::Cancelled)),
        "{a:?} {b:?}"
    );
    assert_eq!(rt.elapsed(), S(2));
    assert_eq!(client.stats().cancels, 2);
    assert!(matches!(
        rt.block_on(client.call_tool("c", json!({}))),
        Err(McpError::Cancelled)
    ));
}
