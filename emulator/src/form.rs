//! Stripe's form encoding: `application/x-www-form-urlencoded` with bracket keys
//! (`line_items[0][price]=..`, `metadata[k]=v`, `expand[]=..`) decoded into a JSON tree.
//!
//! Indexed keys become arrays in index order; `[]` appends. Hashes under `metadata` keep
//! numeric keys as keys, since metadata is a string map whatever its keys look like.

use serde_json::{Map, Value};

pub fn parse(input: &[u8]) -> Result<Map<String, Value>, String> {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(input) {
        let segments = split_key(&key)?;
        insert(&mut root, &segments, value.into_owned(), &key)?;
    }
    normalize(&mut root, false);
    match root {
        Value::Object(map) => Ok(map),
        _ => Err("the body is not a form".into()),
    }
}

/// `a[b][]` → ["a", "b", ""]
fn split_key(key: &str) -> Result<Vec<&str>, String> {
    let Some(open) = key.find('[') else {
        return Ok(vec![key]);
    };
    let mut segments = vec![&key[..open]];
    let mut rest = &key[open..];
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('[')
            .and_then(|r| r.find(']').map(|close| (&r[..close], &r[close + 1..])));
        let Some((segment, after)) = inner else {
            return Err(format!("Invalid parameter name: {key}"));
        };
        segments.push(segment);
        rest = after;
    }
    if segments[0].is_empty() {
        return Err(format!("Invalid parameter name: {key}"));
    }
    Ok(segments)
}

fn insert(slot: &mut Value, segments: &[&str], value: String, key: &str) -> Result<(), String> {
    let conflict = || format!("Invalid hash or array for parameter {key}");
    match segments.split_first() {
        None => {
            if slot.is_object() || slot.is_array() {
                return Err(conflict());
            }
            *slot = Value::String(value);
            Ok(())
        }
        Some((&"", rest)) => {
            if slot.is_null() {
                *slot = Value::Array(Vec::new());
            }
            let array = slot.as_array_mut().ok_or_else(conflict)?;
            array.push(Value::Null);
            match array.last_mut() {
                Some(last) => insert(last, rest, value, key),
                None => Err(conflict()),
            }
        }
        Some((segment, rest)) => {
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            let map = slot.as_object_mut().ok_or_else(conflict)?;
            let child = map.entry(segment.to_string()).or_insert(Value::Null);
            insert(child, rest, value, key)
        }
    }
}

fn normalize(value: &mut Value, is_metadata: bool) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                normalize(v, k == "metadata");
            }
            let indexed = !is_metadata
                && !map.is_empty()
                && map
                    .keys()
                    .all(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
            if indexed {
                let mut items: Vec<(u64, Value)> = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(u64::MAX), v))
                    .collect();
                items.sort_by_key(|(index, _)| *index);
                *value = Value::Array(items.into_iter().map(|(_, v)| v).collect());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalize(v, false)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_stripe_brackets() {
        let body = b"mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=2\
&line_items[1][price]=price_2&metadata[42]=x&metadata[a%20b]=c+d&expand[]=customer&expand[]=subscription\
&subscription_data[metadata][plan]=pro&empty=";
        let map = parse(body).expect("valid form");
        assert_eq!(
            Value::Object(map),
            json!({
                "mode": "subscription",
                "line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
                "metadata": {"42": "x", "a b": "c d"},
                "expand": ["customer", "subscription"],
                "subscription_data": {"metadata": {"plan": "pro"}},
                "empty": ""
            })
        );
    }

    #[test]
    fn indexed_arrays_as_async_stripe_sends_them() {
        let map = parse(b"expand[0]=a&expand[1]=b&items[0][id]=si_1").expect("valid form");
        assert_eq!(map["expand"], json!(["a", "b"]));
        assert_eq!(map["items"], json!([{"id": "si_1"}]));
    }

    #[test]
    fn rejects_conflicts_and_bad_names() {
        assert!(parse(b"a=1&a[b]=2").is_err());
        assert!(parse(b"a[b=1").is_err());
        assert!(parse(b"[x]=1").is_err());
    }
}
