//! Registering a component's metric handles once, at build time.
//!
//! A handle registered with its labels costs nothing per update beyond the
//! recorder's own atomic add, and nothing at all (a no-op handle) when no
//! recorder is installed: the hot paths never build a key or a label.

use metrics::{Counter, Gauge, Histogram, Label, Unit};

use super::Name;
use super::help::help;

/// The help text of `metric`; every metric weir registers has one (the
/// unit test below and this assertion keep the table complete).
fn described(metric: &'static str) -> &'static str {
    let h = help(metric);
    debug_assert!(h.is_some(), "{metric} is missing from obs/help.rs");
    h.unwrap_or("")
}

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
    metrics::describe_counter!(metric, Unit::Count, described(metric));
    metrics::counter!(metric, labels(name, extra))
}

pub(crate) fn gauge(metric: &'static str, name: &Name) -> Gauge {
    metrics::describe_gauge!(metric, described(metric));
    metrics::gauge!(metric, labels(name, &[]))
}

/// A histogram in seconds: every weir histogram is a duration.
pub(crate) fn histogram(metric: &'static str, name: &Name) -> Histogram {
    debug_assert!(metric.ends_with("_seconds"));
    metrics::describe_histogram!(metric, Unit::Seconds, described(metric));
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

#[cfg(test)]
mod tests {
    use super::super::help::HELP;

    #[test]
    fn every_metric_in_the_module_docs_has_help_and_the_other_way_round() {
        let docs = include_str!("mod.rs");
        let documented: Vec<&str> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("//! | `weir_"))
            .filter_map(|l| l.split('`').next())
            .collect();
        let helped: Vec<&str> = HELP.iter().map(|(m, _)| &m["weir_".len()..]).collect();
        assert_eq!(documented, helped);
        for (m, h) in HELP {
            assert!(h.ends_with('.') && h.len() > 10, "{m}: {h}");
        }
    }
}
