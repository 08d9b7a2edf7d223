//! weir-mcp's client against rmcp's on the same server: `calls` echo calls
//! at each number in flight, over stdio and over Streamable HTTP; weir on
//! smol and on tokio, rmcp on tokio (the only runtime it runs on). Prints
//! calls/s and p50/p99 per client, the ratios to rmcp, then allocations
//! per call in the client's process, counted in a pass of their own. Exits
//! non-zero if any call failed or came back with the wrong text.
//!
//! ```text
//! cargo bench -p weir-mcp-bench --bench mcp_vs_rmcp -- [--calls 10000] [--in-flight 1,16,256]
//!     [--transports stdio,http] [--clients weir-smol,weir-tokio,rmcp]
//!     [--stdio-server "<command line>"] [--url URL] [--alloc-calls 1000] [--warmup 200] [--rounds 3]
//! ```
//!
//! Without `--stdio-server` / `--url` the servers are this crate's
//! `echo-stdio` (a process per client) and `echo-http` (one process).

mod alloc;
mod load;
mod rmcp_side;
mod servers;
mod weir_side;

use std::process::ExitCode;

use load::{Caller, Pass};
use rmcp_side::Rmcp;
use servers::{HttpEcho, Target};
use weir_core::Runtime;
use weir_side::Weir;

#[global_allocator]
static ALLOC: alloc::Gated = alloc::Gated;

const MESSAGE: &str = "weir bench";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    WeirSmol,
    WeirTokio,
    Rmcp,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::WeirSmol => "weir-smol",
            Side::WeirTokio => "weir-tokio",
            Side::Rmcp => "rmcp-tokio",
        }
    }

    fn parse(s: &str) -> Result<Side, String> {
        match s {
            "weir-smol" => Ok(Side::WeirSmol),
            "weir-tokio" => Ok(Side::WeirTokio),
            "rmcp" | "rmcp-tokio" => Ok(Side::Rmcp),
            _ => Err(format!(
                "`--clients`: `{s}` is not weir-smol, weir-tokio or rmcp"
            )),
        }
    }
}

