//! Bills (spec §17): apply, download as a byte stream, read and prove — without holding the
//! file (bills can be gigabytes; no body cap applies to the download).

use std::time::SystemTime;

use http::HeaderValue;
use http::header::ACCEPT_ENCODING;
use wechatpay_core::api::{BillOutcome, is_expired_download};
use wechatpay_core::bill::{
    BillDownload, BillFetch, BillHash, BillReader, BillRequest, BillSink, FetchError, Progress,
};
use wechatpay_core::{Error, SigningInput, TransportError, TransportErrorKind};

use crate::{Client, read_capped, transport_error};

impl Client {
    /// Applies for the bill `op` names (with the driver's retries), downloads the file as a
    /// byte stream and feeds it to a [`BillReader`], which hands each record (and, if the
    /// sink wants them, the decompressed bytes) to `sink` and proves the whole by the signed
    /// answer's SHA-1 at the end. `on_progress` hears the bytes received so far (and the
    /// total when declared). An expired download URL (`400 INVALID_REQUEST`) is applied for
    /// again, once. Each wait for the next piece of the body is limited by the per-attempt
    /// timeout; the whole download is not.
    ///
    /// Records given to `sink` are **provisional** until this returns
    /// [`BillFetch::Proved`].
    ///
    /// # Errors
    /// [`FetchError::Call`] for the apply call or the download request (an API error, a
    /// transport error, a `download_url` off the configured hosts); [`FetchError::Bill`] when
    /// the file is broken or its hash differs.
    pub async fn bill<Op: BillRequest + Sync>(
        &self,
        op: &Op,
        sink: &mut (dyn BillSink + Send),
        mut on_progress: impl FnMut(Progress) + Send,
    ) -> Result<BillFetch, FetchError> {
        let mut applied_again = false;
        loop {
            let answer = match BillOutcome::from_result(self.execute(op).await)? {
                BillOutcome::Ready(answer) => answer,
                BillOutcome::NoStatement => return Ok(BillFetch::NoStatement),
                BillOutcome::NotReady => return Ok(BillFetch::NotReady),
            };
            let config = self.driver.config();
            let hash = BillHash::of_answer(&answer)?;
            let download = BillDownload::new(config, &answer.download_url)?;
            let request = download.request(config, SigningInput::now().map_err(Error::Sign)?)?;
            let mut request = reqwest::Request::try_from(request).map_err(|e| Error::Transport(transport_error(e)))?;
            request.headers_mut().insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
            let idle = self.driver.attempt_timeout();
            let sent = tokio::time::timeout(idle, self.http.0.execute(request)).await;
            let mut response = sent.map_err(|_| timeout())?.map_err(|e| Error::Transport(transport_error(e)))?;
            if !response.status().is_success() {
                let mut head = http::Response::new(Vec::new());
                *head.status_mut() = response.status();
                *head.headers_mut() = std::mem::take(response.headers_mut());
                *head.body_mut() =
                    match tokio::time::timeout(idle, read_capped(&mut response, config.max_body_bytes())).await {
                        Ok(body) => body.map_err(Error::Transport)?,
                        Err(_) => return Err(timeout().into()),
                    };
                let err = download.error(config, &head, SystemTime::now());
                if is_expired_download(&err) && !applied_again {
                    applied_again = true;
                    tracing::info!(target: "wechatpay", "bill download URL expired: applying again");
                    continue;
                }
                return Err(err.into());
            }
            let total = response.content_length();
            let mut reader = BillReader::new(Op::KIND, hash);
            let mut bytes = 0u64;
            on_progress(Progress::new(0, total));
            loop {
                let chunk = tokio::time::timeout(idle, response.chunk()).await.map_err(|_| timeout())?;
                let Some(chunk) = chunk.map_err(|e| Error::Transport(transport_error(e)))? else { break };
                bytes += chunk.len() as u64;
                reader.feed_into(&chunk, sink)?;
                on_progress(Progress::new(bytes, total));
            }
            return Ok(BillFetch::Proved(reader.finish_into(sink)?));
        }
    }
}

fn timeout() -> Error {
    Error::Transport(TransportError::of_kind(TransportErrorKind::Timeout))
}
