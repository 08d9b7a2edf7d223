//! Policies per server: what is retried (and with which id), what the
//! breaker counts, and one request at a time.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use weir_core::{CircuitBreaker, Retry};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::jsonrpc::RequestId;
use weir_mcp::transport::{TransportError, TransportEvent};
use weir_mcp::{Client, McpError, ProtocolMode, memory};

use common::{Server, connector, text};

fn retry() -> Retry {
    Retry::constant(Duration::from_millis(100))
        .max_attempts(3)
        .build()
        .unwrap()
}

/// A server that fails the first `fail` tools/call requests at the
/// transport (HTTP 503) and answers the rest; returns the ids it saw.
fn flaky(
    rt: &VirtualRuntime,
    server: Arc<Server>,
    fail: usize,
    tools: Value,
) -> weir_core::test_util::VirtualTask<Vec<RequestId>> {
    rt.spawn(async move {
        server.accept_initialize("2025-11-25").await;
        let mut ids = Vec::new();
        let mut failed = 0;
        while let Some(r) = server.request().await {
            match r.method.as_str() {
                "tools/list" => server.reply(r.id, json!({"tools": tools.clone()})),
                _ => {
                    ids.push(r.id.clone());
                    if failed < fail {
                        failed += 1;
                        let error = TransportError::Http {
                            status: 503,
                            body: "busy".into(),
                        };
                        server
                            .peer
                            .send_event(TransportEvent::RequestFailed { id: r.id, error })
                            .unwrap();
                    } else {
                        server.reply(r.id, text("ok"));
                        return ids;
                    }
                }
            }
        }
        ids
    })
}

#[test]
fn a_tool_call_is_not_retried_by_default() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .retry(retry())
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let task = flaky(&rt, server.clone(), 1, json!([]));
    let out = rt.block_on(client.call_tool("charge_card", json!({})));
    assert!(
        matches!(
            out,
            Err(McpError::Transport(TransportError::Http {
                status: 503,
                ..
            }))
        ),
        "{out:?}"
    );
    server.peer.close();
    assert_eq!(
        rt.block_on(task).unwrap().len(),
        1,
        "sent once, never repeated"
    );
}

#[test]
fn an_idempotent_tool_is_retried_with_a_new_id_each_time() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .retry(retry())
        .idempotent_if(|tool| tool.starts_with("get_"))
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let task = flaky(&rt, server.clone(), 2, json!([]));
    let out = rt.block_on(client.call_tool("get_weather", json!({})));
    assert_eq!(out.unwrap().text(), "ok");
    let ids = rt.block_on(task).unwrap();
    assert_eq!(ids.len(), 3);
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    assert_eq!(
        rt.elapsed(),
        Duration::from_millis(200),
        "two back-offs of 100 ms"
    );
}

#[test]
fn annotations_make_a_tool_retryable_only_when_trusted() {
    for trust in [false, true] {
        let rt = VirtualRuntime::new();
        let (t, peer) = memory::pair();
        let client = Client::builder(rt.clone())
            .protocol(ProtocolMode::Legacy)
            .retry(retry())
            .trust_annotations(trust)
            .build(connector(vec![t]));
        let server = Server::new(peer);
        let tools =
            json!([{"name": "lookup", "inputSchema": {}, "annotations": {"readOnlyHint": true}}]);
        let task = flaky(&rt, server.clone(), 1, tools);
        rt.block_on(client.list_tools()).unwrap();
        let out = rt.block_on(client.call_tool("lookup", json!({})));
        assert_eq!(out.is_ok(), trust, "trust {trust}: {out:?}");
        server.peer.close();
        assert_eq!(rt.block_on(task).unwrap().len(), if trust { 2 } else { 1 });
    }
}

/// Listing is idempotent: retried without any rule.
#[test]
fn lists_are_retried() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .retry(retry())
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let first = srv.request().await.unwrap();
        let error = TransportError::Overloaded {
            retry_after: Some(Duration::from_secs(2)),
        };
        srv.peer
            .send_event(TransportEvent::RequestFailed {
                id: first.id,
                error,
            })
            .unwrap();
        let second = srv.request().await.unwrap();
        srv.reply(
            second.id,
            json!({"tools": [{"name": "a", "inputSchema": {}}]}),
        );
    })
    .detach();
    let tools = rt.block_on(client.list_tools()).unwrap();
    assert_eq!(tools.len(), 1);
    // The retry waited at least the server's Retry-After (weir's Retry may
    // add jitter on top of a hint).
    assert!(
        rt.elapsed() >= Duration::from_secs(2),
        "retried after {:?}",
        rt.elapsed()
    );
    assert_eq!(
        client.stats().requests,
        3,
        "initialize, the refused listing, its retry"
    );
}

