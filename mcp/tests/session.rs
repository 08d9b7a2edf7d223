//! One connection, many calls: correlation by id, progress that never
//! blocks a response, cancel on drop, late and unknown messages, malformed
//! lines and the frame limit.

mod common;

use std::sync::Arc;
use std::time::Duration;

use futures_lite::StreamExt;
use serde_json::{Value, json};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::framing::{FrameReader, FrameWriter, Framed};
use weir_mcp::jsonrpc::{Message, RequestId};
use weir_mcp::transport::{Inbound, MessageSource};
use weir_mcp::{CallEvent, Client, McpError, ProtocolMode, memory};

use common::{Server, connector, params, text, token};

fn legacy<R: Runtime>(rt: &R) -> (Client<R>, Arc<Server>) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    (client, Server::new(peer))
}

/// 64 calls in flight; the server answers them in reverse order; each call
/// gets its own answer.
async fn many_calls_out_of_order<R: Runtime>(rt: R) {
    let (client, server) = legacy(&rt);
    let srv = server.clone();
    let server_task = rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let mut held = Vec::new();
        while held.len() < 64 {
            let r = srv.request().await.unwrap();
            assert_eq!(r.method, "tools/call");
            held.push(r);
        }
        for r in held.into_iter().rev() {
            let n = params(r.params.as_deref())["arguments"]["n"].clone();
            srv.reply(r.id, text(&n.to_string()));
        }
    });
    let mut calls = Vec::new();
    for n in 0..64 {
        let c = client.clone();
        calls.push(rt.spawn(async move { c.call_tool("echo", json!({ "n": n })).await }));
    }
    for (n, call) in calls.into_iter().enumerate() {
        let reply = call.await.unwrap().unwrap();
        assert_eq!(reply.text(), n.to_string());
    }
    server_task.await.unwrap();
    let stats = client.stats();
    assert_eq!(stats.responses, 65); // 64 calls and initialize
    assert_eq!(stats.in_flight, 0);
}

/// A flood of progress for one call, with a small queue, neither blocks
/// the other call's response nor its own.
async fn progress_flood_does_not_block_responses<R: Runtime>(rt: R) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .progress_capacity(4)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let a = srv.request().await.unwrap();
        let b = srv.request().await.unwrap();
        let (slow, quick) = if params(a.params.as_deref())["name"] == "slow" {
            (a, b)
        } else {
            (b, a)
        };
        for i in 0..10_000 {
            srv.progress(&token(&slow), f64::from(i));
        }
        srv.reply(quick.id, text("quick"));
        for i in 10_000..20_000 {
            srv.progress(&token(&slow), f64::from(i));
        }
        srv.reply(slow.id, text("slow"));
    })
    .detach();
    let slow = client.call_tool_with_progress("slow", json!({}));
    let quick = client.call_tool("quick", json!({}));
    let consume = async move {
        let mut slow = slow;
        let mut reports = 0u64;
        let mut result = None;
        while let Some(ev) = slow.next().await {
            match ev {
                CallEvent::Progress(_) => reports += 1,
                CallEvent::Done(r) => result = Some(r),
            }
        }
        (reports, result)
    };
    let (quick, (reports, result)) = futures_lite::future::zip(quick, consume).await;
    assert_eq!(quick.unwrap().text(), "quick");
    assert_eq!(result.unwrap().unwrap().text(), "slow");
    // The queue held at most 4 at a time; the rest were dropped, never the response.
    assert!(reports >= 1);
    let stats = client.stats();
    assert_eq!(stats.progress, 20_000);
    assert_eq!(stats.progress_dropped + reports, 20_000);
    assert!(stats.progress_dropped > 0);
}

