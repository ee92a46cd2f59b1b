//! The vocabulary of exai: what a resource *is*, independent of where it came from.
//!
//! This crate holds the types every other exai crate speaks — [`Address`], [`ResourceId`],
//! [`Location`], [`Tags`], the desired and live views of each resource — and the one piece of
//! Azure knowledge that must be shared by the planner and the executor: how a resource kind is
//! *projected* onto the fields exai owns ([`OwnedFields`]) and how it is written back
//! ([`ApiRequest`]).
//!
//! # Boundaries
//!
//! - No I/O of any kind: no HTTP, no filesystem, no clock, no environment, no async runtime.
//!   Everything here is a pure function over values, so the planner can be tested with values
//!   built in memory and the executor's dry-run shows exactly the requests a real run sends.
//! - It never depends on the emulator (and the emulator never depends on it): the emulator models
//!   Azure from Azure's documents, and this crate models Azure from the same documents, so a
//!   misreading in either one shows up as a failing test instead of hiding in both.
//!
//! # Key design decision: compare projections, not documents
//!
//! Azure returns far more than anyone sends: read-only fields, server defaults, ids in other
//! casings, regions in display form. Diffing documents is where other tools' noise comes from.
//! Each resource kind here instead projects *both* the desired spec and the live document onto the
//! same flat map of owned fields (`location`, `tags.project`, ...), normalized the same way. The
//! planner compares those maps and nothing else, so a field Azure fills in can never show up as a
//! change, and an owned field that differs always does.

mod address;
pub mod checks;
mod fields;
mod id;
mod kind;
pub mod kinds;
mod location;
mod mark;
mod owned;
pub mod permissions;
mod request;
mod resource;
mod shown;
mod tags;

pub use address::Address;
pub use fields::{FieldPath, OwnedFields, fingerprint, sha256_digest};
pub use id::{ResourceId, ResourceIdError};
pub use kind::{
    KNOWN_AFTER_APPLY, Kind, Known, PreflightRefusal, Unresolved, as_placeholder, describe_path, describe_placeholders,
    path_placeholder, placeholder, placeholder_addresses, resolve_path, resolve_placeholders,
};
pub use kinds::{Deletion, KindInfo, KindName, MarkPlace, Orphans};
pub use location::{KNOWN_REGIONS, Location, LocationError};
pub use mark::{Mark, SpecIdError};
pub use owned::{OwnedObject, owned_in_scan, ownership_scan};
pub use request::{Adoption, ApiRequest, ApiVersion, Method, SecretGuard, SecretOutput, Service};
pub use resource::{
    DesiredResource, DesiredSpec, DesiredState, EffectivePermissions, LiveResource, LiveState, Observation,
};
pub use shown::{MAX_SHOWN_CHARS, escape_shown, quote_shown};
pub use tags::{OWNER_TAG, TagError, Tags};
