//! `call`: one tool call, its result printed; exit status 1 when the call
//! fails, 3 when the tool reports an error (`isError`).

use std::process::ExitCode;

use serde_json::json;

use crate::args::Args;
use crate::connect::connect;
use crate::runtime::{Env, Subcommand};

pub struct Call;

impl Subcommand for Call {
    async fn run<E: Env>(&self, rt: E, args: &Args) -> Result<ExitCode, String> {
        let tool = args.required("--tool")?;
        let arguments = args.json("--args", json!({}))?;
        let server = connect(rt, args)?;
        let reply = server.client.call_tool(tool, arguments).await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("calling `{tool}`: {e}{}", server.stderr_tail());
                server.close(rt).await;
                return Err(msg);
            }
        };
        eprintln!("{} on {}", server.describe(), E::NAME);
        if args.switch("--json") {
            let json = serde_json::to_string_pretty(&reply).map_err(|e| e.to_string())?;
            println!("{json}");
        } else {
            println!("{}", reply.text());
            if let Some(structured) = &reply.structured_content {
                println!("structured: {structured}");
            }
        }
        server.close(rt).await;
        Ok(if reply.is_error {
            eprintln!("the tool reported an error (isError)");
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        })
    }
}
