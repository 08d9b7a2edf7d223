//! One child process's life: who learns of its exit, how it is stopped, and
//! what dropping it does.
//!
//! A watcher task owns the adapter's child handle and waits for its exit
//! (so no one else needs to poll it); when the leader exits, whatever is
//! left of its process group is an orphan of a dead server and is killed.
//! The transport halves share a [`Guard`]: the last one dropped kills the
//! group unless a bounded [`stop`](Supervisor::stop) already saw it empty.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use event_listener::{Event, listener};
use futures_lite::future;
use parking_lot::Mutex;
use weir_core::io::{Child, ProcessGroup, Signal};
use weir_core::{Runtime, rt::JoinHandle};

use super::handle::Registry;

/// How long each step of a stop may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Waits {
    /// After stdin is closed, before SIGTERM.
    pub stdin: Duration,
    /// After SIGTERM, before SIGKILL.
    pub term: Duration,
    /// After SIGKILL, for the exit and for the group to empty.
    pub kill: Duration,
}

/// The child's exit, once known: set by the watcher task, awaited by the
/// transport.
#[derive(Debug, Default)]
pub(crate) struct Exit {
    status: Mutex<Option<String>>,
    event: Event,
}

impl Exit {
    pub(crate) fn get(&self) -> Option<String> {
        self.status.lock().clone()
    }

    fn set(&self, status: String) {
        *self.status.lock() = Some(status);
        self.event.notify(usize::MAX);
    }

    pub(crate) fn event(&self) -> &Event {
        &self.event
    }

    /// The exit status, waiting for it at most `wait`.
    async fn within<R: Runtime>(&self, rt: &R, wait: Duration) -> Option<String> {
        if let Some(s) = self.get() {
            return Some(s);
        }
        let deadline = rt.now() + wait;
        future::or(
            async {
                loop {
                    listener!(self.event => l);
                    if let Some(s) = self.get() {
                        return Some(s);
                    }
                    l.await;
                }
            },
            async {
                rt.sleep_until(deadline).await;
                self.get()
            },
        )
        .await
    }
}

/// What the transport halves share about their child.
#[derive(Debug)]
pub(crate) struct Supervisor<R> {
    pub(crate) rt: R,
    pub(crate) pid: u32,
    group: ProcessGroup,
    pub(crate) exit: Arc<Exit>,
    pub(crate) waits: Waits,
    /// Set once the group was seen empty: from then on the id may belong
    /// to someone else and is never signalled again.
    gone: AtomicBool,
    /// Set when the client closes the connection (its exit is expected).
    pub(crate) closing: AtomicBool,
    /// Set when the reading half is dropped: the session is ending (closed,
    /// or its reader failed), so a write still waiting on a server that
    /// stopped reading must give up and let the close run.
    reader_gone: AtomicBool,
    reader_event: Event,
    registry: Arc<Registry>,
}

impl<R: Runtime> Supervisor<R> {
    /// Starts the watcher task that owns `child`.
    pub(crate) fn watch<C: Child>(
        rt: R,
        mut child: C,
        group: ProcessGroup,
        waits: Waits,
        registry: Arc<Registry>,
    ) -> Arc<Supervisor<R>> {
        let exit = Arc::new(Exit::default());
        let pid = child.id();
        let watcher_exit = exit.clone();
        let watcher_registry = registry.clone();
        rt.spawn(async move {
            let status = match child.wait().await {
                Ok(status) => status.to_string(),
                Err(e) => format!("could not wait for the server: {e}"),
            };
            // The group cannot have been seen empty yet (its leader was
            // alive until now), so its id is still ours to signal.
            let _ = group.signal(Signal::Kill);
            watcher_registry.exited(&status);
            watcher_exit.set(status);
        })
        .detach();
        registry.started(pid);
        Arc::new(Supervisor {
            rt,
            pid,
            group,
            exit,
            waits,
            gone: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            reader_gone: AtomicBool::new(false),
            reader_event: Event::new(),
            registry,
        })
    }

    pub(crate) fn reader_dropped(&self) {
        self.reader_gone.store(true, Ordering::Release);
        self.reader_event.notify(usize::MAX);
    }

    pub(crate) fn is_reader_gone(&self) -> bool {
        self.reader_gone.load(Ordering::Acquire)
    }

    /// Completes once the reading half is dropped.
    pub(crate) async fn reader_gone(&self) {
        loop {
            if self.reader_gone.load(Ordering::Acquire) {
                return;
            }
            listener!(self.reader_event => l);
            if self.reader_gone.load(Ordering::Acquire) {
                return;
            }
            l.await;
        }
    }

    /// Waits up to `wait` for the exit; the caller decides what next.
    pub(crate) async fn exit_within(&self, wait: Duration) -> Option<String> {
        self.exit.within(&self.rt, wait).await
    }

    /// Ends the child once its stdin is closed (or when its stdout ended):
    /// waits, SIGTERM to the group, waits, SIGKILL to the group, waits for
    /// the exit and for the group to empty; every wait bounded. Returns the
    /// exit status as text.
    pub(crate) async fn stop(&self) -> String {
        let w = self.waits;
        let mut status = self.exit_within(w.stdin).await;
        if status.is_none() && self.signal(Signal::Terminate) {
            status = self.exit_within(w.term).await;
        }
        if status.is_none() && self.signal(Signal::Kill) {
            status = self.exit_within(w.kill).await;
        }
        self.await_empty_group(w.kill).await;
        status.unwrap_or_else(|| {
            format!(
                "still running {:?} after SIGKILL",
                w.stdin + w.term + w.kill
            )
        })
    }

    /// Sends `signal` to the group unless it is known to be gone; `false`
    /// when nothing was there to receive it.
    fn signal(&self, signal: Signal) -> bool {
        if self.gone.load(Ordering::Acquire) {
            return false;
        }
        matches!(self.group.signal(signal), Ok(true))
    }

    /// Polls (bounded) until no process is left in the group. The leader's
    /// exit killed the stragglers; they are reaped by whoever inherited
    /// them, on the kernel's schedule, so this is a wait on an outside
    /// event with a short poll.
    async fn await_empty_group(&self, wait: Duration) {
        if self.gone.load(Ordering::Acquire) {
            return;
        }
        let deadline = self.rt.now() + wait;
        let mut pause = Duration::from_micros(250);
        loop {
            match self.group.is_alive() {
                Ok(false) => {
                    self.mark_gone();
                    return;
                }
                Ok(true) if self.rt.now() < deadline => {
                    // Stragglers that survived the watcher's SIGKILL (one
                    // started after it) get another.
                    if self.exit.get().is_some() {
                        let _ = self.group.signal(Signal::Kill);
                    }
                    self.rt.sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                _ => return,
            }
        }
    }

    fn mark_gone(&self) {
        if !self.gone.swap(true, Ordering::AcqRel) {
            self.registry.stopped(self.pid);
        }
    }
}

/// Kills the group when the transport is dropped without a completed stop
/// (a client dropped, a runtime shut down): one non-blocking system call,
/// never a wait. The adapter reaps the leader in the background.
#[derive(Debug)]
pub(crate) struct Guard<R: Runtime>(pub(crate) Arc<Supervisor<R>>);

impl<R: Runtime> Drop for Guard<R> {
    fn drop(&mut self) {
        let sup = &self.0;
        if !sup.gone.load(Ordering::Acquire) {
            let _ = sup.group.signal(Signal::Kill);
            sup.registry.abandoned(sup.pid, sup.group);
        }
    }
}
