//! The rule for reusing an idle stream connection, shared by the adapters'
//! TCP managers and available to managers of other streams.

use std::io;

/// Judges an idle connection from a non-blocking peek of one byte:
/// `None` (the peek would wait: nothing to read, peer still there) means
/// reusable; end of stream, an error, or unread bytes on a connection that
/// should be silent (a request/response stream out of step) mean discard it.
///
/// ```
/// use std::io;
/// use weir_core::pool::idle_stream_verdict;
///
/// assert!(idle_stream_verdict(None).is_ok());
/// assert_eq!(idle_stream_verdict(Some(Ok(0))).unwrap_err().kind(), io::ErrorKind::ConnectionAborted);
/// assert_eq!(idle_stream_verdict(Some(Ok(1))).unwrap_err().kind(), io::ErrorKind::InvalidData);
/// ```
pub fn idle_stream_verdict(peeked: Option<io::Result<usize>>) -> io::Result<()> {
    match peeked {
        None => Ok(()),
        Some(Ok(0)) => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "peer closed the connection",
        )),
        Some(Ok(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unread bytes on an idle connection",
        )),
        Some(Err(e)) => Err(e),
    }
}
