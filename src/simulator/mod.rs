//! The built-in Microsoft Graph and Entra simulator (DESIGN §8): the same URLs, bodies, paging,
//! error envelopes and AADSTS codes as the real services, deterministic data from a seed, a
//! scale knob, and fault injection. It shares no types with `graph/`: it writes its JSON from its
//! own definitions, as Microsoft's service would.

pub mod cli;
pub mod clock;
pub mod data;
pub mod faults;
pub mod jwt;
pub mod kql;
pub mod odata;
pub mod rng;
pub mod server;

pub use data::{Dataset, Scale};
pub use faults::FaultPlan;
pub use server::{RequestRecord, SimOptions, SimTenant, Simulator};
