//! The client commands of the handshake: thin calls to the account's
//! provider, printed for a person (or as JSON with `--json`).

use anyhow::Context;
use serde_json::Value;

use crate::args::ClientArgs;
use crate::chat::{Api, Home};
use crate::output::Out;

/// The provider and token of a handshake command: the flags, or the
/// account `cloudim init` set up.
pub struct Client {
    api: Api,
    out: Out,
}

impl Client {
    /// Flags first, then the home's account.
    pub fn resolve(args: ClientArgs, home: Option<&std::path::Path>, out: Out) -> anyhow::Result<Self> {
        let (provider, token) = match (args.provider, args.token) {
            (Some(p), Some(t)) => (p, t),
            (p, t) => {
                let account = Home::resolve(home)?.account().context("give --provider and --token, or set up an account with `cloudim init`")?;
                (p.unwrap_or(account.provider), t.unwrap_or(account.token))
            }
        };
        Ok(Self { api: Api::new(&provider, Some(token))?, out })
    }

    /// One call to the provider; the JSON answer, or an error naming the
    /// provider's message.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        Ok(self.api.raw(method, path, body).await?)
    }

    /// Prints an answer: JSON, or the text `human` makes of it.
    pub fn show(&self, v: &Value, human: impl Fn(&Value) -> String) {
        self.out.show(v, human);
    }
}

/// One line per invitation: id, direction, state, peer, fingerprint.
pub fn invitation_line(i: &Value) -> String {
    let s = |k: &str| i[k].as_str().unwrap_or("-").to_owned();
    format!("{}  {:<8}  {:<9}  {}  {}", s("id"), s("direction"), s("state"), s("peer"), s("fingerprint"))
}
