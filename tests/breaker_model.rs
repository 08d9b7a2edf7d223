//! The breaker against a sequential model (count window), on random
//! configurations and operation sequences.

use proptest::prelude::*;
use weir::resilience::Outcome;
use weir::test_util::fuzz::{ModelConfig, Op, check};

fn config() -> impl Strategy<Value = ModelConfig> {
    (
        1u32..=8,
        0u32..8,
        1u32..=4,
        any::<bool>(),
        1u64..=50,
        1u32..=2,
        1u32..=3,
        1u64..=50,
    )
        .prop_map(
            |(
                window,
                m,
                rate_quarters,
                slow,
                open_ms,
                multiplier,
                half_open_calls,
                half_open_timeout_ms,
            )| ModelConfig {
                window,
                min_calls: m % window + 1,
                rate_quarters,
                slow,
                open_ms,
                multiplier,
                half_open_calls,
                half_open_timeout_ms,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        3 => Just(Outcome::Failure),
        2 => Just(Outcome::Success),
        1 => Just(Outcome::Ignored),
    ];
    prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<u8>(), outcome, any::<bool>()).prop_map(|(slot, outcome, slow)| Op::Record { slot, outcome, slow }),
        1 => any::<u8>().prop_map(Op::Drop),
        2 => (0u8..64).prop_map(Op::Advance),
        1 => prop_oneof![Just(Op::ForceOpen), Just(Op::Disable), Just(Op::MetricsOnly), Just(Op::Reset)],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn breaker_matches_model(cfg in config(), ops in proptest::collection::vec(op(), 0..120)) {
        check(cfg, &ops);
    }
}

#[test]
fn arbitrary_bytes_decode_without_panic() {
    for seed in 0..64u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let data: Vec<u8> = (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect();
        weir::test_util::fuzz::breaker(&data);
    }
}
