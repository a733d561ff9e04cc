//! The one mechanism behind every state machine: a table of legal transitions, looked up, never bypassed.

use std::fmt;

/// A state machine whose legal moves are listed in one table.
///
/// Every machine in the domain implements this with a `const` table; [`StateMachine::apply`] is the
/// only way a state changes, so an illegal move is always an error and never silently applied.
pub trait StateMachine: Copy + Eq + fmt::Debug + 'static {
    /// What can be done to a record in this machine.
    type Action: Copy + Eq + fmt::Debug + 'static;

    /// What the machine is called in errors and events ("campaign", "experiment", …).
    const KIND: &'static str;

    /// Every legal transition: (from, action, to). Nothing else is legal.
    const TRANSITIONS: &'static [(Self, Self::Action, Self)];

    /// The state this action leads to, or an error naming the illegal move.
    fn apply(self, action: Self::Action) -> Result<Self, TransitionError> {
        Self::TRANSITIONS
            .iter()
            .find(|(from, act, _)| *from == self && *act == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| TransitionError {
                machine: Self::KIND,
                from: format!("{self:?}").to_lowercase(),
                action: format!("{action:?}").to_lowercase(),
            })
    }

    /// The actions legal in this state, in table order.
    fn legal_actions(self) -> Vec<Self::Action> {
        Self::TRANSITIONS
            .iter()
            .filter(|(from, _, _)| *from == self)
            .map(|(_, act, _)| *act)
            .collect()
    }

    /// A state with no way out.
    fn is_terminal(self) -> bool {
        !Self::TRANSITIONS.iter().any(|(from, _, _)| *from == self)
    }

    /// The shortest series of legal actions from this state to `target` (empty when already
    /// there; None when the table offers no way). Ties go to the earlier table rows.
    fn path_to(self, target: Self) -> Option<Vec<Self::Action>> {
        // Breadth-first over the table: machines have a handful of states.
        let mut frontier: Vec<(Self, Vec<Self::Action>)> = vec![(self, Vec::new())];
        let mut seen = vec![self];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for (state, path) in frontier {
                if state == target {
                    return Some(path);
                }
                for (from, act, to) in Self::TRANSITIONS {
                    if *from == state && !seen.contains(to) {
                        seen.push(*to);
                        let mut p = path.clone();
                        p.push(*act);
                        next.push((*to, p));
                    }
                }
            }
            frontier = next;
        }
        None
    }
}

/// An attempt to make a move that the machine's table does not list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a {machine} that is {from}")]
pub struct TransitionError {
    pub machine: &'static str,
    pub from: String,
    pub action: String,
}
