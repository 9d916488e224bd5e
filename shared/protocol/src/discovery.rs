//! Endpoint discovery on a fetched page, by the algorithm of W3C Webmention
//! §3.1.2 applied to any relation type (`pm`, `pgpkey`): the first HTTP
//! `Link` header carrying the rel wins; otherwise, for HTML, the first
//! `<link>` or `<a>` element carrying it, in document order, found with a
//! real HTML parser. Relative URLs resolve against the final URL after
//! redirects (or the document's `<base>` for HTML links); an empty href
//! means the page itself; an element without href is skipped.

use scraper::{Html, Selector};
use url::Url;

use crate::link_header::parse_link_header;

/// The relation type of a person's private-messaging endpoint.
pub const REL_PM: &str = "pm";
/// The relation type of a person's OpenPGP key.
pub const REL_PGPKEY: &str = "pgpkey";

/// What a fetched page looks like to discovery.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The URL the page was finally fetched from, after redirects.
    pub url: &'a Url,
    /// Every `Link` header value, in the order received.
    pub link_headers: &'a [String],
    /// The `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// The body (read up to a cap).
    pub body: &'a [u8],
}

/// The endpoints a page names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// The `rel="pm"` endpoint.
    pub pm: Option<Url>,
    /// The `rel="pgpkey"` key URL.
    pub pgpkey: Option<Url>,
}

impl Page<'_> {
    /// The first target of `rel`, resolved, or `None`.
    pub fn find(&self, rel: &str) -> Option<Url> {
        self.find_in_headers(rel).or_else(|| self.find_in_html(rel))
    }

    /// Both endpoints cloudim needs, from one parse.
    pub fn endpoints(&self) -> Endpoints {
        let html = self.html();
        let pick = |rel: &str| self.find_in_headers(rel).or_else(|| html.as_ref().and_then(|h| find_in_document(h, self.url, rel)));
        Endpoints { pm: pick(REL_PM), pgpkey: pick(REL_PGPKEY) }
    }

    fn find_in_headers(&self, rel: &str) -> Option<Url> {
        self.link_headers
            .iter()
            .flat_map(|h| parse_link_header(h))
            .find(|l| l.has_rel(rel))
            .and_then(|l| resolve(self.url, &l.target))
    }

    fn find_in_html(&self, rel: &str) -> Option<Url> {
        find_in_document(&self.html()?, self.url, rel)
    }

    fn html(&self) -> Option<Html> {
        let mime = self.content_type?.split(';').next()?.trim().to_ascii_lowercase();
        matches!(mime.as_str(), "text/html" | "application/xhtml+xml")
            .then(|| Html::parse_document(&String::from_utf8_lossy(self.body)))
    }
}

fn find_in_document(doc: &Html, page: &Url, rel: &str) -> Option<Url> {
    let links = Selector::parse("link, a").ok()?;
    let bases = Selector::parse("base[href]").ok()?;
    let base = doc
        .select(&bases)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    doc.select(&links)
        .filter(|e| e.value().attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case(rel))))
        .find_map(|e| e.value().attr("href"))
        .and_then(|href| if href.trim().is_empty() { Some(page.clone()) } else { resolve(&base, href) })
}

/// Resolves a reference; an empty reference is the base itself.
fn resolve(base: &Url, reference: &str) -> Option<Url> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Some(base.clone());
    }
    base.join(reference).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(headers: &[&str], ctype: Option<&str>, body: &str, rel: &str) -> Option<String> {
        let url = Url::parse("https://bob.example/people/bob?x=1").unwrap();
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        Page { url: &url, link_headers: &headers, content_type: ctype, body: body.as_bytes() }.find(rel).map(|u| u.to_string())
    }

    const HTML: Option<&str> = Some("text/html; charset=utf-8");

    #[test]
    fn link_headers_win_over_html_and_the_first_wins() {
        let body = r#"<link rel="pm" href="https://html.example/pm">"#;
        assert_eq!(find(&["<https://h1.example/pm>; rel=pm"], HTML, body, "pm").as_deref(), Some("https://h1.example/pm"));
        assert_eq!(find(&["<https://x.example/>; rel=other", "</pm>; rel=\"me PM\""], HTML, body, "pm").as_deref(), Some("https://bob.example/pm"));
        assert_eq!(find(&["<https://a.example/>; rel=pm, <https://b.example/>; rel=pm"], None, "", "pm").as_deref(), Some("https://a.example/"));
        assert_eq!(find(&["<https://x.example/>; rel=other"], HTML, body, "pm").as_deref(), Some("https://html.example/pm"));
    }

    #[test]
    fn html_links_in_document_order() {
        let body = r#"<html><head><title>x</title></head><body>
            <!-- <link rel="pm" href="/commented"> -->
            <a rel="nofollow PM" href="/from-a">a</a>
            <link rel="pm" href="/from-link">
        </body></html>"#;
        assert_eq!(find(&[], HTML, body, "pm").as_deref(), Some("https://bob.example/from-a"));
        let body = r#"<link rel="pm"><link rel="pm" href="second?k=v">"#;
        assert_eq!(find(&[], HTML, body, "pm").as_deref(), Some("https://bob.example/people/second?k=v"));
        assert_eq!(find(&[], HTML, r#"<a rel="pm" href="">me</a>"#, "pm").as_deref(), Some("https://bob.example/people/bob?x=1"));
        assert_eq!(find(&[], HTML, r#"<base href="https://base.example/dir/"><link rel="pm" href="pm">"#, "pm").as_deref(), Some("https://base.example/dir/pm"));
        assert_eq!(find(&["</hdr>; rel=pm"], HTML, r#"<base href="https://base.example/dir/">"#, "pm").as_deref(), Some("https://bob.example/hdr"));
        assert_eq!(find(&[], HTML, r#"<link rel="pmx" href="/no"><link rel="p m" href="/no">"#, "pm"), None);
        assert_eq!(find(&[], HTML, "<p>nothing here</p>", "pm"), None);
    }

    #[test]
    fn non_html_bodies_are_not_parsed() {
        let body = r#"<link rel="pm" href="/pm">"#;
        assert_eq!(find(&[], Some("text/plain"), body, "pm"), None);
        assert_eq!(find(&[], Some("application/json"), body, "pm"), None);
        assert_eq!(find(&[], None, body, "pm"), None);
        assert_eq!(find(&[], Some("application/xhtml+xml"), body, "pm").as_deref(), Some("https://bob.example/pm"));
    }

    #[test]
    fn endpoints_reads_both_rels_from_one_page() {
        let url = Url::parse("https://bob.example/").unwrap();
        let headers = vec!["</key.asc>; rel=pgpkey".to_owned()];
        let body = br#"<link rel="pm" href="https://pm.example/pm"><link rel="pgpkey" href="/ignored">"#;
        let e = Page { url: &url, link_headers: &headers, content_type: HTML, body }.endpoints();
        assert_eq!(e.pm.map(String::from).as_deref(), Some("https://pm.example/pm"));
        assert_eq!(e.pgpkey.map(String::from).as_deref(), Some("https://bob.example/key.asc"));
    }
}
