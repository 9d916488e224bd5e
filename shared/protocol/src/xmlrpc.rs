//! XML-RPC, as much of it as rssCloud needs: method calls in, method
//! responses and faults out, and method calls out for notifications.

use quick_xml::Reader;
use quick_xml::events::Event;
use quick_xml::escape::escape;

/// The deepest nesting of values accepted in a call.
const MAX_DEPTH: usize = 16;
/// The most values accepted in one call.
const MAX_VALUES: usize = 1024;

/// Why an XML-RPC document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlRpcError {
    /// Not well-formed XML, or not UTF-8.
    #[error("the XML-RPC call is not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but not an XML-RPC `methodCall` or `methodResponse`.
    #[error("not an XML-RPC document: {0}")]
    Shape(&'static str),
    /// A scalar could not be read as its declared type.
    #[error("the value '{0}' is not a valid {1}")]
    Scalar(String, &'static str),
    /// Too deep or too many values.
    #[error("the XML-RPC call is too large or too deeply nested")]
    TooLarge,
}

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>` or `<i4>`.
    Int(i32),
    /// `<boolean>`.
    Bool(bool),
    /// `<string>`, or a bare value.
    String(String),
    /// `<double>`.
    Double(f64),
    /// `<dateTime.iso8601>`, kept as text.
    DateTime(String),
    /// `<base64>`, kept as its text.
    Base64(String),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<struct>`, members in document order.
    Struct(Vec<(String, Value)>),
    /// `<nil/>`.
    Nil,
}

impl Value {
    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    fn write(&self, out: &mut String) {
        out.push_str("<value>");
        match self {
            Value::Int(i) => out.push_str(&format!("<int>{i}</int>")),
            Value::Bool(b) => out.push_str(if *b { "<boolean>1</boolean>" } else { "<boolean>0</boolean>" }),
            Value::String(s) => out.push_str(&format!("<string>{}</string>", escape(s.as_str()))),
            Value::Double(d) => out.push_str(&format!("<double>{d}</double>")),
            Value::DateTime(s) => out.push_str(&format!("<dateTime.iso8601>{}</dateTime.iso8601>", escape(s.as_str()))),
            Value::Base64(s) => out.push_str(&format!("<base64>{}</base64>", escape(s.as_str()))),
            Value::Array(items) => {
                out.push_str("<array><data>");
                items.iter().for_each(|v| v.write(out));
                out.push_str("</data></array>");
            }
            Value::Struct(members) => {
                out.push_str("<struct>");
                for (name, v) in members {
                    out.push_str(&format!("<member><name>{}</name>", escape(name.as_str())));
                    v.write(out);
                    out.push_str("</member>");
                }
                out.push_str("</struct>");
            }
            Value::Nil => out.push_str("<nil/>"),
        }
        out.push_str("</value>");
    }
}

/// A parsed `methodCall`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The method name.
    pub method: String,
    /// The positional parameters.
    pub params: Vec<Value>,
}

impl MethodCall {
    /// Renders a `methodCall` document.
    ///
    /// ```
    /// use cloudim_protocol::xmlrpc::{MethodCall, Value};
    /// let call = MethodCall { method: "rssCloud.notify".into(), params: vec![Value::String("http://a/f".into())] };
    /// assert_eq!(MethodCall::parse(call.render().as_bytes()).unwrap(), call);
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\"?>\n<methodCall><methodName>");
        out.push_str(&escape(self.method.as_str()));
        out.push_str("</methodName><params>");
        for p in &self.params {
            out.push_str("<param>");
            p.write(&mut out);
            out.push_str("</param>");
        }
        out.push_str("</params></methodCall>\n");
        out
    }

    /// Parses a `methodCall` document.
    pub fn parse(xml: &[u8]) -> Result<Self, XmlRpcError> {
        let mut p = Parser::new(xml)?;
        p.expect_start("methodCall")?;
        p.expect_start("methodName")?;
        let method = p.text_until_end("methodName")?;
        let mut params = Vec::new();
        loop {
            match p.next_tag()? {
                Tag::Start(n) if n == "params" => {}
                Tag::Start(n) if n == "param" => {
                    p.expect_start("value")?;
                    params.push(p.value(0, &mut 0)?);
                    p.expect_end("param")?;
                }
                Tag::Empty(n) if n == "params" => {}
                Tag::End(n) if n == "params" => {}
                Tag::End(n) if n == "methodCall" => break,
                _ => return Err(XmlRpcError::Shape("unexpected element in methodCall")),
            }
        }
        Ok(Self { method: method.trim().to_owned(), params })
    }
}

