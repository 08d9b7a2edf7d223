//! The `mcp` CLI's `--url`: its connect helper (the example's own code,
//! not the binary) against a loopback Streamable HTTP server on every
//! runtime, and the usage errors around `--server`/`--url`.

mod http_support;

// The example's modules, compiled into this test; the subcommand
// machinery in runtime.rs is not exercised here.
#[allow(dead_code)]
#[path = "../examples/mcp/args.rs"]
mod args;
#[path = "../examples/mcp/connect.rs"]
mod connect;
#[allow(dead_code)]
#[path = "../examples/mcp/runtime.rs"]
mod runtime;

use http::StatusCode;
use http_support::{Reply, Server, result};
use serde_json::json;

use args::Args;
use runtime::Env;

fn args(argv: &[&str]) -> Args {
    Args::parse(argv.iter().map(|s| s.to_string())).unwrap()
}

/// A modern-era server with one tool, `echo`.
fn echo_server() -> Server {
    Server::start(|seen| {
        let id = &seen.body["id"];
        let body = match seen.rpc_method() {
            Some("server/discover") => result(
                id,
                json!({
                    "supportedVersions": ["2026-07-28"],
                    "capabilities": {"tools": {}},
                    "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "fake", "version": "9"}}
                }),
            ),
            Some("tools/list") => result(
                id,
                json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
            ),
            Some("tools/call") => result(
                id,
                json!({"content": [{"type": "text", "text": seen.body["params"]["arguments"]["message"]}]}),
            ),
            _ => return Reply::Status(StatusCode::ACCEPTED, vec![]),
        };
        Reply::Json(StatusCode::OK, vec![], body.to_string())
    })
}

async fn url_connects_over_streamable_http<E: Env>(rt: E) {
    let server = echo_server();
    let cli = connect::connect(rt, &args(&["--url", &server.url])).unwrap();

    let tools = cli.client.list_tools().await.unwrap();
    assert_eq!(
        tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["echo"]
    );
    let reply = cli
        .client
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .unwrap();
    assert_eq!(reply.text(), "hi");

    // What reached the server were HTTP POSTs of the modern era.
    let probe = server.next().await;
    assert_eq!(probe.method, http::Method::POST);
    assert_eq!(probe.rpc_method(), Some("server/discover"));
    let list = server.next().await;
    assert_eq!(list.header("mcp-method"), Some("tools/list"));
    let call = server.next().await;
    assert_eq!(call.header("mcp-name"), Some("echo"));

    let described = cli.describe();
    assert!(described.starts_with("fake 9 (Modern era"), "{described}");
    assert!(described.contains(&server.url), "{described}");
    assert_eq!(cli.stderr_tail(), "");
    cli.close(rt).await;
}

on_every_net_runtime!(url_connects_over_streamable_http);

fn usage_error(argv: &[&str]) -> String {
    match connect::connect(weir_smol::Smol, &args(argv)) {
        Ok(_) => panic!("{argv:?} accepted"),
        Err(e) => e,
    }
}

#[test]
fn exactly_one_of_server_and_url() {
    let both = usage_error(&["--server", "cat", "--url", "http://127.0.0.1:1/mcp"]);
    assert!(both.contains("not both"), "{both}");
    let neither = usage_error(&["--timeout", "5"]);
    assert!(
        neither.contains("--server") && neither.contains("--url"),
        "{neither}"
    );
}

#[test]
fn a_bad_url_is_a_usage_error() {
    let e = usage_error(&["--url", "ftp://127.0.0.1/mcp"]);
    assert!(e.starts_with("`--url ftp://127.0.0.1/mcp`"), "{e}");
    assert!(e.contains("url"), "{e}");
}

#[test]
fn server_stderr_needs_a_server() {
    let e = usage_error(&["--url", "http://127.0.0.1:1/mcp", "--server-stderr"]);
    assert!(e.contains("--server-stderr"), "{e}");
}
