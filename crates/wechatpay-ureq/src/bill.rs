//! Bills (spec §17): apply, download through a reader, read and prove — without holding the
//! file (bills can be gigabytes; no body cap applies to the download).

use std::io::Read as _;
use std::time::SystemTime;

use wechatpay_core::api::{BillOutcome, is_expired_download};
use wechatpay_core::bill::{
    BillDownload, BillFetch, BillHash, BillReader, BillRequest, BillSink, FetchError, Progress,
};
use wechatpay_core::{Error, SigningInput, TransportError};

use crate::Client;

/// Size of one read from the body.
const READ_SIZE: usize = 64 * 1024;

impl Client {
    /// Applies for the bill `op` names (with the driver's retries), downloads the file
    /// through ureq's body reader and feeds it to a [`BillReader`], which hands each record
    /// (and, if the sink wants them, the decompressed bytes) to `sink` and proves the whole by
    /// the signed answer's SHA-1 at the end. `on_progress` hears the bytes received so far (and
    /// the total when declared). An expired download URL (`400 INVALID_REQUEST`) is applied
    /// for again, once. The per-attempt timeout limits the wait for the answer's head; the
    /// body has no time or size limit.
    ///
    /// Records given to `sink` are **provisional** until this returns
    /// [`BillFetch::Proved`].
    ///
    /// # Errors
    /// [`FetchError::Call`] for the apply call or the download request (an API error, a
    /// transport error, a `download_url` off the configured hosts); [`FetchError::Bill`] when
    /// the file is broken or its hash differs.
    pub fn bill<Op: BillRequest>(
        &self,
        op: &Op,
        sink: &mut dyn BillSink,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<BillFetch, FetchError> {
        let mut applied_again = false;
        loop {
            let answer = match BillOutcome::from_result(self.execute(op))? {
                BillOutcome::Ready(answer) => answer,
                BillOutcome::NoStatement => return Ok(BillFetch::NoStatement),
                BillOutcome::NotReady => return Ok(BillFetch::NotReady),
            };
            let config = self.driver.config();
            let hash = BillHash::of_answer(&answer)?;
            let download = BillDownload::new(config, &answer.download_url)?;
            let request = download.request(config, SigningInput::now().map_err(Error::Sign)?)?;
            let (parts, _) = request.into_parts();
            let request = (self.agent.0.configure_request(http::Request::from_parts(parts, ())))
                .http_status_as_error(false)
                .max_redirects(0)
                .accept_encoding("identity")
                .timeout_global(None)
                .timeout_recv_response(Some(self.driver.attempt_timeout()))
                .build();
            let response = self.agent.0.run(request).map_err(|e| Error::Transport(self.agent.transport_error(e)))?;
            let (head, mut body) = response.into_parts();
            if !head.status.is_success() {
                let limit = config.max_body_bytes();
                let bytes = body.with_config().limit(limit as u64).read_to_vec().map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => Error::BodyTooLarge { limit },
                    other => Error::Transport(self.agent.transport_error(other)),
                })?;
                let err = download.error(config, &http::Response::from_parts(head, bytes), SystemTime::now());
                if is_expired_download(&err) && !applied_again {
                    applied_again = true;
                    tracing::info!(target: "wechatpay", "bill download URL expired: applying again");
                    continue;
                }
                return Err(err.into());
            }
            let total = body.content_length();
            let mut reader = BillReader::new(Op::KIND, hash);
            let mut body = body.with_config().limit(u64::MAX).reader();
            let mut buf = vec![0u8; READ_SIZE];
            let mut bytes = 0u64;
            on_progress(Progress::new(0, total));
            loop {
                let n = match body.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let kind = wechatpay_core::TransportErrorKind::from_io(e.kind());
                        return Err(Error::Transport(TransportError::new(kind, e)).into());
                    }
                };
                bytes += n as u64;
                reader.feed_into(&buf[..n], sink)?;
                on_progress(Progress::new(bytes, total));
            }
            return Ok(BillFetch::Proved(reader.finish_into(sink)?));
        }
    }
}
