//! The manager: built from `mcpServers`, routing by tool name, listing all
//! tools with one server down, stats per server.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Value, json};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::config::{ConfigFileError, McpServers, ServerConfig};
use weir_mcp::manager::{BoxConnect, Manager};
use weir_mcp::transport::TransportError;
use weir_mcp::{McpError, ProtocolMode, memory};

use common::{Server, text};

/// A legacy server offering `tools`, answering each call with
/// "<server>:<tool>".
fn serve(
    rt: &VirtualRuntime,
    name: &'static str,
    server: Arc<Server>,
    tools: &'static [&'static str],
) {
    rt.spawn(async move {
        server.accept_initialize("2025-11-25").await;
        while let Some(r) = server.request().await {
            let p = common::params(r.params.as_deref());
            match r.method.as_str() {
                "tools/list" => {
                    let list: Vec<Value> = tools
                        .iter()
                        .map(|t| json!({"name": t, "inputSchema": {}}))
                        .collect();
                    server.reply(r.id, json!({"tools": list}));
                }
                "tools/call" => server.reply(
                    r.id,
                    text(&format!("{name}:{}", p["name"].as_str().unwrap())),
                ),
                _ => server.error(r.id, -32601, "no"),
            }
        }
    })
    .detach();
}

#[test]
fn routes_calls_by_tool_name_and_reports_per_server() {
    let rt = VirtualRuntime::new();
    let cfg = McpServers::from_json(
        r#"{"mcpServers": {
            "alpha": {"command": "alpha-server", "args": ["--stdio"]},
            "beta": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
            "down": {"command": "missing"}
        }}"#,
    )
    .unwrap();
    let peers: Arc<Mutex<HashMap<String, memory::Peer>>> = Arc::default();
    let made = peers.clone();
    let factory = move |name: &str,
                        server: &ServerConfig|
          -> Result<BoxConnect<VirtualRuntime>, ConfigFileError> {
        match (name, server) {
            ("down", _) => Ok(BoxConnect::new(|| async {
                Err::<memory::MemoryTransport, _>(TransportError::Exited {
                    status: "exit status: 127".into(),
                })
            })),
            (_, ServerConfig::Stdio(s)) => {
                assert_eq!(s.args, ["--stdio"]);
                let (t, p) = memory::pair();
                made.lock().insert(name.to_owned(), p);
                let slot = Mutex::new(Some(t));
                Ok(BoxConnect::new(move || {
                    std::future::ready(slot.lock().take().ok_or(TransportError::Closed))
                }))
            }
            (_, ServerConfig::Http(h)) => {
                assert_eq!(h.url, "http://127.0.0.1:9/mcp");
                let (t, p) = memory::pair();
                made.lock().insert(name.to_owned(), p);
                let slot = Mutex::new(Some(t));
                Ok(BoxConnect::new(move || {
                    std::future::ready(slot.lock().take().ok_or(TransportError::Closed))
                }))
            }
            _ => unreachable!(),
        }
    };
    let manager = Manager::from_config(
        &cfg,
        &factory,
        |_, b| b.protocol(ProtocolMode::Legacy),
        rt.clone(),
    )
    .unwrap();
    let alpha = Server::new(peers.lock().remove("alpha").unwrap());
    let beta = Server::new(peers.lock().remove("beta").unwrap());
    serve(&rt, "alpha", alpha, &["search", "shared"]);
    serve(&rt, "beta", beta, &["fetch", "shared"]);

    // The first call lists every server, routes, and calls.
    let r = rt.block_on(manager.call_tool("fetch", json!({}))).unwrap();
    assert_eq!(r.text(), "beta:fetch");
    assert_eq!(
        rt.block_on(manager.call_tool("search", json!({})))
            .unwrap()
            .text(),
        "alpha:search"
    );
    // A name both offer goes to the first server by name.
    assert_eq!(
        rt.block_on(manager.call_tool("shared", json!({})))
            .unwrap()
            .text(),
        "alpha:shared"
    );
    assert_eq!(manager.route("shared").as_deref(), Some("alpha"));
    let e = rt.block_on(manager.call_tool("nowhere", json!({})));
    assert!(
        matches!(e, Err(McpError::UnknownTool(ref t)) if t == "nowhere"),
        "{e:?}"
    );
    let e = rt.block_on(manager.call_tool_on("gamma", "x", json!({})));
    assert!(matches!(e, Err(McpError::UnknownServer(_))), "{e:?}");

    let all = rt.block_on(manager.list_all_tools());
    assert_eq!(all["alpha"].as_ref().unwrap().len(), 2);
    assert_eq!(all["beta"].as_ref().unwrap().len(), 2);
    assert!(matches!(
        all["down"],
        Err(McpError::Transport(TransportError::Exited { .. }))
    ));

    let stats = manager.stats();
    assert_eq!(stats["alpha"].connects, 1);
    assert_eq!(stats["down"].connects, 0);
    // alpha: initialize, three listings, two calls.
    assert_eq!(stats["alpha"].requests, 6);
    assert_eq!(stats["beta"].requests, 5);
}

