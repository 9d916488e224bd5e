//! rssCloud requests and replies (rssboard.org "rssCloud interface", as the
//! reference server speaks it): `pleaseNotify` and `ping` over REST forms
//! and XML-RPC, and the notifications sent to subscribers.

use std::net::IpAddr;

use url::Url;

use crate::form::{FormError, encode_form, parse_form};
use crate::xmlrpc::{MethodCall, Value};

/// The most resource URLs one `pleaseNotify` may name.
pub const MAX_URLS: usize = 32;
/// The longest URL accepted anywhere in rssCloud requests.
pub const MAX_URL_LEN: usize = 2048;

/// Why an rssCloud request is not acceptable. Messages are shown to callers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RssCloudError {
    /// The body is not a readable form.
    #[error(transparent)]
    Form(#[from] FormError),
    /// A required field is absent or empty.
    #[error("the required field '{0}' is missing")]
    Missing(&'static str),
    /// The port is not a number from 1 to 65535.
    #[error("the port '{0}' is not a number from 1 to 65535")]
    BadPort(String),
    /// The path does not start with '/' or has spaces or control characters.
    #[error("the path must start with '/' and contain no spaces or control characters")]
    BadPath,
    /// The protocol is not one this cloud speaks.
    #[error("the protocol '{0}' is not supported; use http-post, https-post or xml-rpc")]
    UnknownProtocol(String),
    /// A resource URL is not an absolute http or https URL.
    #[error("'{0}' is not an absolute http or https URL")]
    BadUrl(String),
    /// More resource URLs than allowed in one request.
    #[error("at most {MAX_URLS} urls may be registered in one request")]
    TooManyUrls,
    /// The domain is not a host name or IP address.
    #[error("the domain '{0}' is not a valid host name")]
    BadDomain(String),
    /// The XML-RPC notify procedure name is missing or invalid.
    #[error("notifyProcedure must name an XML-RPC method (letters, digits, '.', '_', ':' and '/')")]
    BadProcedure,
    /// The XML-RPC call has the wrong parameters.
    #[error("{0}")]
    Params(&'static str),
}

/// How a subscriber wants to be notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyProtocol {
    /// A form POST over HTTP (HTTPS when the port is 443).
    HttpPost,
    /// A form POST over HTTPS.
    HttpsPost,
    /// An XML-RPC call over HTTP.
    XmlRpc,
}

impl NotifyProtocol {
    /// Parses the protocol name used on the wire.
    pub fn parse(s: &str) -> Result<Self, RssCloudError> {
        match s.trim() {
            "http-post" => Ok(Self::HttpPost),
            "https-post" => Ok(Self::HttpsPost),
            "xml-rpc" => Ok(Self::XmlRpc),
            other => Err(RssCloudError::UnknownProtocol(other.chars().take(40).collect())),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::HttpPost => "http-post",
            Self::HttpsPost => "https-post",
            Self::XmlRpc => "xml-rpc",
        }
    }
}

/// A validated `pleaseNotify` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PleaseNotify {
    /// The XML-RPC method to call on notification (xml-rpc only).
    pub notify_procedure: Option<String>,
    /// The subscriber's port.
    pub port: u16,
    /// The subscriber's path.
    pub path: String,
    /// How to notify.
    pub protocol: NotifyProtocol,
    /// The resources to watch.
    pub urls: Vec<Url>,
    /// The subscriber's host; when absent, the caller's address is used and
    /// the subscription is verified by a test notification instead of a challenge.
    pub domain: Option<String>,
}

