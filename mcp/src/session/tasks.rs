//! The two tasks of a session: the writer (control lane first, one flush
//! per batch) and the reader (which never waits on anyone).

use std::borrow::Cow;
use std::sync::Arc;

use event_listener::listener;
use futures_lite::future::or;
use serde::Deserialize;
use serde_json::{Value, json};
use weir_core::CancellationToken;
use weir_core::{Runtime, rt::JoinHandle};

use super::{Item, Outcome, Shared};
use crate::handler;
use crate::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, RawValue, RequestId, Response, to_raw,
};
use crate::stats::Counters;
use crate::transport::{
    CancelAction, Inbound, Lane, MessageSink, MessageSource, Outbound, TransportError,
    TransportEvent,
};

/// Completes with `Closed` once the session is closing or dead: raced
/// against every write, so a transport whose peer stopped reading (a full
/// pipe) cannot keep the writer from closing it. Polled only when the
/// write is not ready at once, so a write that completes costs nothing.
async fn stopped(shared: &Shared) -> Result<(), TransportError> {
    let gone = || {
        let st = shared.state.lock();
        st.closing || st.dead.is_some()
    };
    loop {
        if gone() {
            return Err(TransportError::Closed);
        }
        listener!(shared.writer => l);
        if gone() {
            return Err(TransportError::Closed);
        }
        l.await;
    }
}

pub(super) async fn write_loop<S: MessageSink>(shared: Arc<Shared>, mut sink: S) {
    let mut batch: Vec<Item> = Vec::with_capacity(32);
    loop {
        // Wait for work, taking the control lane first.
        let stop = loop {
            {
                let mut st = shared.state.lock();
                if !st.control.is_empty() || !st.normal.is_empty() {
                    batch.extend(st.control.drain(..));
                    batch.extend(st.normal.drain(..));
                    break false;
                }
                if st.closing || st.dead.is_some() {
                    break true;
                }
            }
            listener!(shared.writer => listener);
            {
                let st = shared.state.lock();
                if !st.control.is_empty()
                    || !st.normal.is_empty()
                    || st.closing
                    || st.dead.is_some()
                {
                    continue;
                }
            }
            listener.await;
        };
        if stop {
            sink.close().await;
            return;
        }
        for item in batch.drain(..) {
            let r = match item {
                Item::Msg(out) => or(sink.send(out), stopped(&shared)).await,
                Item::Negotiated(era, v) => {
                    sink.negotiated(era, v);
                    Ok(())
                }
                Item::Cancel(id, reason) => match sink.cancel(&id) {
                    CancelAction::Done => Ok(()),
                    CancelAction::Notify => {
                        let params = to_raw(&json!({"requestId": id, "reason": reason})).ok();
                        let msg = Message::Notification(Notification::new(
                            "notifications/cancelled",
                            params,
                        ));
                        match Outbound::from_message(&msg) {
                            Ok(mut out) => {
                                out.lane = Lane::Control;
                                out.method = Some(Cow::Borrowed("notifications/cancelled"));
                                let era = shared.state.lock().era;
                                out.era = era.map(|e| e.0);
                                out.protocol_version = era.map(|e| e.1);
                                or(sink.send(out), stopped(&shared)).await
                            }
                            Err(_) => Ok(()),
                        }
                    }
                },
            };
            if let Err(e) = r {
                shared.fail_all(e);
                sink.close().await;
                return;
            }
        }
        if let Err(e) = or(sink.flush(), stopped(&shared)).await {
            shared.fail_all(e);
            sink.close().await;
            return;
        }
    }
}

pub(super) async fn read_loop<R: Runtime, S: MessageSource>(
    shared: Arc<Shared>,
    rt: R,
    mut source: S,
) {
    loop {
        match source.recv().await {
            Ok(Inbound::Message(msg)) => dispatch(&shared, &rt, msg),
            Ok(Inbound::Event(ev)) => event(&shared, ev),
            Err(e) => {
                shared.fail_all(e);
                return;
            }
        }
    }
}

fn dispatch<R: Runtime>(shared: &Arc<Shared>, rt: &R, msg: Message) {
    match msg {
        Message::Response(r) => {
            Counters::bump(&shared.counters.responses);
            shared.complete(&r.id, Outcome::Result(r.result));
        }
        Message::Error(e) => match e.id {
            Some(id) => {
                Counters::bump(&shared.counters.error_responses);
                shared.complete(&id, Outcome::Error(e.error));
            }
            // An error about a message the server could not read: nothing
            // to match it to.
            None => Counters::bump(&shared.counters.unmatched),
        },
        Message::Notification(n) => match n.method.as_str() {
            "notifications/progress" => shared.progress(n.params.as_deref()),
            "notifications/tools/list_changed" => {
                shared
                    .counters
                    .tools_changed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                shared.handler.on_notification(&n);
            }
            "notifications/cancelled" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct P {
                    request_id: RequestId,
                }
                if let Some(Ok(p)) = n
                    .params
                    .as_deref()
                    .map(|r| serde_json::from_str::<P>(r.get()))
                    && let Some(token) = shared.state.lock().serving.remove(&p.request_id)
                {
                    token.cancel();
                }
                shared.handler.on_notification(&n);
            }
            _ => shared.handler.on_notification(&n),
        },
        Message::Request(req) => {
            Counters::bump(&shared.counters.server_requests);
            if req.method == "ping" {
                shared.send_control(Message::Response(Response::new(
                    req.id,
                    RawValue::from_string("{}".into()).expect("valid JSON"),
                )));
                return;
            }
            let token = CancellationToken::new();
            shared
                .state
                .lock()
                .serving
                .insert(req.id.clone(), token.clone());
            let shared = shared.clone();
            rt.spawn(async move {
                let params: Value = req
                    .params
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r.get()).ok())
                    .unwrap_or(Value::Null);
                let handler = shared.handler.clone();
                let answered = token
                    .run_until_cancelled(handler::answer(&*handler, &req.method, params))
                    .await;
                let still_wanted = shared.state.lock().serving.remove(&req.id).is_some();
                // A request the server cancelled gets no reply.
                let (Some(answer), true) = (answered, still_wanted) else {
                    return;
                };
                let reply = match answer.and_then(|v| {
                    to_raw(&v)
                        .map_err(|e| ErrorObject::new(ErrorObject::INTERNAL_ERROR, e.to_string()))
                }) {
                    Ok(result) => Message::Response(Response::new(req.id, result)),
                    Err(error) => Message::Error(ErrorResponse {
                        id: Some(req.id),
                        error,
                    }),
                };
                shared.send_control(reply);
            })
            .detach();
        }
    }
}

fn event(shared: &Shared, ev: TransportEvent) {
    match ev {
        TransportEvent::Malformed(e) => {
            Counters::bump(&shared.counters.malformed);
            shared.handler.on_malformed(&e);
        }
        TransportEvent::RequestFailed { id, error } => shared.complete(&id, Outcome::Failed(error)),
        TransportEvent::StreamLost { id } => shared.complete(&id, Outcome::StreamLost),
        TransportEvent::SessionExpired { id: Some(id) } => {
            shared.complete(&id, Outcome::SessionExpired)
        }
        TransportEvent::SessionExpired { id: None } => {}
    }
}
