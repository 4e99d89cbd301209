//! Response types: orders, money, time and open enums.
//!
//! Every enum is open (unknown values survive as strings), money is [`Fen`], times are
//! [`Rfc3339`], optional fields are `Option` and never serialise as `null`, and fields
//! this version does not know are kept, as received, in each struct's [`Extra`] map.

mod enums;
pub(crate) mod extra;
mod money;
pub(crate) mod open_enum;
mod parking;
mod parking_entrance;
mod parking_service;
mod prepay;
mod refund;
mod refund_notice;
mod time;
mod transaction;

pub use enums::{
    Currency, ErrorCode, ParkingTradeState, PlateColor, PromotionScope, PromotionType, TradeScene, TradeState,
    TradeType, UserRepaid,
};
pub use extra::Extra;
pub use money::Fen;
pub use open_enum::UnknownValue;
pub use parking::{ParkingAmount, ParkingInfo, ParkingPayer, ParkingTransaction};
pub use parking_entrance::{BlockedState, EntranceStateChange, ParkingState};
pub use parking_service::{BlockReason, EntranceState, ParkingEntrance, ParkingService, ServiceState};
pub use prepay::{CodeUrl, H5Url, PrepayId};
pub use refund::{
    FundsAccount, Refund, RefundAmount, RefundChannel, RefundFrom, RefundFromAccount, RefundGoodsDetail,
    RefundPromotionDetail, RefundPromotionType, RefundStatus,
};
pub use refund_notice::{RefundNotice, RefundNoticeAmount};
pub use time::Rfc3339;
pub use transaction::{
    Amount, GoodsDetail, PartnerPayer, PartnerTransaction, Payer, PromotionDetail, SceneInfo, Transaction,
};
