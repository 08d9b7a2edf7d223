//! Registering a component's metric handles once, at build time.
//!
//! A handle registered with its labels costs nothing per update beyond the
//! recorder's own atomic add, and nothing at all (a no-op handle) when no
//! recorder is installed: the hot paths never build a key or a label.

use metrics::{Counter, Gauge, Histogram, Label};

use super::Name;

fn labels(name: &Name, extra: &[(&'static str, &'static str)]) -> Vec<Label> {
    let mut labels = Vec::with_capacity(1 + extra.len());
    labels.push(name.label());
    labels.extend(extra.iter().map(|&(k, v)| Label::from_static_parts(k, v)));
    labels
}

pub(crate) fn counter(
    metric: &'static str,
    name: &Name,
    extra: &[(&'static str, &'static str)],
) -> Counter {
    metrics::counter!(metric, labels(name, extra))
}

pub(crate) fn gauge(metric: &'static str, name: &Name) -> Gauge {
    metrics::gauge!(metric, labels(name, &[]))
}

pub(crate) fn histogram(metric: &'static str, name: &Name) -> Histogram {
    metrics::histogram!(metric, labels(name, &[]))
}

/// One counter per value of a label, in the order of `values`.
pub(crate) fn counters<const N: usize>(
    metric: &'static str,
    name: &Name,
    key: &'static str,
    values: [&'static str; N],
) -> [Counter; N] {
    values.map(|v| counter(metric, name, &[(key, v)]))
}
