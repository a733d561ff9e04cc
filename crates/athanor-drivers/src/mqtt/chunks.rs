//! Results larger than one message: cutting a result's JSON text into chunks (the controller's
//! side) and putting them back together with length and digest checks (the daemon's side). No I/O.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use athanor_core::CommandId;

use super::messages::{
    ChunkMsg, Chunked, ResultMsg, MAX_CHUNKED_BYTES, MAX_CHUNKS, MAX_CHUNK_TEXT_BYTES,
};
use super::MqttError;

/// An encoded result message larger than this must be chunked.
pub const CHUNK_THRESHOLD_BYTES: usize = 256 * 1024;

/// Cuts `text` at character boundaries into consecutive pieces of at most `max` bytes each
/// (`max` is raised to 4, the longest UTF-8 character, if smaller).
pub fn split(text: &str, max: usize) -> Vec<&str> {
    let max = max.max(4);
    let mut pieces = Vec::with_capacity(text.len() / max + 1);
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    if pieces.is_empty() {
        pieces.push("");
    }
    pieces
}

/// Lowercase hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Turns a result whose data is too large for one message into its chunks and the result
/// message that follows them; a result small enough is returned as it is, with no chunks.
pub fn chunk_result(result: ResultMsg, max_piece: usize) -> (Vec<ChunkMsg>, ResultMsg) {
    let Some(data) = &result.data else {
        return (Vec::new(), result);
    };
    let text = data.to_string();
    if text.len() + 1024 <= CHUNK_THRESHOLD_BYTES {
        return (Vec::new(), result);
    }
    let pieces = split(&text, max_piece.min(MAX_CHUNK_TEXT_BYTES));
    let count = u32::try_from(pieces.len()).unwrap_or(u32::MAX);
    let chunks = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| ChunkMsg {
            command_id: result.command_id,
            index: u32::try_from(i).unwrap_or(u32::MAX),
            count,
            text: (*p).to_owned(),
        })
        .collect();
    let descriptor = Chunked {
        count,
        bytes: text.len() as u64,
        sha256: sha256_hex(&text),
    };
    let result = ResultMsg {
        data: None,
        chunked: Some(descriptor),
        ..result
    };
    (chunks, result)
}

/// The chunks of one command's result received so far.
#[derive(Debug, Default, Clone)]
pub struct Reassembly {
    count: Option<u32>,
    pieces: BTreeMap<u32, String>,
    bytes: u64,
}

impl Reassembly {
    /// Adds a chunk; a duplicate index is dropped. Refuses a chunk whose `count` disagrees with
    /// earlier ones and a transfer that grows past the size limit.
    pub fn add(&mut self, chunk: ChunkMsg) -> Result<(), MqttError> {
        let err = |reason: &str| MqttError::Chunk {
            command_id: chunk.command_id,
            reason: reason.to_owned(),
        };
        if chunk.count == 0 || chunk.count > MAX_CHUNKS || chunk.index >= chunk.count {
            return Err(err("index outside 0..count"));
        }
        match self.count {
            Some(c) if c != chunk.count => return Err(err("chunk count changed mid-transfer")),
            _ => self.count = Some(chunk.count),
        }
        if self.pieces.contains_key(&chunk.index) {
            return Ok(());
        }
        self.bytes += chunk.text.len() as u64;
        if self.bytes > MAX_CHUNKED_BYTES {
            return Err(err("more than 256 MiB of chunks"));
        }
        self.pieces.insert(chunk.index, chunk.text);
        Ok(())
    }

    /// How many distinct chunks are held.
    pub fn received(&self) -> usize {
        self.pieces.len()
    }

    /// Forgets every chunk (before asking the controller to send them all again).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The data, once every chunk the descriptor names is here and length and digest match;
    /// `Ok(None)` while chunks are missing.
    pub fn finish(&self, command_id: CommandId, d: &Chunked) -> Result<Option<Value>, MqttError> {
        let err = |reason: String| MqttError::Chunk { command_id, reason };
        if let Some(c) = self.count {
            if c != d.count {
                return Err(err(format!(
                    "result names {} chunks, the chunks say {c}",
                    d.count
                )));
            }
        }
        if self.pieces.len() < d.count as usize {
            return Ok(None);
        }
        if self.bytes != d.bytes {
            return Err(err(format!(
                "{} bytes received, {} announced",
                self.bytes, d.bytes
            )));
        }
        let mut text = String::with_capacity(usize::try_from(self.bytes).unwrap_or(0));
        for p in self.pieces.values() {
            text.push_str(p);
        }
        if sha256_hex(&text) != d.sha256 {
            return Err(err("SHA-256 does not match".into()));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| err(format!("joined text is not JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::messages::ResultOutcome;
    use serde_json::json;

    fn big_result() -> ResultMsg {
        // Integers: serde_json (without its float_roundtrip feature) may read a float back one
        // ulp off, which would hide what this test is about.
        let two_theta: Vec<u64> = (0..60_000).map(|i| 10_000 + i).collect();
        ResultMsg {
            command_id: CommandId::new(),
            outcome: ResultOutcome::Succeeded,
            finished_at: None,
            replay: false,
            data: Some(json!({"two_theta": two_theta, "label": "Ωmega-scan ✓"})),
            error: None,
            chunked: None,
        }
    }

    #[test]
    fn split_respects_character_boundaries() {
        let s = "aé✓😀".repeat(100);
        for max in [1, 4, 5, 7, 64] {
            let pieces = split(&s, max);
            assert_eq!(pieces.concat(), s);
            assert!(pieces
                .iter()
                .all(|p| p.len() <= max.max(4) && !p.is_empty()));
        }
        assert_eq!(split("", 10), vec![""]);
    }

    #[test]
    fn a_large_result_reassembles_in_any_order_with_duplicates() {
        let original = big_result();
        let (chunks, head) = chunk_result(original.clone(), MAX_CHUNK_TEXT_BYTES);
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        let d = head.chunked.clone().expect("chunked");
        let mut r = Reassembly::default();
        for c in chunks.iter().rev() {
            assert_eq!(r.finish(head.command_id, &d).expect("ok"), None);
            r.add(c.clone()).expect("adds");
            r.add(c.clone()).expect("duplicate dropped");
        }
        let data = r
            .finish(head.command_id, &d)
            .expect("ok")
            .expect("complete");
        assert!(Some(data) == original.data, "reassembled data differs");
    }

    #[test]
    fn a_corrupt_transfer_is_a_typed_error() {
        let (chunks, head) = chunk_result(big_result(), 100_000);
        let mut d = head.chunked.clone().expect("chunked");
        let mut r = Reassembly::default();
        for c in &chunks {
            r.add(c.clone()).expect("adds");
        }
        d.sha256 = "0".repeat(64);
        assert!(matches!(
            r.finish(head.command_id, &d),
            Err(MqttError::Chunk { .. })
        ));
        let mut wrong = chunks[0].clone();
        wrong.count += 1;
        assert!(r.add(wrong).is_err());
    }

    #[test]
    fn small_results_travel_whole() {
        let mut small = big_result();
        small.data = Some(json!({"ok": true}));
        let (chunks, head) = chunk_result(small.clone(), MAX_CHUNK_TEXT_BYTES);
        assert!(chunks.is_empty());
        assert_eq!(head, small);
    }
}
