//! The adapters' process spawners: pipes, exit status, group signals that
//! reach grandchildren, and no zombie or stray process afterwards, on smol,
//! tokio (both flavours) and async-std.
//!
//! Processes end on the kernel's schedule, not ours: where a test must see
//! an exited process disappear it polls the process table (bounded by a
//! generous limit), never sleeps for a fixed time.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, io::BufReader};
use weir::Runtime;
use weir::{
    io::{Child, Command, ProcessGroup, ProcessSpawner, Signal},
    test_util::census,
};

/// Waits (polling, bounded) until `done` holds; panics with `what` if it
/// does not within 30 s.
async fn eventually<R: Runtime>(rt: &R, what: &str, mut done: impl FnMut() -> bool) {
    let limit = rt.now() + Duration::from_secs(30);
    while !done() {
        assert!(rt.now() < limit, "still not the case after 30 s: {what}");
        rt.sleep(Duration::from_millis(2)).await;
    }
}

fn gone(group: ProcessGroup) -> bool {
    census::group_members(group.id()).unwrap().is_empty()
}

fn no_zombie_children() -> bool {
    census::zombie_children().unwrap().is_empty()
}

async fn pipes_round_trip<R: Runtime, S: ProcessSpawner>(rt: R, spawner: S) {
    let cmd = Command::new("sh")
        .args([
            "-c",
            r#"echo "A=$A in $(pwd)"; while read l; do echo "got $l"; done"#,
        ])
        .env("A", "one")
        .current_dir("/");
    let mut p = spawner.spawn(&cmd).unwrap();
    assert_eq!(p.group.id(), p.child.id(), "the child leads its own group");
    let mut out = BufReader::new(p.stdout);
    let mut line = String::new();
    out.read_line(&mut line).await.unwrap();
    assert_eq!(line, "A=one in /\n");
    assert!(p.child.try_wait().unwrap().is_none(), "still reading stdin");
    p.stdin.write_all(b"x\ny\n").await.unwrap();
    p.stdin.flush().await.unwrap();
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).await.unwrap();
    out.read_line(&mut second).await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("got x\n", "got y\n"));
    drop(p.stdin); // end of input: the loop ends and sh exits 0
    let mut rest = String::new();
    out.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "");
    assert!(p.child.wait().await.unwrap().success());
    assert!(gone(p.group), "nothing left in the group");
    eventually(&rt, "no zombie child", no_zombie_children).await;
}

async fn stderr_is_its_own_pipe<R: Runtime, S: ProcessSpawner>(_rt: R, spawner: S) {
    let mut p = spawner
        .spawn(&Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]))
        .unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    p.stdout.read_to_string(&mut out).await.unwrap();
    p.stderr.read_to_string(&mut err).await.unwrap();
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    assert_eq!(p.child.wait().await.unwrap().code(), Some(3));
    assert_eq!(p.child.try_wait().unwrap().map(|s| s.code()), Some(Some(3)));
}

async fn a_missing_program_is_an_error<R: Runtime, S: ProcessSpawner>(_rt: R, spawner: S) {
    let err = spawner
        .spawn(&Command::new("/nonexistent/weir-no-such-program"))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

async fn sigterm_to_the_group<R: Runtime, S: ProcessSpawner>(rt: R, spawner: S) {
    let mut p = spawner.spawn(&Command::new("sleep").arg("1000")).unwrap();
    assert!(p.group.signal(Signal::Terminate).unwrap());
    let status = p.child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    assert!(
        !p.group.signal(Signal::Kill).unwrap(),
        "group already empty"
    );
    eventually(&rt, "no zombie child", no_zombie_children).await;
}

async fn sigkill_reaches_grandchildren<R: Runtime, S: ProcessSpawner>(rt: R, spawner: S) {
    // A server that starts helpers of its own, as `npx` or `sh -c` do.
    let mut p = spawner
        .spawn(&Command::new("sh").args(["-c", "sleep 1000 & sleep 1000 & echo started; wait"]))
        .unwrap();
    let mut line = String::new();
    BufReader::new(&mut p.stdout)
        .read_line(&mut line)
        .await
        .unwrap();
    let members = census::group_members(p.group.id()).unwrap();
    assert_eq!(members.len(), 3, "sh and two sleeps: {members:?}");
    assert!(p.group.signal(Signal::Kill).unwrap());
    assert_eq!(p.child.wait().await.unwrap().signal(), Some(9));
    eventually(&rt, "every grandchild gone", || gone(p.group)).await;
    eventually(&rt, "no zombie child", no_zombie_children).await;
}

async fn a_dropped_child_is_reaped<R: Runtime, S: ProcessSpawner>(rt: R, spawner: S) {
    let p = spawner.spawn(&Command::new("sleep").arg("1000")).unwrap();
    let (pid, group) = (p.child.id(), p.group);
    drop(p); // no wait, no kill: the process keeps running
    assert!(
        census::children_of(std::process::id())
            .unwrap()
            .iter()
            .any(|c| c.pid == pid && !c.is_zombie())
    );
    assert!(group.signal(Signal::Kill).unwrap());
    // The adapter reaps it in the background once it has died.
    eventually(&rt, "the dropped child reaped", || {
        !census::children_of(std::process::id())
            .unwrap()
            .iter()
            .any(|c| c.pid == pid)
    })
    .await;
}

macro_rules! on_every_spawner {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[cfg(feature = "smol")]
            #[test]
            fn smol() {
                $crate::common::smol(super::$name(weir::Smol, weir::smol::SmolProcess))
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn tokio_current_thread() {
                $crate::common::tokio_current(super::$name(weir::Tokio, weir::tokio::TokioProcess))
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn tokio_multi_thread() {
                $crate::common::tokio_multi(super::$name(weir::Tokio, weir::tokio::TokioProcess))
            }

            #[cfg(feature = "async-std")]
            #[test]
            fn async_std() {
                $crate::common::async_std(super::$name(
                    weir::AsyncStd,
                    weir::async_std::AsyncStdProcess,
                ))
            }
        }
    )+};
}

on_every_spawner!(
    pipes_round_trip,
    stderr_is_its_own_pipe,
    a_missing_program_is_an_error,
    sigterm_to_the_group,
    sigkill_reaches_grandchildren,
    a_dropped_child_is_reaped,
);
