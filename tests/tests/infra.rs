//! The SAM template agrees with the code: the schedule sends exactly
//! `renew_event()`, every `CLOUDIM_*` variable it sets is one the
//! configuration reads, and each function builds the binary it names.
//! (`infra/validate.py` checks the template itself: translation, cfn-lint,
//! checkov.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::path::PathBuf;

fn read(rel: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_renewal_schedule_sends_renew_event() {
    let template = read("infra/template.yaml");
    let mut lines = template.lines().skip_while(|l| l.trim() != "# renew_event()").skip(1);
    let input = lines.next().expect("an Input line after `# renew_event()`").trim();
    let json = input.strip_prefix("Input: '").and_then(|s| s.strip_suffix('\'')).expect("Input: '…'");
    let sent: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(sent, cloudim_store_aws::renew_event());
}

#[test]
fn every_variable_the_template_sets_is_read_by_the_configuration() {
    let template = read("infra/template.yaml");
    let config = read("shared/bootstrap/src/config.rs");
    let mut seen = 0;
    for line in template.lines() {
        let t = line.trim();
        if let Some((name, _)) = t.split_once(':')
            && name.starts_with("CLOUDIM_")
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            assert!(config.contains(&format!("env = \"{name}\"")), "the template sets {name}, which the configuration does not read");
            seen += 1;
        }
    }
    assert!(seen >= 8, "found only {seen} variables");
}

#[test]
fn each_function_builds_its_own_binary() {
    let template = read("infra/template.yaml");
    for f in ["discovery", "handshake", "publish", "notify"] {
        assert!(template.contains(&format!("Binary: cloudim-fn-{f}")), "{f}");
        assert!(read(&format!("functions/{f}/Cargo.toml")).contains(&format!("name = \"cloudim-fn-{f}\"")));
    }
}