struct Options {
    calls: usize,
    in_flight: Vec<usize>,
    transports: Vec<String>,
    clients: Vec<Side>,
    stdio_server: Option<String>,
    url: Option<String>,
    alloc_calls: usize,
    warmup: usize,
    rounds: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        calls: 10_000,
        in_flight: vec![1, 16, 256],
        transports: vec!["stdio".into(), "http".into()],
        clients: vec![Side::WeirSmol, Side::WeirTokio, Side::Rmcp],
        stdio_server: None,
        url: None,
        alloc_calls: 1_000,
        warmup: 200,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        // `cargo bench` passes `--bench` to every bench binary.
        if flag == "--bench" {
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("`{flag}`: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--calls" => o.calls = number(&value)?,
            "--alloc-calls" => o.alloc_calls = number(&value)?,
            "--warmup" => o.warmup = number(&value)?,
            "--rounds" => o.rounds = number(&value)?,
            "--in-flight" => {
                o.in_flight = value.split(',').map(number).collect::<Result<_, _>>()?
            }
            "--transports" => o.transports = value.split(',').map(str::to_owned).collect(),
            "--clients" => {
                o.clients = value
                    .split(',')
                    .map(Side::parse)
                    .collect::<Result<_, _>>()?
            }
            "--stdio-server" => o.stdio_server = Some(value),
            "--url" => o.url = Some(value),
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if o.calls == 0 || o.rounds == 0 || o.in_flight.contains(&0) {
        return Err("`--calls`, `--rounds` and every `--in-flight` must be at least 1".into());
    }
    if let Some(t) = o.transports.iter().find(|t| *t != "stdio" && *t != "http") {
        return Err(format!("`--transports`: `{t}` is not stdio or http"));
    }
    Ok(o)
}

/// One measured pass of one client.
struct Row {
    side: Side,
    pass: Pass,
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mcp_vs_rmcp: {e}");
            return ExitCode::from(2);
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut failed = false;
    for transport in &o.transports {
        // The HTTP echo server lives for the whole transport's run.
        let (target, _server) = match transport.as_str() {
            "stdio" => match servers::stdio_target(o.stdio_server.as_deref()) {
                Ok(t) => (t, None),
                Err(e) => return fail(&e),
            },
            _ => match &o.url {
                Some(url) => (Target::Http { url: url.clone() }, None),
                None => match HttpEcho::start() {
                    Ok(s) => (Target::Http { url: s.url.clone() }, Some(s)),
                    Err(e) => return fail(&e),
                },
            },
        };
        println!(
            "\n## {transport}: {target}, {} calls per pass, median of {} rounds",
            o.calls, o.rounds
        );
        println!(
            "{:>9}  {:<11} {:>9} {:>10} {:>10}  errors",
            "in flight", "client", "calls/s", "p50 ms", "p99 ms"
        );
        for &k in &o.in_flight {
            // Rounds interleave the clients, so a burst of load from
            // elsewhere on the machine falls on all of them; each client's
            // median round (by calls/s) is reported.
            let mut by_side: Vec<Vec<Pass>> = o.clients.iter().map(|_| Vec::new()).collect();
            for _ in 0..o.rounds {
                for (i, &side) in o.clients.iter().enumerate() {
                    match run(&tokio, side, &target, k, o.calls, o.warmup, false) {
                        Ok((pass, _)) => {
                            failed |= pass.errors > 0;
                            by_side[i].push(pass);
                        }
                        Err(e) => {
                            eprintln!("{k:>9}  {:<11} {e}", side.name());
                            failed = true;
                        }
                    }
                }
            }
            let mut rows = Vec::new();
            for (&side, mut passes) in o.clients.iter().zip(by_side) {
                if passes.is_empty() {
                    continue;
                }
                passes.sort_by(|a, b| a.calls_per_s().total_cmp(&b.calls_per_s()));
                let spread = format!(
                    "{:.0}..{:.0}",
                    passes[0].calls_per_s(),
                    passes[passes.len() - 1].calls_per_s()
                );
                let pass = passes.swap_remove(passes.len() / 2);
                print_row(k, side, &pass, &spread);
                rows.push(Row { side, pass });
            }
            print_ratios(k, &rows);
        }
        if o.alloc_calls > 0 {
            println!(
                "allocations per call in the client's process ({} calls, 1 in flight, after {} warm-up calls)",
                o.alloc_calls, o.warmup
            );
            for &side in &o.clients {
                match run(&tokio, side, &target, 1, o.alloc_calls, o.warmup, true) {
                    Ok((pass, Some(c))) => {
                        failed |= pass.errors > 0;
                        let n = o.alloc_calls as f64;
                        println!(
                            "           {:<11} {:>7.1} allocations, {:>8.0} bytes",
                            side.name(),
                            c.allocations as f64 / n,
                            c.bytes as f64 / n
                        );
                    }
                    Ok((_, None)) => unreachable!("a counting pass counts"),
                    Err(e) => {
                        eprintln!("           {:<11} {e}", side.name());
                        failed = true;
                    }
                }
            }
        }
    }
    if failed {
        eprintln!("mcp_vs_rmcp: some calls failed (see above)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn fail(e: &str) -> ExitCode {
    eprintln!("mcp_vs_rmcp: {e}");
    ExitCode::FAILURE
}

/// Connects `side`, warms it up, measures one pass (counting allocations
/// if `count`), closes it.
fn run(
    tokio: &tokio::runtime::Runtime,
    side: Side,
    target: &Target,
    in_flight: usize,
    calls: usize,
    warmup: usize,
    count: bool,
) -> Result<(Pass, Option<alloc::Counted>), String> {
    match side {
        Side::WeirSmol => smol::block_on(async {
            let rt = weir_smol::Smol;
            let weir = Weir::connect(rt, target, in_flight, MESSAGE).await?;
            let out = measure(&rt, &weir.caller, calls, in_flight, warmup, count).await;
            weir.close().await;
            out
        }),
        Side::WeirTokio => tokio.block_on(async {
            let rt = weir_tokio::Tokio;
            let weir = Weir::connect(rt, target, in_flight, MESSAGE).await?;
            let out = measure(&rt, &weir.caller, calls, in_flight, warmup, count).await;
            weir.close().await;
            out
        }),
        Side::Rmcp => tokio.block_on(async {
            let rmcp = Rmcp::connect(target, in_flight, MESSAGE).await?;
            // weir's tokio adapter only spawns the workers here (tokio::spawn).
            let out = measure(
                &weir_tokio::Tokio,
                &rmcp.caller,
                calls,
                in_flight,
                warmup,
                count,
            )
            .await;
            rmcp.close().await;
            out
        }),
    }
}

async fn measure<R: Runtime, C: Caller>(
    rt: &R,
    caller: &C,
    calls: usize,
    in_flight: usize,
    warmup: usize,
    count: bool,
) -> Result<(Pass, Option<alloc::Counted>), String> {
    // At least two calls per worker: every worker's connection (HTTP) is
    // open before the clock starts.
    let warm = load::drive(rt, caller, warmup.max(2 * in_flight), in_flight).await;
    if let Some(e) = warm.first_error {
        return Err(format!("warming up: {e}"));
    }
    if count {
        alloc::start();
    }
    let pass = load::drive(rt, caller, calls, in_flight).await;
    let counted = count.then(alloc::stop);
    Ok((pass, counted))
}

fn print_row(k: usize, side: Side, p: &Pass, spread: &str) {
    let errors = match &p.first_error {
        None => "none".to_owned(),
        Some(e) => format!("{} (first: {e})", p.errors),
    };
    println!(
        "{k:>9}  {:<11} {:>9.0} {:>10.3} {:>10.3}  {spread:>13}  {errors}",
        side.name(),
        p.calls_per_s(),
        p.percentile(0.50).as_secs_f64() * 1e3,
        p.percentile(0.99).as_secs_f64() * 1e3,
    );
}

fn print_ratios(k: usize, rows: &[Row]) {
    let Some(rmcp) = rows.iter().find(|r| r.side == Side::Rmcp) else {
        return;
    };
    for r in rows.iter().filter(|r| r.side != Side::Rmcp) {
        println!(
            "{k:>9}  {:<11} {:>8.2}x calls/s of rmcp, p99 {:.2}x rmcp's",
            r.side.name(),
            r.pass.calls_per_s() / rmcp.pass.calls_per_s(),
            r.pass.percentile(0.99).as_secs_f64()
                / rmcp.pass.percentile(0.99).as_secs_f64().max(1e-9),
        );
    }
}
