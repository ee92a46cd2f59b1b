//! One module per Azure resource kind: its id, its requests, and its owned-field projection.
//!
//! Every fact a module relies on names its source (a swagger file, an official example, or the
//! facts in `shared/reference/azure-rest-facts.md`), because a wrong fact here is a wrong plan.

mod resource_group;

pub use resource_group::ResourceGroup;
