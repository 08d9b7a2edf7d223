//! The frame reader against a simple model: split the input on newlines
//! and classify each line. Whatever the chunking of the byte stream, the
//! reader must yield exactly the model's items, in order.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;
use proptest::prelude::*;
use weir_mcp::framing::{FrameError, FrameReader};
use weir_mcp::jsonrpc::Message;
use weir_mcp::transport::{Inbound, TransportError, TransportEvent};

/// Hands out the input in the given chunk sizes (cycled).
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let size = this.sizes[this.turn % this.sizes.len()].max(1);
        this.turn += 1;
        let n = size.min(buf.len()).min(this.data.len() - this.pos);
        buf[..n].copy_from_slice(&this.data[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

#[derive(Debug, PartialEq)]
enum Item {
    Msg(String),
    TooLarge,
    Invalid,
}

fn model(input: &[u8], max: usize) -> Vec<Item> {
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    // Text after the last newline is a last line only if non-empty.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        if line.len() > max {
            out.push(Item::TooLarge);
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match Message::decode(line) {
            Ok(m) => out.push(Item::Msg(m.method().unwrap_or("").to_owned())),
            Err(_) => out.push(Item::Invalid),
        }
    }
    out
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z/]{1,12}"
            .prop_map(|m| format!("{{\"jsonrpc\":\"2.0\",\"method\":\"{m}\"}}").into_bytes()),
        "[a-z]{0,5}".prop_map(|p| format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"pad\",\"params\":{{\"p\":\"{}\"}}}}",
            p.repeat(40)
        )
        .into_bytes()),
        "[ -~]{0,30}".prop_map(String::into_bytes),
        Just(b"   ".to_vec()),
        Just(b"{\"jsonrpc\":\"2.0\"}".to_vec()),
    ]
}

proptest! {
    #[test]
    fn reader_matches_the_line_model(
        lines in proptest::collection::vec((line(), any::<bool>()), 0..24),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        max in 16usize..400,
        trailing_newline in any::<bool>(),
    ) {
        let mut input = Vec::new();
        for (i, (l, crlf)) in lines.iter().enumerate() {
            input.extend_from_slice(l);
            if *crlf {
                input.push(b'\r');
            }
            if i + 1 < lines.len() || trailing_newline {
                input.push(b'\n');
            }
        }
        let expected = model(&input, max);
        let mut reader = FrameReader::new(Chunked { data: input, pos: 0, sizes, turn: 0 }).max_frame(max);
        let mut got = Vec::new();
        futures_lite::future::block_on(async {
            loop {
                match reader.next().await {
                    Ok(Inbound::Message(m)) => got.push(Item::Msg(m.method().unwrap_or("").to_owned())),
                    Ok(Inbound::Event(TransportEvent::Malformed(FrameError::TooLarge { .. }))) => got.push(Item::TooLarge),
                    Ok(Inbound::Event(TransportEvent::Malformed(FrameError::Invalid { .. }))) => got.push(Item::Invalid),
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(TransportError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
        });
        prop_assert_eq!(got, expected);
    }
}
