//! The state every request handler shares ([`Shared`]): the emulated Azure, the token store,
//! the request log, the faults and the clock.
//!
//! It lives apart from the front door so a handler imports the context, not the dispatcher.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use url::Url;

use crate::EmulatorError;
use crate::arm::toolkit::RateLimits;
use crate::auth::TokenStore;
use crate::clock::Clock;
use crate::log::RequestLog;
use crate::state::{State, StateFile};

/// Everything the request handlers share.
pub(crate) struct Shared {
    /// The emulated Azure.
    pub state: Mutex<State>,
    /// The state file, when the state is persisted; taken out (and unlocked) at shutdown.
    pub state_file: Mutex<Option<StateFile>>,
    /// Tokens issued by the token endpoint.
    pub tokens: Mutex<TokenStore>,
    /// The request log.
    pub log: RequestLog,
    /// ARM's per-subscription request counters.
    pub rate_limits: Mutex<RateLimits>,
    /// The faults in force (see [`crate::faults`]).
    pub faults: crate::faults::Faults,
    /// How long a resource-group delete runs.
    pub delete_delay: Duration,
    /// How long a long-running create, update or delete of a resource runs.
    pub operation_delay: Duration,
    /// The emulator's own URL, for links when a request names no host.
    pub base_url: Url,
    /// The time the emulator lives by (see [`crate::clock`]).
    pub clock: Clock,
}

impl Shared {
    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        // Handlers never panic while holding the lock; if one did, the state is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the token store.
    pub fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves the state to the state file, if there is one (only when changed, unless `force`).
    pub fn save(&self, force: bool) -> Result<(), EmulatorError> {
        let state_file = self.state_file.lock().unwrap_or_else(PoisonError::into_inner);
        match state_file.as_ref() {
            Some(file) => file.save(&self.state, force),
            None => {
                self.state().dirty = false;
                Ok(())
            }
        }
    }

    /// Saves the state one last time and releases the state file's lock.
    pub fn close_state_file(&self) -> Result<(), EmulatorError> {
        let mut state_file = self.state_file.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match state_file.as_ref() {
            Some(file) => file.save(&self.state, true),
            None => Ok(()),
        };
        *state_file = None;
        result
    }
}
