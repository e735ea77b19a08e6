//! Test vs live, and SaaS vs Store: the two facts fixed when a key set is created.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "test" => Some(Self::Test),
            "live" => Some(Self::Live),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Live => "live",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Locked at creation: a project either sells subscriptions with usage limits or products
/// with inventory, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProjectType {
    Saas,
    Store,
}

impl ProjectType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "saas" => Some(Self::Saas),
            "store" => Some(Self::Store),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saas => "saas",
            Self::Store => "store",
        }
    }
}

impl fmt::Display for ProjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for mode in [Mode::Test, Mode::Live] {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
        for kind in [ProjectType::Saas, ProjectType::Store] {
            assert_eq!(ProjectType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Mode::parse("Live"), None);
        assert_eq!(ProjectType::parse("both"), None);
        assert_eq!(serde_json::to_string(&ProjectType::Saas).unwrap(), "\"saas\"");
    }
}
