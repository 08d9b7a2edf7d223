//! Both eras: the `server/discover` probe and its fallback, the modern
//! `_meta` envelope, version retry, MRTR, pagination.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::handler::{BoxFuture, ClientHandler};
use weir_mcp::jsonrpc::ErrorObject;
use weir_mcp::transport::Era;
use weir_mcp::{Client, McpError, ProtocolMode, memory};

use common::{Server, connector, params, text};

fn auto(rt: &VirtualRuntime) -> (Client<VirtualRuntime>, Arc<Server>) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .probe_timeout(Duration::from_secs(3))
        .build(connector(vec![t]));
    (client, Server::new(peer))
}

fn discover_result() -> Value {
    json!({
        "resultType": "complete",
        "supportedVersions": ["2026-07-28"],
        "capabilities": {"tools": {}},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "modern", "version": "2"}}
    })
}

#[test]
fn modern_server_is_detected_and_every_request_carries_the_envelope() {
    let rt = VirtualRuntime::new();
    let (client, server) = auto(&rt);
    let srv = server.clone();
    let seen = rt.spawn(async move {
        let probe = srv.request().await.unwrap();
        assert_eq!(probe.method, "server/discover");
        srv.reply(probe.id.clone(), discover_result());
        let call = srv.request().await.unwrap();
        srv.reply(
            call.id.clone(),
            json!({"resultType": "complete", "content": [{"type": "text", "text": "ok"}]}),
        );
        (probe, call)
    });
    let reply = rt.block_on(client.call_tool("t", json!({"a": 1}))).unwrap();
    assert_eq!(reply.text(), "ok");
    let (probe, call) = rt.block_on(seen).unwrap();
    assert_eq!(client.era(), Some((Era::Modern, "2026-07-28")));
    assert_eq!(
        client.server_info().unwrap().implementation.unwrap().name,
        "modern"
    );
    for p in [
        params(probe.params.as_deref()),
        params(call.params.as_deref()),
    ] {
        let meta = &p["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        assert!(meta["io.modelcontextprotocol/clientCapabilities"].is_object());
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "weir-mcp"
        );
    }
    assert_eq!(params(call.params.as_deref())["arguments"], json!({"a": 1}));
    // No initialize and no initialized notification in the modern era.
    assert!(server.notes.lock().is_empty());
    // The transport heard the era, and each Outbound carried it.
    assert_eq!(server.peer.negotiated(), Some((Era::Modern, "2026-07-28")));
    let out = server.outbound.lock();
    let call_out = out
        .iter()
        .find(|o| o.method.as_deref() == Some("tools/call"))
        .unwrap();
    assert_eq!(call_out.era, Some(Era::Modern));
    assert_eq!(call_out.protocol_version, Some("2026-07-28"));
    assert_eq!(call_out.name.as_deref(), Some("t"));
}

/// A legacy server answers the probe with some error: whatever the code,
/// the client falls back to `initialize`.
#[test]
fn legacy_server_errors_on_discover_with_any_code_and_the_client_initializes() {
    for code in [-32601, -32602, -32600, -32603, -32000, -1, 42] {
        let rt = VirtualRuntime::new();
        let (client, server) = auto(&rt);
        let srv = server.clone();
        rt.spawn(async move {
            let probe = srv.request().await.unwrap();
            assert_eq!(probe.method, "server/discover");
            srv.error(probe.id, code, "not initialized");
            srv.accept_initialize("2025-06-18").await;
            let call = srv.request().await.unwrap();
            // Legacy requests carry no modern envelope.
            assert!(
                params(call.params.as_deref())["_meta"]["io.modelcontextprotocol/protocolVersion"]
                    .is_null()
            );
            srv.reply(call.id, text("legacy"));
        })
        .detach();
        let reply = rt.block_on(client.call_tool("t", json!({}))).unwrap();
        assert_eq!(reply.text(), "legacy", "code {code}");
        assert_eq!(
            client.era(),
            Some((Era::Legacy, "2025-06-18")),
            "code {code}"
        );
        let notes: Vec<_> = server
            .notes
            .lock()
            .iter()
            .map(|n| n.method.clone())
            .collect();
        assert_eq!(notes, ["notifications/initialized"], "code {code}");
        assert_eq!(
            rt.elapsed(),
            Duration::ZERO,
            "an error answer needs no probe timeout"
        );
    }
}