impl PleaseNotify {
    /// Parses the REST form: `notifyProcedure`, `port`, `path`, `protocol`,
    /// `url1`..`urlN`, optional `domain` (and `registerProcedure`, ignored).
    ///
    /// ```
    /// use cloudim_protocol::{PleaseNotify, NotifyProtocol};
    /// let r = PleaseNotify::from_form(b"port=5337&path=%2Fnotify&protocol=http-post&url1=http%3A%2F%2Fa.example%2Ffeeds%2Fx").unwrap();
    /// assert_eq!(r.port, 5337);
    /// assert_eq!(r.protocol, NotifyProtocol::HttpPost);
    /// assert_eq!(r.urls[0].as_str(), "http://a.example/feeds/x");
    /// ```
    pub fn from_form(body: &[u8]) -> Result<Self, RssCloudError> {
        let pairs = parse_form(body)?;
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
        let mut urls: Vec<(u32, &str)> = pairs
            .iter()
            .filter_map(|(n, v)| Some((n.strip_prefix("url")?.parse::<u32>().ok()?, v.trim())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        urls.sort_by_key(|(i, _)| *i);
        let port_text = get("port").ok_or(RssCloudError::Missing("port"))?;
        let port = parse_port(port_text)?;
        Self::build(
            get("notifyProcedure"),
            port,
            get("path").ok_or(RssCloudError::Missing("path"))?,
            get("protocol").ok_or(RssCloudError::Missing("protocol"))?,
            &urls.iter().map(|(_, u)| *u).collect::<Vec<_>>(),
            get("domain"),
        )
    }

    /// Reads the parameters of `rssCloud.pleaseNotify(notifyProcedure, port,
    /// path, protocol, urlList[, domain])`.
    pub fn from_xmlrpc(params: &[Value]) -> Result<Self, RssCloudError> {
        if !(5..=6).contains(&params.len()) {
            return Err(RssCloudError::Params(
                "rssCloud.pleaseNotify takes 5 or 6 parameters: notifyProcedure, port, path, protocol, urlList, domain",
            ));
        }
        let port = match &params[1] {
            Value::Int(p) => u16::try_from(*p).map_err(|_| RssCloudError::BadPort(p.to_string()))?,
            Value::String(s) => parse_port(s.trim())?,
            _ => return Err(RssCloudError::Params("port must be an int")),
        };
        let urls: Vec<&str> = match &params[4] {
            Value::Array(items) => items
                .iter()
                .map(|v| text(v, "urlList must be an array of strings"))
                .collect::<Result<_, _>>()?,
            Value::String(s) => vec![s.trim()],
            _ => return Err(RssCloudError::Params("urlList must be an array of strings")),
        };
        let domain = match params.get(5) {
            Some(v) => Some(text(v, "domain must be a string")?).filter(|d| !d.is_empty()),
            None => None,
        };
        Self::build(
            Some(text(&params[0], "notifyProcedure must be a string")?).filter(|s| !s.is_empty()),
            port,
            text(&params[2], "path must be a string")?,
            text(&params[3], "protocol must be a string")?,
            &urls,
            domain,
        )
    }

    fn build(
        procedure: Option<&str>,
        port: u16,
        path: &str,
        protocol: &str,
        urls: &[&str],
        domain: Option<&str>,
    ) -> Result<Self, RssCloudError> {
        let protocol = NotifyProtocol::parse(protocol)?;
        if !path.starts_with('/') || path.len() > 1024 || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RssCloudError::BadPath);
        }
        let notify_procedure = match (protocol, procedure) {
            (NotifyProtocol::XmlRpc, None) => return Err(RssCloudError::BadProcedure),
            (_, Some(p)) if !valid_procedure(p) => return Err(RssCloudError::BadProcedure),
            (_, p) => p.map(str::to_owned),
        };
        if urls.is_empty() {
            return Err(RssCloudError::Missing("url1"));
        }
        if urls.len() > MAX_URLS {
            return Err(RssCloudError::TooManyUrls);
        }
        let urls = urls.iter().map(|u| parse_http_url(u)).collect::<Result<Vec<_>, _>>()?;
        let domain = match domain {
            Some(d) => Some(valid_domain(d)?),
            None => None,
        };
        Ok(Self { notify_procedure, port, path: path.to_owned(), protocol, urls, domain })
    }

