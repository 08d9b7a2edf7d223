//! I/O the adapters supply.
//!
//! The core opens no socket itself: it names what it needs as traits, and
//! each adapter crate implements them on its executor's reactor. Byte
//! streams are spoken as [`futures_io::AsyncRead`] and
//! [`futures_io::AsyncWrite`], the executor-free vocabulary smol, async-std
//! and async-process already use; tokio's streams reach it through a small
//! compatibility wrapper in `weir-tokio`.
//!
//! ```
//! use weir_core::io::{AsyncRead, AsyncWrite};
//!
//! fn speaks_futures_io<S: AsyncRead + AsyncWrite + Unpin>(_: &S) {}
//! speaks_futures_io(&futures_lite::io::Cursor::new(Vec::<u8>::new()));
//! ```

pub mod net;

pub use futures_io::{AsyncRead, AsyncWrite};
pub use net::NetRuntime;
