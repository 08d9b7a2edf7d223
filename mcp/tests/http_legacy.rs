//! Legacy Streamable HTTP (2025-03-26 to 2025-11-25) against loopback
//! servers, on every runtime: JSON and SSE replies, the session id, 404 on
//! an expired session, resuming a closed stream from its last event id,
//! 429/503 as overload, and the control lane passing a full normal lane.

mod http_support;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http_support::{Reply, Server, result, sse_message};
use parking_lot::Mutex;
use serde_json::{Value, json};
use weir_core::io::NetRuntime;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::jsonrpc::{Message, Notification, Request, RequestId, to_raw};
use weir_mcp::transport::{
    Era, Inbound, Lane, MessageSink, MessageSource, Outbound, Transport, TransportError,
    TransportEvent,
};

pub fn request(id: i64, method: &str, params: Value) -> Outbound {
    let msg = Message::Request(Request::new(
        id,
        method.to_owned(),
        Some(to_raw(&params).unwrap()),
    ));
    Outbound::from_message(&msg).unwrap()
}

pub fn notification(method: &str, params: Value, lane: Lane) -> Outbound {
    let msg = Message::Notification(Notification::new(method, Some(to_raw(&params).unwrap())));
    let mut out = Outbound::from_message(&msg).unwrap();
    out.lane = lane;
    out
}

async fn next_inbound<S: MessageSource>(source: &mut S) -> Inbound {
    source.recv().await.expect("transport open")
}

fn response_id(inbound: &Inbound) -> Option<&RequestId> {
    match inbound {
        Inbound::Message(m @ (Message::Response(_) | Message::Error(_))) => m.id(),
        _ => None,
    }
}

fn init_reply(seen: &http_support::Seen) -> Reply {
    Reply::Json(
        StatusCode::OK,
        vec![("mcp-session-id", "s-1".into())],
        result(&seen.body["id"], json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "t", "version": "1"}})).to_string(),
    )
}

