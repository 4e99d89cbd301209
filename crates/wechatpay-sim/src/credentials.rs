//! The simulated merchant's identity and the throwaway keys of both sides.

use std::fmt;

/// The simulated merchant (and service provider) id.
pub(crate) const MCHID: &str = "1230000109";
/// The serial of the simulated merchant API certificate.
pub(crate) const MERCHANT_SERIAL: &str = "444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0";
/// The id of the simulated WeChat Pay public key.
pub(crate) const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232019092600000000000000000001";
/// The serial of the simulated platform certificate.
pub(crate) const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The sub-merchant bound to the service provider.
pub(crate) const SUB_MCHID: &str = "1900000109";
/// The simulated merchant's app id (`appid`; the `sp_appid` of its partner orders), written
/// to `env` as `WECHATPAY_APPID`.
pub(crate) const APPID: &str = "wxd678efh567hg6787";

pub(crate) const MERCHANT_KEY_PEM: &str = include_str!("../testdata/merchant_key.pem");
pub(crate) const MERCHANT_PUB_PEM: &str = include_str!("../testdata/merchant_pub.pem");
pub(crate) const WECHATPAY_KEY_PEM: &str = include_str!("../testdata/wechatpay_key.pem");
pub(crate) const WECHATPAY_PUB_PEM: &str = include_str!("../testdata/wechatpay_pub.pem");
pub(crate) const PLATFORM_KEY_PEM: &str = include_str!("../testdata/platform_key.pem");
pub(crate) const PLATFORM_CERT_PEM: &str = include_str!("../testdata/platform_cert.pem");

/// What a client needs to talk to the simulator: the merchant's ids and keys, and the
/// WeChat Pay keys that verify the simulator's answers. All keys are public throwaway
/// test keys. `Debug` redacts the private key.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    _private: (),
}

impl Credentials {
    /// The simulator's built-in credentials: the one throwaway merchant of the workspace's
    /// tests, benchmarks and examples, the same for every simulator (so a harness needs no
    /// running simulator to name it).
    pub const fn builtin() -> Self {
        Self { _private: () }
    }

    /// The merchant id (`mchid`; the service provider's `sp_mchid` for partner calls).
    pub const fn mchid(&self) -> &'static str {
        MCHID
    }

    /// The merchant API certificate serial (`serial_no`), 40 upper-case hex digits.
    pub const fn merchant_serial(&self) -> &'static str {
        MERCHANT_SERIAL
    }

    /// The merchant API private key (PKCS#8 PEM) that signs requests.
    pub const fn merchant_private_key_pem(&self) -> &'static str {
        MERCHANT_KEY_PEM
    }

    /// The WeChat Pay public key (SPKI PEM).
    pub const fn wechatpay_public_key_pem(&self) -> &'static str {
        WECHATPAY_PUB_PEM
    }

    /// The id of the WeChat Pay public key (`PUB_KEY_ID_…`).
    pub const fn wechatpay_public_key_id(&self) -> &'static str {
        PUBLIC_KEY_ID
    }

    /// The platform certificate (X.509 PEM).
    pub const fn platform_certificate_pem(&self) -> &'static str {
        PLATFORM_CERT_PEM
    }

    /// The platform certificate serial (upper-case hex).
    pub const fn platform_serial(&self) -> &'static str {
        PLATFORM_SERIAL
    }

    /// A sub-merchant bound to the service provider (for partner and parking calls).
    pub const fn sub_mchid(&self) -> &'static str {
        SUB_MCHID
    }

    /// The merchant's app id (`appid`, and the `sp_appid` of partner orders): any app id is
    /// accepted, this is the one `env` names (`WECHATPAY_APPID`).
    pub const fn appid(&self) -> &'static str {
        APPID
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("mchid", &self.mchid())
            .field("merchant_serial", &self.merchant_serial())
            .field("merchant_private_key", &"[redacted]")
            .field("wechatpay_public_key_id", &self.wechatpay_public_key_id())
            .field("platform_serial", &self.platform_serial())
            .field("sub_mchid", &self.sub_mchid())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_private_key() {
        let text = format!("{:?}", Credentials::builtin());
        assert!(text.contains("[redacted]"));
        assert!(!text.contains("PRIVATE KEY"));
        assert!(text.contains(MCHID));
    }
}