/// A modern error (-32022 with a `supported` list) means modern: retry
/// with a supported version, never fall back.
#[test]
fn unsupported_version_error_keeps_the_client_modern() {
    let rt = VirtualRuntime::new();
    let (client, server) = auto(&rt);
    let srv = server.clone();
    rt.spawn(async move {
        let probe = srv.request().await.unwrap();
        let mut e = ErrorObject::new(
            ErrorObject::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
        );
        e.data =
            Some(json!({"supported": ["2026-07-28", "2025-11-25"], "requested": "2026-07-28"}));
        srv.error_obj(probe.id, e);
        let next = srv.request().await.unwrap();
        assert_ne!(next.method, "initialize");
        srv.reply(next.id, text("modern"));
    })
    .detach();
    let reply = rt.block_on(client.call_tool("t", json!({}))).unwrap();
    assert_eq!(reply.text(), "modern");
    assert_eq!(client.era(), Some((Era::Modern, "2026-07-28")));
}

/// A server that never answers the probe: after exactly the probe timeout
/// the client falls back to `initialize`; the late answer is ignored.
#[test]
fn silent_server_falls_back_after_the_probe_timeout() {
    let rt = VirtualRuntime::new();
    let (client, server) = auto(&rt);
    let srv = server.clone();
    let clock = rt.clone();
    rt.spawn(async move {
        let probe = srv.request().await.unwrap();
        assert_eq!(probe.method, "server/discover");
        let init = srv.request().await.unwrap();
        assert_eq!(init.method, "initialize");
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
        srv.error(probe.id, -32601, "late");
        srv.reply(
            init.id,
            json!({"protocolVersion": "2024-11-05", "capabilities": {}, "serverInfo": {"name": "old", "version": "0"}}),
        );
        let call = srv.request().await.unwrap();
        srv.reply(call.id, text("fallback"));
    })
    .detach();
    let reply = rt.block_on(client.call_tool("t", json!({}))).unwrap();
    assert_eq!(reply.text(), "fallback");
    assert_eq!(client.era(), Some((Era::Legacy, "2024-11-05")));
    assert_eq!(rt.elapsed(), Duration::from_secs(3));
    // The probe is never cancelled (as `initialize` is not).
    assert!(server.cancelled().is_empty());
    assert_eq!(client.stats().unmatched, 1);
}

/// The era is a property of the server: a second connection does not
/// probe again.
#[test]
fn era_is_cached_across_connections() {
    let rt = VirtualRuntime::new();
    let (t1, p1) = memory::pair();
    let (t2, p2) = memory::pair();
    let client = Client::builder(rt.clone()).build(connector(vec![t1, t2]));
    let (s1, s2) = (Server::new(p1), Server::new(p2));
    rt.block_on(async {
        let srv = s1.clone();
        rt.spawn(async move {
            let probe = srv.request().await.unwrap();
            srv.reply(probe.id, discover_result());
            let call = srv.request().await.unwrap();
            srv.reply(call.id, text("one"));
            srv.peer.close();
        })
        .detach();
        assert_eq!(
            client.call_tool("t", json!({})).await.unwrap().text(),
            "one"
        );
        let srv = s2.clone();
        rt.spawn(async move {
            let first = srv.request().await.unwrap();
            assert_eq!(
                first.method, "tools/call",
                "no probe on the second connection"
            );
            srv.reply(first.id, text("two"));
        })
        .detach();
        // Virtual time moves only once every task is idle: the reader has
        // seen the first connection close by then.
        rt.sleep(Duration::from_millis(1)).await;
        assert_eq!(
            client.call_tool("t", json!({})).await.unwrap().text(),
            "two"
        );
    });
}

/// Accepts every elicitation with no fields: defaults fill them in.
struct Accept;
impl ClientHandler for Accept {
    fn elicitation(&self) -> bool {
        true
    }
    fn elicit(&self, _params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async { Ok(json!({"action": "accept", "content": {"name": "given"}})) })
    }
}

