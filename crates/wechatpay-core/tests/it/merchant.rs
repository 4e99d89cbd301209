//! One throwaway merchant for every harness: the core's test data holds the simulator's
//! keys and certificate, byte for byte. (Both crates ship their copy: the core's doctests
//! and unit tests include `tests/data`, the simulator's code includes its `testdata`; a
//! packaged crate cannot reach outside itself.)

use crate::common::{MCHID, data};
use crate::credentials as sim;

#[test]
fn the_core_test_data_is_the_simulators_merchant() {
    for (file, sim_pem) in [
        ("merchant_key.pem", sim::MERCHANT_KEY_PEM),
        ("merchant_pub.pem", sim::MERCHANT_PUB_PEM),
        ("wechatpay_key.pem", sim::WECHATPAY_KEY_PEM),
        ("wechatpay_pub.pem", sim::WECHATPAY_PUB_PEM),
        ("platform_key.pem", sim::PLATFORM_KEY_PEM),
        ("platform_cert.pem", sim::PLATFORM_CERT_PEM),
    ] {
        assert_eq!(data(file), sim_pem.as_bytes(), "tests/data/{file} differs from wechatpay-sim/testdata/{file}");
    }
    let builtin = sim::Credentials::builtin();
    assert_eq!(builtin.mchid(), MCHID);
    assert_eq!(builtin.merchant_private_key_pem().as_bytes(), data("merchant_key.pem"));
}
