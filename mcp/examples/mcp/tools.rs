//! `tools`: lists the server's tools (every page).

use std::process::ExitCode;

use crate::args::Args;
use crate::connect::connect;
use crate::runtime::{Env, Subcommand};

pub struct Tools;

impl Subcommand for Tools {
    async fn run<E: Env>(&self, rt: E, args: &Args) -> Result<ExitCode, String> {
        let server = connect(rt, args)?;
        let tools = server.client.list_tools().await;
        let tools = match tools {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("listing tools: {e}{}", server.stderr_tail());
                server.close(rt).await;
                return Err(msg);
            }
        };
        eprintln!(
            "{} on {}: {} tools",
            server.describe(),
            E::NAME,
            tools.len()
        );
        if args.switch("--json") {
            let json = serde_json::to_string_pretty(&tools).map_err(|e| e.to_string())?;
            println!("{json}");
        } else {
            for tool in &tools {
                let description = tool.description.as_deref().unwrap_or("");
                let first_line = description.lines().next().unwrap_or("");
                println!("{:<32} {first_line}", tool.name);
            }
        }
        server.close(rt).await;
        Ok(ExitCode::SUCCESS)
    }
}