async fn json_and_sse_replies_carry_the_session<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| match seen.rpc_method() {
        Some("initialize") => init_reply(seen),
        Some("tools/list") => {
            let (tx, rx) = async_channel::unbounded();
            let log = json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}});
            tx.try_send(sse_message(Some("e1"), &log)).unwrap();
            tx.try_send(sse_message(
                Some("e2"),
                &result(&seen.body["id"], json!({"tools": []})),
            ))
            .unwrap();
            Reply::Sse(vec![], rx)
        }
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .get_stream(false)
        .build(rt)
        .unwrap()
        .split();

    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    let reply = next_inbound(&mut source).await;
    assert_eq!(response_id(&reply), Some(&RequestId::from(1)));
    let init = server.next().await;
    assert_eq!(init.header("content-type"), Some("application/json"));
    assert_eq!(
        init.header("accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(init.header("mcp-session-id"), None);
    assert_eq!(init.header("mcp-protocol-version"), None);

    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(notification(
        "notifications/initialized",
        json!({}),
        Lane::Normal,
    ))
    .await
    .unwrap();
    let initialized = server.next().await;
    assert_eq!(initialized.header("mcp-session-id"), Some("s-1"));
    assert_eq!(
        initialized.header("mcp-protocol-version"),
        Some("2025-11-25")
    );

    // An SSE reply: the server's notification, then the response, in order.
    sink.send(request(2, "tools/list", json!({})))
        .await
        .unwrap();
    let first = next_inbound(&mut source).await;
    assert!(
        matches!(&first, Inbound::Message(Message::Notification(n)) if n.method == "notifications/message")
    );
    let second = next_inbound(&mut source).await;
    assert_eq!(response_id(&second), Some(&RequestId::from(2)));
    assert_eq!(server.next().await.header("mcp-session-id"), Some("s-1"));

    // Closing deletes the session.
    sink.close().await;
    let delete = server.next().await;
    assert_eq!(
        (delete.method.as_str(), delete.header("mcp-session-id")),
        ("DELETE", Some("s-1"))
    );
}

async fn a_404_on_the_session_is_reported_once_and_forgets_it<R: NetRuntime>(rt: R) {
    let server = Server::start(
        |seen| match (seen.rpc_method(), seen.header("mcp-session-id")) {
            (Some("initialize"), _) => init_reply(seen),
            (_, Some(_)) => Reply::Status(StatusCode::NOT_FOUND, vec![]),
            (_, None) => Reply::Json(
                StatusCode::OK,
                vec![],
                result(&seen.body["id"], json!({})).to_string(),
            ),
        },
    );
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .get_stream(false)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(request(2, "tools/list", json!({})))
        .await
        .unwrap();
    match next_inbound(&mut source).await {
        Inbound::Event(TransportEvent::SessionExpired { id }) => {
            assert_eq!(id, Some(RequestId::from(2)))
        }
        other => panic!("expected SessionExpired, got {other:?}"),
    }
    // The expired id is not sent again: the next request (the session's
    // re-initialisation) goes without it and is answered.
    sink.send(request(3, "ping", json!({}))).await.unwrap();
    assert_eq!(
        response_id(&next_inbound(&mut source).await),
        Some(&RequestId::from(3))
    );
    server.next().await;
    server.next().await;
    assert_eq!(server.next().await.header("mcp-session-id"), None);
}

async fn a_closed_stream_resumes_from_its_last_event_id<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.rpc_method()) {
        ("POST", Some("initialize")) => init_reply(seen),
        ("POST", Some("tools/call")) => {
            // A priming event with an id and a retry, then the server
            // closes the stream without the reply (SEP-1699).
            let (tx, rx) = async_channel::unbounded();
            tx.try_send("id: e1\nretry: 20\ndata: \n\n".into()).unwrap();
            Reply::Sse(vec![], rx)
        }
        ("GET", _) if seen.header("last-event-id") == Some("e1") => {
            let (tx, rx) = async_channel::unbounded();
            tx.try_send(sse_message(
                Some("e2"),
                &result(&json!(2), json!({"content": []})),
            ))
            .unwrap();
            Reply::Sse(vec![], rx)
        }
        _ => Reply::Status(StatusCode::METHOD_NOT_ALLOWED, vec![]),
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .get_stream(false)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(request(2, "tools/call", json!({"name": "slow"})))
        .await
        .unwrap();
    assert_eq!(
        response_id(&next_inbound(&mut source).await),
        Some(&RequestId::from(2))
    );
    server.next().await;
    assert_eq!(server.next().await.rpc_method(), Some("tools/call"));
    let resume = server.next().await;
    assert_eq!(resume.method.as_str(), "GET");
    assert_eq!(resume.header("last-event-id"), Some("e1"));
    assert_eq!(resume.header("mcp-session-id"), Some("s-1"));
    assert_eq!(resume.header("accept"), Some("text/event-stream"));
}

async fn overload_statuses_carry_a_bounded_retry_after<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| match seen.body["id"].as_i64() {
        Some(1) => Reply::Status(
            StatusCode::TOO_MANY_REQUESTS,
            vec![("retry-after", "7".into())],
        ),
        Some(2) => Reply::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            vec![("retry-after", "3600".into())],
        ),
        _ => Reply::Status(StatusCode::SERVICE_UNAVAILABLE, vec![]),
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .max_retry_after(Duration::from_secs(30))
        .build(rt)
        .unwrap()
        .split();
    for (id, expected) in [
        (1, Some(Duration::from_secs(7))),
        (2, Some(Duration::from_secs(30))),
        (3, None),
    ] {
        sink.send(request(id, "tools/call", json!({"name": "t"})))
            .await
            .unwrap();
        match next_inbound(&mut source).await {
            Inbound::Event(TransportEvent::RequestFailed {
                id: failed,
                error: TransportError::Overloaded { retry_after },
            }) => {
                assert_eq!(failed, RequestId::from(id));
                assert_eq!(retry_after, expected);
            }
            other => panic!("expected Overloaded, got {other:?}"),
        }
    }
}