/// Dropping a call after its request went out sends exactly one
/// `notifications/cancelled`; the late response is ignored; the connection
/// goes on.
async fn cancel_on_drop_sends_one_cancel_and_late_reply_is_ignored<R: Runtime>(rt: R) {
    let (client, server) = legacy(&rt);
    let srv = server.clone();
    let first = rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        srv.request().await.unwrap()
    });
    let mut call = Box::pin(client.call_tool("slow", json!({})));
    // Drive the call until the server holds its request; it stays pending.
    let req = futures_lite::future::or(
        async {
            let r = (&mut call).await;
            panic!("answered without a reply: {r:?}")
        },
        async { first.await.unwrap() },
    )
    .await;
    drop(call);
    // The cancellation arrives, once, naming the request.
    let next = server.next().await.unwrap();
    let Message::Notification(n) = next else {
        panic!("expected a notification, got {next:?}")
    };
    assert_eq!(n.method, "notifications/cancelled");
    let RequestId::Number(id) = req.id.clone() else {
        unreachable!()
    };
    assert_eq!(params(n.params.as_deref())["requestId"], json!(id));
    // A late reply to the cancelled request, and one to an id never used.
    server.reply(req.id, text("late"));
    server.reply(RequestId::Number(9_999), text("unknown"));
    server.reply(RequestId::from("nope"), text("unknown"));
    let srv = server.clone();
    rt.spawn(async move {
        let r = srv.request().await.unwrap();
        srv.reply(r.id, text("after"));
    })
    .detach();
    assert_eq!(
        client.call_tool("x", json!({})).await.unwrap().text(),
        "after"
    );
    let stats = client.stats();
    assert_eq!(stats.cancels, 1);
    assert_eq!(stats.unmatched, 3);
    assert_eq!(server.peer.cancels(), 1);
    // Nothing else was sent: no second cancellation.
    assert!(server.peer.try_recv().is_none());
}

on_every_runtime!(
    many_calls_out_of_order,
    progress_flood_does_not_block_responses,
    cancel_on_drop_sends_one_cancel_and_late_reply_is_ignored,
);

/// A server over real framing (byte pipes): garbage lines and an oversized
/// line are reported and skipped; the call behind them completes.
#[test]
fn malformed_lines_and_frame_limit_keep_the_connection() {
    let rt = VirtualRuntime::new();
    let (c2s_r, c2s_w) = piper::pipe(64 * 1024);
    let (s2c_r, s2c_w) = piper::pipe(64 * 1024);
    let slot = parking_lot::Mutex::new(Some(Framed::new(s2c_r, c2s_w).max_frame(256)));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(move || {
            std::future::ready(
                slot.lock()
                    .take()
                    .ok_or(weir_mcp::transport::TransportError::Closed),
            )
        });
    rt.spawn(async move {
        let mut reader = FrameReader::new(c2s_r);
        let mut writer = FrameWriter::new(s2c_w);
        let mut next = async || loop {
            match reader.recv().await.unwrap() {
                Inbound::Message(Message::Request(r)) => return r,
                _ => continue,
            }
        };
        let init = next().await;
        let reply = json!({"jsonrpc": "2.0", "id": init.id, "result": {"protocolVersion": "2025-06-18", "capabilities": {}}});
        writer.write_line(reply.to_string().as_bytes()).await.unwrap();
        writer.flush_lines().await.unwrap();
        let call = next().await;
        writer.write_line(b"this is not json").await.unwrap();
        writer.write_line(b"{\"jsonrpc\":\"2.0\"}").await.unwrap();
        let long = format!("{{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{{\"pad\":\"{}\"}}}}", "a".repeat(1000));
        writer.write_line(long.as_bytes()).await.unwrap();
        writer.write_line(b"").await.unwrap();
        let reply = json!({"jsonrpc": "2.0", "id": call.id, "result": text("survived")});
        writer.write_line(reply.to_string().as_bytes()).await.unwrap();
        writer.flush_lines().await.unwrap();
        // Keep the pipe open until the client is done.
        let _ = next().await;
    })
    .detach();
    let reply = rt.block_on(client.call_tool("t", json!({}))).unwrap();
    assert_eq!(reply.text(), "survived");
    let stats = client.stats();
    assert_eq!(
        stats.malformed, 3,
        "garbage, a non-message object and the oversized line"
    );
    assert_eq!(client.era().unwrap().1, "2025-06-18");
}