    /// The URL notifications go to: the domain (or else the caller's
    /// address), port and path, over HTTPS for `https-post` or port 443.
    ///
    /// ```
    /// use cloudim_protocol::PleaseNotify;
    /// let r = PleaseNotify::from_form(b"port=9&path=/cb&protocol=http-post&url1=http://a.example/f").unwrap();
    /// assert_eq!(r.callback_url("::1".parse().unwrap()), "http://[::1]:9/cb");
    /// ```
    pub fn callback_url(&self, caller: IpAddr) -> String {
        let https = self.protocol == NotifyProtocol::HttpsPost
            || (self.protocol == NotifyProtocol::HttpPost && self.port == 443);
        let scheme = if https { "https" } else { "http" };
        let host = match (&self.domain, caller) {
            (Some(d), _) => d.clone(),
            (None, IpAddr::V4(ip)) => ip.to_string(),
            (None, IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => format!("[{ip}]"),
            },
        };
        format!("{scheme}://{host}:{}{}", self.port, self.path)
    }
}

/// A validated `ping`: the URL of a resource that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// The resource that changed.
    pub url: Url,
}

impl Ping {
    /// Parses the REST form `url=…`.
    ///
    /// ```
    /// assert!(cloudim_protocol::Ping::from_form(b"url=http%3A%2F%2Fa.example%2Ff").is_ok());
    /// assert!(cloudim_protocol::Ping::from_form(b"").is_err());
    /// ```
    pub fn from_form(body: &[u8]) -> Result<Self, RssCloudError> {
        let pairs = parse_form(body)?;
        let url = pairs
            .iter()
            .find(|(n, _)| n == "url")
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or(RssCloudError::Missing("url"))?;
        Ok(Self { url: parse_http_url(url)? })
    }

    /// Reads the parameters of `rssCloud.ping(url)`.
    pub fn from_xmlrpc(params: &[Value]) -> Result<Self, RssCloudError> {
        match params {
            [Value::String(url)] => Ok(Self { url: parse_http_url(url.trim())? }),
            _ => Err(RssCloudError::Params("rssCloud.ping takes one string parameter: the resource url")),
        }
    }
}

/// The reply to `pleaseNotify` and `ping`: XML by default, JSON on request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotifyResult {
    /// Whether the request succeeded.
    pub success: bool,
    /// A human-readable explanation.
    pub msg: String,
}

impl NotifyResult {
    /// Renders `<?xml?><{element} success="…" msg="…"/>`; the reference
    /// server uses `notifyResult` for pleaseNotify and `result` for ping.
    ///
    /// ```
    /// use cloudim_protocol::NotifyResult;
    /// let r = NotifyResult { success: false, msg: "a \"b\" <c>".into() };
    /// assert_eq!(r.to_xml("notifyResult"), "<?xml version=\"1.0\"?>\n<notifyResult success=\"false\" msg=\"a &quot;b&quot; &lt;c&gt;\"/>\n");
    /// ```
    pub fn to_xml(&self, element: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<{element} success=\"{}\" msg=\"{}\"/>\n",
            self.success,
            quick_xml::escape::escape(self.msg.as_str())
        )
    }

    /// Renders `{"success":…,"msg":"…"}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The body of an `http-post` notification: `url=<resource>`.
pub fn notification_form(resource: &str) -> String {
    encode_form(&[("url", resource)])
}

/// The body of an `xml-rpc` notification: `procedure(resource)`.
pub fn notification_call(procedure: &str, resource: &str) -> String {
    MethodCall { method: procedure.to_owned(), params: vec![Value::String(resource.to_owned())] }.render()
}

/// Parses an absolute http(s) URL of bounded length, without credentials.
pub fn parse_http_url(s: &str) -> Result<Url, RssCloudError> {
    let bad = || RssCloudError::BadUrl(s.chars().take(100).collect());
    if s.len() > MAX_URL_LEN {
        return Err(bad());
    }
    let url = Url::parse(s).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad());
    }
    Ok(url)
}

fn text<'a>(v: &'a Value, what: &'static str) -> Result<&'a str, RssCloudError> {
    v.as_str().map(str::trim).ok_or(RssCloudError::Params(what))
}

fn parse_port(s: &str) -> Result<u16, RssCloudError> {
    s.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| RssCloudError::BadPort(s.chars().take(20).collect()))
}

fn valid_procedure(p: &str) -> bool {
    (1..=256).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b))
}

