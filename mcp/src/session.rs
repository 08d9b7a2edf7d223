//! One connection's session: ids, the pending map, the writer and reader
//! tasks, progress routing, server requests, cancel-on-drop and deadlines.
//!
//! No I/O of its own and no executor: the two tasks are spawned through
//! weir's [`Runtime`], and the transport does the I/O.
//!
//! * Calls wait on their own slot in the pending map, so any number are in
//!   flight and responses complete them in whatever order they arrive.
//! * The reader never waits on anyone: responses fill a slot, progress goes
//!   into the call's bounded queue (oldest dropped), server requests run on
//!   their own tasks, other notifications go to the handler, which must not
//!   block.
//! * The writer drains the control lane (cancellations, replies to the
//!   server) before ordinary messages; both queues are filled without
//!   blocking, so `Drop` can enqueue a cancellation.
//! * A [`PendingCall`] dropped before its response removes its slot and
//!   enqueues exactly one cancellation (never for `initialize`).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use event_listener::{Event, listener};
use parking_lot::Mutex;
use pin_project_lite::pin_project;
use serde::Deserialize;
use serde_json::{Value, json};
use weir_core::cancel::{CancellationToken, Cancelled};
use weir_core::rt::{JoinHandle, Runtime, deadline_after};

use crate::error::{McpError, TimeoutKind};
use crate::handler::{self, ClientHandler};
use crate::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Notification, RawValue, RequestId, Response, to_raw,
};
use crate::progress::ProgressQueue;
use crate::protocol::Progress;
use crate::stats::Counters;
use crate::transport::{
    CancelAction, Era, Inbound, Lane, MessageSink, MessageSource, Outbound, Transport,
    TransportError, TransportEvent,
};

/// How a request ended at the session level.
#[derive(Debug)]
pub(crate) enum Outcome {
    Result(Box<RawValue>),
    Error(ErrorObject),
    Failed(TransportError),
    /// Modern era: the stream broke; re-issue under a new id.
    StreamLost,
    /// Legacy HTTP: the session expired; initialise again and re-send.
    SessionExpired,
}

#[derive(Debug)]
struct Slot {
    outcome: Option<Outcome>,
    waker: Option<Waker>,
    progress_seq: u64,
    progress: Option<Arc<ProgressQueue>>,
}