async fn the_control_lane_passes_a_full_normal_lane<R: NetRuntime>(rt: R) {
    let open_streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = open_streams.clone();
    let server = Server::start(move |seen| match seen.rpc_method() {
        Some("tools/call") => {
            let (tx, rx) = async_channel::unbounded();
            held.lock().push(tx);
            Reply::Sse(vec![], rx)
        }
        Some(_) if seen.body.get("id").is_some() => Reply::Json(
            StatusCode::OK,
            vec![],
            result(&seen.body["id"], json!({})).to_string(),
        ),
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    });
    // One connection for requests: the held stream fills it.
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .max_connections(1)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "tools/call", json!({"name": "slow"})))
        .await
        .unwrap();
    assert_eq!(server.next().await.rpc_method(), Some("tools/call"));
    sink.send(request(2, "ping", json!({}))).await.unwrap();
    let cancel = notification(
        "notifications/cancelled",
        json!({"requestId": 1}),
        Lane::Control,
    );
    sink.send(cancel).await.unwrap();
    // The cancellation arrives while the ping still waits for the only
    // request connection.
    let next = server.next().await;
    assert_eq!(next.rpc_method(), Some("notifications/cancelled"));
    assert!(server.try_next().is_none());
    // Ending the held stream frees the connection; the ping goes through.
    open_streams.lock().clear();
    assert_eq!(server.next().await.rpc_method(), Some("ping"));
    loop {
        if response_id(&next_inbound(&mut source).await) == Some(&RequestId::from(2)) {
            break;
        }
    }
}

async fn the_get_stream_carries_server_messages_on_its_own_connection<R: NetRuntime>(rt: R) {
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = streams.clone();
    let server = Server::start(
        move |seen| match (seen.method.as_str(), seen.rpc_method()) {
            ("POST", Some("initialize")) => init_reply(seen),
            ("POST", _) if seen.body.get("id").is_some() => Reply::Json(
                StatusCode::OK,
                vec![],
                result(&seen.body["id"], json!({})).to_string(),
            ),
            ("GET", _) => {
                let (tx, rx) = async_channel::unbounded();
                let changed =
                    json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"});
                tx.try_send(sse_message(Some("g1"), &changed)).unwrap();
                held.lock().push(tx);
                Reply::Sse(vec![], rx)
            }
            _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
        },
    );
    // One request connection: the open GET stream must not take it.
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .max_connections(1)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    sink.negotiated(Era::Legacy, "2025-11-25");
    let pushed = next_inbound(&mut source).await;
    assert!(
        matches!(&pushed, Inbound::Message(Message::Notification(n)) if n.method == "notifications/tools/list_changed")
    );
    sink.send(request(2, "ping", json!({}))).await.unwrap();
    assert_eq!(
        response_id(&next_inbound(&mut source).await),
        Some(&RequestId::from(2))
    );
    server.next().await;
    let get = server.next().await;
    assert_eq!(get.method.as_str(), "GET");
    assert_eq!(get.header("accept"), Some("text/event-stream"));
    assert_eq!(get.header("mcp-session-id"), Some("s-1"));
    assert_eq!(get.header("mcp-protocol-version"), Some("2025-11-25"));
    assert_eq!(streams.lock().len(), 1, "the GET stream is still open");
}

