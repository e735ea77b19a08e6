//! Typed access to a decoded form (`form.rs`), with Stripe's validation errors. Nested hashes
//! keep their bracket prefix so an error names the exact parameter (`line_items[0][price]`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{StripeError, StripeResult};

#[derive(Debug, Clone, Default)]
pub struct Params {
    map: Map<String, Value>,
    prefix: String,
}

/// A metadata parameter: `metadata=` clears everything; `metadata[k]=` removes one key.
pub enum MetadataUpdate {
    Clear,
    Set(Vec<(String, Option<String>)>),
}

impl MetadataUpdate {
    pub fn apply(self, target: &mut BTreeMap<String, String>) {
        match self {
            MetadataUpdate::Clear => target.clear(),
            MetadataUpdate::Set(entries) => {
                for (k, v) in entries {
                    match v {
                        Some(v) => target.insert(k, v),
                        None => target.remove(&k),
                    };
                }
            }
        }
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        self.apply(&mut map);
        map
    }
}

impl Params {
    pub fn from_form(body: &[u8]) -> StripeResult<Self> {
        let map = crate::form::parse(body).map_err(StripeError::invalid)?;
        Ok(Self {
            map,
            prefix: String::new(),
        })
    }

    pub fn from_query(query: Option<&str>) -> StripeResult<Self> {
        Self::from_form(query.unwrap_or_default().as_bytes())
    }

    pub fn name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}[{key}]", self.prefix)
        }
    }

    /// Where this hash sits in the request (`line_items[0]`); empty at the top level.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Stripe rejects parameters it does not know; so does the emulator, so a typo or an
    /// unsupported feature in the platform fails here rather than silently in production.
    pub fn allow(&self, allowed: &[&str]) -> StripeResult<()> {
        for key in self.map.keys() {
            if key != "expand" && !allowed.contains(&key.as_str()) {
                return Err(StripeError::unknown(&self.name(key)));
            }
        }
        Ok(())
    }

    pub fn str(&self, key: &str) -> StripeResult<Option<String>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(StripeError::invalid(format!(
                "Invalid string: {}; must be a string, not a hash or an array",
                self.name(key)
            ))
            .param(self.name(key))),
        }
    }

    /// A string that must be present and non-empty.
    pub fn required(&self, key: &str) -> StripeResult<String> {
        match self.str(key)? {
            None => Err(StripeError::missing(&self.name(key))),
            Some(s) if s.is_empty() => Err(StripeError::empty(&self.name(key))),
            Some(s) => Ok(s),
        }
    }

    /// A string where `""` means "unset" (Stripe's convention for nullable fields).
    pub fn nullable(&self, key: &str) -> StripeResult<Option<Option<String>>> {
        Ok(self.str(key)?.map(|s| if s.is_empty() { None } else { Some(s) }))
    }

    pub fn int(&self, key: &str) -> StripeResult<Option<i64>> {
        match self.str(key)? {
            None => Ok(None),
            Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                StripeError::invalid(format!("Invalid integer: {s}"))
                    .code("parameter_invalid_integer")
                    .param(self.name(key))
            }),
        }
    }

    pub fn bool(&self, key: &str) -> StripeResult<Option<bool>> {
        match self.str(key)?.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(StripeError::invalid(format!("Invalid boolean: {other}")).param(self.name(key))),
        }
    }

    /// One of a fixed set of values.
    pub fn choice(&self, key: &str, options: &[&str]) -> StripeResult<Option<String>> {
        match self.str(key)? {
            None => Ok(None),
            Some(s) if options.contains(&s.as_str()) => Ok(Some(s)),
            Some(s) => Err(StripeError::invalid(format!(
                "Invalid {}: must be one of {} (got {s:?})",
                self.name(key),
                options.join(", ")
            ))
            .param(self.name(key))),
        }
    }

    pub fn str_list(&self, key: &str) -> StripeResult<Option<Vec<String>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(Vec::new())),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(StripeError::invalid(format!("Invalid array: {}", self.name(key))).param(self.name(key))),
                })
                .collect::<StripeResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(StripeError::invalid(format!("Invalid array: {}", self.name(key))).param(self.name(key))),
        }
    }

    pub fn hash(&self, key: &str) -> StripeResult<Option<Params>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Params {
                map: map.clone(),
                prefix: self.name(key),
            })),
            Some(_) => Err(StripeError::invalid(format!("Invalid hash: {}", self.name(key))).param(self.name(key))),
        }
    }

    pub fn list_of_hashes(&self, key: &str) -> StripeResult<Option<Vec<Params>>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(map) => Ok(Params {
                        map: map.clone(),
                        prefix: format!("{}[{i}]", self.name(key)),
                    }),
                    _ => Err(StripeError::invalid(format!("Invalid hash: {}[{i}]", self.name(key)))
                        .param(format!("{}[{i}]", self.name(key)))),
                })
                .collect::<StripeResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(StripeError::invalid(format!("Invalid array: {}", self.name(key))).param(self.name(key))),
        }
    }

    pub fn metadata(&self) -> StripeResult<Option<MetadataUpdate>> {
        self.metadata_at("metadata")
    }

    pub fn metadata_at(&self, key: &str) -> StripeResult<Option<MetadataUpdate>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(Some(MetadataUpdate::Clear)),
            Some(Value::Object(map)) => {
                let mut entries = Vec::new();
                for (k, v) in map {
                    match v {
                        Value::String(s) if s.is_empty() => entries.push((k.clone(), None)),
                        Value::String(s) => entries.push((k.clone(), Some(s.clone()))),
                        _ => {
                            return Err(StripeError::invalid(format!(
                                "Invalid value for {}[{k}]: metadata values must be strings",
                                self.name(key)
                            ))
                            .param(format!("{}[{k}]", self.name(key))));
                        }
                    }
                }
                Ok(Some(MetadataUpdate::Set(entries)))
            }
            Some(_) => Err(StripeError::invalid(format!("Invalid hash: {}", self.name(key))).param(self.name(key))),
        }
    }

    /// A hash of strings taken as given (a meter event's `payload`): unlike metadata, an
    /// empty value is a value, not a removal.
    pub fn string_map(&self, key: &str) -> StripeResult<Option<BTreeMap<String, String>>> {
        let Some(hash) = self.hash(key)? else {
            return Ok(None);
        };
        hash.map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(
                    StripeError::invalid(format!("Invalid value for {}: must be a string", hash.name(k)))
                        .param(hash.name(k)),
                ),
            })
            .collect::<StripeResult<BTreeMap<_, _>>>()
            .map(Some)
    }

    pub fn expand(&self) -> StripeResult<Vec<String>> {
        Ok(self.str_list("expand")?.unwrap_or_default())
    }
}