#[derive(Debug)]
enum Item {
    Msg(Outbound),
    Cancel(RequestId, &'static str),
    Negotiated(Era, &'static str),
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<i64, Slot>,
    control: VecDeque<Item>,
    normal: VecDeque<Item>,
    /// Set once: the connection is gone (the error every later call gets).
    dead: Option<TransportError>,
    /// The session is closing: the writer drains and stops.
    closing: bool,
    era: Option<(Era, &'static str)>,
    /// Server requests being answered, by id, so the server can cancel one.
    serving: HashMap<RequestId, CancellationToken>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    writer: Event,
    next_id: AtomicI64,
    handler: Arc<dyn ClientHandler>,
    counters: Arc<Counters>,
}

impl Shared {
    fn enqueue(&self, state: &mut State, item: Item, lane: Lane) {
        match lane {
            Lane::Control => state.control.push_back(item),
            Lane::Normal => state.normal.push_back(item),
        }
        self.writer.notify(1);
    }

    /// The connection is gone: every call in flight fails with `error`.
    fn fail_all(&self, error: TransportError) {
        let mut wakers = Vec::new();
        {
            let mut st = self.state.lock();
            if st.dead.is_none() {
                if !matches!(error, TransportError::Closed) || !st.closing {
                    Counters::bump(&self.counters.transport_failures);
                }
                st.dead = Some(error.clone());
            }
            for slot in st.pending.values_mut() {
                if slot.outcome.is_none() {
                    slot.outcome = Some(Outcome::Failed(error.clone()));
                    wakers.extend(slot.waker.take());
                }
            }
            for token in st.serving.values() {
                token.cancel();
            }
            st.serving.clear();
        }
        self.writer.notify(usize::MAX);
        for w in wakers {
            w.wake();
        }
    }

    fn complete(&self, id: &RequestId, outcome: Outcome) {
        let RequestId::Number(n) = id else {
            Counters::bump(&self.counters.unmatched);
            return;
        };
        let waker = {
            let mut st = self.state.lock();
            match st.pending.get_mut(n) {
                Some(slot) if slot.outcome.is_none() => {
                    slot.outcome = Some(outcome);
                    slot.waker.take()
                }
                _ => {
                    Counters::bump(&self.counters.unmatched);
                    return;
                }
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn progress(&self, params: Option<&RawValue>) {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Params {
            progress_token: RequestId,
            #[serde(flatten)]
            progress: Progress,
        }
        Counters::bump(&self.counters.progress);
        let Some(Ok(p)) = params.map(|r| serde_json::from_str::<Params>(r.get())) else {
            Counters::bump(&self.counters.malformed);
            return;
        };
        let RequestId::Number(n) = p.progress_token else {
            return;
        };
        let (queue, waker) = {
            let mut st = self.state.lock();
            let Some(slot) = st.pending.get_mut(&n) else {
                // Progress for a call that already ended: late, harmless.
                return;
            };
            slot.progress_seq += 1;
            (slot.progress.clone(), slot.waker.take())
        };
        if let Some(q) = queue
            && q.push(p.progress)
        {
            Counters::bump(&self.counters.progress_dropped);
        }
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn send_control(&self, msg: Message) {
        let Ok(mut out) = Outbound::from_message(&msg) else {
            return;
        };
        out.lane = Lane::Control;
        let mut st = self.state.lock();
        if st.dead.is_some() || st.closing {
            return;
        }
        out.era = st.era.map(|e| e.0);
        out.protocol_version = st.era.map(|e| e.1);
        self.enqueue(&mut st, Item::Msg(out), Lane::Control);
    }
}

/// One live connection.
pub(crate) struct Session<R: Runtime> {
    shared: Arc<Shared>,
    rt: R,
    reader: Mutex<Option<R::JoinHandle<()>>>,
}

impl<R: Runtime> core::fmt::Debug for Session<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("Session")
            .field("in_flight", &st.pending.len())
            .field("era", &st.era)
            .field("dead", &st.dead)
            .finish()
    }
}

/// What a request carries besides its id.
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    pub method: Cow<'static, str>,
    pub params: Option<Box<RawValue>>,
    pub name: Option<String>,
    pub tool_schema: Option<Arc<Value>>,
}

/// How a request waits.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitSpec {
    /// Reset by every progress report.
    pub idle: Option<Duration>,
    /// The hard end (spans retries and rounds; set by the caller).
    pub deadline: Option<Instant>,
    pub token: Option<CancellationToken>,
    pub progress: Option<Arc<ProgressQueue>>,
    /// `false` for `initialize` and the discovery probe.
    pub cancellable: bool,
    /// Which timeout kind the deadline reports.
    pub deadline_kind: Option<TimeoutKind>,
}

impl<R: Runtime> Session<R> {
    /// Splits `transport` and spawns the writer and reader tasks on `rt`.
    pub(crate) fn start<T: Transport>(
        rt: R,
        transport: T,
        handler: Arc<dyn ClientHandler>,
        counters: Arc<Counters>,
    ) -> Session<R> {
        let (sink, source) = transport.split();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            writer: Event::new(),
            next_id: AtomicI64::new(1),
            handler,
            counters,
        });
        rt.spawn(write_loop(shared.clone(), sink)).detach();
        let reader = rt.spawn(read_loop(shared.clone(), rt.clone(), source));
        Session {
            shared,
            rt,
            reader: Mutex::new(Some(reader)),
        }
    }

    /// The next request id on this connection.
    pub(crate) fn next_id(&self) -> i64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether the connection still works.
    pub(crate) fn is_alive(&self) -> bool {
        let st = self.shared.state.lock();
        st.dead.is_none() && !st.closing
    }

    pub(crate) fn era(&self) -> Option<(Era, &'static str)> {
        self.shared.state.lock().era
    }

    /// Records the era and version and tells the transport, in order with
    /// the messages around it.
    pub(crate) fn set_era(&self, era: Era, version: &'static str) {
        let mut st = self.shared.state.lock();
        st.era = Some((era, version));
        self.shared
            .enqueue(&mut st, Item::Negotiated(era, version), Lane::Normal);
    }

    /// Sends request `id` (from [`next_id`](Self::next_id)) and returns the
    /// future of its outcome.
    pub(crate) fn request(&self, id: i64, spec: RequestSpec, wait: WaitSpec) -> PendingCall<R> {
        let msg = Message::Request(crate::jsonrpc::Request {
            id: RequestId::Number(id),
            method: spec.method.clone().into_owned(),
            params: spec.params,
        });
        let rt = self.rt.clone();
        let idle_sleep = wait
            .idle
            .map(|d| rt.sleep_until(deadline_after(rt.now(), d)));
        let total_sleep = wait.deadline.map(|d| rt.sleep_until(d));
        let mut call = PendingCall {
            shared: self.shared.clone(),
            id,
            done: false,
            cancellable: wait.cancellable,
            rt,
            idle: wait.idle,
            seen_seq: 0,
            deadline_kind: wait.deadline_kind.unwrap_or(TimeoutKind::Total),
            early: None,
            idle_sleep,
            total_sleep,
            cancelled: wait.token.as_ref().map(CancellationToken::cancelled),
        };
        let out = match Outbound::from_message(&msg) {
            Ok(mut out) => {
                out.method = Some(spec.method);
                out.name = spec.name;
                out.tool_schema = spec.tool_schema;
                out
            }
            Err(e) => {
                call.done = true;
                call.early = Some(Err(McpError::Decode(e.to_string())));
                return call;
            }
        };
        let mut st = self.shared.state.lock();
        if let Some(dead) = &st.dead {
            call.done = true;
            call.early = Some(Ok(Outcome::Failed(dead.clone())));
            return call;
        }
        if st.closing {
            call.done = true;
            call.early = Some(Err(McpError::Closed));
            return call;
        }
        let mut out = out;
        out.era = st.era.map(|e| e.0);
        out.protocol_version = st.era.map(|e| e.1);
        st.pending.insert(
            id,
            Slot {
                outcome: None,
                waker: None,
                progress_seq: 0,
                progress: wait.progress,
            },
        );
        self.shared
            .counters
            .in_flight
            .fetch_add(1, Ordering::Relaxed);
        Counters::bump(&self.shared.counters.requests);
        self.shared.enqueue(&mut st, Item::Msg(out), Lane::Normal);
        call
    }

    /// Sends a notification on the normal lane.
    pub(crate) fn notify(&self, method: &'static str, params: Option<Box<RawValue>>) {
        let msg = Message::Notification(Notification::new(method, params));
        let Ok(mut out) = Outbound::from_message(&msg) else {
            return;
        };
        out.method = Some(Cow::Borrowed(method));
        let mut st = self.shared.state.lock();
        if st.dead.is_some() || st.closing {
            return;
        }
        out.era = st.era.map(|e| e.0);
        out.protocol_version = st.era.map(|e| e.1);
        self.shared.enqueue(&mut st, Item::Msg(out), Lane::Normal);
    }

    /// Closes the connection: calls in flight fail with `Closed`, the
    /// writer sends what is queued (cancellations included) and closes the
    /// transport; the reader stops.
    pub(crate) fn close(&self) {
        {
            let mut st = self.shared.state.lock();
            st.closing = true;
        }
        self.shared.writer.notify(usize::MAX);
        if let Some(mut reader) = self.reader.lock().take() {
            reader.abort();
        }
        self.shared.fail_all(TransportError::Closed);
    }
}

impl<R: Runtime> Drop for Session<R> {
    fn drop(&mut self) {
        self.close();
    }
}

async fn write_loop<S: MessageSink>(shared: Arc<Shared>, mut sink: S) {
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
                Item::Msg(out) => sink.send(out).await,
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
                                sink.send(out).await
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
        if let Err(e) = sink.flush().await {
            shared.fail_all(e);
            sink.close().await;
            return;
        }
    }
}

