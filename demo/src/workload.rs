//! The agent's burst: N tool calls of mixed priorities across the servers,
//! drawn from a seed so both runs (and reruns) see the same calls.

use core::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::spec::ServerSpec;

/// A call's priority; higher starts first in the policy run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Background work.
    Low,
    /// The bulk of the calls.
    Normal,
    /// What the user waits on.
    High,
}

impl Priority {
    /// All priorities, highest first (the report's row order).
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Normal, Priority::Low];

    /// The lowercase name.
    ///
    /// ```
    /// assert_eq!(weir_demo::workload::Priority::High.name(), "high");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One tool call of the workload.
#[derive(Debug, Clone)]
pub struct ToolCall {
    /// Position in the workload (ties in priority start in this order).
    pub seq: usize,
    /// Index of the server in the spec list.
    pub server: usize,
    /// The tool's name (the server's name).
    pub tool: &'static str,
    /// The tool's arguments.
    pub arguments: Value,
    /// The call's priority.
    pub priority: Priority,
}

/// `n` calls spread over `servers` by weight: 15% high, 60% normal, 25% low.
///
/// ```
/// use weir_demo::{spec::ServerSpec, workload::generate};
/// let specs = ServerSpec::demo_set();
/// let a = generate(100, &specs, 9);
/// let b = generate(100, &specs, 9);
/// assert_eq!(a.len(), 100);
/// assert!(a.iter().zip(&b).all(|(x, y)| x.server == y.server && x.priority == y.priority));
/// ```
pub fn generate(n: usize, servers: &[ServerSpec], seed: u64) -> Vec<ToolCall> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let total: u32 = servers.iter().map(|s| s.weight).sum::<u32>().max(1);
    (0..n)
        .map(|seq| {
            let mut pick = rng.u32(..total);
            let server = servers
                .iter()
                .position(|s| {
                    let hit = pick < s.weight;
                    pick = pick.saturating_sub(s.weight);
                    hit
                })
                .unwrap_or(0);
            let priority = match rng.u8(..100) {
                0..15 => Priority::High,
                15..75 => Priority::Normal,
                _ => Priority::Low,
            };
            let tool = servers[server].name;
            let arguments = match tool {
                "search" => json!({ "query": format!("topic {}", rng.u16(..1000)) }),
                "fetch" => json!({ "url": format!("http://docs.invalid/page/{}", rng.u16(..500)) }),
                _ => json!({ "language": "rust", "source": format!("fn main() {{ println!(\"{seq}\") }}") }),
            };
            ToolCall {
                seq,
                server,
                tool,
                arguments,
                priority,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_weights_and_priorities() {
        let specs = ServerSpec::demo_set();
        let calls = generate(10_000, &specs, 1);
        let share = |f: &dyn Fn(&ToolCall) -> bool| calls.iter().filter(|c| f(c)).count();
        let search = share(&|c| c.server == 0);
        assert!((4_000..5_000).contains(&search), "{search}");
        let high = share(&|c| c.priority == Priority::High);
        assert!((1_200..1_800).contains(&high), "{high}");
        assert!(calls.iter().all(|c| c.tool == specs[c.server].name));
    }
}
