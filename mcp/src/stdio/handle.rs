//! What a stdio connector lets its owner see: how often it spawned, which
//! process runs now, which groups are not yet known to be gone, and the
//! server's last lines of stderr.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use weir_core::Runtime;
use weir_core::io::ProcessGroup;

/// Called with each line the server writes to stderr (without its line
/// break). Runs on the task that drains stderr: it must not block.
pub type StderrCallback = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Default)]
pub(crate) struct Registry {
    spawns: AtomicU64,
    current: Mutex<Option<u32>>,
    /// Groups started and not yet seen empty; `Some` once abandoned
    /// (killed on drop), when only the process table can say they are gone.
    live: Mutex<Vec<(u32, Option<ProcessGroup>)>>,
    stderr: Mutex<VecDeque<String>>,
    last_exit: Mutex<Option<String>>,
    pub(crate) stderr_capacity: usize,
    pub(crate) on_stderr: Option<StderrCallback>,
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("spawns", &self.spawns.load(Ordering::Relaxed))
            .field("current", &*self.current.lock())
            .field("live", &*self.live.lock())
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(crate) fn new(stderr_capacity: usize, on_stderr: Option<StderrCallback>) -> Self {
        Registry {
            stderr_capacity,
            on_stderr,
            ..Registry::default()
        }
    }

    pub(crate) fn spawns(&self) -> u64 {
        self.spawns.load(Ordering::Acquire)
    }

    pub(crate) fn started(&self, pid: u32) {
        self.spawns.fetch_add(1, Ordering::AcqRel);
        *self.current.lock() = Some(pid);
        self.live.lock().push((pid, None));
    }

    pub(crate) fn exited(&self, status: &str) {
        *self.last_exit.lock() = Some(status.to_owned());
    }

    pub(crate) fn stopped(&self, pid: u32) {
        self.live.lock().retain(|(p, _)| *p != pid);
        let mut cur = self.current.lock();
        if *cur == Some(pid) {
            *cur = None;
        }
    }

    pub(crate) fn abandoned(&self, pid: u32, group: ProcessGroup) {
        for entry in self.live.lock().iter_mut() {
            if entry.0 == pid {
                entry.1 = Some(group);
            }
        }
        let mut cur = self.current.lock();
        if *cur == Some(pid) {
            *cur = None;
        }
    }

    pub(crate) fn stderr_line(&self, line: &str) {
        if let Some(cb) = &self.on_stderr {
            cb(line);
        }
        if self.stderr_capacity == 0 {
            return;
        }
        let mut ring = self.stderr.lock();
        if ring.len() == self.stderr_capacity {
            ring.pop_front();
        }
        ring.push_back(line.to_owned());
    }

    fn live_groups(&self) -> Vec<u32> {
        let mut live = self.live.lock();
        // An abandoned group is gone once no process is left in it (then
        // its id is never probed again).
        live.retain(|(_, abandoned)| match abandoned {
            Some(group) => group.is_alive().unwrap_or(false),
            None => true,
        });
        live.iter().map(|(pid, _)| *pid).collect()
    }
}

/// A view of a [`Stdio`](super::Stdio) connector's processes, for
/// supervision, diagnostics and tests.
///
/// ```
/// use weir_core::io::Command;
/// use weir_mcp::stdio::Stdio;
///
/// let stdio = Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, Command::new("my-server"));
/// let handle = stdio.handle();
/// assert_eq!(handle.spawns(), 0);
/// assert_eq!(handle.pid(), None);
/// ```
#[derive(Debug, Clone)]
pub struct StdioHandle {
    pub(crate) registry: Arc<Registry>,
}

impl StdioHandle {
    /// How many processes the connector started (the first one and every
    /// restart).
    ///
    /// ```
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert_eq!(h.spawns(), 0);
    /// ```
    pub fn spawns(&self) -> u64 {
        self.registry.spawns()
    }

    /// The pid (and process group id) of the server running now, if one
    /// is.
    ///
    /// ```
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert!(h.pid().is_none());
    /// ```
    pub fn pid(&self) -> Option<u32> {
        *self.registry.current.lock()
    }

    /// The process groups started and not yet known to be empty.
    ///
    /// ```
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert!(h.live_groups().is_empty());
    /// ```
    pub fn live_groups(&self) -> Vec<u32> {
        self.registry.live_groups()
    }

    /// How the last server to exit ended, as the system says it
    /// (`exit status: 0`, `signal: 15 (SIGTERM)`).
    ///
    /// ```
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert!(h.last_exit().is_none());
    /// ```
    pub fn last_exit(&self) -> Option<String> {
        self.registry.last_exit.lock().clone()
    }

    /// The server's last lines of stderr, oldest first (as many as
    /// [`Stdio::stderr_lines`](super::Stdio::stderr_lines) keeps).
    ///
    /// ```
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert!(h.stderr_tail().is_empty());
    /// ```
    pub fn stderr_tail(&self) -> Vec<String> {
        self.registry.stderr.lock().iter().cloned().collect()
    }

    /// Waits until every process group this connector started is gone
    /// (closed, crashed, or killed on drop and reaped), at most `limit`;
    /// `true` if they all are.
    ///
    /// A client's `close()` returns at once and the bounded stop runs on
    /// its writer task; this is how a caller waits for it to finish.
    ///
    /// ```
    /// # smol::block_on(async {
    /// # let h = weir_mcp::stdio::Stdio::new(weir_smol::SmolProcess, weir_smol::Smol, weir_core::io::Command::new("s")).handle();
    /// assert!(h.wait_all_gone(&weir_smol::Smol, std::time::Duration::from_secs(1)).await);
    /// # });
    /// ```
    pub async fn wait_all_gone<R: Runtime>(&self, rt: &R, limit: Duration) -> bool {
        let deadline = rt.now() + limit;
        let mut pause = Duration::from_micros(250);
        loop {
            if self.live_groups().is_empty() {
                return true;
            }
            if rt.now() >= deadline {
                return false;
            }
            rt.sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}
