//! How each embedded tool server behaves: latency, quota, failures, downtime.

use std::time::Duration;

/// One tool server's behaviour. The server hosts one tool, named like the
/// server.
///
/// ```
/// let specs = weir_demo::spec::ServerSpec::demo_set();
/// assert_eq!(specs.iter().filter(|s| s.down.is_some()).count(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The server's (and its tool's) name.
    pub name: &'static str,
    /// Relative share of the workload's calls that go to this server.
    pub weight: u32,
    /// Usual latency, drawn uniformly from this range.
    pub latency: (Duration, Duration),
    /// Share of calls that stall for [`ServerSpec::slow`] instead (a tail).
    pub slow_share: f64,
    /// How long a stalled call takes.
    pub slow: Duration,
    /// Calls per second the server accepts; beyond it answers
    /// `RATE_LIMITED` with `retry_after_ms`.
    pub quota_per_sec: u32,
    /// How many calls the quota lets through at once.
    pub burst: u32,
    /// Share of accepted calls that fail with a transient error.
    pub transient_share: f64,
    /// `(start, length)` after the server starts during which it drops
    /// every connection it sees.
    pub down: Option<(Duration, Duration)>,
    /// A call that works longer than this reports progress this often
    /// (`notifications/progress`), when the client asked for it.
    pub progress_every: Duration,
    /// Whether the server speaks the modern era (answers `server/discover`)
    /// besides the legacy `initialize` handshake.
    pub modern: bool,
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl ServerSpec {
    /// The three servers of the demonstration: a fast search (modern era),
    /// a fetch that goes down for 1.5 s, a slow code runner with a heavy
    /// tail that reports progress every 25 ms (both legacy era).
    ///
    /// ```
    /// let s = weir_demo::spec::ServerSpec::demo_set();
    /// assert_eq!(s.iter().map(|s| s.name).collect::<Vec<_>>(), ["search", "fetch", "code"]);
    /// ```
    pub fn demo_set() -> Vec<ServerSpec> {
        vec![
            ServerSpec {
                name: "search",
                weight: 45,
                latency: (ms(10), ms(50)),
                slow_share: 0.01,
                slow: ms(800),
                quota_per_sec: 300,
                burst: 30,
                transient_share: 0.03,
                down: None,
                progress_every: ms(100),
                modern: true,
            },
            ServerSpec {
                name: "fetch",
                weight: 35,
                latency: (ms(20), ms(80)),
                slow_share: 0.01,
                slow: ms(1000),
                quota_per_sec: 250,
                burst: 25,
                transient_share: 0.05,
                down: Some((ms(300), ms(1500))),
                progress_every: ms(100),
                modern: false,
            },
            ServerSpec {
                name: "code",
                weight: 20,
                latency: (ms(40), ms(150)),
                slow_share: 0.03,
                slow: ms(1500),
                quota_per_sec: 150,
                burst: 15,
                transient_share: 0.02,
                down: None,
                progress_every: ms(25),
                modern: false,
            },
        ]
    }

    /// The same servers with a shorter downtime and tails, for tests with a
    /// small number of calls. A stalled call still outlasts every policy
    /// timeout, so the policy run cancels it.
    ///
    /// ```
    /// let s = weir_demo::spec::ServerSpec::quick_set();
    /// assert!(s.iter().all(|s| s.slow <= std::time::Duration::from_millis(400)));
    /// ```
    pub fn quick_set() -> Vec<ServerSpec> {
        ServerSpec::demo_set()
            .into_iter()
            .map(|mut s| {
                s.slow = s.slow.min(ms(400));
                s.down = s.down.map(|_| (ms(50), ms(300)));
                s
            })
            .collect()
    }
}

impl ServerSpec {
    /// A real server reached with `--server`, hosting `tool`: nothing known
    /// of its behaviour, so a generous quota guess and timeout (the policy
    /// derives its rate limit and timeout from these).
    ///
    /// ```
    /// let s = weir_demo::spec::ServerSpec::external("echo");
    /// assert_eq!((s.name, s.down), ("echo", None));
    /// ```
    pub fn external(tool: &str) -> ServerSpec {
        ServerSpec {
            // Names are `&'static` so the report's maps stay borrowed; one
            // leaked name per `--server` run is the price.
            name: Box::leak(tool.to_owned().into_boxed_str()),
            weight: 1,
            latency: (ms(0), ms(2_000)),
            slow_share: 0.0,
            slow: ms(0),
            quota_per_sec: 1_000,
            burst: 100,
            transient_share: 0.0,
            down: None,
            progress_every: ms(100),
            modern: false,
        }
    }
}
