//! `exai.yaml`: what a team declares, read with source positions and checked before any request.
//!
//! The pipeline is the one uv and cargo use for configuration: the file is parsed into a *wire*
//! form ([`wire`], plain serde types that mirror the YAML, every scalar carrying its span) —
//! after a structural pass that walks the YAML against the spec's own JSON Schema and reports
//! every unknown key and wrong type at once — then
//! converted into a validated [`Spec`] in which every value has been interpolated (`${VAR}`),
//! normalized and checked. Validation collects every problem it finds rather than stopping at
//! the first, and each [`Diagnostic`] names `file:line:column`, what was expected and what to do.
//! Each section is validated once, into the model's own type (see [`Declared`]); a [`Spec`]
//! then expands into the model's [`DesiredState`](exai_model::DesiredState), one function per
//! section.
//!
//! # Boundaries
//!
//! - No I/O: the caller reads the file and supplies the environment lookup, so every test is a
//!   string in, a value or diagnostics out.
//! - Nothing here knows how Azure is called; it knows Azure's *naming rules*, which are part of
//!   what a spec means.
//!
//! # Key design decision: refuse what YAML allows but a spec should not contain
//!
//! The YAML layer is `marked-yaml` (serde-based, a span on every node). It refuses anchors and
//! aliases, explicit tags and duplicate keys. Each of those has caused real incidents in YAML
//! configuration (alias "billion laughs" bombs, a duplicated key silently overriding the first),
//! and none is needed to describe a platform: shared settings belong in `defaults`.

mod convert;
mod diagnostic;
mod interpolate;
pub mod rules;
mod shape;
mod spec;
pub mod wire;
mod yaml;

pub use diagnostic::{Diagnostic, SourceSpan, SourceText, SpecError, suggest};
pub use spec::{
    ClusterDecl, Declared, DeployAccess, DeployerDecl, Environment, ExternalObject, GitHubDecl, KubernetesDecl, Spec,
    SpecName, SpecNameOrigin, UnknownEnvironment, Warning,
};
pub use wire::{DeployerScope, schema};

/// The largest spec exai reads. A platform description is a few kilobytes; anything this large
/// is a mistake (a binary, a log) and is refused before it is parsed.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// Parses and validates the spec `text`, read from `file` (used only in diagnostics).
///
/// `env` looks up environment variables for `${VAR}` interpolation.
pub fn parse(file: &str, text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Spec, SpecError> {
    let document = yaml::parse(file, text)?;
    convert::convert(file, text, &document, env)
}
