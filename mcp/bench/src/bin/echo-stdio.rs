//! The stdio echo server: newline-delimited JSON-RPC on stdin and stdout,
//! one thread, blocking I/O. Replies are gathered while more requests are
//! already buffered and written together, so 256 requests in flight cost a
//! few writes, not 256.

use std::io::{BufRead, BufReader, Write};

use weir_mcp_bench::echo::answer;

/// Past this much pending output, write even if more input is waiting.
const FLUSH_AT: usize = 64 * 1024;

fn main() -> std::io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, std::io::stdin().lock());
    let mut stdout = std::io::stdout().lock();
    let mut line = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(2 * FLUSH_AT);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        answer(&line, &mut out);
        if !out.is_empty() && (input.buffer().is_empty() || out.len() >= FLUSH_AT) {
            stdout.write_all(&out)?;
            stdout.flush()?;
            out.clear();
        }
    }
    stdout.write_all(&out)?;
    stdout.flush()
}
