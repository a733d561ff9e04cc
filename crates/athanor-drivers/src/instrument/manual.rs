//! A sample handler that is a person: a transfer is posted as pending, the API shows it to the
//! operator, and the operator's confirmation (or refusal) completes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::capability::{SampleHandler, Transfer, TransferDone};

/// Why a manual transfer did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManualError {
    #[error("position `{0}` is not one of this handler's positions")]
    UnknownPosition(String),
    #[error("operator {by} refused the transfer: {reason}")]
    Refused { by: String, reason: String },
    #[error("no pending transfer {0}")]
    NoSuchTransfer(u64),
    #[error("the handler was shut down before the operator answered")]
    Abandoned,
}

type Answer = Result<String, (String, String)>;

#[derive(Debug, Default)]
struct Pending {
    next: u64,
    waiting: HashMap<u64, (Transfer, oneshot::Sender<Answer>)>,
}

/// The operator's side: list pending transfers, confirm or refuse one. Cheap to clone; the API
/// holds one.
#[derive(Debug, Clone, Default)]
pub struct Confirmations {
    inner: Arc<Mutex<Pending>>,
}

impl Confirmations {
    /// Pending transfers with their ids, oldest first.
    pub fn pending(&self) -> Vec<(u64, Transfer)> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = g
            .waiting
            .iter()
            .map(|(id, (t, _))| (*id, t.clone()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// The operator `by` says transfer `id` is done.
    pub fn confirm(&self, id: u64, by: &str) -> Result<(), ManualError> {
        self.answer(id, Ok(by.to_string()))
    }

    /// The operator `by` says transfer `id` cannot be done.
    pub fn refuse(&self, id: u64, by: &str, reason: &str) -> Result<(), ManualError> {
        self.answer(id, Err((by.to_string(), reason.to_string())))
    }

    fn answer(&self, id: u64, a: Answer) -> Result<(), ManualError> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (_, tx) = g
            .waiting
            .remove(&id)
            .ok_or(ManualError::NoSuchTransfer(id))?;
        // The waiting side may have gone (its task was cancelled); the answer is then moot.
        let _ = tx.send(a);
        Ok(())
    }

    fn post(&self, t: Transfer) -> oneshot::Receiver<Answer> {
        let (tx, rx) = oneshot::channel();
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.next += 1;
        let id = g.next;
        g.waiting.insert(id, (t, tx));
        rx
    }
}

/// A person moving samples between named positions.
#[derive(Debug, Clone)]
pub struct ManualHandler {
    positions: Vec<String>,
    confirmations: Confirmations,
}

impl ManualHandler {
    pub fn new(positions: Vec<String>, confirmations: Confirmations) -> Self {
        Self {
            positions,
            confirmations,
        }
    }
}

impl SampleHandler for ManualHandler {
    type Error = ManualError;

    fn positions(&self) -> &[String] {
        &self.positions
    }

    async fn transfer(&mut self, transfer: &Transfer) -> Result<TransferDone, ManualError> {
        for p in [&transfer.from, &transfer.to] {
            if !self.positions.contains(p) {
                return Err(ManualError::UnknownPosition(p.clone()));
            }
        }
        let rx = self.confirmations.post(transfer.clone());
        match rx.await {
            Ok(Ok(by)) => Ok(TransferDone {
                transfer: transfer.clone(),
                by,
            }),
            Ok(Err((by, reason))) => Err(ManualError::Refused { by, reason }),
            Err(_) => Err(ManualError::Abandoned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_person_confirms_a_transfer() {
        let c = Confirmations::default();
        let mut h = ManualHandler::new(vec!["furnace-1".into(), "xrd-stage".into()], c.clone());
        let t = Transfer {
            sample: "S-1".into(),
            from: "furnace-1".into(),
            to: "xrd-stage".into(),
        };
        let task = tokio::spawn(async move { h.transfer(&t).await });
        let id = loop {
            if let Some((id, _)) = c.pending().first().cloned() {
                break id;
            }
            tokio::task::yield_now().await;
        };
        assert_eq!(
            c.confirm(id + 100, "ana"),
            Err(ManualError::NoSuchTransfer(id + 100))
        );
        c.confirm(id, "ana").unwrap();
        let done = task.await.unwrap().unwrap();
        assert_eq!(done.by, "ana");
        assert!(c.pending().is_empty());
    }

    #[tokio::test]
    async fn unknown_positions_are_refused_before_asking() {
        let mut h = ManualHandler::new(vec!["a".into()], Confirmations::default());
        let t = Transfer {
            sample: "S".into(),
            from: "a".into(),
            to: "b".into(),
        };
        assert_eq!(
            h.transfer(&t).await,
            Err(ManualError::UnknownPosition("b".into()))
        );
    }
}