/// MRTR: an input-required result is answered through the handler and the
/// request retried with the answers, the echoed state and a new id.
#[test]
fn input_required_is_answered_and_retried_with_a_new_id() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .handler(Accept)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let retried = rt.spawn(async move {
        let first = srv.request().await.unwrap();
        srv.reply(
            first.id.clone(),
            json!({
                "resultType": "input_required",
                "inputRequests": {"e1": {"method": "elicitation/create", "params": {
                    "message": "who?",
                    "requestedSchema": {"type": "object", "properties": {
                        "name": {"type": "string", "default": "anon"},
                        "age": {"type": "integer", "default": 30},
                        "vip": {"type": "boolean", "default": false}
                    }}
                }}},
                "requestState": "opaque-1"
            }),
        );
        let second = srv.request().await.unwrap();
        srv.reply(
            second.id.clone(),
            json!({"content": [{"type": "text", "text": "done"}]}),
        );
        (first, second)
    });
    let reply = rt
        .block_on(client.call_tool("book", json!({"x": 1})))
        .unwrap();
    assert_eq!(reply.text(), "done", "a missing resultType means complete");
    let (first, second) = rt.block_on(retried).unwrap();
    assert_ne!(first.id, second.id);
    let p = params(second.params.as_deref());
    assert_eq!(p["requestState"], "opaque-1");
    assert_eq!(p["arguments"], json!({"x": 1}));
    assert_eq!(
        p["inputResponses"]["e1"],
        json!({"action": "accept", "content": {"name": "given", "age": 30, "vip": false}})
    );
    assert!(
        params(first.params.as_deref())
            .get("inputResponses")
            .is_none()
    );
}

/// A server that always wants more input ends the call after the bound.
#[test]
fn input_rounds_are_bounded() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .max_input_rounds(3)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        while let Some(r) = srv.request().await {
            srv.reply(
                r.id,
                json!({"resultType": "input_required", "requestState": "again"}),
            );
        }
    })
    .detach();
    let out = rt.block_on(client.call_tool("t", json!({})));
    assert!(matches!(out, Err(McpError::Protocol(_))), "{out:?}");
    assert_eq!(
        client.stats().requests,
        4,
        "the first request and three rounds"
    );
}

/// `list_tools` follows cursors to the last page.
#[test]
fn list_tools_reads_every_page() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        for page in 0..3 {
            let r = srv.request().await.unwrap();
            assert_eq!(r.method, "tools/list");
            let cursor = params(r.params.as_deref())["cursor"].clone();
            let expected = if page == 0 { Value::Null } else { json!(format!("c{page}")) };
            assert_eq!(cursor, expected);
            let tools: Vec<Value> = (0..2)
                .map(|i| json!({"name": format!("t{page}{i}"), "inputSchema": {"type": "object", "$defs": {"a": {}}}}))
                .collect();
            let mut result = json!({"tools": tools});
            if page < 2 {
                result["nextCursor"] = json!(format!("c{}", page + 1));
            }
            srv.reply(r.id, result);
        }
    })
    .detach();
    let tools = rt.block_on(client.list_tools()).unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t00", "t01", "t10", "t11", "t20", "t21"]);
    assert_eq!(
        tools[0].input_schema["$defs"],
        json!({"a": {}}),
        "schemas kept as sent"
    );
}

async fn modern_calls_on_every_runtime<R: Runtime>(rt: R) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone()).build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        let probe = srv.request().await.unwrap();
        srv.reply(probe.id, discover_result());
        for _ in 0..16 {
            let r = srv.request().await.unwrap();
            let n = params(r.params.as_deref())["arguments"]["n"].clone();
            srv.reply(r.id, text(&n.to_string()));
        }
    })
    .detach();
    let calls: Vec<_> = (0..16)
        .map(|n| {
            let c = client.clone();
            rt.spawn(async move { c.call_tool("echo", json!({ "n": n })).await })
        })
        .collect();
    for (n, c) in calls.into_iter().enumerate() {
        assert_eq!(c.await.unwrap().unwrap().text(), n.to_string());
    }
    assert_eq!(client.era().unwrap().0, Era::Modern);
    assert_eq!(
        client.stats().connects,
        1,
        "concurrent first calls share one connection"
    );
}

on_every_runtime!(modern_calls_on_every_runtime);

