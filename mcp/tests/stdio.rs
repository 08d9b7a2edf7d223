//! The supervised stdio transport against plain servers (no SDK; see
//! servers/plain.py): calls, the bounded close and each of its steps,
//! grandchildren, drop without close, a server killed or exiting mid-call
//! and its restart, the client's restart limit, garbage lines, a server that never
//! answers, stderr. After each test no process of the server is left and no
//! child of the test is a zombie (counted from /proc).
#![cfg(target_os = "linux")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::json;
use support::{Env, assert_no_leftovers, eventually, group_members, plain};
use weir_core::io::{Command, ProcessGroup, Signal};
use weir_mcp::stdio::{Stdio, StdioHandle};
use weir_mcp::transport::{Transport, TransportError};
use weir_mcp::{Client, McpError, ProtocolMode, TimeoutKind};

const LONG: Duration = Duration::from_secs(30);

fn client<E: Env>(rt: E, stdio: Stdio<E::Spawner, E>) -> Client<E> {
    Client::builder(rt)
        .protocol(ProtocolMode::Legacy)
        .build(stdio)
}

async fn close_and_check<E: Env>(rt: E, client: &Client<E>, handle: &StdioHandle, pgid: u32) {
    client.close();
    assert!(handle.wait_all_gone(&rt, LONG).await, "close is bounded");
    assert_no_leftovers(&rt, pgid).await;
}

async fn calls_then_close_leaves_nothing<E: Env>(rt: E) {
    let Some(cmd) = plain("echo") else { return };
    // The runtime's own spawner (ProcessRuntime), as a user writes it.
    let stdio = Stdio::on(rt, cmd).close_waits(LONG, LONG, LONG);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    let reply = client
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .unwrap();
    assert_eq!(reply.text(), "hi");
    let pid = handle.pid().expect("a server runs");
    assert_eq!(group_members(pid).len(), 1);
    close_and_check(rt, &client, &handle, pid).await;
    // Closing stdin was enough: the server exited on its own, with 0.
    assert_eq!(handle.last_exit().as_deref(), Some("exit status: 0"));
    assert_eq!(handle.spawns(), 1);
}

async fn close_sends_sigterm_to_a_server_that_ignores_eof<E: Env>(rt: E) {
    let Some(cmd) = plain("ignore-eof") else {
        return;
    };
    // A server that keeps running after stdin closes cannot exit within a
    // zero wait, whatever the machine's speed: SIGTERM must follow.
    let stdio = Stdio::new(E::spawner(), rt, cmd).close_waits(Duration::ZERO, LONG, LONG);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let pid = handle.pid().unwrap();
    close_and_check(rt, &client, &handle, pid).await;
    assert_eq!(handle.last_exit().as_deref(), Some("signal: 15 (SIGTERM)"));
}

async fn close_sends_sigkill_to_a_server_that_ignores_sigterm<E: Env>(rt: E) {
    let Some(cmd) = plain("stubborn") else { return };
    let stdio = Stdio::new(E::spawner(), rt, cmd).close_waits(
        Duration::ZERO,
        Duration::from_millis(100),
        LONG,
    );
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let pid = handle.pid().unwrap();
    close_and_check(rt, &client, &handle, pid).await;
    // SIGTERM was ignored (the handler is installed before the first
    // answer), so only SIGKILL could end it.
    assert_eq!(handle.last_exit().as_deref(), Some("signal: 9 (SIGKILL)"));
}

/// A server that stopped reading its stdin (alive, pipe full) with a write
/// waiting on it: the close still ends it, within its waits.
async fn close_ends_a_server_that_stopped_reading<E: Env>(rt: E) {
    let Some(cmd) = plain("deaf") else { return };
    let stdio =
        Stdio::new(E::spawner(), rt, cmd).close_waits(Duration::from_millis(100), LONG, LONG);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client.call_tool("deafen", json!({})).await.unwrap();
    let pid = handle.pid().unwrap();
    // Far more than a pipe holds: the writer blocks on it.
    let big = "x".repeat(4 << 20);
    let call = client.call_tool("echo", json!({"message": big}));
    let close = async {
        eventually(&rt, "the call in flight", || client.stats().in_flight == 1).await;
        client.close();
    };
    let (result, ()) = futures_lite::future::zip(call, close).await;
    assert!(
        matches!(result, Err(McpError::Closed | McpError::Transport(_))),
        "{result:?}"
    );
    assert!(handle.wait_all_gone(&rt, LONG).await, "the close ran");
    assert_no_leftovers(&rt, pid).await;
    // It ignored stdin closing (it never reads), so SIGTERM ended it.
    assert_eq!(handle.last_exit().as_deref(), Some("signal: 15 (SIGTERM)"));
}

