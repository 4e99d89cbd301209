//! `NotifySink`, the merchant's side of a notification: it records each delivery as
//! received and answers by its script, so the simulator's redelivery is visible.

use std::time::Duration;

use serde_json::json;
use wechatpay_core::ApiV3Key;
use wechatpay_core::notify::{Receiver, Resource};
use wechatpay_sim::{NotifySink, OrderKind, SINK_PATH, Simulator};

#[test]
fn a_refused_delivery_is_recorded_and_redelivered_with_the_same_id() {
    let sim = Simulator::builder().notify_time_scale(0.001).start().unwrap();
    let sink = NotifySink::answering(&[503, 204]).unwrap();
    assert!(sink.url().starts_with("http://127.0.0.1:") && sink.url().ends_with(SINK_PATH), "{}", sink.url());
    sim.create_order(OrderKind::Direct, json!({"out_trade_no": "SINK_0001"}), Some(sink.url())).unwrap();
    sim.set_state(OrderKind::Direct, "SINK_0001", "SUCCESS", json!({})).unwrap();

    let config = sim.config_builder().build().unwrap();
    let receiver = Receiver::from_config(&config, ApiV3Key::new(sim.apiv3_key()).unwrap());
    let mut ids = Vec::new();
    for _ in 0..2 {
        let request = sink.next(Duration::from_secs(10)).expect("a delivery");
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), SINK_PATH);
        let notification = receiver.receive_request(&request).expect("verified");
        assert!(matches!(&notification.resource, Resource::Transaction(t) if t.out_trade_no == "SINK_0001"));
        ids.push(notification.id.clone());
    }
    assert_eq!(ids[0], ids[1], "a redelivery keeps its id");
    assert!(sink.next(Duration::from_millis(300)).is_none(), "accepted: not delivered again");
    let log = sim.notifications();
    let statuses: Vec<_> = log[0]["attempts"].as_array().unwrap().iter().map(|a| a["status"].clone()).collect();
    assert_eq!(statuses, [json!(503), json!(204)]);
}
