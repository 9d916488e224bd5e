//! Strict `application/x-www-form-urlencoded` parsing.
//!
//! Unlike lossy decoders, this refuses bytes that are not UTF-8 after
//! percent-decoding, so a value is never silently altered.

use percent_encoding::percent_decode;

/// Why a form body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A name or value is not UTF-8 after percent-decoding.
    #[error("the form is not valid UTF-8")]
    NotUtf8,
    /// A field appears more than once.
    #[error("the field '{0}' appears more than once")]
    Duplicate(String),
}

/// Decodes a form body into ordered `(name, value)` pairs; empty segments
/// (`a=1&&b=2`) are skipped, and a field may appear only once.
///
/// ```
/// use cloudim_protocol::form::parse_form;
/// let pairs = parse_form(b"url=http%3A%2F%2Fa.example%2Ff&note=a+b").unwrap();
/// assert_eq!(pairs, vec![("url".into(), "http://a.example/f".into()), ("note".into(), "a b".into())]);
/// assert!(parse_form(b"x=%FF").is_err());
/// assert!(parse_form(b"x=1&x=2").is_err());
/// ```
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for segment in body.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match segment.iter().position(|&b| b == b'=') {
            Some(i) => (&segment[..i], &segment[i + 1..]),
            None => (segment, &b""[..]),
        };
        let (name, value) = (decode(name)?, decode(value)?);
        if out.iter().any(|(n, _)| *n == name) {
            return Err(FormError::Duplicate(name));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&plus).decode_utf8().map(|c| c.into_owned()).map_err(|_| FormError::NotUtf8)
}

/// Encodes pairs as a form body.
///
/// ```
/// use cloudim_protocol::form::encode_form;
/// assert_eq!(encode_form(&[("url", "http://a/b?c=d&e")]), "url=http%3A%2F%2Fa%2Fb%3Fc%3Dd%26e");
/// ```
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const SET: &percent_encoding::AsciiSet =
        &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", utf8_percent_encode(n, SET), utf8_percent_encode(v, SET)))
        .collect::<Vec<_>>()
        .join("&")
}
