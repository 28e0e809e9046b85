//! The typed Microsoft Graph client: sign-in and token cache per tenant and cloud, HTTP with
//! retries and rate limits, paging of `alerts_v2`, and advanced hunting.

pub mod auth;
pub mod client;
pub mod error;

pub use auth::{Credentials, TokenSource};
pub use client::{AlertsPage, GraphClient, HuntingResult, http_client};
pub use error::{GraphError, TokenError, TokenErrorKind};
