//! Observability: tracing events and spans (feature `tracing`) and metrics
//! (feature `metrics`).
//!
//! TABLE
//!
//! # Zero cost when off
//!
//! Every component reports through one hook in this module, one call per
//! decision; without the features the hook is empty and compiles to
//! nothing. With them on, events go through `tracing`'s static callsites
//! (a disabled level or no subscriber costs one relaxed load, no
//! allocation) and metric handles are registered once, when the component
//! is built, so an update is an atomic add on the recorder's handle (a no-op
//! handle when no recorder is installed).

/// A `tracing` event with the target and level given, when the `tracing`
/// feature is on; nothing at all otherwise (the fields are not evaluated).
macro_rules! event {
    ($target:literal, $lvl:ident, $($rest:tt)+) => {
        #[cfg(feature = "tracing")]
        {
            ::tracing::event!(target: $target, ::tracing::Level::$lvl, $($rest)+);
        }
    };
}

/// `Debug` for a hook: what it reports is not part of the component's
/// state.
macro_rules! opaque_debug {
    ($t:ident) => {
        impl ::core::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    };
}

#[cfg(feature = "metrics")]
mod metric;
mod name;

pub(crate) mod adaptive;
pub(crate) mod breaker;
pub(crate) mod bulkhead;
pub(crate) mod hedge;
pub(crate) mod policy;
pub(crate) mod retry;
pub(crate) mod sched;
pub(crate) mod timeout;
pub(crate) mod worker_pool;

pub(crate) use name::Name;
