//! Outbound HTTP for cloudim: rssCloud notifications, verification
//! challenges, feed fetches and registrations with remote clouds.
//!
//! Every request goes through [`policy::OutboundPolicy`]: only http and
//! https, and never to loopback, private, link-local (169.254.169.254 in
//! every spelling), unique-local, CGNAT, multicast or unspecified addresses,
//! including their IPv4-mapped, 6to4 and NAT64 forms, unless local
//! development explicitly allows it. Host names are resolved once by a
//! resolver that drops forbidden addresses, so the connection goes to an
//! address that was checked; IP-literal hosts, which skip the resolver, are
//! checked directly, and so is every redirect hop. No proxies are read from
//! the environment and no compression is negotiated (no decompression bombs);
//! bodies are read up to a cap.

mod client;
pub mod policy;

pub use client::HttpOutbound;
pub use policy::OutboundPolicy;
