//! rmcp's client as its documentation shows it: `().serve(transport)`, a
//! child process through `TokioChildProcess`, Streamable HTTP through its
//! reqwest client. One setting is changed from rmcp's defaults:
//! `max_concurrent_requests` (16 POSTs) is raised to the calls in flight,
//! as weir's pool is sized to them, so neither client queues behind its own
//! limit.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::{Peer, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};

use crate::load::Caller;
use crate::servers::Target;

pub struct Rmcp {
    pub caller: RmcpCaller,
    running: RunningService<RoleClient, ()>,
}

#[derive(Clone)]
pub struct RmcpCaller {
    peer: Peer<RoleClient>,
    arguments: JsonObject,
    expected: Arc<str>,
}

impl Caller for RmcpCaller {
    async fn call(&self) -> Result<(), String> {
        let params = CallToolRequestParams::new(weir_mcp_bench::echo::TOOL)
            .with_arguments(self.arguments.clone());
        let reply = self
            .peer
            .call_tool(params)
            .await
            .map_err(|e| e.to_string())?;
        let text = reply
            .content
            .first()
            .and_then(|c| c.as_text())
            .map(|t| t.text.as_str());
        if reply.is_error == Some(true) || text != Some(&*self.expected) {
            return Err(format!("unexpected reply: {:?}", reply.content));
        }
        Ok(())
    }
}

impl Rmcp {
    /// Connects (handshake included) to `target`; runs on a tokio runtime.
    pub async fn connect(target: &Target, in_flight: usize, message: &str) -> Result<Self, String> {
        let running = match target {
            Target::Stdio { program, args } => {
                let mut command = tokio::process::Command::new(program);
                command.args(args);
                let transport = TokioChildProcess::new(command)
                    .map_err(|e| format!("rmcp: starting {target}: {e}"))?;
                ().serve(transport).await
            }
            Target::Http { url } => {
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .max_concurrent_requests(in_flight);
                ().serve(StreamableHttpClientTransport::from_config(config))
                    .await
            }
        }
        .map_err(|e| format!("rmcp: connecting to {target}: {e}"))?;
        let mut arguments = JsonObject::new();
        arguments.insert("message".into(), message.into());
        let rmcp = Rmcp {
            caller: RmcpCaller {
                peer: running.peer().clone(),
                arguments,
                expected: weir_mcp_bench::echo::expected(message).into(),
            },
            running,
        };
        if let Err(e) = rmcp.caller.peer.list_tools(None).await {
            rmcp.close().await;
            return Err(format!("rmcp: listing tools of {target}: {e}"));
        }
        Ok(rmcp)
    }

    pub async fn close(self) {
        let _ = self.running.cancel().await;
    }
}
