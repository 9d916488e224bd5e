//! The reqwest-based implementation of the domain's `Outbound` port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use cloudim_domain::{Federation, Fetched, FetchedPage, NotifyTarget, Outbound, OutboundError, PmReply};
use cloudim_protocol::NotifyProtocol;
use cloudim_protocol::rsscloud::{notification_call, notification_form};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{StatusCode, header};
use url::Url;

use crate::OutboundPolicy;

/// The largest feed document fetched.
const MAX_FEED_BYTES: usize = 16 * 1024 * 1024;
/// The largest answer read from a subscriber or cloud.
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Redirects followed when fetching a feed or a page.
const MAX_REDIRECTS: usize = 5;
/// The largest identity page or WebFinger document read.
const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// The largest answer read from a PM endpoint.
const MAX_PM_REPLY_BYTES: usize = 64 * 1024;
/// The most response headers accepted.
const MAX_HEADERS: usize = 100;

/// Outbound HTTP with the address policy applied to every hop.
#[derive(Clone)]
pub struct HttpOutbound {
    client: reqwest::Client,
    /// The same, but never following redirects (for POSTs).
    direct: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

struct GuardedResolver(Arc<OutboundPolicy>);

/// The resolver's refusal: a host name whose every address is forbidden.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no public address")]
struct NoPublicAddress(String);

/// Whether an error was caused by the resolver refusing every address.
fn refused_by_resolver(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<NoPublicAddress>() {
            return true;
        }
        cur = err.source();
    }
    false
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs.into_iter().filter(|a| policy.ip_allowed_for_host(&host, a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(NoPublicAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpOutbound {
    /// Builds the client once: no proxies, no compression, bounded time,
    /// and the policy on resolution and on every redirect.
    pub fn new(policy: OutboundPolicy, request_timeout: Duration) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let redirect_policy = policy.clone();
        let base = || {
            reqwest::Client::builder()
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
                .http1_max_headers(MAX_HEADERS)
                .connect_timeout(Duration::from_secs(3))
                .timeout(request_timeout)
                .pool_idle_timeout(Duration::from_secs(30))
                .user_agent(concat!("cloudim/", env!("CARGO_PKG_VERSION"), " (rssCloud)"))
        };
        let direct = base().redirect(reqwest::redirect::Policy::none()).build()?;
        let client = base()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if let Err(host) = redirect_policy.url_allowed(attempt.url()) {
                    attempt.error(format!("redirect to {host} refused"))
                } else {
                    attempt.follow()
                }
            }))
            .build()?;
        Ok(Self { client, direct, policy })
    }

    fn check(&self, raw: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(raw).map_err(|_| OutboundError::Rejected(format!("{raw} is not a URL")))?;
        self.policy.url_allowed(&url).map_err(OutboundError::Refused)?;
        Ok(url)
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, OutboundError> {
        req.send().await.map_err(|e| {
            if e.is_timeout() {
                OutboundError::Timeout(what.to_owned())
            } else if e.is_redirect() {
                OutboundError::Refused(format!("{what} (redirect)"))
            } else if refused_by_resolver(&e) {
                OutboundError::Refused(what.to_owned())
            } else {
                OutboundError::Unreachable(what.to_owned())
            }
        })
    }

    /// Reads a body up to `max` bytes; longer bodies are an error.
    async fn body(mut resp: reqwest::Response, max: usize, what: &str) -> Result<Bytes, OutboundError> {
        if resp.content_length().is_some_and(|l| l as usize > max) {
            return Err(OutboundError::Rejected(format!("{what} sent more than {max} bytes")));
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| OutboundError::Unreachable(what.to_owned()))? {
            if buf.len() + chunk.len() > max {
                return Err(OutboundError::Rejected(format!("{what} sent more than {max} bytes")));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }
}

fn host_of(url: &Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("?")),
        None => url.host_str().unwrap_or("?").to_owned(),
    }
}

#[async_trait]
impl Outbound for HttpOutbound {
    async fn notify(&self, target: &NotifyTarget, resource: &str) -> Result<(), OutboundError> {
        let url = self.check(&target.callback)?;
        let what = host_of(&url);
        let req = match (target.protocol, &target.procedure) {
            (NotifyProtocol::XmlRpc, Some(proc_)) => self
                .client
                .post(url)
                .header(header::CONTENT_TYPE, "text/xml")
                .body(notification_call(proc_, resource)),
            _ => self
                .client
                .post(url)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(notification_form(resource)),
        };
        let resp = self.send(req, &what).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(OutboundError::Rejected(format!("{what} answered {status}")));
        }
        if target.protocol == NotifyProtocol::XmlRpc {
            let body = Self::body(resp, MAX_REPLY_BYTES, &what).await?;
            if let Ok(Err((code, msg))) = cloudim_protocol::xmlrpc::parse_response(&body) {
                return Err(OutboundError::Rejected(format!("{what} answered fault {code}: {msg}")));
            }
        }
        Ok(())
    }