/// `sh -c 'sleep 1000 & exec python3 plain.py echo'`: a server with a
/// grandchild that holds its stdout open.
fn with_grandchild(mode: &str) -> Option<Command> {
    let plain = plain(mode)?;
    let line = format!(
        "sleep 1000 & exec {} {}",
        plain.program().to_string_lossy(),
        plain
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    Some(Command::new("sh").args(["-c", &line]))
}

async fn close_takes_grandchildren_too<E: Env>(rt: E) {
    let Some(cmd) = with_grandchild("echo") else {
        return;
    };
    let stdio = Stdio::new(E::spawner(), rt, cmd).close_waits(LONG, LONG, LONG);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let pid = handle.pid().unwrap();
    let members = group_members(pid);
    assert_eq!(
        members.len(),
        2,
        "python and its sleeping sibling: {members:?}"
    );
    close_and_check(rt, &client, &handle, pid).await;
}

async fn dropping_the_transport_kills_the_group<E: Env>(rt: E) {
    // ignore-eof: dropping the sink closes stdin, which must not be what
    // ends the server here.
    let Some(cmd) = with_grandchild("ignore-eof") else {
        return;
    };
    let stdio = Stdio::new(E::spawner(), rt, cmd);
    let handle = stdio.handle();
    let transport = stdio.spawn().unwrap();
    let pid = transport.pid();
    eventually(&rt, "both processes started", || {
        group_members(pid).len() == 2
    })
    .await;
    let (sink, source) = transport.split();
    drop(sink);
    assert_eq!(group_members(pid).len(), 2, "one half is not the end");
    drop(source); // no close: the group gets SIGKILL, reaped in the background
    assert!(handle.wait_all_gone(&rt, LONG).await);
    assert_no_leftovers(&rt, pid).await;
}

async fn killed_mid_call_fails_the_call_then_restarts<E: Env>(rt: E) {
    let Some(cmd) = with_grandchild("echo") else {
        return;
    };
    let stdio = Stdio::new(E::spawner(), rt, cmd);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let first = handle.pid().unwrap();
    // A call the server never answers, in flight when the server is killed.
    let call = client.call_tool("mute", json!({}));
    let kill = async {
        eventually(&rt, "the call in flight", || client.stats().in_flight == 1).await;
        ProcessGroup::led_by(first)
            .unwrap()
            .signal(Signal::Kill)
            .unwrap();
    };
    let (result, ()) = futures_lite::future::zip(call, kill).await;
    match result {
        Err(McpError::Transport(TransportError::Exited { status })) => {
            assert_eq!(status, "signal: 9 (SIGKILL)");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert_no_leftovers(&rt, first).await;
    // The next call starts the server again.
    let reply = client
        .call_tool("echo", json!({"message": "again"}))
        .await
        .unwrap();
    assert_eq!(reply.text(), "again");
    assert_eq!(handle.spawns(), 2);
    let second = handle.pid().unwrap();
    assert_ne!(first, second);
    close_and_check(rt, &client, &handle, second).await;
}

/// A process that left the group (`setsid`) keeps the server's stdout open
/// after the server died: the client must still see the end, after the kill
/// wait, rather than hang. (What escaped the group is not ours to kill; the
/// test kills it itself.)
async fn a_pipe_held_outside_the_group_does_not_hang_the_client<E: Env>(rt: E) {
    let Some(plain) = plain("echo") else { return };
    let line = format!(
        "setsid sleep 1000 & echo \"holder $!\" >&2; exec {} {}",
        plain.program().to_string_lossy(),
        plain
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let stdio = Stdio::new(E::spawner(), rt, Command::new("sh").args(["-c", &line])).close_waits(
        LONG,
        LONG,
        Duration::from_millis(200),
    );
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let pid = handle.pid().unwrap();
    let mut holder = None;
    eventually(&rt, "the holder's pid on stderr", || {
        holder = handle
            .stderr_tail()
            .iter()
            .find_map(|l| l.strip_prefix("holder ")?.parse::<u32>().ok());
        holder.is_some()
    })
    .await;
    let holder = holder.unwrap();
    // setsid made it the leader of a group of its own; ended even if the
    // test fails.
    struct EndHolder(u32);
    impl Drop for EndHolder {
        fn drop(&mut self) {
            let _ = ProcessGroup::led_by(self.0).unwrap().signal(Signal::Kill);
        }
    }
    let _end_holder = EndHolder(holder);
    let call = client.call_tool("mute", json!({}));
    let kill = async {
        eventually(&rt, "the call in flight", || client.stats().in_flight == 1).await;
        ProcessGroup::led_by(pid)
            .unwrap()
            .signal(Signal::Kill)
            .unwrap();
    };
    let (result, ()) = futures_lite::future::zip(call, kill).await;
    assert!(
        matches!(&result, Err(McpError::Transport(TransportError::Exited { status })) if status == "signal: 9 (SIGKILL)"),
        "{result:?}"
    );
    assert_no_leftovers(&rt, pid).await;
    // The holder is alive and outside the group (ended by `_end_holder`).
    let holder_proc = weir_core::test_util::census::processes()
        .unwrap()
        .into_iter()
        .find(|p| p.pid == holder)
        .expect("the holder still runs");
    assert_eq!(holder_proc.pgid, holder);
    client.close();
    assert!(handle.wait_all_gone(&rt, LONG).await);
}

async fn exit_mid_call_is_a_typed_error<E: Env>(rt: E) {
    let Some(cmd) = plain("echo") else { return };
    let stdio = Stdio::new(E::spawner(), rt, cmd);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    let pid = handle.pid().unwrap();
    let err = client.call_tool("crash", json!({})).await.unwrap_err();
    match err {
        McpError::Transport(TransportError::Exited { status }) => {
            assert_eq!(status, "exit status: 3");
        }
        other => panic!("expected Exited, got {other:?}"),
    }
    assert!(handle.wait_all_gone(&rt, LONG).await);
    assert_no_leftovers(&rt, pid).await;
    client.close();
}

async fn the_restart_limit_holds<E: Env>(rt: E) {
    let Some(cmd) = plain("echo") else { return };
    let stdio = Stdio::new(E::spawner(), rt, cmd);
    let handle = stdio.handle();
    let client = Client::builder(rt)
        .protocol(ProtocolMode::Legacy)
        .max_restarts(Some(0))
        .build(stdio);
    assert!(client.call_tool("crash", json!({})).await.is_err());
    // No restart: the next call gets the error that ended the server.
    match client.call_tool("echo", json!({"message": "x"})).await {
        Err(McpError::Transport(TransportError::Exited { status })) => {
            assert_eq!(status, "exit status: 3");
        }
        other => panic!("expected the last exit, got {other:?}"),
    }
    assert_eq!(handle.spawns(), 1);
    assert!(handle.wait_all_gone(&rt, LONG).await);
    client.close();
}

async fn a_missing_program_is_a_connect_error<E: Env>(rt: E) {
    let stdio = Stdio::new(
        E::spawner(),
        rt,
        Command::new("/nonexistent/weir-mcp-server"),
    );
    let handle = stdio.handle();
    let client = client(rt, stdio);
    match client.call_tool("echo", json!({})).await {
        Err(McpError::Transport(TransportError::Connect(e))) => {
            assert!(
                e.to_string().contains("/nonexistent/weir-mcp-server"),
                "{e}"
            );
        }
        other => panic!("expected a Connect error, got {other:?}"),
    }
    assert_eq!(handle.spawns(), 0);
}

async fn garbage_lines_are_counted_and_the_connection_lives<E: Env>(rt: E) {
    let Some(cmd) = plain("garbage") else { return };
    let stdio = Stdio::new(E::spawner(), rt, cmd);
    let handle = stdio.handle();
    let client = client(rt, stdio);
    for i in 0..5 {
        let reply = client
            .call_tool("echo", json!({"message": format!("m{i}")}))
            .await
            .unwrap();
        assert_eq!(reply.text(), format!("m{i}"));
    }
    let stats = client.stats();
    // One garbage line before each answer: initialize and five calls.
    assert_eq!(stats.malformed, 6, "{stats:?}");
    assert_eq!(stats.connects, 1, "never reconnected");
    let pid = handle.pid().unwrap();
    close_and_check(rt, &client, &handle, pid).await;
}

async fn a_server_that_never_answers_meets_the_deadline<E: Env>(rt: E) {
    let Some(cmd) = plain("echo") else { return };
    let log = std::env::temp_dir().join(format!(
        "weir-mcp-mute-{}-{}.log",
        std::process::id(),
        fastrand_suffix()
    ));
    let stdio = Stdio::new(E::spawner(), rt, cmd.env("PLAIN_LOG", &log));
    let handle = stdio.handle();
    let client = Client::builder(rt)
        .protocol(ProtocolMode::Legacy)
        .idle_timeout(Some(Duration::from_millis(300)))
        .build(stdio);
    let err = client.call_tool("mute", json!({})).await.unwrap_err();
    assert!(
        matches!(err, McpError::Timeout(TimeoutKind::Idle)),
        "{err:?}"
    );
    // The connection lives on, and the server was told of the abandoned call.
    let reply = client
        .call_tool("echo", json!({"message": "still here"}))
        .await
        .unwrap();
    assert_eq!(reply.text(), "still here");
    let pid = handle.pid().unwrap();
    close_and_check(rt, &client, &handle, pid).await;
    let seen = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let cancels: Vec<&str> = seen
        .lines()
        .filter(|l| l.contains("notifications/cancelled"))
        .collect();
    assert_eq!(cancels.len(), 1, "exactly one cancellation: {seen}");
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn stderr_lines_reach_the_log<E: Env>(rt: E) {
    let Some(cmd) = plain("stderr") else { return };
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    let stdio = Stdio::new(E::spawner(), rt, cmd)
        .stderr_lines(2)
        .on_stderr(move |line| sink.lock().push(line.to_owned()));
    let handle = stdio.handle();
    let client = client(rt, stdio);
    client
        .call_tool("echo", json!({"message": "x"}))
        .await
        .unwrap();
    eventually(&rt, "three stderr lines", || seen.lock().len() == 3).await;
    assert_eq!(
        *seen.lock(),
        ["stderr line 0", "stderr line 1", "stderr line 2"]
    );
    // The ring keeps the last two.
    assert_eq!(handle.stderr_tail(), ["stderr line 1", "stderr line 2"]);
    let pid = handle.pid().unwrap();
    close_and_check(rt, &client, &handle, pid).await;
}

/// An `mcpServers` configuration with stdio connectors made from its
/// entries: two servers, each its own process, all gone after the close.
async fn a_manager_of_stdio_servers<E: Env>(rt: E) {
    let Some(cmd) = plain("echo") else { return };
    let program = cmd.program().to_string_lossy().into_owned();
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let config = json!({"mcpServers": {
        "a": {"command": program, "args": args},
        "b": {"command": program, "args": args, "env": {"WEIR_TEST": "b"}},
    }});
    let config = weir_mcp::config::McpServers::from_json(&config.to_string()).unwrap();
    // stdio::factory's connectors, with their handles kept to wait for the
    // close (a runtime dropped before the close finishes would kill the
    // servers instead, and tokio reaps them only while a runtime runs).
    let handles = Mutex::new(Vec::<StdioHandle>::new());
    let stdio_factory = weir_mcp::stdio::factory(E::spawner(), rt);
    let factory = |name: &str, server: &weir_mcp::config::ServerConfig| {
        let weir_mcp::config::ServerConfig::Stdio(c) = server else {
            return stdio_factory(name, server);
        };
        let stdio = Stdio::from_config(E::spawner(), rt, c);
        handles.lock().push(stdio.handle());
        Ok(weir_mcp::manager::BoxConnect::new(stdio))
    };
    let manager = weir_mcp::manager::Manager::from_config(
        &config,
        &factory,
        |_, b| b.protocol(ProtocolMode::Legacy),
        rt,
    )
    .unwrap();
    let all = manager.list_all_tools().await;
    assert_eq!(all.len(), 2);
    assert!(
        all.values()
            .all(|tools| tools.as_ref().unwrap().iter().any(|t| t.name == "echo"))
    );
    for server in ["a", "b"] {
        let r = manager
            .call_tool_on(server, "echo", json!({"message": server}))
            .await
            .unwrap();
        assert_eq!(r.text(), server);
    }
    let stats = manager.stats();
    assert!(stats.values().all(|s| s.connects == 1), "{stats:?}");
    let pids: Vec<u32> = handles.lock().iter().filter_map(StdioHandle::pid).collect();
    assert_eq!(pids.len(), 2);
    manager.close();
    let handles = handles.lock().clone();
    for h in &handles {
        assert!(h.wait_all_gone(&rt, LONG).await);
    }
    for pid in pids {
        assert_no_leftovers(&rt, pid).await;
    }
}

on_real_runtimes!(
    a_manager_of_stdio_servers,
    calls_then_close_leaves_nothing,
    close_sends_sigterm_to_a_server_that_ignores_eof,
    close_sends_sigkill_to_a_server_that_ignores_sigterm,
    close_takes_grandchildren_too,
    close_ends_a_server_that_stopped_reading,
    dropping_the_transport_kills_the_group,
    killed_mid_call_fails_the_call_then_restarts,
    a_pipe_held_outside_the_group_does_not_hang_the_client,
    exit_mid_call_is_a_typed_error,
    the_restart_limit_holds,
    a_missing_program_is_a_connect_error,
    garbage_lines_are_counted_and_the_connection_lives,
    a_server_that_never_answers_meets_the_deadline,
    stderr_lines_reach_the_log,
);
