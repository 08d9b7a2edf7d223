//! Newline-delimited frames with a size limit, read without ever buffering
//! more than the limit.

use std::io;

use futures_lite::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// What one call to [`read_frame`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete line is in the buffer (newline stripped).
    Line,
    /// The line exceeded the limit; it was skipped up to its newline.
    TooLong,
    /// The peer closed the stream (a partial last line is dropped).
    Eof,
}

/// Reads the next line into `buf` (cleared first), keeping at most `max`
/// bytes; a longer line is consumed and reported as [`Frame::TooLong`].
///
/// ```
/// use futures_lite::io::BufReader;
/// use weir_demo::frame::{read_frame, Frame};
///
/// futures_lite::future::block_on(async {
///     let mut r = BufReader::new(&b"short\nmuch too long\nok\n"[..]);
///     let mut buf = Vec::new();
///     assert_eq!(read_frame(&mut r, &mut buf, 8).await.unwrap(), Frame::Line);
///     assert_eq!(buf, b"short");
///     assert_eq!(read_frame(&mut r, &mut buf, 8).await.unwrap(), Frame::TooLong);
///     assert_eq!(read_frame(&mut r, &mut buf, 8).await.unwrap(), Frame::Line);
///     assert_eq!(buf, b"ok");
///     assert_eq!(read_frame(&mut r, &mut buf, 8).await.unwrap(), Frame::Eof);
/// });
/// ```
pub async fn read_frame<R>(reader: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<Frame>
where
    R: AsyncBufRead + Unpin,
{
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Frame::Eof);
        }
        let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(available.len());
        reader.consume(used);
        if found.is_some() {
            return Ok(if too_long {
                Frame::TooLong
            } else {
                Frame::Line
            });
        }
    }
}

/// Writes `value` as one JSON line.
///
/// ```
/// futures_lite::future::block_on(async {
///     let mut out = Vec::new();
///     weir_demo::frame::write_json(&mut out, &serde_json::json!({"a": 1})).await.unwrap();
///     assert_eq!(out, b"{\"a\":1}\n");
/// });
/// ```
pub async fn write_json<W, T>(writer: &mut W, value: &T) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
    T: serde::Serialize,
{
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;
    use futures_lite::io::BufReader;

    #[test]
    fn a_long_line_split_across_reads_is_skipped_whole() {
        // A tiny BufReader capacity forces many fill_buf calls per line.
        let input = format!("{}\nnext\n", "x".repeat(100));
        let mut r = BufReader::with_capacity(7, input.as_bytes());
        let mut buf = Vec::new();
        block_on(async {
            assert_eq!(
                read_frame(&mut r, &mut buf, 50).await.unwrap(),
                Frame::TooLong
            );
            assert!(buf.is_empty());
            assert_eq!(read_frame(&mut r, &mut buf, 50).await.unwrap(), Frame::Line);
            assert_eq!(buf, b"next");
        });
    }

    #[test]
    fn a_line_of_exactly_max_is_kept() {
        let mut r = BufReader::with_capacity(3, &b"abcde\n"[..]);
        let mut buf = Vec::new();
        block_on(async {
            assert_eq!(read_frame(&mut r, &mut buf, 5).await.unwrap(), Frame::Line);
            assert_eq!(buf, b"abcde");
        });
    }

    #[test]
    fn partial_last_line_is_eof() {
        let mut r = BufReader::new(&b"no newline"[..]);
        let mut buf = Vec::new();
        assert_eq!(
            block_on(read_frame(&mut r, &mut buf, 64)).unwrap(),
            Frame::Eof
        );
    }
}
