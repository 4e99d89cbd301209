//! `order get`, `partner-order get`, `parking-order get`: one query, one JSON document.

use wechatpay_core::api::*;
use wechatpay_core::{OutTradeNo, SubMchId, TransactionId};

use super::print_json;
use crate::args::{OrderId, Settings};
use crate::failure::Failure;
use crate::settings;

/// `wechatpay order get`
pub(crate) fn order(s: &Settings, which: &OrderId) -> Result<(), Failure> {
    match (&which.out_trade_no, &which.transaction_id) {
        (Some(no), _) => {
            let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new(no.as_str())? };
            print_json(&settings::client(s)?.execute(&op)?)
        }
        (None, Some(tid)) => {
            let op = QueryOrderByTransactionId { transaction_id: TransactionId::new(tid.as_str())? };
            print_json(&settings::client(s)?.execute(&op)?)
        }
        (None, None) => Err(Failure::usage("give --out-trade-no or --transaction-id")),
    }
}

/// `wechatpay partner-order get`
pub(crate) fn partner(s: &Settings, which: &OrderId, sub_mchid: &str) -> Result<(), Failure> {
    let sub_mchid = SubMchId::new(sub_mchid)?;
    match (&which.out_trade_no, &which.transaction_id) {
        (Some(no), _) => {
            let op = QueryPartnerOrderByOutTradeNo { sub_mchid, out_trade_no: OutTradeNo::new(no.as_str())? };
            print_json(&settings::client(s)?.execute(&op)?)
        }
        (None, Some(tid)) => {
            let op = QueryPartnerOrderByTransactionId { sub_mchid, transaction_id: TransactionId::new(tid.as_str())? };
            print_json(&settings::client(s)?.execute(&op)?)
        }
        (None, None) => Err(Failure::usage("give --out-trade-no or --transaction-id")),
    }
}

/// `wechatpay parking-order get`
pub(crate) fn parking(s: &Settings, out_trade_no: &str, sub_mchid: Option<&str>) -> Result<(), Failure> {
    let op = QueryParkingOrder {
        out_trade_no: OutTradeNo::new(out_trade_no)?,
        sub_mchid: sub_mchid.map(SubMchId::new).transpose()?,
    };
    print_json(&settings::client(s)?.execute(&op)?)
}