fn valid_domain(d: &str) -> Result<String, RssCloudError> {
    let bad = || RssCloudError::BadDomain(d.chars().take(60).collect());
    if let Ok(ip) = d.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    crate::Tenant::parse(d).map(|t| t.as_str().to_owned()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_name_the_problem() {
        let e = |b: &[u8]| PleaseNotify::from_form(b).unwrap_err().to_string();
        assert_eq!(e(b"path=/x&protocol=http-post&url1=http://a/f"), "the required field 'port' is missing");
        assert!(e(b"port=99999&path=/x&protocol=http-post&url1=http://a/f").contains("1 to 65535"));
        assert!(e(b"port=0&path=/x&protocol=http-post&url1=http://a/f").contains("1 to 65535"));
        assert!(e(b"port=80&path=x&protocol=http-post&url1=http://a/f").contains("path"));
        assert!(e(b"port=80&path=/x&protocol=soap&url1=http://a/f").contains("'soap' is not supported"));
        assert!(e(b"port=80&path=/x&protocol=http-post").contains("url1"));
        assert!(e(b"port=80&path=/x&protocol=http-post&url1=ftp://a/f").contains("not an absolute http"));
        assert!(e(b"port=80&path=/x&protocol=http-post&url1=http://u:p@a/f").contains("not an absolute http"));
        assert!(e(b"port=80&path=/x&protocol=xml-rpc&url1=http://a/f").contains("notifyProcedure"));
        assert!(e(b"port=80&path=/x&protocol=http-post&url1=http://a/f&domain=a_b").contains("domain"));
        assert!(e(b"port=80&path=/x&protocol=http-post&url1=http://a/f&port=81").contains("more than once"));
        assert!(e(b"port=80&path=/x%FF&protocol=http-post&url1=http://a/f").contains("UTF-8"));
        let many: String = (1..=33).map(|i| format!("&url{i}=http://a/{i}")).collect();
        assert!(e(format!("port=80&path=/x&protocol=http-post{many}").as_bytes()).contains("at most"));
    }

    #[test]
    fn urls_are_ordered_by_index_and_https_is_chosen_by_protocol_or_port() {
        let r = PleaseNotify::from_form(b"port=443&path=/n&protocol=http-post&url2=http://a/2&url1=http://a/1&domain=Sub.Example").unwrap();
        assert_eq!(r.urls.iter().map(Url::as_str).collect::<Vec<_>>(), ["http://a/1", "http://a/2"]);
        assert_eq!(r.callback_url("10.0.0.1".parse().unwrap()), "https://sub.example:443/n");
        let r = PleaseNotify::from_form(b"port=8443&path=/n&protocol=https-post&url1=http://a/1").unwrap();
        assert_eq!(r.callback_url("::ffff:127.0.0.1".parse().unwrap()), "https://127.0.0.1:8443/n");
    }

    #[test]
    fn xmlrpc_params() {
        let params = vec![
            Value::String("rssCloud.notify".into()),
            Value::Int(5337),
            Value::String("/RPC2".into()),
            Value::String("xml-rpc".into()),
            Value::Array(vec![Value::String("http://a.example/f".into())]),
        ];
        let r = PleaseNotify::from_xmlrpc(&params).unwrap();
        assert_eq!(r.notify_procedure.as_deref(), Some("rssCloud.notify"));
        assert_eq!(r.domain, None);
        assert!(PleaseNotify::from_xmlrpc(&params[..3]).is_err());
        let mut bad = params.clone();
        bad[1] = Value::Int(70000);
        assert!(matches!(PleaseNotify::from_xmlrpc(&bad), Err(RssCloudError::BadPort(_))));
        assert!(Ping::from_xmlrpc(&[Value::String("http://a/f".into())]).is_ok());
        assert!(Ping::from_xmlrpc(&[]).is_err());
    }

    #[test]
    fn notifications() {
        assert_eq!(notification_form("http://a/f?x=1"), "url=http%3A%2F%2Fa%2Ff%3Fx%3D1");
        let call = MethodCall::parse(notification_call("rssCloud.notify", "http://a/f").as_bytes()).unwrap();
        assert_eq!(call.params, vec![Value::String("http://a/f".into())]);
        assert_eq!(NotifyResult { success: true, msg: "ok".into() }.to_json(), r#"{"success":true,"msg":"ok"}"#);
    }
}
