//! How the client prints: text for people (colour only on a terminal and
//! never with `NO_COLOR`), or one JSON object per line with `--json`.

use std::io::IsTerminal;

use crate::chat::ChatMessage;

/// Printing preferences.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// JSON lines instead of text.
    pub json: bool,
    colour_out: bool,
    colour_err: bool,
}

impl Out {
    /// From `--json`, `NO_COLOR` and whether the streams are terminals.
    pub fn new(json: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { json, colour_out: !no_color && std::io::stdout().is_terminal(), colour_err: !no_color && std::io::stderr().is_terminal() }
    }

    fn paint(on: bool, code: &str, s: &str) -> String {
        if on { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() }
    }

    /// A message, as a line (or lines) of text or one JSON object.
    pub fn message(&self, m: &ChatMessage, my_name: &str) {
        if self.json {
            println!("{}", serde_json::to_string(m).unwrap_or_default());
            return;
        }
        let who = if m.from_me { my_name.to_owned() } else { short_name(&m.sender) };
        let who = Self::paint(self.colour_out, if m.from_me { "32" } else { "36;1" }, &who);
        println!("[{}] {who}: {}", format_time(m.sent_at_ms), m.text);
    }

    /// A warning, on standard error (or a JSON object on standard out).
    pub fn warn(&self, w: &str) {
        if self.json {
            println!("{}", serde_json::json!({ "warning": w }));
        } else {
            eprintln!("{} {w}", Self::paint(self.colour_err, "33;1", "warning:"));
        }
    }

    /// An error, on standard error.
    pub fn error(&self, e: &str) {
        eprintln!("{} {e}", Self::paint(self.colour_err, "31;1", "cloudim:"));
    }

    /// A value: JSON, or the text `human` makes.
    pub fn show<T: serde::Serialize>(&self, v: &T, human: impl FnOnce(&T) -> String) {
        if self.json {
            println!("{}", serde_json::to_string(v).unwrap_or_default());
        } else {
            let text = human(v);
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }
}

/// The last path segment of an identity URL (`…/u/alice` → `alice`).
pub fn short_name(identity: &str) -> String {
    identity.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or(identity).to_owned()
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix milliseconds.
pub fn format_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00:00");
        assert_eq!(super::format_time(1_795_263_598_000), "2026-11-21 12:19:58");
        assert_eq!(super::short_name("http://127.0.0.1:8080/u/alice"), "alice");
    }
}