/// The server dying fails every call in flight with a transport error; the
/// next call connects again.
#[test]
fn connection_loss_fails_in_flight_calls_and_reconnects() {
    let rt = VirtualRuntime::new();
    let (t1, p1) = memory::pair();
    let (t2, p2) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t1, t2]));
    let s1 = Server::new(p1);
    let s2 = Server::new(p2);
    rt.block_on(async {
        let srv = s1.clone();
        rt.spawn(async move {
            srv.accept_initialize("2025-11-25").await;
            let _a = srv.request().await.unwrap();
            let _b = srv.request().await.unwrap();
            srv.peer.close();
        })
        .detach();
        let a = client.call_tool("a", json!({}));
        let b = client.call_tool("b", json!({}));
        let (a, b) = futures_lite::future::zip(a, b).await;
        assert!(matches!(a, Err(McpError::Transport(_))), "{a:?}");
        assert!(matches!(b, Err(McpError::Transport(_))), "{b:?}");
        let srv = s2.clone();
        rt.spawn(async move {
            // The era is cached: no probe, straight to initialize.
            srv.accept_initialize("2025-11-25").await;
            let r = srv.request().await.unwrap();
            srv.reply(r.id, text("again"));
        })
        .detach();
        assert_eq!(
            client.call_tool("c", json!({})).await.unwrap().text(),
            "again"
        );
    });
    let stats = client.stats();
    assert_eq!(stats.connects, 2);
    assert_eq!(stats.transport_failures, 1);
    assert_eq!(stats.cancels, 0, "a lost connection is not a cancellation");
}

/// Server-to-client requests: ping answered by the session; sampling
/// refused by default; roots an empty list.
#[test]
fn server_requests_get_default_answers() {
    let rt = VirtualRuntime::new();
    let (client, server) = legacy(&rt);
    rt.block_on(async {
        let srv = server.clone();
        rt.spawn(async move {
            srv.accept_initialize("2025-11-25").await;
            let call = srv.request().await.unwrap();
            for (id, method) in [
                (100, "ping"),
                (101, "sampling/createMessage"),
                (102, "roots/list"),
            ] {
                let req = weir_mcp::jsonrpc::Request::new(
                    id,
                    method,
                    Some(weir_mcp::jsonrpc::to_raw(&json!({})).unwrap()),
                );
                srv.peer.send(Message::Request(req)).unwrap();
            }
            let mut answers = std::collections::BTreeMap::new();
            while answers.len() < 3 {
                match srv.next().await.unwrap() {
                    Message::Response(r) => {
                        answers.insert(
                            r.id.to_string(),
                            serde_json::from_str::<Value>(r.result.get()).unwrap(),
                        );
                    }
                    Message::Error(e) => {
                        answers.insert(e.id.unwrap().to_string(), json!({"error": e.error.code}));
                    }
                    _ => {}
                }
            }
            srv.reply(call.id, json!({"content": [], "answers": answers}));
        })
        .detach();
        let reply = client.call_tool("t", json!({})).await.unwrap();
        let answers = &reply.extra["answers"];
        assert_eq!(answers["100"], json!({}));
        assert_eq!(answers["101"], json!({"error": -32601}));
        assert_eq!(answers["102"], json!({"roots": []}));
    });
    assert_eq!(client.stats().server_requests, 3);
    // The replies went on the control lane.
    let lanes: Vec<_> = server
        .outbound
        .lock()
        .iter()
        .filter(|o| o.kind == weir_mcp::transport::MessageKind::Response)
        .map(|o| o.lane)
        .collect();
    assert_eq!(lanes, vec![weir_mcp::transport::Lane::Control; 3]);
    let _ = Duration::ZERO;
}

/// Restarts are configurable: with none allowed, the call after a lost
/// connection fails with the error that ended it.
#[test]
fn restarts_can_be_limited() {
    for (max, expect_second_ok) in [(Some(0), false), (Some(1), true), (None, true)] {
        let rt = VirtualRuntime::new();
        let (t1, p1) = memory::pair();
        let (t2, p2) = memory::pair();
        let client = Client::builder(rt.clone())
            .protocol(ProtocolMode::Legacy)
            .max_restarts(max)
            .build(connector(vec![t1, t2]));
        let (s1, s2) = (Server::new(p1), Server::new(p2));
        rt.block_on(async {
            let srv = s1.clone();
            rt.spawn(async move {
                srv.accept_initialize("2025-11-25").await;
                let _ = srv.request().await.unwrap();
                srv.peer.close();
            })
            .detach();
            assert!(client.call_tool("a", json!({})).await.is_err());
            let srv = s2.clone();
            rt.spawn(async move {
                srv.accept_initialize("2025-11-25").await;
                let r = srv.request().await.unwrap();
                srv.reply(r.id, text("restarted"));
            })
            .detach();
            let second = client.call_tool("b", json!({})).await;
            assert_eq!(second.is_ok(), expect_second_ok, "{max:?}: {second:?}");
            if !expect_second_ok {
                assert!(
                    matches!(
                        second,
                        Err(McpError::Transport(
                            weir_mcp::transport::TransportError::Closed
                        ))
                    ),
                    "{second:?}"
                );
            }
        });
        assert_eq!(
            client.stats().connects,
            if expect_second_ok { 2 } else { 1 },
            "{max:?}"
        );
    }
}