/// `isError` results are the server working: the breaker stays closed.
/// Transport failures are not: it opens.
#[test]
fn breaker_counts_transport_failures_not_tool_errors() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let breaker = CircuitBreaker::builder()
        .consecutive_failures(2)
        .build(rt.clone())
        .unwrap();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .breaker(breaker)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        while let Some(r) = srv.request().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n < 5 {
                srv.reply(
                    r.id,
                    json!({"content": [{"type": "text", "text": "no"}], "isError": true}),
                );
            } else {
                let error = TransportError::Http {
                    status: 500,
                    body: "down".into(),
                };
                srv.peer
                    .send_event(TransportEvent::RequestFailed { id: r.id, error })
                    .unwrap();
            }
        }
    })
    .detach();
    for _ in 0..5 {
        let r = rt.block_on(client.call_tool("t", json!({}))).unwrap();
        assert!(r.is_error);
    }
    for _ in 0..2 {
        let r = rt.block_on(client.call_tool("t", json!({})));
        assert!(matches!(r, Err(McpError::Transport(_))), "{r:?}");
    }
    let r = rt.block_on(client.call_tool("t", json!({})));
    assert!(matches!(r, Err(McpError::CircuitOpen { .. })), "{r:?}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        7,
        "the open breaker kept the eighth call home"
    );
}

/// `one_at_a_time`: a second call waits until the first is answered.
#[test]
fn one_at_a_time_keeps_a_single_request_in_flight() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .one_at_a_time()
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let clock = rt.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        for i in 0..3 {
            let r = srv.request().await.unwrap();
            clock.sleep(Duration::from_secs(1)).await;
            // Nothing else arrived while this one was held.
            assert!(
                srv.peer.try_recv().is_none(),
                "request {i}: another request was in flight"
            );
            srv.reply(r.id, text(&i.to_string()));
        }
    })
    .detach();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            rt.spawn(async move { c.call_tool("t", json!({})).await })
        })
        .collect();
    rt.block_on(async {
        for c in calls {
            c.await.unwrap().unwrap();
        }
    });
    assert_eq!(rt.elapsed(), Duration::from_secs(3));
}

/// A server's 429/503 with Retry-After paces the whole client: a call
/// started during the pause waits it out before its request goes out.
#[test]
fn overload_pauses_every_call_of_the_client() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let clock = rt.clone();
    let arrivals = rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let first = srv.request().await.unwrap();
        let error = TransportError::Overloaded {
            retry_after: Some(Duration::from_secs(5)),
        };
        srv.peer
            .send_event(TransportEvent::RequestFailed {
                id: first.id,
                error,
            })
            .unwrap();
        let second = srv.request().await.unwrap();
        let at = clock.elapsed();
        srv.reply(second.id, text("later"));
        at
    });
    let out = rt.block_on(client.call_tool("a", json!({})));
    assert!(
        matches!(out, Err(McpError::RateLimited { retry_after }) if retry_after == Duration::from_secs(5)),
        "{out:?}"
    );
    let clock = rt.clone();
    rt.block_on(async {
        clock.sleep(Duration::from_secs(1)).await;
        assert_eq!(
            client.call_tool("b", json!({})).await.unwrap().text(),
            "later"
        );
    });
    assert_eq!(
        rt.block_on(arrivals).unwrap(),
        Duration::from_secs(5),
        "the second request waited out the pause"
    );
}

/// The user's rule makes a server's own "over quota" error transient: an
/// idempotent call is retried after the server's hint; without the rule
/// it is final.
#[test]
fn a_server_error_the_user_calls_transient_is_retried_after_its_hint() {
    for with_rule in [false, true] {
        let rt = VirtualRuntime::new();
        let (t, peer) = memory::pair();
        let mut builder = Client::builder(rt.clone())
            .protocol(ProtocolMode::Legacy)
            .retry(retry())
            .idempotent_if(|_| true);
        if with_rule {
            builder = builder.server_error_is_transient(|e| {
                (e.code == -32029).then(|| {
                    e.data
                        .as_ref()
                        .and_then(|d| d["retry_after_ms"].as_u64())
                        .map(Duration::from_millis)
                })
            });
        }
        let client = builder.build(connector(vec![t]));
        let server = Server::new(peer);
        let srv = server.clone();
        rt.spawn(async move {
            srv.accept_initialize("2025-11-25").await;
            let first = srv.request().await.unwrap();
            let mut e = weir_mcp::jsonrpc::ErrorObject::new(-32029, "over quota");
            e.data = Some(json!({"retry_after_ms": 750}));
            srv.error_obj(first.id, e);
            if let Some(second) = srv.request().await {
                srv.reply(second.id, text("ok"));
            }
        })
        .detach();
        let out = rt.block_on(client.call_tool("t", json!({})));
        if with_rule {
            assert_eq!(out.unwrap().text(), "ok");
            assert!(
                rt.elapsed() >= Duration::from_millis(750),
                "waited {:?}",
                rt.elapsed()
            );
        } else {
            assert!(
                matches!(out, Err(McpError::Server(ref e)) if e.code == -32029),
                "{out:?}"
            );
            assert_eq!(client.stats().requests, 2, "initialize and the one call");
        }
    }
}
