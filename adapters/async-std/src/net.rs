//! async-std's TCP streams as weir's network I/O: they speak futures-io already.

use weir_core::io::NetRuntime;

use crate::{AsyncStd, AsyncStdTcp};

impl NetRuntime for AsyncStd {
    type Tcp = AsyncStdTcp;
}

#[cfg(test)]
mod tests {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use weir_core::pool::TcpConnector;

    use super::*;

    #[test]
    fn a_stream_from_the_runtime_carries_bytes_both_ways() {
        async_std::task::block_on(async {
            let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let server = async_std::task::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4];
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            });
            let mut c = <<AsyncStd as NetRuntime>::Tcp as TcpConnector>::connect(&addr)
                .await
                .unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut back = [0u8; 4];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"ping");
            server.await;
        });
    }
}