    async fn challenge(&self, callback: &str, resource: &str, challenge: &str) -> Result<(), OutboundError> {
        let mut url = self.check(callback)?;
        let what = host_of(&url);
        url.query_pairs_mut().append_pair("url", resource).append_pair("challenge", challenge);
        let resp = self.send(self.client.get(url), &what).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(OutboundError::Rejected(format!("{what} answered {status} to the challenge")));
        }
        let body = Self::body(resp, MAX_REPLY_BYTES, &what).await?;
        if String::from_utf8_lossy(&body).trim() != challenge {
            return Err(OutboundError::Rejected(format!("{what} did not echo the challenge")));
        }
        Ok(())
    }

    async fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, OutboundError> {
        let parsed = self.check(url)?;
        let what = host_of(&parsed);
        let mut req = self.client.get(parsed).header(header::ACCEPT, "application/rss+xml, application/xml;q=0.9, */*;q=0.1");
        if let Some(tag) = etag {
            req = req.header(header::IF_NONE_MATCH, tag);
        }
        let resp = self.send(req, &what).await?;
        match resp.status() {
            StatusCode::NOT_MODIFIED => Ok(Fetched::NotModified),
            s if s.is_success() => {
                let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
                Ok(Fetched::Body { body: Self::body(resp, MAX_FEED_BYTES, &what).await?, etag })
            }
            s => Err(OutboundError::Rejected(format!("{what} answered {s} for the feed"))),
        }
    }

    async fn please_notify(&self, endpoint: &str, form: &str) -> Result<(), OutboundError> {
        let url = self.check(endpoint)?;
        let what = host_of(&url);
        let req = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form.to_owned());
        let resp = self.send(req, &what).await?;
        let status = resp.status();
        let body = Self::body(resp, MAX_REPLY_BYTES, &what).await?;
        let text = String::from_utf8_lossy(&body);
        let refused = text.contains("success=\"false\"") || text.replace(' ', "").contains("\"success\":false");
        if !status.is_success() || refused {
            let msg = serde_msg(&text).unwrap_or_else(|| status.to_string());
            return Err(OutboundError::Rejected(format!("{what} refused the registration: {msg}")));
        }
        Ok(())
    }
}

/// The `msg` of a JSON rssCloud reply, if it is one.
fn serde_msg(text: &str) -> Option<String> {
    let start = text.find("\"msg\"")?;
    let rest = &text[start + 5..];
    let open = rest.find('"')? + 1;
    let close = rest[open..].find('"')? + open;
    Some(rest[open..close].chars().take(300).collect())
}

#[async_trait]
impl Federation for HttpOutbound {
    async fn fetch_page(&self, url: &str) -> Result<FetchedPage, OutboundError> {
        let parsed = self.check(url)?;
        let what = host_of(&parsed);
        let req = self.client.get(parsed).header(header::ACCEPT, "text/html, application/xhtml+xml, application/jrd+json, application/json;q=0.9, */*;q=0.1");
        let resp = self.send(req, &what).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(OutboundError::Rejected(format!("{what} answered {status}")));
        }
        let final_url = resp.url().to_string();
        let link_headers = resp.headers().get_all(header::LINK).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = Self::body(resp, MAX_PAGE_BYTES, &what).await?;
        Ok(FetchedPage { final_url, link_headers, content_type, body })
    }

    async fn post_pm(&self, endpoint: &str, json: &str) -> Result<PmReply, OutboundError> {
        let url = self.check(endpoint)?;
        let what = host_of(&url);
        let req = self.direct.post(url).header(header::CONTENT_TYPE, "application/json").header(header::ACCEPT, "application/json").body(json.to_owned());
        let resp = self.send(req, &what).await?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            return Err(OutboundError::Rejected(format!("{what} answered a redirect; PM endpoints must answer directly")));
        }
        Ok(PmReply { status, body: Self::body(resp, MAX_PM_REPLY_BYTES, &what).await? })
    }

    async fn vet(&self, url: &str) -> Result<(), OutboundError> {
        let parsed = self.check(url)?;
        let Some(url::Host::Domain(host)) = parsed.host() else { return Ok(()) };
        let port = parsed.port_or_known_default().unwrap_or(0);
        if self.policy.allow_private || self.policy.url_allowlisted(&parsed) {
            return Ok(());
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.map_err(|_| OutboundError::Unreachable(host_of(&parsed)))?.collect();
        if addrs.iter().any(|a| self.policy.ip_allowed_for_host(host, a.ip())) {
            Ok(())
        } else {
            Err(OutboundError::Refused(host_of(&parsed)))
        }
    }
}