/// The same out-of-order test over real framing and byte pipes, with a
/// pipe smaller than the traffic so writes and reads interleave.
async fn many_calls_out_of_order_over_byte_pipes<R: Runtime>(rt: R) {
    let (framed, mut reader, mut writer) = common::pipe_pair(4096);
    let slot = parking_lot::Mutex::new(Some(framed));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(move || {
            std::future::ready(
                slot.lock()
                    .take()
                    .ok_or(weir_mcp::transport::TransportError::Closed),
            )
        });
    let server = rt.spawn(async move {
        let mut held = Vec::new();
        let mut initialized = false;
        while held.len() < 128 {
            match reader.recv().await.unwrap() {
                Inbound::Message(Message::Request(r)) if r.method == "initialize" => {
                    let reply = json!({"jsonrpc": "2.0", "id": r.id, "result": {"protocolVersion": "2025-11-25", "capabilities": {}}});
                    writer.write_line(reply.to_string().as_bytes()).await.unwrap();
                    writer.flush_lines().await.unwrap();
                }
                Inbound::Message(Message::Notification(n)) => initialized |= n.method == "notifications/initialized",
                Inbound::Message(Message::Request(r)) => held.push(r),
                other => panic!("{other:?}"),
            }
        }
        for r in held.into_iter().rev() {
            let n = params(r.params.as_deref())["arguments"]["n"].clone();
            let reply = json!({"jsonrpc": "2.0", "id": r.id, "result": text(&n.to_string())});
            writer.write_line(reply.to_string().as_bytes()).await.unwrap();
        }
        writer.flush_lines().await.unwrap();
        initialized
    });
    let calls: Vec<_> = (0..128)
        .map(|n| {
            let c = client.clone();
            rt.spawn(async move {
                c.call_tool("echo", json!({ "n": n, "pad": "x".repeat(100) }))
                    .await
            })
        })
        .collect();
    for (n, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap().text(), n.to_string());
    }
    assert!(
        server.await.unwrap(),
        "the client sent notifications/initialized"
    );
}

on_every_runtime!(many_calls_out_of_order_over_byte_pipes);

/// Accepts elicitations with one field of its own; sampling answers after
/// 10 ms (the server cancels it before then).
struct Handler(VirtualRuntime);
impl weir_mcp::handler::ClientHandler for Handler {
    fn elicitation(&self) -> bool {
        true
    }
    fn elicit(
        &self,
        _params: Value,
    ) -> weir_mcp::handler::BoxFuture<'_, Result<Value, weir_mcp::jsonrpc::ErrorObject>> {
        Box::pin(async { Ok(json!({"action": "accept", "content": {"name": "mine"}})) })
    }
    fn sampling(&self) -> bool {
        true
    }
    fn create_message(
        &self,
        _params: Value,
    ) -> weir_mcp::handler::BoxFuture<'_, Result<Value, weir_mcp::jsonrpc::ErrorObject>> {
        let rt = self.0.clone();
        Box::pin(async move {
            rt.sleep(Duration::from_millis(10)).await;
            Ok(
                json!({"role": "assistant", "content": {"type": "text", "text": "late"}, "model": "m"}),
            )
        })
    }
}