#[test]
fn config_errors_name_the_server_field_and_rule() {
    use weir_core::Rule;
    let cases = [
        (
            r#"{"mcpServers": {"a": {}}}"#,
            "a",
            "command",
            Rule::Missing,
        ),
        (
            r#"{"mcpServers": {"b": {"command": "x", "url": "http://h"}}}"#,
            "b",
            "url",
            Rule::Other("an entry has command or url, not both"),
        ),
        (
            r#"{"mcpServers": {"c": {"type": "sse", "url": "http://h"}}}"#,
            "c",
            "type",
            Rule::Other("one of stdio, http, streamable-http"),
        ),
        (
            r#"{"mcpServers": {"d": {"type": "http"}}}"#,
            "d",
            "url",
            Rule::Missing,
        ),
        (
            r#"{"mcpServers": {"e": {"command": "  "}}}"#,
            "e",
            "command",
            Rule::Missing,
        ),
    ];
    for (text, server, field, rule) in cases {
        match McpServers::from_json(text) {
            Err(ConfigFileError::Server { server: s, error }) => {
                assert_eq!(
                    (s.as_str(), error.field(), error.rule()),
                    (server, field, &rule),
                    "{text}"
                );
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let ok = McpServers::from_json(
        r#"{"mcpServers": {"x": {"command": "srv", "env": {"K": "v"}, "disabled": false}}}"#,
    )
    .unwrap();
    let ServerConfig::Stdio(s) = &ok.servers["x"] else {
        panic!()
    };
    assert_eq!(s.env["K"], "v");
}

async fn manager_on_every_runtime<R: Runtime>(rt: R) {
    let mut manager = Manager::new();
    for name in ["one", "two"] {
        let (t, peer) = memory::pair();
        let slot = Mutex::new(Some(t));
        let client = weir_mcp::Client::builder(rt.clone())
            .protocol(ProtocolMode::Legacy)
            .build(move || std::future::ready(slot.lock().take().ok_or(TransportError::Closed)));
        manager.insert(name, client);
        let server = Server::new(peer);
        rt.spawn(async move {
            server.accept_initialize("2025-11-25").await;
            while let Some(r) = server.request().await {
                match r.method.as_str() {
                    "tools/list" => server.reply(
                        r.id,
                        json!({"tools": [{"name": format!("{name}_tool"), "inputSchema": {}}]}),
                    ),
                    _ => server.reply(r.id, text(name)),
                }
            }
        })
        .detach();
    }
    assert_eq!(
        manager
            .call_tool("two_tool", json!({}))
            .await
            .unwrap()
            .text(),
        "two"
    );
    assert_eq!(
        manager
            .call_tool("one_tool", json!({}))
            .await
            .unwrap()
            .text(),
        "one"
    );
}

on_every_runtime!(manager_on_every_runtime);

/// A server that announces a new tool list is listed again before the
/// next routed call: a tool it dropped is routed to the server that still
/// has it.
#[test]
fn a_changed_tool_list_is_listed_again_before_routing() {
    let rt = VirtualRuntime::new();
    let mut manager = Manager::new();
    let mut clients = Vec::new();
    for name in ["a", "b"] {
        let (t, peer) = memory::pair();
        let slot = Mutex::new(Some(t));
        let client = weir_mcp::Client::builder(rt.clone())
            .protocol(ProtocolMode::Legacy)
            .build(move || std::future::ready(slot.lock().take().ok_or(TransportError::Closed)));
        manager.insert(name, client.clone());
        clients.push(client);
        let server = Server::new(peer);
        rt.spawn(async move {
            server.accept_initialize("2025-11-25").await;
            let mut dropped_x = false;
            while let Some(r) = server.request().await {
                match r.method.as_str() {
                    "tools/list" => {
                        let tools = if dropped_x {
                            json!([])
                        } else {
                            json!([{"name": "x", "inputSchema": {}}])
                        };
                        server.reply(r.id, json!({ "tools": tools }));
                    }
                    _ => {
                        server.reply(r.id, text(name));
                        if name == "a" {
                            // Server a stops offering x, and says so.
                            dropped_x = true;
                            let n = weir_mcp::jsonrpc::Notification::new(
                                "notifications/tools/list_changed",
                                None,
                            );
                            server
                                .peer
                                .send(weir_mcp::jsonrpc::Message::Notification(n))
                                .unwrap();
                        }
                    }
                }
            }
        })
        .detach();
    }
    assert_eq!(
        rt.block_on(manager.call_tool("x", json!({})))
            .unwrap()
            .text(),
        "a"
    );
    rt.block_on(async { rt.sleep(std::time::Duration::from_millis(1)).await });
    assert!(clients[0].tools_changed());
    assert_eq!(
        rt.block_on(manager.call_tool("x", json!({})))
            .unwrap()
            .text(),
        "b"
    );
    assert!(!clients[0].tools_changed(), "listed again");
    assert_eq!(manager.route("x").as_deref(), Some("b"));
}
