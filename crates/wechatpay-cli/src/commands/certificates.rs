//! `certificates download`: fetch the platform certificates, trust them by the bootstrap
//! rule (PROTOCOL.md §9), write one PEM file each, print one JSON document.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use wechatpay_core::certificates::{CertificateRefresher, RefreshOutcome, save_directory};
use wechatpay_core::model::Rfc3339;

use super::print_json;
use crate::args::Settings;
use crate::failure::{self, Failure};
use crate::settings;

#[derive(Serialize)]
struct Downloaded<'a> {
    certificates: Vec<Written<'a>>,
}

#[derive(Serialize)]
struct Written<'a> {
    serial_no: &'a str,
    effective_time: &'a Rfc3339,
    expire_time: &'a Rfc3339,
    path: String,
}

/// `wechatpay certificates download --output-dir DIR`
pub(crate) fn download(s: &Settings, output_dir: &Path) -> Result<(), Failure> {
    let key = settings::apiv3_key(s)?;
    // Keys already configured also vouch for the answer; none are needed (bootstrap).
    let keys = settings::configured_keys(s)?;
    let prefer = !keys.is_empty();
    let refresher = Arc::new(CertificateRefresher::new(key, keys.clone()));
    let config = settings::config_with(s, keys, prefer)?;
    let driver = settings::driver(s, config)?.with_certificate_refresher(refresher);
    let certificates = match wechatpay_ureq::Client::new(driver).refresh_certificates()? {
        RefreshOutcome::Installed { certificates, .. } => certificates,
        RefreshOutcome::NoPlatformCertificates => {
            return Err(Failure {
                code: failure::API,
                message: "WeChat Pay answered 404 RESOURCE_NOT_EXISTS: this merchant has no platform certificates; \
                          use the WeChat Pay public key mode instead (set WECHATPAY_PUBLIC_KEY and \
                          WECHATPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… from the merchant console)"
                    .into(),
            });
        }
        other => return Err(Failure::other(format!("unexpected outcome {other:?}"))),
    };
    let paths = save_directory(output_dir, &certificates)
        .map_err(|e| Failure::other(format!("cannot write the certificates: {e}")))?;
    let written = certificates
        .iter()
        .zip(paths)
        .map(|(c, path)| Written {
            serial_no: &c.serial_no,
            effective_time: &c.effective_time,
            expire_time: &c.expire_time,
            path: path.display().to_string(),
        })
        .collect();
    print_json(&Downloaded { certificates: written })
}
