//! The client commands of the handshake: thin calls to the account's
//! provider, printed for a person (or as JSON with `--json`).

use anyhow::{Context, bail};
use serde_json::Value;

use crate::args::ClientArgs;

/// One call to the provider; the JSON answer, or an error naming the
/// provider's message.
pub async fn call(c: &ClientArgs, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let url = format!("{}{path}", c.provider.trim_end_matches('/'));
    let mut req = reqwest::Client::builder().no_proxy().build()?.request(method, &url).bearer_auth(&c.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("the provider at {} is unreachable", c.provider))?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{}", v["error"].as_str().map(str::to_owned).unwrap_or_else(|| format!("the provider answered {status}")));
    }
    Ok(v)
}

/// Prints an answer: JSON, or the text `human` makes of it.
pub fn show(c: &ClientArgs, v: &Value, human: impl Fn(&Value) -> String) {
    if c.json {
        println!("{v}");
    } else {
        println!("{}", human(v));
    }
}

/// One line per invitation: id, direction, state, peer, fingerprint.
pub fn invitation_line(i: &Value) -> String {
    let s = |k: &str| i[k].as_str().unwrap_or("-").to_owned();
    format!("{}  {:<8}  {:<9}  {}  {}", s("id"), s("direction"), s("state"), s("peer"), s("fingerprint"))
}
