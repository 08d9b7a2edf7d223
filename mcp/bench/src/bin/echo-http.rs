//! The Streamable HTTP echo server on loopback. Prints
//! `listening http://127.0.0.1:PORT/mcp` as its first line of stdout (port
//! 0, the default, lets the system choose), then serves until it is killed
//! or its stdin closes (so it never outlives the bench that started it).
//!
//! `echo-http [--port N] [--threads N]`

use std::io::{Read, Write};

fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut threads = 2usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (a.as_str(), value) {
            ("--port", Some(v)) if v <= usize::from(u16::MAX) => port = v as u16,
            ("--threads", Some(v)) if v > 0 => threads = v,
            _ => {
                eprintln!("usage: echo-http [--port N] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_io()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening http://{addr}/mcp")?;
    stdout.flush()?;
    runtime.spawn(weir_mcp_bench::http_echo::serve(listener));
    // EOF (or an error) on stdin: the parent is gone or done.
    let mut sink = [0u8; 64];
    while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}
