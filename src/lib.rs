//! mailtrail: a local, read-only collector and investigation tool for Microsoft Defender for
//! Office 365. See DESIGN (shared) and README.md for the architecture and the commands.

pub mod campaigns;
pub mod cli;
pub mod cloud;
pub mod collector;
pub mod commands;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod duration;
pub mod export;
pub mod failure;
pub mod graph;
pub mod import;
pub mod init;
pub mod notes;
pub mod ocsf;
pub mod prune;
pub mod query;
pub mod search;
pub mod secret;
pub mod simulator;
pub mod store;
pub mod terminal;
pub mod triage;
pub mod tui;

pub use failure::Failure;
