//! dsar: a data-subject rights request workflow server. The binary (`src/main.rs`) is a thin
//! CLI over this library, which the tests and benchmarks use too.
//!
//! Dependencies point one way: `domain` (pure) ← `store` ← the services (`workflow`, `staff`,
//! `fulfil`, `mail`, `worker` jobs) ← the entry points (`web`, the worker loop, the CLI) ← the
//! wiring (`app`, `main`, and `demo`, which runs the server on a demonstration shop).
//! `config`, `crypto`, `clock`, `i18n` and `documents` (what an uploaded file may be) sit at
//! the bottom beside `domain`; `state` holds what the services share.

pub mod app;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod fulfil;
pub mod i18n;
pub mod mail;
pub mod staff;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod worker;
pub mod workflow;
