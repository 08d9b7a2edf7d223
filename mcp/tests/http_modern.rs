//! Modern Streamable HTTP (2026-07-28) against loopback servers, on every
//! runtime: the standard and parameter headers, closing a request's stream
//! as its cancellation, and a broken stream reported for re-issue (never
//! resumed).

mod http_support;

use std::sync::Arc;

use http::StatusCode;
use http_support::{Reply, Server, result, sse_message};
use parking_lot::Mutex;
use serde_json::{Value, json};
use weir_core::io::NetRuntime;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::jsonrpc::{Message, Request, RequestId, to_raw};
use weir_mcp::transport::{
    CancelAction, Era, Inbound, MessageSink, MessageSource, Outbound, Transport, TransportEvent,
};

fn modern_request(id: i64, method: &str, params: Value) -> Outbound {
    let msg = Message::Request(Request::new(
        id,
        method.to_owned(),
        Some(to_raw(&params).unwrap()),
    ));
    let mut out = Outbound::from_message(&msg).unwrap();
    out.era = Some(Era::Modern);
    out.protocol_version = Some("2026-07-28");
    out
}

async fn requests_carry_method_name_and_parameter_headers<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| {
        // A modern server hands out no session, and one that does is ignored.
        Reply::Json(
            StatusCode::OK,
            vec![("mcp-session-id", "ignored".into())],
            result(&seen.body["id"], json!({})).to_string(),
        )
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.negotiated(Era::Modern, "2026-07-28");
    let schema = json!({"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "note": {"type": "string", "x-mcp-header": "Note"},
        "gone": {"type": "string", "x-mcp-header": "Gone"},
        "plain": {"type": "string"}
    }});
    let mut call = modern_request(
        1,
        "tools/call",
        json!({"name": "look-up", "arguments": {"region": "eu-west1", "note": " padded ", "gone": null, "plain": "x"}}),
    );
    call.tool_schema = Some(Arc::new(schema));
    sink.send(call).await.unwrap();
    source.recv().await.unwrap();
    let seen = server.next().await;
    assert_eq!(seen.header("mcp-method"), Some("tools/call"));
    assert_eq!(seen.header("mcp-name"), Some("look-up"));
    assert_eq!(seen.header("mcp-protocol-version"), Some("2026-07-28"));
    assert_eq!(seen.header("mcp-param-region"), Some("eu-west1"));
    assert_eq!(
        seen.header("mcp-param-note"),
        Some("=?base64?IHBhZGRlZCA=?=")
    );
    assert_eq!(seen.header("mcp-param-gone"), None);
    assert_eq!(seen.header("mcp-param-plain"), None);

    sink.send(modern_request(
        2,
        "resources/read",
        json!({"uri": "file:///a%20b.txt"}),
    ))
    .await
    .unwrap();
    source.recv().await.unwrap();
    let seen = server.next().await;
    assert_eq!(seen.header("mcp-method"), Some("resources/read"));
    assert_eq!(seen.header("mcp-name"), Some("file:///a%20b.txt"));
    assert_eq!(seen.header("mcp-session-id"), None);
}

async fn closing_the_stream_is_the_cancel<R: NetRuntime>(rt: R) {
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = streams.clone();
    let server = Server::start(move |_| {
        let (tx, rx) = async_channel::bounded(1);
        held.lock().push(tx);
        Reply::Sse(vec![], rx)
    });
    let (mut sink, _source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.negotiated(Era::Modern, "2026-07-28");
    sink.send(modern_request(7, "tools/call", json!({"name": "slow"})))
        .await
        .unwrap();
    server.next().await;
    let tx = streams.lock().pop().expect("the stream is open");
    tx.send(": working\n\n".into()).await.unwrap();
    assert_eq!(sink.cancel(&RequestId::from(7)), CancelAction::Done);
    // The client closed the connection: the server's writes start failing
    // and hyper drops the body, which closes this channel.
    // (Bounded, so a client that keeps reading fails here instead of hanging.)
    for _ in 0..10_000 {
        if tx.send(": still working\n\n".into()).await.is_err() {
            break;
        }
    }
    assert!(tx.is_closed(), "the client kept the cancelled stream open");
    // Nothing was posted to cancel it.
    assert!(server.try_next().is_none());
}

async fn a_broken_stream_is_lost_not_resumed<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| {
        let (tx, rx) = async_channel::unbounded();
        // An event id, then the stream ends before the reply.
        tx.try_send(sse_message(Some("e1"), &json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}))).unwrap();
        let _ = &seen.body;
        Reply::Sse(vec![], rx)
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.negotiated(Era::Modern, "2026-07-28");
    sink.send(modern_request(3, "tools/call", json!({"name": "t"})))
        .await
        .unwrap();
    assert!(matches!(
        source.recv().await.unwrap(),
        Inbound::Message(Message::Notification(_))
    ));
    match source.recv().await.unwrap() {
        Inbound::Event(TransportEvent::StreamLost { id }) => assert_eq!(id, RequestId::from(3)),
        other => panic!("expected StreamLost, got {other:?}"),
    }
    server.next().await;
    // No GET with Last-Event-ID followed.
    assert!(server.try_next().is_none());
}

async fn an_unsupported_version_error_reaches_the_session<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| {
        let error = json!({"jsonrpc": "2.0", "id": seen.body["id"], "error": {"code": -32022, "message": "Unsupported protocol version", "data": {"supported": ["2026-07-28"]}}});
        Reply::Json(StatusCode::BAD_REQUEST, vec![], error.to_string())
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.send(modern_request(4, "tools/list", json!({})))
        .await
        .unwrap();
    match source.recv().await.unwrap() {
        Inbound::Message(Message::Error(e)) => {
            assert_eq!(e.id, Some(RequestId::from(4)));
            assert_eq!(e.error.code, -32022);
        }
        other => panic!("expected the JSON-RPC error, got {other:?}"),
    }
}

async fn a_null_id_error_answers_the_posted_request<R: NetRuntime>(rt: R) {
    let server = Server::start(|_| {
        let error = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Bad Request: Server not initialized"}});
        Reply::Json(StatusCode::BAD_REQUEST, vec![], error.to_string())
    });
    let (mut sink, mut source) = StreamableHttpBuilder::new(&server.url)
        .build(rt)
        .unwrap()
        .split();
    sink.send(modern_request(5, "server/discover", json!({})))
        .await
        .unwrap();
    match source.recv().await.unwrap() {
        Inbound::Message(Message::Error(e)) => assert_eq!(e.id, Some(RequestId::from(5))),
        other => panic!("expected the JSON-RPC error, got {other:?}"),
    }
}

on_every_net_runtime!(
    a_null_id_error_answers_the_posted_request,
    requests_carry_method_name_and_parameter_headers,
    closing_the_stream_is_the_cancel,
    a_broken_stream_is_lost_not_resumed,
    an_unsupported_version_error_reaches_the_session,
);
