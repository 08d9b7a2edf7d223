//! The hedging stage.

use core::future::Future;

use crate::Hedge;
use crate::Runtime;
use crate::{Error, policy::Stage};

/// Starts another run of what is inside when the running ones are slow and
/// keeps the first success; see [`Hedge`] for the rules. Written before a
/// timeout, each hedged attempt has its own time limit.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::Policy;
/// use weir_core::Hedge;
/// use weir_core::test_util::VirtualRuntime;
///
/// let rt = VirtualRuntime::new();
/// let hedge = Hedge::fixed(Duration::from_millis(20)).build().unwrap();
/// let policy = Policy::new(rt.clone()).hedge(hedge);
/// assert_eq!(rt.block_on(policy.call(|| async { Ok::<_, ()>(1) })), Ok(1));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HedgeStage {
    pub(crate) hedge: Hedge,
}

impl<R: Runtime, T, E> Stage<R, T, E> for HedgeStage {
    fn run<'a, Op, Fut>(
        &'a self,
        rt: &'a R,
        op: &'a Op,
    ) -> impl Future<Output = Result<T, Error<E>>> + Send + 'a
    where
        Op: Fn() -> Fut + Sync + 'a,
        Fut: Future<Output = Result<T, Error<E>>> + Send + 'a,
        T: Send + 'a,
        E: Send + 'a,
    {
        self.hedge.run(rt, op)
    }
}
