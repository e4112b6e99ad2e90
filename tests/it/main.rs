//! migtop's integration tests, in one crate so that they link the library once.
//!
//! One module per subject; helpers shared between them live in `support`, one module per
//! purpose. Reference samples are in `tests/fixtures/`, the Python SDK check in `tests/interop/`.

mod support;

mod architecture;
mod checklist_render;
mod client_http;
mod config_cli;
mod credentials_modes;
mod dashboard_keys;
mod dashboard_render;
mod dsn_libpq;
mod e2e_replay;
mod e2e_tmux;
mod edges;
mod exporter;
mod fixtures;
mod hardening;
mod hostile_text;
mod interop;
mod lab_checklist;
mod lab_cmd;
mod lab_fence;
mod lab_pg;
mod lab_ready;
mod native_physical;
mod record_cli;
mod recordings;
mod robustness;
mod secret_hygiene;
mod side_by_side;
mod sim_auth;
mod sim_binary;
mod sim_client;
mod sim_faults;
mod sim_source;
mod status_cli;
mod switchover_cli;
mod wait_cli;