/// Renders a `methodResponse` carrying one value.
///
/// ```
/// use cloudim_protocol::xmlrpc::{parse_response, response, Value};
/// assert_eq!(parse_response(response(&Value::Bool(true)).as_bytes()).unwrap(), Ok(Value::Bool(true)));
/// ```
pub fn response(value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse><params><param>");
    value.write(&mut out);
    out.push_str("</param></params></methodResponse>\n");
    out
}

/// Renders a `methodResponse` carrying a fault.
///
/// ```
/// use cloudim_protocol::xmlrpc::{fault, parse_response};
/// assert_eq!(parse_response(fault(4, "nope").as_bytes()).unwrap(), Err((4, "nope".to_string())));
/// ```
pub fn fault(code: i32, message: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse><fault>");
    Value::Struct(vec![
        ("faultCode".into(), Value::Int(code)),
        ("faultString".into(), Value::String(message.into())),
    ])
    .write(&mut out);
    out.push_str("</fault></methodResponse>\n");
    out
}

/// Parses a `methodResponse`: `Ok(value)` or `Err((faultCode, faultString))`.
pub fn parse_response(xml: &[u8]) -> Result<Result<Value, (i32, String)>, XmlRpcError> {
    let mut p = Parser::new(xml)?;
    p.expect_start("methodResponse")?;
    match p.next_tag()? {
        Tag::Start(n) if n == "params" => {
            p.expect_start("param")?;
            p.expect_start("value")?;
            Ok(Ok(p.value(0, &mut 0)?))
        }
        Tag::Start(n) if n == "fault" => {
            p.expect_start("value")?;
            let v = p.value(0, &mut 0)?;
            let Value::Struct(members) = v else { return Err(XmlRpcError::Shape("fault is not a struct")) };
            let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let code = match get("faultCode") {
                Some(Value::Int(c)) => c,
                _ => 0,
            };
            let msg = match get("faultString") {
                Some(Value::String(s)) => s,
                _ => String::new(),
            };
            Ok(Err((code, msg)))
        }
        _ => Err(XmlRpcError::Shape("methodResponse has neither params nor fault")),
    }
}

enum Tag {
    Start(String),
    Empty(String),
    End(String),
    Text(String),
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
}

impl<'a> Parser<'a> {
    fn new(xml: &'a [u8]) -> Result<Self, XmlRpcError> {
        std::str::from_utf8(xml).map_err(|_| XmlRpcError::Xml("not UTF-8".into()))?;
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().trim_text(false);
        Ok(Self { reader })
    }

