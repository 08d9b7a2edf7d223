//! weir-mcp's client, as a user would build it: the defaults (deadlines,
//! era by probe), stdio through the runtime's own process spawner, HTTP
//! with one pooled connection per call in flight.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use weir_core::io::{Command, NetRuntime, ProcessRuntime};
use weir_mcp::Client;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::stdio::{Stdio, StdioHandle};

use crate::load::Caller;
use crate::servers::Target;

/// A connected client and what it takes to stop it.
pub struct Weir<R: ProcessRuntime + NetRuntime + Copy> {
    pub caller: WeirCaller<R>,
    handle: Option<StdioHandle>,
    rt: R,
}

#[derive(Clone)]
pub struct WeirCaller<R: ProcessRuntime + NetRuntime + Copy> {
    client: Client<R>,
    arguments: Value,
    expected: Arc<str>,
}

impl<R: ProcessRuntime + NetRuntime + Copy> Caller for WeirCaller<R> {
    async fn call(&self) -> Result<(), String> {
        let reply = self
            .client
            .call_tool(weir_mcp_bench::echo::TOOL, self.arguments.clone())
            .await
            .map_err(|e| e.to_string())?;
        let text = reply.content.first().and_then(|c| c["text"].as_str());
        if reply.is_error || text != Some(&*self.expected) {
            return Err(format!("unexpected reply: {:?}", reply.content));
        }
        Ok(())
    }
}

impl<R: ProcessRuntime + NetRuntime + Copy> Weir<R> {
    /// Connects (handshake included) to `target`.
    pub async fn connect(
        rt: R,
        target: &Target,
        in_flight: usize,
        message: &str,
    ) -> Result<Self, String> {
        let builder = Client::builder(rt);
        let (client, handle) = match target {
            Target::Stdio { program, args } => {
                let stdio = Stdio::on(rt, Command::new(program).args(args));
                let handle = stdio.handle();
                (builder.build(stdio), Some(handle))
            }
            Target::Http { url } => {
                let http =
                    StreamableHttpBuilder::new(url.as_str()).max_connections(in_flight.max(1));
                (builder.build(http.connector(rt)), None)
            }
        };
        let weir = Weir {
            caller: WeirCaller {
                client,
                arguments: json!({ "message": message }),
                expected: weir_mcp_bench::echo::expected(message).into(),
            },
            handle,
            rt,
        };
        if let Err(e) = weir.caller.client.list_tools().await {
            weir.close().await;
            return Err(format!("weir-mcp: connecting to {target}: {e}"));
        }
        Ok(weir)
    }

    /// Closes the client and, for a process, waits until it is gone.
    pub async fn close(self) {
        self.caller.client.close();
        if let Some(handle) = self.handle
            && !handle
                .wait_all_gone(&self.rt, Duration::from_secs(10))
                .await
        {
            eprintln!("weir-mcp: the server process did not stop within 10 s");
        }
    }
}
