//! Random operation sequences on the queues against sequential models
//! (`VecDeque` for the channels, `BinaryHeap` for priority lanes); the model
//! checks themselves live in `weir::test_util::fuzz`, shared with the fuzz
//! targets.

use proptest::collection::vec;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Bounded channels of capacity 1..=8: try/async send and receive,
    /// recv_many, close from either end, clone and drop of handles.
    #[test]
    fn bounded_matches_vecdeque(conf in 0u8..8, ops in vec(any::<u8>(), 0..400)) {
        let mut data = vec![conf];
        data.extend(ops);
        weir::test_util::fuzz::queue_bounded(&data);
    }

    /// The same operations on an unbounded channel (the top bit of the
    /// configuration byte).
    #[test]
    fn unbounded_matches_vecdeque(conf in 0x80u8..=0xff, ops in vec(any::<u8>(), 0..400)) {
        let mut data = vec![conf];
        data.extend(ops);
        weir::test_util::fuzz::queue_bounded(&data);
    }

    /// Priority lanes (1..=8 or 64 lanes, capacity 1..=16) without aging
    /// against a BinaryHeap, and with aging against a scan.
    #[test]
    fn priority_matches_model(
        lanes in prop_oneof![0u8..8, Just(0xff)],
        cap in any::<u8>(),
        age in 0u8..4,
        ops in vec(any::<u8>(), 0..400),
    ) {
        let mut data = vec![lanes, cap, age];
        data.extend(ops);
        weir::test_util::fuzz::queue_priority(&data);
    }
}
