//! What a running simulator knows, shared by its handle and its serving threads: keys,
//! the APIv3 key, orders, injected faults, request counters and the shutdown flag.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use wechatpay_core::{PublicKey, unix_now};

use crate::admin::AdminState;
use crate::faults::FaultTable;
use crate::orders::OrderBook;
use crate::signing::ResponseKeys;
use crate::slots::Slots;

/// How often blocked reads and waits look at the shutdown flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);

static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// State shared by the handle and the serving threads.
pub(crate) struct Shared {
    pub(crate) merchant_pub: PublicKey,
    pub(crate) response_keys: ResponseKeys,
    /// The merchant's APIv3 key (32 ASCII characters) that seals certificates and notifications.
    pub(crate) apiv3_key: String,
    pub(crate) orders: RwLock<OrderBook>,
    pub(crate) faults: Mutex<FaultTable>,
    pub(crate) seen: AtomicUsize,
    pub(crate) per_route: [AtomicUsize; crate::routes::Route::COUNT],
    pub(crate) shutdown: AtomicBool,
    /// The connections being served.
    pub(crate) slots: Slots,
    /// The TLS server configuration in HTTPS mode.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    /// The admin API's token and logs.
    pub(crate) admin: AdminState,
    request_ids: AtomicU64,
    instance: u64,
}

impl Shared {
    /// Fresh state: no faults, counters at zero, not stopping.
    pub(crate) fn new(
        merchant_pub: PublicKey,
        response_keys: ResponseKeys,
        apiv3_key: String,
        orders: OrderBook,
        tls: Option<Arc<rustls::ServerConfig>>,
        admin: AdminState,
    ) -> Self {
        Self {
            merchant_pub,
            response_keys,
            apiv3_key,
            orders: RwLock::new(orders),
            faults: Mutex::new(FaultTable::default()),
            seen: AtomicUsize::new(0),
            per_route: Default::default(),
            shutdown: AtomicBool::new(false),
            slots: Slots::default(),
            tls,
            admin,
            request_ids: AtomicU64::new(0),
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A fresh `Request-ID`.
    pub(crate) fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("08{:08X}{:04X}{:010X}", unix_now() & 0xFFFF_FFFF, self.instance & 0xFFFF, n)
    }

    /// Whether the simulator is stopping.
    pub(crate) fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Sleeps for `d`, waking early when the simulator stops; `false` if it stops.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while !self.stopping() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(POLL));
        }
        false
    }
}
