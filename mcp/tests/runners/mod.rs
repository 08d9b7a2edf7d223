//! The real runtimes the tests run on, one `block_on` each; shared by the
//! harnesses in `common` (in-process servers) and `support` (real processes).

use std::future::Future;

pub fn smol<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

pub fn tokio_current<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current-thread runtime")
        .block_on(f)
}

pub fn tokio_multi<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio multi-thread runtime")
        .block_on(f)
}

pub fn async_std<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}
