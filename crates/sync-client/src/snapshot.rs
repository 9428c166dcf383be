//! Receiving a library's snapshot (`GET …/sync/snapshot`, newline-delimited
//! JSON) for the store's first sync: the body is read and parsed on a task
//! of its own while the store writes what came before, and handed over in
//! batches through a small channel (the stream waits while the store is
//! behind, so memory stays bounded).

use crate::{ClientError, HttpTransport, chain, refused};
use shelfkeeper_store::{SnapshotPart, SnapshotStream};
use shelfkeeper_sync::snapshot::{SnapshotEnd, SnapshotHead};
use shelfkeeper_sync::{PROTOCOL_VERSION, Sequenced};
use std::time::Duration;
use tokio::sync::mpsc;

/// Changes per batch handed to the store.
const BATCH: usize = 2000;
/// A snapshot of a large library takes minutes on a slow line.
const TIMEOUT: Duration = Duration::from_secs(3600);
/// The longest line taken (a change is at most 256 KiB of payload).
const MAX_LINE: usize = 1024 * 1024;

type Parts = mpsc::Sender<Result<SnapshotPart, String>>;

impl HttpTransport {
    /// Opens the library's snapshot. `None`: the server has none to give
    /// (an older server, or its feed is still being applied): pull instead.
    pub async fn open_snapshot(&self) -> Result<Option<SnapshotStream>, ClientError> {
        let path = format!("/snapshot?protocol={PROTOCOL_VERSION}");
        let mut resp =
            self.request(reqwest::Method::GET, &path).timeout(TIMEOUT).send().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        let status = resp.status();
        if matches!(status, reqwest::StatusCode::NOT_FOUND | reqwest::StatusCode::CONFLICT) {
            return Ok(None);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::AuthExpired);
        }
        if !status.is_success() {
            let bytes = resp.bytes().await.map_err(|e| ClientError::Offline(chain(&e)))?;
            return Err(refused(status, &bytes));
        }
        let mut lines = Lines::default();
        let head = loop {
            if let Some(line) = lines.next_line().map_err(ClientError::Protocol)? {
                break serde_json::from_slice::<SnapshotHead>(&line)
                    .map_err(|e| ClientError::Protocol(format!("the snapshot's first line does not parse: {e}")))?;
            }
            match resp.chunk().await.map_err(|e| ClientError::Offline(chain(&e)))? {
                Some(chunk) => lines.feed(&chunk),
                None => return Err(ClientError::Protocol("the snapshot ended before its first line".into())),
            }
        };
        if head.protocol != PROTOCOL_VERSION {
            return Err(ClientError::Protocol(format!("the snapshot speaks protocol {}, this desk {PROTOCOL_VERSION}", head.protocol)));
        }
        let (send, parts) = mpsc::channel(4);
        tokio::spawn(async move {
            if let Err(e) = read_body(resp, lines, &send).await {
                let _ = send.send(Err(e)).await;
            }
        });
        Ok(Some(SnapshotStream { head, parts }))
    }
}

/// Reads the changes and the end line, sending batches as they fill.
async fn read_body(mut resp: reqwest::Response, mut lines: Lines, send: &Parts) -> Result<(), String> {
    let mut batch: Vec<Sequenced> = Vec::with_capacity(BATCH);
    let mut sent = 0u64;
    loop {
        while let Some(line) = lines.next_line()? {
            if SnapshotEnd::is_end_line(&line) {
                let end: SnapshotEnd = serde_json::from_slice(&line).map_err(|e| format!("the snapshot's end line does not parse: {e}"))?;
                sent += batch.len() as u64;
                if !batch.is_empty() {
                    send.send(Ok(SnapshotPart::Changes(std::mem::take(&mut batch)))).await.map_err(|_| "the store stopped reading")?;
                }
                if end.end != sent {
                    return Err(format!("the snapshot ended after {sent} changes but says it sent {}", end.end));
                }
                send.send(Ok(SnapshotPart::End { changes: end.end })).await.map_err(|_| "the store stopped reading")?;
                return Ok(());
            }
            let change: Sequenced = serde_json::from_slice(&line).map_err(|e| format!("a snapshot line does not parse: {e}"))?;
            batch.push(change);
            if batch.len() == BATCH {
                sent += BATCH as u64;
                send.send(Ok(SnapshotPart::Changes(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))))
                    .await
                    .map_err(|_| "the store stopped reading")?;
            }
        }
        match resp.chunk().await.map_err(|e| format!("the snapshot was cut short: {}", chain(&e)))? {
            Some(chunk) => lines.feed(&chunk),
            None => return Err("the snapshot was cut short (no end line)".into()),
        }
    }
}

/// Splits a byte stream into lines.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
    start: usize,
}

impl Lines {
    fn feed(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    fn next_line(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self.buf[self.start..].iter().position(|&b| b == b'\n') {
            Some(n) => {
                let line = self.buf[self.start..self.start + n].to_vec();
                self.start += n + 1;
                Ok(Some(line))
            }
            None if self.buf.len() - self.start > MAX_LINE => Err(format!("a snapshot line is longer than {MAX_LINE} bytes")),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn lines_split_across_chunks_come_whole() {
        let mut l = Lines::default();
        l.feed(b"{\"a\":1}\n{\"b\"");
        assert_eq!(l.next_line().unwrap().as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(l.next_line().unwrap(), None);
        l.feed(b":2}\n");
        assert_eq!(l.next_line().unwrap().as_deref(), Some(&b"{\"b\":2}"[..]));
        assert_eq!(l.next_line().unwrap(), None);
    }
}