async fn read_loop<R: Runtime, S: MessageSource>(shared: Arc<Shared>, rt: R, mut source: S) {
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

pin_project! {
    /// A request in flight: resolves to its outcome, or to a timeout or
    /// cancellation. Dropped before its response, it tells the server once.
    pub(crate) struct PendingCall<R: Runtime> {
        shared: Arc<Shared>,
        id: i64,
        // The slot was removed (outcome taken, or abandoned).
        done: bool,
        cancellable: bool,
        rt: R,
        idle: Option<Duration>,
        seen_seq: u64,
        deadline_kind: TimeoutKind,
        early: Option<Result<Outcome, McpError>>,
        #[pin]
        idle_sleep: Option<R::Sleep>,
        #[pin]
        total_sleep: Option<R::Sleep>,
        #[pin]
        cancelled: Option<Cancelled>,
    }

    impl<R: Runtime> PinnedDrop for PendingCall<R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            abandon(this.shared, *this.id, this.done, *this.cancellable, "abandoned by the client");
        }
    }
}

/// Removes the slot; enqueues one cancellation if the request was still
/// waiting for its response.
fn abandon(shared: &Shared, id: i64, done: &mut bool, cancellable: bool, reason: &'static str) {
    if *done {
        return;
    }
    *done = true;
    let mut st = shared.state.lock();
    let Some(slot) = st.pending.remove(&id) else {
        return;
    };
    shared.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    if slot.outcome.is_none() && cancellable && st.dead.is_none() {
        Counters::bump(&shared.counters.cancels);
        shared.enqueue(
            &mut st,
            Item::Cancel(RequestId::Number(id), reason),
            Lane::Control,
        );
    }
}

