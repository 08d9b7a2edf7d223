//! One connection: reading requests and notifications, answering them out
//! of order, progress while a call works, cancellation of its work.

use super::state::{Cancelled, Params, error, result};
use super::*;

/// One connection's calls in progress, by id, each with the token that
/// stops its work.
pub(super) type InFlight = Arc<Mutex<HashMap<RequestId, CancellationToken>>>;

/// Serves one connection: requests are answered out of order, each after
/// its own latency, so the client must route responses by id.
pub(super) async fn serve(stream: TcpStream, state: Arc<State>, ex: Arc<Executor<'static>>) {
    let (tx, rx) = async_channel::unbounded::<Message>();
    let mut writer = FrameWriter::new(stream.clone());
    ex.spawn(async move {
        while let Ok(msg) = rx.recv().await {
            let mut next = Some(msg);
            // Everything queued goes out in one flush.
            while let Some(m) = next.take() {
                if let Ok(body) = m.encode()
                    && writer.write_line(&body).await.is_err()
                {
                    return;
                }
                next = rx.try_recv().ok();
            }
            if writer.flush_lines().await.is_err() {
                return;
            }
        }
    })
    .detach();
    let inflight: InFlight = Arc::default();
    let mut reader = FrameReader::new(stream.clone()).max_frame(MAX_FRAME);
    while let Ok(inbound) = reader.next().await {
        bump(&state.counters.requests);
        if state.is_down(Instant::now()) {
            bump(&state.counters.dropped);
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
        let reply = match inbound {
            Inbound::Event(TransportEvent::Malformed(e)) => Some(malformed(&e)),
            Inbound::Event(_) => None,
            Inbound::Message(Message::Request(req)) => handle(req, &state, &tx, &inflight, &ex),
            Inbound::Message(Message::Notification(n)) => {
                notified(&n, &state, &inflight);
                None
            }
            // No requests of ours are outstanding: stray answers are ignored.
            Inbound::Message(_) => None,
        };
        if let Some(m) = reply {
            let _ = tx.send(m).await;
        }
    }
    // Calls still working finish into a closed channel; they are not
    // counted as cancelled, which only a client's notice does.
}

pub(super) fn malformed(e: &FrameError) -> Message {
    let (code, message) = match e {
        FrameError::TooLarge { .. } => (ErrorObject::INVALID_REQUEST, "frame too large"),
        FrameError::Invalid {
            error: weir::mcp::jsonrpc::DecodeError::NotAMessage,
            ..
        } => (ErrorObject::INVALID_REQUEST, "not a JSON-RPC message"),
        _ => (ErrorObject::PARSE_ERROR, "parse error"),
    };
    Message::Error(ErrorResponse {
        id: None,
        error: ErrorObject::new(code, message),
    })
}

pub(super) fn notified(n: &Notification, state: &State, inflight: &InFlight) {
    if n.method != "notifications/cancelled" {
        // `notifications/initialized` and anything else: nothing to do.
        return;
    }
    bump(&state.counters.cancel_notices);
    if let Ok(c) = from_raw::<Cancelled>(n.params.as_deref())
        && let Some(token) = inflight.lock().remove(&c.request_id)
    {
        token.cancel();
    }
}

pub(super) fn handle(
    req: Request,
    state: &Arc<State>,
    tx: &async_channel::Sender<Message>,
    inflight: &InFlight,
    ex: &Executor<'static>,
) -> Option<Message> {
    let params: Params = from_raw(req.params.as_deref()).unwrap_or_default();
    let id = req.id;
    let value = match req.method.as_str() {
        "initialize" => state.initialize(&params),
        "server/discover" if state.spec.modern => state.discover(),
        "ping" => json!({}),
        "tools/list" => state.tools(),
        "tools/call" => {
            bump(&state.counters.tool_calls);
            let work = match state.accept(&id, &params) {
                Ok(w) => w,
                Err(e) => {
                    return Some(Message::Error(ErrorResponse {
                        id: Some(id),
                        error: e,
                    }));
                }
            };
            let token = CancellationToken::new();
            inflight.lock().insert(id.clone(), token.clone());
            let progress_token = params.meta.and_then(|m| m.progress_token);
            let (state, tx, inflight) = (state.clone(), tx.clone(), inflight.clone());
            ex.spawn(async move {
                let reply = work_on(&state, &tx, progress_token, work.latency);
                match token.run_until_cancelled(reply).await {
                    Some(()) => {
                        // Answered before any cancel: the call is no longer
                        // ours to stop.
                        if inflight.lock().remove(&id).is_some() {
                            let m = match work.outcome {
                                Ok(v) => result(id, &v),
                                Err(e) => Message::Error(ErrorResponse {
                                    id: Some(id),
                                    error: e,
                                }),
                            };
                            let _ = tx.send(m).await;
                        } else {
                            bump(&state.counters.cancelled);
                        }
                    }
                    None => bump(&state.counters.cancelled),
                }
            })
            .detach();
            return None;
        }
        _ => return Some(error(id, ErrorObject::METHOD_NOT_FOUND, "method not found")),
    };
    Some(result(id, &value))
}

/// Works for `latency`, reporting progress every `progress_every` when the
/// client gave a progress token.
pub(super) async fn work_on(
    state: &State,
    tx: &async_channel::Sender<Message>,
    progress_token: Option<Value>,
    latency: Duration,
) {
    let every = state.spec.progress_every;
    let mut done = Duration::ZERO;
    if let Some(token) = progress_token
        && !every.is_zero()
    {
        let steps = (latency.as_nanos() / every.as_nanos().max(1)) as u64;
        for step in 1..=steps {
            Timer::after(every).await;
            done += every;
            if done >= latency {
                break;
            }
            let params = json!({
                "progressToken": token,
                "progress": step,
                "total": steps + 1,
                "message": format!("{} working", state.spec.name),
            });
            let raw: Option<Box<RawValue>> = to_raw(&params).ok();
            bump(&state.counters.progress);
            let _ = tx
                .send(Message::Notification(Notification::new(
                    "notifications/progress",
                    raw,
                )))
                .await;
        }
    }
    Timer::after(latency.saturating_sub(done)).await;
}
