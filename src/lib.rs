//! dsar: a data-subject rights request workflow server. The binary (`src/main.rs`) is a thin
//! CLI over this library, which the tests and benchmarks use too.

pub mod actions;
pub mod app;
pub mod clock;
pub mod config;
pub mod connectors;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
pub mod follow_up;
pub mod fulfil;
pub mod i18n;
pub mod mail;
pub mod package;
pub mod purge;
pub mod register;
pub mod requester;
pub mod sources;
pub mod staff;
pub mod store;
pub mod telemetry;
pub mod totp;
pub mod web;
pub mod worker;
pub mod workflow;
