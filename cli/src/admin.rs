//! The operator's commands: accounts and tenants, through a running
//! provider's `/admin` routes or directly on the configured store.

use anyhow::Context;
use cloudim_domain::LimitOverrides;
use cloudim_protocol::{Origin, Tenant};
use reqwest::Method;
use serde_json::{Value, json};

use crate::args::{AdminCommand, AdminTarget, TenantCommand};
use crate::output::Out;

/// Runs one admin command.
pub async fn run(command: AdminCommand, out: Out) -> anyhow::Result<u8> {
    match command {
        AdminCommand::CreateAccount { name, tenant, target } => {
            let v = match target.provider {
                Some(url) => call(&url, Method::POST, "/admin/accounts", Some(json!({ "name": name, "tenant": tenant }))).await?,
                None => {
                    let tenant = parse_tenant(tenant.as_deref().unwrap_or("127.0.0.1"))?;
                    let built = cloudim_bootstrap::build(&target.config).await?;
                    let provider = &built.state.provider;
                    let (account, token) = provider.create_account(&tenant, &name).await.map_err(|e| match e {
                        cloudim_domain::Error::UnknownTenant(m) => anyhow::anyhow!("{m}; register it first with `cloudim admin tenant add`"),
                        e => e.into(),
                    })?;
                    let origin = Origin::from_host(target.config.public_https, tenant.as_str())?;
                    let identity = cloudim_protocol::identity::hosted_identity(&origin, &account.name).ok().map(|i| i.as_str().to_owned());
                    json!({ "name": account.name.as_str(), "tenant": tenant.as_str(), "identity": identity, "token": token.expose() })
                }
            };
            out.show(&v, |v| format!("account: {}\ntenant: {}\ntoken: {}", text(&v["name"]), text(&v["tenant"]), text(&v["token"])));
        }
        AdminCommand::Tenant { command: TenantCommand::Add { domain, max_accounts, publishes_per_minute, max_storage_bytes, target } } => {
            let limits = LimitOverrides { max_accounts, publishes_per_minute, max_storage_bytes };
            let v = match &target.provider {
                Some(url) => {
                    let mut body = serde_json::to_value(limits)?;
                    body["domain"] = json!(domain);
                    call(url, Method::POST, "/admin/tenants", Some(body)).await?
                }
                None => serde_json::to_value(local(&target).await?.put_tenant(&parse_tenant(&domain)?, limits).await?)?,
            };
            out.show(&v, tenant_lines);
        }
        AdminCommand::Tenant { command: TenantCommand::List { target } } => {
            let v = match &target.provider {
                Some(url) => call(url, Method::GET, "/admin/tenants", None).await?,
                None => json!({ "tenants": local(&target).await?.tenants().await? }),
            };
            out.show(&v, |v| v["tenants"].as_array().map(|a| a.iter().map(tenant_lines).collect::<Vec<_>>().join("\n")).unwrap_or_default());
        }
        AdminCommand::Tenant { command: TenantCommand::Show { domain, target } } => {
            let v = match &target.provider {
                Some(url) => call(url, Method::GET, &format!("/admin/tenants/{}", parse_tenant(&domain)?), None).await?,
                None => serde_json::to_value(local(&target).await?.tenant_status(&parse_tenant(&domain)?).await?)?,
            };
            out.show(&v, tenant_lines);
        }
        AdminCommand::CreateResources { mut config } => {
            config.store = cloudim_bootstrap::StoreKind::Aws;
            config.create_resources = true;
            cloudim_bootstrap::build(&config).await?;
            out.show(&json!({ "bucket": config.bucket, "table": config.table }), |v| format!("bucket {} and table {} are ready", text(&v["bucket"]), text(&v["table"])));
        }
    }
    Ok(0)
}

fn parse_tenant(domain: &str) -> anyhow::Result<Tenant> {
    Tenant::parse(domain).map_err(|e| anyhow::anyhow!("tenant {domain:?}: {e}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// One tenant, for a person: domain, standing, limits and usage.
fn tenant_lines(v: &Value) -> String {
    let how = match (v["registered"].as_bool(), v["configured"].as_bool()) {
        (Some(true), _) => "registered",
        (_, Some(true)) => "configured",
        _ => "?",
    };
    let (l, u) = (&v["limits"], &v["usage"]);
    format!(
        "{} ({how}): accounts {}/{}, storage {}/{} bytes, {} publishes per minute",
        text(&v["tenant"]),
        u["accounts"],
        l["max_accounts"],
        u["storage_bytes"],
        l["max_storage_bytes"],
        l["publishes_per_minute"]
    )
}

/// The provider built on the configured store (no server).
async fn local(target: &AdminTarget) -> anyhow::Result<std::sync::Arc<cloudim_domain::Provider>> {
    Ok(cloudim_bootstrap::build(&target.config).await?.state.provider)
}

/// Calls a running provider's admin route with `CLOUDIM_ADMIN_TOKEN`.
async fn call(provider: &str, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let admin = std::env::var("CLOUDIM_ADMIN_TOKEN").context("set CLOUDIM_ADMIN_TOKEN to the provider's admin token")?;
    Ok(crate::chat::Api::new(provider, Some(admin))?.raw(method, path, body).await?)
}