/// A cached legacy era that stops holding (the server behind the same
/// configuration now refuses `initialize`) is probed again, once.
#[test]
fn a_cached_legacy_era_is_reprobed_when_initialize_is_refused() {
    let rt = VirtualRuntime::new();
    let (t1, p1) = memory::pair();
    let (t2, p2) = memory::pair();
    let client = Client::builder(rt.clone()).build(connector(vec![t1, t2]));
    let (s1, s2) = (Server::new(p1), Server::new(p2));
    rt.block_on(async {
        let srv = s1.clone();
        rt.spawn(async move {
            let probe = srv.request().await.unwrap();
            srv.error(probe.id, -32601, "unknown method");
            srv.accept_initialize("2025-11-25").await;
            let call = srv.request().await.unwrap();
            srv.reply(call.id, text("legacy"));
            srv.peer.close();
        })
        .detach();
        assert_eq!(
            client.call_tool("t", json!({})).await.unwrap().text(),
            "legacy"
        );
        assert_eq!(client.era().unwrap().0, Era::Legacy);
        let srv = s2.clone();
        rt.spawn(async move {
            let init = srv.request().await.unwrap();
            assert_eq!(init.method, "initialize", "the cache is tried first");
            srv.error(init.id, -32601, "initialize is not a method of 2026-07-28");
            let probe = srv.request().await.unwrap();
            assert_eq!(probe.method, "server/discover");
            srv.reply(probe.id, discover_result());
            let call = srv.request().await.unwrap();
            srv.reply(call.id, text("modern now"));
        })
        .detach();
        // Virtual time moves only once every task is idle: the reader has
        // seen the first connection close by then.
        rt.sleep(Duration::from_millis(1)).await;
        assert_eq!(
            client.call_tool("t", json!({})).await.unwrap().text(),
            "modern now"
        );
    });
    assert_eq!(client.era(), Some((Era::Modern, "2026-07-28")));
}

/// A modern server that starts slowly: the probe times out, the server
/// (having seen it) answers `initialize` with -32022 naming 2026-07-28,
/// and the client goes modern instead of failing (h-mcp-stdio's finding
/// against the Python SDK 2.x).
#[test]
fn initialize_refused_with_a_modern_version_list_goes_modern() {
    let rt = VirtualRuntime::new();
    let (client, server) = auto(&rt);
    let srv = server.clone();
    rt.spawn(async move {
        let probe = srv.request().await.unwrap();
        let init = srv.request().await.unwrap();
        assert_eq!(init.method, "initialize");
        let mut e = ErrorObject::new(
            ErrorObject::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
        );
        e.data = Some(json!({"requested": "2025-11-25", "supported": ["2026-07-28"]}));
        srv.error_obj(init.id, e);
        srv.reply(probe.id, discover_result());
        let call = srv.request().await.unwrap();
        let meta = &params(call.params.as_deref())["_meta"];
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        srv.reply(call.id, text("modern"));
    })
    .detach();
    let reply = rt.block_on(client.call_tool("t", json!({}))).unwrap();
    assert_eq!(reply.text(), "modern");
    assert_eq!(client.era(), Some((Era::Modern, "2026-07-28")));
    assert_eq!(
        rt.elapsed(),
        Duration::from_secs(3),
        "after the probe timeout"
    );
    assert!(
        server.notes.lock().is_empty(),
        "no notifications/initialized"
    );
}

/// Concurrent input-required flows do not mix: each retry echoes its own
/// call's state and answers.
#[test]
fn concurrent_input_required_flows_stay_apart() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .handler(Accept)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        while let Some(r) = srv.request().await {
            let p = params(r.params.as_deref());
            let who = p["arguments"]["who"].as_str().unwrap().to_owned();
            match p.get("requestState").and_then(Value::as_str) {
                None => srv.reply(
                    r.id,
                    json!({"resultType": "input_required", "requestState": format!("state-{who}"),
                           "inputRequests": {format!("ask-{who}"): {"method": "elicitation/create", "params": {
                               "message": who, "requestedSchema": {"type": "object", "properties": {}}}}}}),
                ),
                Some(state) => {
                    let echoed = state == format!("state-{who}")
                        && p["inputResponses"].get(format!("ask-{who}")).is_some()
                        && p["inputResponses"].as_object().unwrap().len() == 1;
                    srv.reply(r.id, text(&format!("{who}:{echoed}")));
                }
            }
        }
    })
    .detach();
    let (a, b) = rt.block_on(futures_lite::future::zip(
        client.call_tool("t", json!({"who": "a"})),
        client.call_tool("t", json!({"who": "b"})),
    ));
    assert_eq!(a.unwrap().text(), "a:true");
    assert_eq!(b.unwrap().text(), "b:true");
}