/// Legacy server requests: elicitation answers get the schema's defaults;
/// a request the server cancels gets no reply; capabilities are declared.
#[test]
fn elicitation_defaults_and_server_cancelled_requests() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .handler(Handler(rt.clone()))
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let seen = rt.spawn(async move {
        let init = srv.request().await.unwrap();
        let caps = params(init.params.as_deref())["capabilities"].clone();
        srv.reply(
            init.id,
            json!({"protocolVersion": "2025-11-25", "capabilities": {}}),
        );
        let call = srv.request().await.unwrap();
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "anon"},
            "count": {"type": "integer", "default": 3},
            "ratio": {"type": "number", "default": 0.5},
            "colour": {"type": "string", "enum": ["red", "blue"], "default": "blue"},
            "ok": {"type": "boolean", "default": true}
        }});
        let el = weir_mcp::jsonrpc::Request::new(
            7,
            "elicitation/create",
            Some(
                weir_mcp::jsonrpc::to_raw(&json!({"message": "?", "requestedSchema": schema}))
                    .unwrap(),
            ),
        );
        srv.peer.send(Message::Request(el)).unwrap();
        let sm = weir_mcp::jsonrpc::Request::new(
            8,
            "sampling/createMessage",
            Some(weir_mcp::jsonrpc::to_raw(&json!({"messages": []})).unwrap()),
        );
        srv.peer.send(Message::Request(sm)).unwrap();
        let cancel = weir_mcp::jsonrpc::Notification::new(
            "notifications/cancelled",
            Some(weir_mcp::jsonrpc::to_raw(&json!({"requestId": 8})).unwrap()),
        );
        srv.peer.send(Message::Notification(cancel)).unwrap();
        let answer = match srv.next().await.unwrap() {
            Message::Response(r) => (r.id, serde_json::from_str::<Value>(r.result.get()).unwrap()),
            other => panic!("{other:?}"),
        };
        srv.reply(call.id, text("done"));
        (caps, answer)
    });
    assert_eq!(
        rt.block_on(client.call_tool("t", json!({})))
            .unwrap()
            .text(),
        "done"
    );
    let (caps, (id, answer)) = rt.block_on(seen).unwrap();
    assert_eq!(caps, json!({"elicitation": {}, "sampling": {}}));
    assert_eq!(id, RequestId::Number(7));
    assert_eq!(
        answer,
        json!({"action": "accept", "content": {"name": "mine", "count": 3, "ratio": 0.5, "colour": "blue", "ok": true}})
    );
    // Let everything settle: the cancelled sampling request never gets a reply.
    rt.block_on(async { rt.sleep(Duration::from_secs(1)).await });
    assert!(
        server.peer.try_recv().is_none(),
        "no reply to the cancelled request"
    );
}

/// 10,000 calls, 256 in flight at a time, over framed byte pipes: every
/// call answered with its own result, nothing lost, nothing left pending.
async fn ten_thousand_calls_256_in_flight<R: Runtime>(rt: R) {
    const CALLS: usize = 10_000;
    const IN_FLIGHT: usize = 256;
    let (framed, mut reader, mut writer) = common::pipe_pair(64 * 1024);
    let slot = parking_lot::Mutex::new(Some(framed));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(move || {
            std::future::ready(
                slot.lock()
                    .take()
                    .ok_or(weir_mcp::transport::TransportError::Closed),
            )
        });
    rt.spawn(async move {
        // An echo server answering in arrival order, flushing when idle.
        loop {
            let Ok(item) = reader.recv().await else {
                return;
            };
            if let Inbound::Message(Message::Request(r)) = item {
                let result = if r.method == "initialize" {
                    json!({"protocolVersion": "2025-11-25", "capabilities": {}})
                } else {
                    text(&params(r.params.as_deref())["arguments"]["n"].to_string())
                };
                let reply = json!({"jsonrpc": "2.0", "id": r.id, "result": result});
                if writer
                    .write_line(reply.to_string().as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                if writer.flush_lines().await.is_err() {
                    return;
                }
            }
        }
    })
    .detach();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let c = client.clone();
            let next = next.clone();
            rt.spawn(async move {
                let mut ok = 0usize;
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= CALLS {
                        return ok;
                    }
                    let reply = c.call_tool("echo", json!({ "n": n })).await.unwrap();
                    assert_eq!(reply.text(), n.to_string());
                    ok += 1;
                }
            })
        })
        .collect();
    let mut answered = 0;
    for w in workers {
        answered += w.await.unwrap();
    }
    assert_eq!(answered, CALLS);
    let stats = client.stats();
    assert_eq!(stats.responses as usize, CALLS + 1);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.unmatched, 0);
}

on_every_runtime!(ten_thousand_calls_256_in_flight);
