//! One simulated furnace controller on a serial line: the master end of a pty, whose other end
//! is the path the daemon's instrument file names (optionally behind a symbolic link). Bytes
//! are collected until they make a request frame; a pause in the middle of a frame (the RTU
//! inter-frame silence, generously measured) or bytes that cannot be a frame drop what is held,
//! as a real slave resynchronises. The lab (`Lab::on_serial`) answers, with its faults.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialStream;
use tokio_util::sync::CancellationToken;

use crate::clock::SimClock;
use crate::lab::{Lab, SerialReply};

/// A half-received frame older than this is garbage.
const FRAME_GAP: Duration = Duration::from_millis(50);

/// Serves furnace `id` on `line` until `shutdown`.
pub async fn serve_furnace(
    lab: Arc<Mutex<Lab>>,
    id: String,
    mut line: SerialStream,
    clock: SimClock,
    shutdown: CancellationToken,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let read = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout(FRAME_GAP, line.read(&mut chunk)) => r,
        };
        match read {
            Err(_) => {
                buf.clear(); // silence: whatever was held was not a frame
                continue;
            }
            Ok(Ok(0)) => {
                // The other end is closed (no daemon yet): try again shortly.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                tracing::debug!(furnace = %id, error = %e, "serial read failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        loop {
            let reply = {
                let mut lab = lab.lock().unwrap_or_else(|p| p.into_inner());
                lab.on_serial(&id, &buf, clock.elapsed_s())
            };
            match reply {
                SerialReply::Incomplete => break,
                SerialReply::Silence => {
                    buf.clear();
                    break;
                }
                SerialReply::Answer { bytes, consumed } => {
                    buf.drain(..consumed.min(buf.len()));
                    if let Err(e) = line.write_all(&bytes).await {
                        tracing::debug!(furnace = %id, error = %e, "serial write failed");
                    }
                    if buf.is_empty() {
                        break;
                    }
                }
            }
        }
    }
}