async fn a_fallback_from_a_modern_probe_keeps_the_legacy_session<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| {
        match seen.rpc_method() {
        Some("initialize") => init_reply(seen),
        Some("server/discover") => Reply::Json(
            StatusCode::BAD_REQUEST,
            vec![],
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: Server not initialized"}}).to_string(),
        ),
        _ => Reply::Json(StatusCode::OK, vec![], result(&seen.body["id"], json!({})).to_string()),
    }
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .get_stream(false)
        .build(rt)
        .unwrap()
        .split();
    // The session probes in the modern era, is refused, and initialises.
    sink.negotiated(Era::Modern, "2026-07-28");
    let mut probe = request(1, "server/discover", json!({}));
    probe.era = Some(Era::Modern);
    probe.protocol_version = Some("2026-07-28");
    sink.send(probe).await.unwrap();
    assert_eq!(
        response_id(&next_inbound(&mut source).await),
        Some(&RequestId::from(1))
    );
    sink.send(request(2, "initialize", json!({})))
        .await
        .unwrap();
    assert_eq!(
        response_id(&next_inbound(&mut source).await),
        Some(&RequestId::from(2))
    );
    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(request(3, "tools/list", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    server.next().await;
    let init = server.next().await;
    assert_eq!(
        init.header("mcp-method"),
        None,
        "initialize is never sent as a modern request"
    );
    assert_eq!(server.next().await.header("mcp-session-id"), Some("s-1"));
}

async fn a_400_refusing_the_session_is_an_expiry<R: NetRuntime>(rt: R) {
    // What servers built on the TypeScript SDK's example answer for a
    // session they do not know (after a restart).
    let server = Server::start(|seen| {
        match (seen.rpc_method(), seen.header("mcp-session-id")) {
        (Some("initialize"), _) => init_reply(seen),
        (_, Some(_)) => Reply::Json(
            StatusCode::BAD_REQUEST,
            vec![],
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: No valid session ID provided"}}).to_string(),
        ),
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    }
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .get_stream(false)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(request(2, "tools/list", json!({})))
        .await
        .unwrap();
    match next_inbound(&mut source).await {
        Inbound::Event(TransportEvent::SessionExpired { id }) => {
            assert_eq!(id, Some(RequestId::from(2)))
        }
        other => panic!("expected SessionExpired, got {other:?}"),
    }
}

async fn requests_wait_for_the_get_stream_once<R: NetRuntime>(rt: R) {
    // Servers send their own requests (elicitation, sampling) only on an
    // open GET stream and drop them otherwise: a tool call that reaches the
    // server before the GET would lose them.
    let get_seen = Arc::new(Mutex::new(false));
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let (seen_flag, held) = (get_seen.clone(), streams.clone());
    let server = Server::start(
        move |seen| match (seen.method.as_str(), seen.rpc_method()) {
            ("POST", Some("initialize")) => init_reply(seen),
            ("GET", _) => {
                *seen_flag.lock() = true;
                let (tx, rx) = async_channel::unbounded();
                held.lock().push(tx);
                Reply::Sse(vec![], rx)
            }
            ("POST", _) if seen.body.get("id").is_some() => {
                let open = *seen_flag.lock();
                Reply::Json(
                    StatusCode::OK,
                    vec![],
                    result(&seen.body["id"], json!({"getOpen": open})).to_string(),
                )
            }
            _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
        },
    );
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.send(request(1, "initialize", json!({})))
        .await
        .unwrap();
    next_inbound(&mut source).await;
    sink.negotiated(Era::Legacy, "2025-11-25");
    sink.send(request(2, "tools/call", json!({"name": "asks"})))
        .await
        .unwrap();
    match next_inbound(&mut source).await {
        Inbound::Message(Message::Response(r)) => {
            let v: Value = serde_json::from_str(r.result.get()).unwrap();
            assert_eq!(v["getOpen"], true, "the tool call overtook the GET stream");
        }
        other => panic!("expected the response, got {other:?}"),
    }
}

on_every_net_runtime!(
    requests_wait_for_the_get_stream_once,
    a_fallback_from_a_modern_probe_keeps_the_legacy_session,
    a_400_refusing_the_session_is_an_expiry,
    the_get_stream_carries_server_messages_on_its_own_connection,
    json_and_sse_replies_carry_the_session,
    a_404_on_the_session_is_reported_once_and_forgets_it,
    a_closed_stream_resumes_from_its_last_event_id,
    overload_statuses_carry_a_bounded_retry_after,
    the_control_lane_passes_a_full_normal_lane,
);
