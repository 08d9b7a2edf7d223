//! The live progress bar: done / failed / retrying and each breaker's
//! state, drawn only when stdout is a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A snapshot for the bar: calls finished, and the message beside it.
pub type Status = Box<dyn Fn() -> (u64, String) + Send + 'static>;

/// A progress bar refreshed by its own thread from a [`Status`] closure, so
/// it works the same whatever runtime runs the calls.
#[derive(Debug)]
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar of `total` calls titled `label` when `enabled` and stdout
    /// is a terminal; otherwise does nothing.
    ///
    /// ```
    /// use weir_demo::progress::Progress;
    /// let p = Progress::start("test", 10, false, Box::new(|| (0, String::new())));
    /// p.finish();
    /// ```
    pub fn start(label: &'static str, total: u64, enabled: bool, status: Status) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stdout().is_terminal() {
            return Progress { stop, thread: None };
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{prefix:>7} [{bar:30}] {pos:>5}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label);
        let stop2 = stop.clone();
        let thread = thread::Builder::new()
            .name("weir-demo-progress".into())
            .spawn(move || {
                loop {
                    let (done, msg) = status();
                    bar.set_position(done);
                    bar.set_message(msg);
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                bar.finish();
            })
            .ok();
        Progress { stop, thread }
    }

    /// Draws the final state and stops the refresh thread.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
