//! HTTP `Link` headers (RFC 8288): several links in one header, quoted
//! parameter values with escapes, rel lists, case-insensitive relation types.

/// One link of a `Link` header: its target as written (not yet resolved)
/// and its relation types, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkValue {
    /// The URI reference between `<` and `>`.
    pub target: String,
    /// The relation types of the first `rel` parameter, lowercased.
    pub rels: Vec<String>,
}

impl LinkValue {
    /// Whether the link carries the relation type `rel` (ASCII case-insensitive).
    pub fn has_rel(&self, rel: &str) -> bool {
        self.rels.iter().any(|r| r.eq_ignore_ascii_case(rel))
    }
}

/// Parses one `Link` header value into its links, in order. Malformed
/// links are skipped; the rest of the header is still read.
///
/// ```
/// use cloudim_protocol::link_header::parse_link_header;
/// let links = parse_link_header(r#"<https://a.example/x>; rel="pm other", </y?q=1>; title="a, b"; REL=PgpKey"#);
/// assert_eq!(links.len(), 2);
/// assert!(links[0].has_rel("pm"));
/// assert_eq!(links[1].target, "/y?q=1");
/// assert!(links[1].has_rel("pgpkey"));
/// ```
pub fn parse_link_header(value: &str) -> Vec<LinkValue> {
    let mut p = Parser { s: value.as_bytes(), i: 0 };
    let mut out = Vec::new();
    loop {
        p.skip(|b| b == b',' || is_ws(b));
        if p.done() {
            return out;
        }
        match p.link() {
            Some(link) => out.push(link),
            None => p.skip_to_next_link(),
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> String {
        let start = self.i;
        self.skip(f);
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// `<target>` then `; param` pairs, up to the next top-level comma.
    fn link(&mut self) -> Option<LinkValue> {
        if self.peek() != Some(b'<') {
            return None;
        }
        self.i += 1;
        let target = self.take_while(|b| b != b'>');
        if self.peek() != Some(b'>') {
            return None;
        }
        self.i += 1;
        let mut rels: Option<Vec<String>> = None;
        loop {
            self.skip(is_ws);
            match self.peek() {
                None | Some(b',') => break,
                Some(b';') => self.i += 1,
                Some(_) => return None,
            }
            self.skip(is_ws);
            let name = self.take_while(|b| !matches!(b, b'=' | b';' | b',') && !is_ws(b)).to_ascii_lowercase();
            self.skip(is_ws);
            let value = if self.peek() == Some(b'=') {
                self.i += 1;
                self.skip(is_ws);
                if self.peek() == Some(b'"') { self.quoted()? } else { self.take_while(|b| !matches!(b, b';' | b',') && !is_ws(b)) }
            } else {
                String::new()
            };
            // Only the first rel parameter counts (RFC 8288 §3.3).
            if name == "rel" && rels.is_none() {
                rels = Some(value.split_ascii_whitespace().map(str::to_ascii_lowercase).collect());
            }
        }
        Some(LinkValue { target: target.trim().to_owned(), rels: rels.unwrap_or_default() })
    }

    /// A quoted string with backslash escapes; `None` if unterminated.
    fn quoted(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    out.push(self.peek()?);
                    self.i += 1;
                }
                _ => out.push(b),
            }
        }
        None
    }

    /// Skips a malformed link: to the next comma outside quotes and brackets.
    fn skip_to_next_link(&mut self) {
        let (mut quoted, mut bracket) = (false, false);
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'\\' if quoted => self.i += 1,
                b'"' if !bracket => quoted = !quoted,
                b'<' if !quoted => bracket = true,
                b'>' if !quoted => bracket = false,
                b',' if !quoted && !bracket => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_link_headers() {
        let one = |h: &str| parse_link_header(h).into_iter().map(|l| (l.target, l.rels.join(" "))).collect::<Vec<_>>();
        assert_eq!(one("<a>; rel=pm"), vec![("a".into(), "pm".into())]);
        assert_eq!(one("<a>;rel=\"pm\""), vec![("a".into(), "pm".into())]);
        assert_eq!(one("<a> ; rel = \"PM\" "), vec![("a".into(), "pm".into())]);
        assert_eq!(one("<a>; rel=\"x pm\"; rel=other"), vec![("a".into(), "x pm".into())]);
        assert_eq!(one(r#"<a>; title="x\"; rel=pm", <b>; rel=pm"#), vec![("a".into(), "".into()), ("b".into(), "pm".into())]);
        assert_eq!(one("<a,b>; rel=pm"), vec![("a,b".into(), "pm".into())]);
        assert_eq!(one("garbage, <b>; rel=pm"), vec![("b".into(), "pm".into())]);
        assert_eq!(one("<a>; rel=\"unterminated"), vec![]);
        assert_eq!(one(""), vec![]);
        assert_eq!(one("<>; rel=pm"), vec![("".into(), "pm".into())]);
    }
}
