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

use core::task::Waker;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use event_listener::Event;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::Value;
use weir_core::CancellationToken;
use weir_core::{
    Runtime,
    rt::{JoinHandle, deadline_after},
};

use crate::error::{McpError, TimeoutKind};
use crate::handler::ClientHandler;
use crate::jsonrpc::{ErrorObject, Message, Notification, RawValue, RequestId};
use crate::progress::ProgressQueue;
use crate::protocol::Progress;
use crate::stats::Counters;
use crate::transport::{Era, Lane, MessageKind, Outbound, Transport, TransportError};

mod call;
mod tasks;

pub(crate) use call::PendingCall;
use tasks::{read_loop, write_loop};

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

    /// The error that ended the connection, if it ended.
    pub(crate) fn failure(&self) -> Option<TransportError> {
        self.shared.state.lock().dead.clone()
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
        let rid = RequestId::Number(id);
        let body = Message::encode_request(&rid, &spec.method, spec.params.as_deref());
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
        let out = match body {
            Ok(body) => Outbound {
                body,
                kind: MessageKind::Request,
                id: Some(rid),
                method: Some(spec.method),
                name: spec.name,
                protocol_version: None,
                era: None,
                lane: Lane::Normal,
                tool_schema: spec.tool_schema,
            },
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