    fn raw(&mut self) -> Result<Tag, XmlRpcError> {
        loop {
            let ev = self.reader.read_event().map_err(|e| XmlRpcError::Xml(e.to_string()))?;
            let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
            return Ok(match ev {
                Event::Start(e) => Tag::Start(name(e.local_name().as_ref())),
                Event::Empty(e) => Tag::Empty(name(e.local_name().as_ref())),
                Event::End(e) => Tag::End(name(e.local_name().as_ref())),
                Event::Text(t) => Tag::Text(
                    t.xml10_content().map_err(|e| XmlRpcError::Xml(e.to_string()))?.into_owned(),
                ),
                Event::CData(t) => Tag::Text(String::from_utf8_lossy(&t.into_inner()).into_owned()),
                Event::GeneralRef(r) => {
                    let txt = r.resolve_char_ref().map_err(|e| XmlRpcError::Xml(e.to_string()))?;
                    match txt {
                        Some(c) => Tag::Text(c.to_string()),
                        None => match r.as_ref() {
                            b"lt" => Tag::Text("<".into()),
                            b"gt" => Tag::Text(">".into()),
                            b"amp" => Tag::Text("&".into()),
                            b"quot" => Tag::Text("\"".into()),
                            b"apos" => Tag::Text("'".into()),
                            _ => return Err(XmlRpcError::Xml("unknown entity".into())),
                        },
                    }
                }
                Event::Eof => return Err(XmlRpcError::Shape("the document ends too early")),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => continue,
                Event::DocType(_) => return Err(XmlRpcError::Shape("DOCTYPE is not allowed")),
            });
        }
    }

    /// The next tag, skipping whitespace-only text.
    fn next_tag(&mut self) -> Result<Tag, XmlRpcError> {
        loop {
            match self.raw()? {
                Tag::Text(t) if t.trim().is_empty() => continue,
                other => return Ok(other),
            }
        }
    }

    fn expect_start(&mut self, want: &str) -> Result<(), XmlRpcError> {
        match self.next_tag()? {
            Tag::Start(n) if n == want => Ok(()),
            _ => Err(XmlRpcError::Shape("an expected element is missing")),
        }
    }

    fn expect_end(&mut self, want: &str) -> Result<(), XmlRpcError> {
        match self.next_tag()? {
            Tag::End(n) if n == want => Ok(()),
            _ => Err(XmlRpcError::Shape("an element is not closed where expected")),
        }
    }

    /// Reads text up to the end tag `name` (text, entities and CDATA joined).
    fn text_until_end(&mut self, name: &str) -> Result<String, XmlRpcError> {
        let mut s = String::new();
        loop {
            match self.raw()? {
                Tag::Text(t) => s.push_str(&t),
                Tag::End(n) if n == name => return Ok(s),
                _ => return Err(XmlRpcError::Shape("unexpected element inside text")),
            }
        }
    }

    /// Reads a value after its `<value>` start tag, through `</value>`.
    fn value(&mut self, depth: usize, count: &mut usize) -> Result<Value, XmlRpcError> {
        *count += 1;
        if depth > MAX_DEPTH || *count > MAX_VALUES {
            return Err(XmlRpcError::TooLarge);
        }
        let mut bare = String::new();
        let v = loop {
            match self.raw()? {
                Tag::Text(t) => bare.push_str(&t),
                Tag::End(n) if n == "value" => return Ok(Value::String(bare)),
                Tag::Empty(n) => {
                    break match n.as_str() {
                        "string" => Value::String(String::new()),
                        "nil" => Value::Nil,
                        "array" => Value::Array(Vec::new()),
                        "struct" => Value::Struct(Vec::new()),
                        _ => return Err(XmlRpcError::Shape("unknown empty value type")),
                    };
                }
                Tag::Start(n) => break self.typed(&n, depth, count)?,
                Tag::End(_) => return Err(XmlRpcError::Shape("unexpected end tag in value")),
            }
        };
        self.expect_end("value")?;
        Ok(v)
    }

