//! The use cases of a cloudim provider and the ports they need.
//!
//! Pure: no AWS, no HTTP framework, no HTTP client. Storage and the network
//! are reached through a few object-safe ports held as `Arc<dyn Port>`;
//! [`fakes`] has in-memory versions of each for tests.

pub mod accounts;
pub mod clock;
pub mod cloud;
pub mod discovery;
pub mod dispatch;
pub mod error;
pub mod fakes;
pub mod fanout;
pub mod follow;
pub mod handshake;
pub mod invitations;
pub mod keys;
pub mod model;
pub mod ports;
pub mod provider;
pub mod publish;
pub mod settings;
pub mod tenants;
pub mod token;
pub mod watch;

pub use clock::{Clock, SystemClock};
pub use error::{Error, StoreError};
pub use model::*;
pub use ports::*;
pub use provider::{Ports, Provider};
pub use settings::{FanoutSettings, HandshakeSettings, Settings};
pub use tenants::{Admission, LimitOverrides, Limits, Meter, TenantPolicy, TenantRecord, TenantStatus, Usage};
pub use token::{Token, TokenHash};
