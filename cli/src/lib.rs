//! `cloudim`: the chat client, the local all-in-one provider, and the
//! admin and discovery commands. The binary is a thin `main` over
//! [`commands::run`]; the chat client is [`chat::Messenger`], which tests
//! and benchmarks drive directly.

pub mod admin;
pub mod args;
pub mod chat;
pub mod client;
pub mod commands;
pub mod discover;
pub mod output;
pub mod talk;
