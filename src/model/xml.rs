//! XML responses (`Format=XML`, or a proxy that ignores `Format`) read into the same JSON shape.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// The deepest element nesting read; a real response is 4 deep. Deeper documents are refused
/// before the JSON value they would become is deep enough to overflow a stack when dropped.
pub const MAX_DEPTH: usize = 64;

/// Converts an XML document to JSON: an element with children becomes an object (repeated
/// names become arrays), a leaf element becomes its text. The root element is unwrapped.
pub fn to_json(xml: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(xml);
    // Stack of (name, children, text).
    let mut stack: Vec<(String, Map<String, Value>, String)> =
        vec![(String::new(), Map::new(), String::new())];
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("bad XML at byte {}: {e}", reader.buffer_position()))?
        {
            Event::Start(e) => {
                if stack.len() > MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} elements"));
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                insert(
                    &mut stack.last_mut().ok_or("unbalanced XML")?.1,
                    name,
                    Value::String(String::new()),
                );
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("bad XML text: {e}"))?;
                stack.last_mut().ok_or("unbalanced XML")?.2.push_str(&text);
            }
            Event::CData(t) => {
                stack
                    .last_mut()
                    .ok_or("unbalanced XML")?
                    .2
                    .push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop().ok_or("unbalanced XML")?;
                let value = if children.is_empty() {
                    Value::String(text.trim().to_string())
                } else {
                    Value::Object(children)
                };
                insert(
                    &mut stack.last_mut().ok_or("unbalanced XML")?.1,
                    name,
                    value,
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("XML ended inside an element".into());
    }
    let (_, mut root, _) = stack.pop().unwrap_or_default();
    // Unwrap the single root element (`<DescribeCloudMigrationResultResponse>`).
    match root.len() {
        1 => Ok(root
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Null)),
        0 => Err("empty XML document".into()),
        _ => Ok(Value::Object(std::mem::take(&mut root))),
    }
}

fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        Some(Value::Array(a)) => a.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_repeated_elements() {
        let v =
            to_json("<R><A>1</A><Items><X>a</X></Items><Items><X>b</X></Items><E/></R>").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"A": "1", "Items": [{"X": "a"}, {"X": "b"}], "E": ""})
        );
        assert_eq!(
            to_json("<R><M>a &amp; b</M></R>").unwrap(),
            serde_json::json!({"M": "a & b"})
        );
        assert!(to_json("<R><A>1</R>").is_err());
        assert!(to_json("").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "<a>".repeat(100_000) + &"</a>".repeat(100_000);
        let e = to_json(&deep).unwrap_err();
        assert!(e.contains("deeper than 64"), "{e}");
        let ok = "<a>".repeat(MAX_DEPTH) + "x" + &"</a>".repeat(MAX_DEPTH);
        assert!(to_json(&ok).is_ok());
    }
}
