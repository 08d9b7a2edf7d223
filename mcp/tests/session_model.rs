//! The pending map against a model: whatever the order of replies, with
//! duplicates, unknown ids and calls abandoned before their reply, each
//! kept call gets its own reply exactly once, each abandoned call is
//! cancelled exactly once, and every other reply is counted as unmatched.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::jsonrpc::RequestId;
use weir_mcp::{Client, ProtocolMode, memory};

use common::{Server, connector, params, text};

#[derive(Debug, Clone)]
struct Case {
    calls: usize,
    /// Reply order, as call indices (a permutation of 0..calls).
    order: Vec<usize>,
    /// Calls answered twice.
    twice: BTreeSet<usize>,
    /// Calls abandoned before any reply.
    dropped: BTreeSet<usize>,
    /// Replies to ids never used.
    unknown: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..16).prop_flat_map(|calls| {
        (
            Just((0..calls).collect::<Vec<_>>()).prop_shuffle(),
            proptest::collection::btree_set(0..calls, 0..=calls),
            proptest::collection::btree_set(0..calls, 0..=calls),
            0usize..4,
        )
            .prop_map(move |(order, twice, dropped, unknown)| Case {
                calls,
                order,
                twice,
                dropped,
                unknown,
            })
    })
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    rt.block_on(async {
        let srv = server.clone();
        let n = case.calls;
        let requests = rt.spawn(async move {
            srv.accept_initialize("2025-11-25").await;
            let mut ids = vec![RequestId::Number(0); n];
            for _ in 0..n {
                let r = srv.request().await.unwrap();
                let i = params(r.params.as_deref())["arguments"]["i"]
                    .as_u64()
                    .unwrap() as usize;
                ids[i] = r.id;
            }
            ids
        });
        let mut handles: Vec<_> = (0..n)
            .map(|i| {
                let c = client.clone();
                Some(rt.spawn(async move { c.call_tool("t", json!({ "i": i })).await }))
            })
            .collect();
        let ids = requests.await.unwrap();
        for &d in &case.dropped {
            handles[d].take().unwrap().abort();
        }
        // Let the writer send the cancellations (virtual time moves only
        // once every task is idle).
        rt.sleep(Duration::from_millis(1)).await;
        for &i in &case.order {
            let times = if case.twice.contains(&i) { 2 } else { 1 };
            for _ in 0..times {
                server.reply(ids[i].clone(), text(&i.to_string()));
            }
        }
        for k in 0..case.unknown {
            server.reply(RequestId::Number(1_000_000 + k as i64), text("stray"));
        }
        for (i, h) in handles.into_iter().enumerate() {
            if let Some(h) = h {
                let reply = h.await.unwrap().unwrap();
                assert_eq!(reply.text(), i.to_string());
            }
        }
        rt.sleep(Duration::from_millis(1)).await;
        // Read what the server got after the requests: only cancellations.
        while let Some(msg) = server.peer.try_recv() {
            let m = weir_mcp::jsonrpc::Message::decode(&msg.body).unwrap();
            let weir_mcp::jsonrpc::Message::Notification(note) = m else {
                panic!("{m:?}")
            };
            server.notes.lock().push(note);
        }
        let mut cancelled: Vec<Value> = server.cancelled();
        cancelled.sort_by_key(|v| v.as_i64());
        let mut expected: Vec<Value> = case
            .dropped
            .iter()
            .map(|&d| match &ids[d] {
                RequestId::Number(n) => json!(n),
                other => panic!("{other:?}"),
            })
            .collect();
        expected.sort_by_key(|v| v.as_i64());
        assert_eq!(cancelled, expected, "one cancellation per abandoned call");
    });
    let stats = client.stats();
    let replies: usize = (0..case.calls)
        .map(|i| if case.twice.contains(&i) { 2 } else { 1 })
        .sum();
    let kept = case.calls - case.dropped.len();
    prop_assert_eq!(stats.unmatched as usize, replies - kept + case.unknown);
    prop_assert_eq!(stats.cancels as usize, case.dropped.len());
    prop_assert_eq!(stats.in_flight, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn pending_map_matches_the_model(case in case()) {
        run(&case)?;
    }
}
