//! End-to-end tests: the real `exai` binary (Cargo's `CARGO_BIN_EXE_exai`) run in a scratch
//! directory against the emulator, one module per area. One test binary, as cargo's own
//! `tests/testsuite`: one link step, and every test shares the harness in [`harness`].

mod harness;

mod app_routing;
mod apply_cluster;
mod apply_deployer;
mod apply_registry_monitoring;
mod apply_requests;
mod az_cli;
mod bad_input;
mod corpus;
mod deploy_output;
mod emulator_process;
mod foreign_versions;
mod init_from_azure;
mod interrupt;
mod kube;
mod output;
mod ownership;
mod pacing;
mod permissions;
mod python_sdk;
mod rbac;
mod readme;
mod reads;
mod recipe;
mod references;
mod resilience;
mod saved_plan;
mod skeleton;
mod version;
