#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One test binary for every black-box test: the real server, driven over HTTP.

mod helpers;

mod admin;
mod admin_account;
mod admin_flow;
mod admin_reports;
mod browser;
mod cli;
mod deadlines;
mod demo;
mod eml;
mod errors;
mod follow_up;
mod fulfilment;
mod health;
mod jobs;
mod journeys;
mod mail;
mod portal;
mod portal_errors;
mod portal_journeys;
mod purge;
mod register;
mod reminders;
mod represent;
mod requests;
mod smtp_sink;
mod store;
mod uploads;
mod verification;
mod web;