impl<R: Runtime> Future for PendingCall<R> {
    type Output = Result<Outcome, McpError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(early) = this.early.take() {
            return Poll::Ready(early);
        }
        if *this.done {
            return Poll::Ready(Err(McpError::Closed));
        }
        let mut progressed = false;
        {
            let mut st = this.shared.state.lock();
            let Some(slot) = st.pending.get_mut(this.id) else {
                *this.done = true;
                return Poll::Ready(Err(McpError::Closed));
            };
            if let Some(outcome) = slot.outcome.take() {
                st.pending.remove(this.id);
                drop(st);
                *this.done = true;
                this.shared
                    .counters
                    .in_flight
                    .fetch_sub(1, Ordering::Relaxed);
                return Poll::Ready(Ok(outcome));
            }
            if slot.progress_seq != *this.seen_seq {
                *this.seen_seq = slot.progress_seq;
                progressed = true;
            }
            match &mut slot.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                w => *w = Some(cx.waker().clone()),
            }
        }
        if progressed && let Some(idle) = *this.idle {
            let at = deadline_after(this.rt.now(), idle);
            this.idle_sleep.set(Some(this.rt.sleep_until(at)));
        }
        if let Some(c) = this.cancelled.as_mut().as_pin_mut()
            && c.poll(cx).is_ready()
        {
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "cancelled by the client",
            );
            return Poll::Ready(Err(McpError::Cancelled));
        }
        if let Some(s) = this.total_sleep.as_mut().as_pin_mut()
            && s.poll(cx).is_ready()
        {
            Counters::bump(&this.shared.counters.timeouts);
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "request timed out",
            );
            return Poll::Ready(Err(McpError::Timeout(*this.deadline_kind)));
        }
        if let Some(s) = this.idle_sleep.as_mut().as_pin_mut()
            && s.poll(cx).is_ready()
        {
            Counters::bump(&this.shared.counters.timeouts);
            abandon(
                this.shared,
                *this.id,
                this.done,
                *this.cancellable,
                "request timed out (idle)",
            );
            return Poll::Ready(Err(McpError::Timeout(TimeoutKind::Idle)));
        }
        Poll::Pending
    }
}