    fn typed(&mut self, ty: &str, depth: usize, count: &mut usize) -> Result<Value, XmlRpcError> {
        Ok(match ty {
            "int" | "i4" => {
                let t = self.text_until_end(ty)?;
                Value::Int(t.trim().parse().map_err(|_| XmlRpcError::Scalar(t, "int"))?)
            }
            "boolean" => {
                let t = self.text_until_end(ty)?;
                match t.trim() {
                    "1" => Value::Bool(true),
                    "0" => Value::Bool(false),
                    _ => return Err(XmlRpcError::Scalar(t, "boolean")),
                }
            }
            "string" => Value::String(self.text_until_end(ty)?),
            "double" => {
                let t = self.text_until_end(ty)?;
                Value::Double(t.trim().parse().map_err(|_| XmlRpcError::Scalar(t, "double"))?)
            }
            "dateTime.iso8601" => Value::DateTime(self.text_until_end(ty)?),
            "base64" => Value::Base64(self.text_until_end(ty)?),
            "array" => {
                let mut items = Vec::new();
                match self.next_tag()? {
                    Tag::Start(n) if n == "data" => loop {
                        match self.next_tag()? {
                            Tag::Start(n) if n == "value" => items.push(self.value(depth + 1, count)?),
                            Tag::End(n) if n == "data" => break,
                            _ => return Err(XmlRpcError::Shape("unexpected element in array")),
                        }
                    },
                    Tag::Empty(n) if n == "data" => {}
                    _ => return Err(XmlRpcError::Shape("array without data")),
                }
                self.expect_end("array")?;
                Value::Array(items)
            }
            "struct" => {
                let mut members = Vec::new();
                loop {
                    match self.next_tag()? {
                        Tag::Start(n) if n == "member" => {
                            self.expect_start("name")?;
                            let name = self.text_until_end("name")?;
                            self.expect_start("value")?;
                            members.push((name, self.value(depth + 1, count)?));
                            self.expect_end("member")?;
                        }
                        Tag::End(n) if n == "struct" => break,
                        _ => return Err(XmlRpcError::Shape("unexpected element in struct")),
                    }
                }
                Value::Struct(members)
            }
            _ => return Err(XmlRpcError::Shape("unknown value type")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_please_notify_call() {
        let xml = br#"<?xml version="1.0"?>
<methodCall><methodName>rssCloud.pleaseNotify</methodName>
<params>
 <param><value>rssCloud.notify</value></param>
 <param><value><i4>5337</i4></value></param>
 <param><value><string>/RPC2</string></value></param>
 <param><value><string>xml-rpc</string></value></param>
 <param><value><array><data><value><string>http://a.example/f?x=1&amp;y=2</string></value></data></array></value></param>
</params></methodCall>"#;
        let call = MethodCall::parse(xml).unwrap();
        assert_eq!(call.method, "rssCloud.pleaseNotify");
        assert_eq!(call.params.len(), 5);
        assert_eq!(call.params[0], Value::String("rssCloud.notify".into()));
        assert_eq!(call.params[1], Value::Int(5337));
        assert_eq!(
            call.params[4],
            Value::Array(vec![Value::String("http://a.example/f?x=1&y=2".into())])
        );
    }

    #[test]
    fn refuses_malformed_and_hostile_documents() {
        assert!(MethodCall::parse(b"").is_err());
        assert!(MethodCall::parse(b"<methodCall>").is_err());
        assert!(MethodCall::parse(b"\xff").is_err());
        assert!(MethodCall::parse(b"<foo/>").is_err());
        let bomb = br#"<!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>"#;
        assert!(MethodCall::parse(bomb).is_err());
        let deep = format!(
            "<methodCall><methodName>m</methodName><params><param><value>{}x{}</value></param></params></methodCall>",
            "<array><data><value>".repeat(40),
            "</value></data></array>".repeat(40)
        );
        assert_eq!(MethodCall::parse(deep.as_bytes()), Err(XmlRpcError::TooLarge));
        let badint = b"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>";
        assert!(matches!(MethodCall::parse(badint), Err(XmlRpcError::Scalar(..))));
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<i32>().prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
            "[^\\p{Cc}]{0,20}".prop_map(Value::String),
            Just(Value::Nil),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-zA-Z]{1,8}", inner), 0..4).prop_map(Value::Struct),
            ]
        })
    }

    proptest! {
        #[test]
        fn calls_round_trip(method in "[a-zA-Z.]{1,30}", params in proptest::collection::vec(value_strategy(), 0..5)) {
            let call = MethodCall { method, params };
            prop_assert_eq!(MethodCall::parse(call.render().as_bytes()).unwrap(), call);
        }
    }
}
