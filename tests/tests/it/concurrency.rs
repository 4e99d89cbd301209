//! Many calls at once through one shared client.

use wechatpay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_async_queries_all_succeed() {
    let sim = sim();
    let client = wechatpay_reqwest::Client::new(config(&sim)).unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        set.spawn(async move {
            let op = if i % 2 == 0 { by_out_trade_no(SEED_OUT_TRADE_NO) } else { by_out_trade_no("SIM_NOTPAY_0001") };
            client.execute(&op).await
        });
    }
    let mut ok = 0;
    while let Some(joined) = set.join_next().await {
        let order = joined.expect("task did not panic").expect("query succeeded");
        assert!(matches!(order.trade_state.as_str(), "SUCCESS" | "NOTPAY"));
        ok += 1;
    }
    assert_eq!(ok, 200);
    assert_eq!(sim.requests_seen(), 200);
}

#[test]
fn many_threads_share_one_blocking_client() {
    let sim = sim();
    let client = wechatpay_ureq::Client::new(config(&sim));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).expect("query succeeded");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread did not panic");
    }
    assert_eq!(sim.requests_seen(), 80);
}
