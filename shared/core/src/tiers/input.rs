//! What a developer may send when creating a project or editing its tiers, validated into
//! values the rest of the code can trust. Errors name the offending field (`tiers[1].price`).

use std::collections::HashSet;

use serde::Deserialize;

use crate::{
    error::{ApiError, ApiResult},
    mode::ProjectType,
    money::Cents,
    tiers::{
        TierName, UsageLimit,
        features::{FeatureKey, MAX_FEATURE_KEYS, Trial},
        meters::{MAX_METERS, MAX_PACKAGE, Meter, MeterKey, Overage, REQUESTS},
    },
};

pub const MAX_PROJECT_NAME: usize = 100;
pub const MAX_TIERS: usize = 20;
pub const MAX_DISPLAY_NAME: usize = 100;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_FEATURES: usize = 20;
pub const MAX_FEATURE_LEN: usize = 200;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_INVENTORY: i64 = 1_000_000_000;
/// Limits are stored as D1 numbers (JS doubles, exact to 2^53); a trillion requests a month is
/// beyond any real plan, and `null` already means unlimited.
pub const MAX_LIMIT: u64 = 1_000_000_000_000;

/// A tier or product as the dashboard sends it. Absent `limit` means unlimited. `inventory`
/// null means stock is not tracked; absent, the same when creating, but when editing
/// (`PUT /tiers`) the stock stays as sales have left it: a form loaded before a sale must not
/// put the sold units back.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierInput {
    pub name: TierName,
    #[serde(default)]
    pub display_name: Option<String>,
    pub price: Cents,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub popular: bool,
    /// Units in stock; `null`: not tracked. Absent: not tracked when creating; when editing
    /// (`PUT /tiers`), the stock stays as sales have left it.
    // `None` when absent, `Some(None)` when null.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, nullable))]
    pub inventory: Option<Option<i64>>,
    /// What the tier counts besides (or instead of) `limit`'s requests. SaaS only. Absent or
    /// `null` when editing (`PUT /tiers`): the tier keeps its meters; `[]` removes them.
    #[serde(default)]
    pub meters: Option<Vec<MeterInput>>,
    /// The most one user's overage may cost per billing period, in dollars. Needs a meter
    /// with overage. Absent when editing: the tier keeps its cap; `null` removes it.
    // `None` when absent, `Some(None)` when null.
    #[serde(default, deserialize_with = "present_cap")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, nullable))]
    pub spend_cap: Option<Option<Cents>>,
    /// The boolean features the tier grants (SaaS), checked with `POST /api/check`. Absent
    /// when editing: the tier keeps them; `[]` removes them.
    #[serde(default)]
    pub entitlements: Option<Vec<FeatureKey>>,
    /// A free trial on the tier's checkout (a paid SaaS tier). Absent when editing: the tier
    /// keeps its trial; `null` removes it.
    // `None` when absent, `Some(None)` when null.
    #[serde(default, deserialize_with = "present_trial")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Trial>, nullable))]
    pub trial: Option<Option<Trial>>,
}

fn present_trial<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<Option<Trial>>, D::Error> {
    Option::<Trial>::deserialize(field).map(Some)
}

fn present_cap<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<Option<Cents>>, D::Error> {
    Option::<Cents>::deserialize(field).map(Some)
}

/// A meter as the dashboard sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterInput {
    pub key: MeterKey,
    /// Units included per billing period; absent or `null`: unlimited.
    #[serde(default)]
    pub included: Option<u64>,
    /// What a unit past `included` costs; absent: refuse past `included`.
    #[serde(default)]
    pub overage: Option<Overage>,
}

/// A field that was sent, even as null (absent fields get the `default`).
fn present<'de, D: serde::Deserializer<'de>>(field: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(field).map(Some)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProjectInput {
    pub name: String,
    pub project_type: ProjectType,
    pub tiers: Vec<TierInput>,
    /// What the project's prices, checkouts and figures are in; default `usd`. It cannot change
    /// later (its Stripe prices are in it).
    #[serde(default)]
    pub currency: crate::money::Currency,
}

/// A tier that passed validation, with everything the database and Stripe need.
#[derive(Debug, Clone, PartialEq)]
pub struct TierDraft {
    pub name: TierName,
    pub display_name: String,
    pub price: Cents,
    pub limit: UsageLimit,
    pub inventory: Option<i64>,
    pub popular: bool,
    /// `{ description, imageUrl, features[] }`, stored as the tier's `features` JSON.
    pub presentation: serde_json::Value,
    /// SaaS: every meter, `requests` first; Store: none.
    pub meters: Vec<Meter>,
    pub spend_cap: Option<Cents>,
    pub entitlements: Vec<FeatureKey>,
    pub trial: Option<Trial>,
}

impl TierDraft {
    /// The tier as stored, in its project's currency, before Stripe ids are attached; a 400 for
    /// an amount finer than the currency's smallest unit.
    pub fn into_tier(self, currency: crate::money::Currency) -> ApiResult<crate::tiers::Tier> {
        let path = format!("tier `{}`", self.name);
        currency
            .check_whole(&format!("{path}.price"), self.price)
            .map_err(ApiError::invalid_request)?;
        if let Some(cap) = self.spend_cap {
            currency
                .check_whole(&format!("{path}.spendCap"), cap)
                .map_err(ApiError::invalid_request)?;
        }
        Ok(crate::tiers::Tier {
            name: self.name,
            display_name: self.display_name,
            price: self.price,
            currency: currency.code().to_owned(),
            limit: self.limit,
            price_id: None,
            product_id: None,
            features: self.presentation,
            popular: self.popular,
            sold_out: self.inventory == Some(0),
            inventory: self.inventory,
            meters: self.meters,
            spend_cap: self.spend_cap,
            entitlements: self.entitlements,
            trial: self.trial,
            // Set by whoever publishes it, from the project's settings.
            tax_behavior: None,
        })
    }
}

fn field_error(path: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_request(format!("{path}: {message}"))
}

fn check_text(path: &str, text: &str, max: usize) -> ApiResult<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(field_error(path, format!("must be 1-{max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(field_error(path, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

fn check_url(path: &str, url: &str) -> ApiResult<String> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_URL_LEN
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(url.to_owned())
    } else {
        Err(field_error(path, "must be an http(s) URL"))
    }
}

impl TierInput {
    /// An edit of `old` as it will be validated: what it did not send (meters, spend cap) is
    /// what `old` has, so an edit from a client that predates meters never drops them.
    pub fn keeping(&self, old: &crate::tiers::Tier) -> Self {
        let mut kept = self.clone();
        if kept.meters.is_none() {
            kept.meters = Some(
                old.meters
                    .iter()
                    .filter(|m| m.key.as_str() != REQUESTS)
                    .map(|m| MeterInput {
                        key: m.key.clone(),
                        included: m.included.max(),
                        overage: m.overage,
                    })
                    .collect(),
            );
        }
        if kept.spend_cap.is_none() {
            kept.spend_cap = Some(old.spend_cap);
        }
        if kept.entitlements.is_none() {
            kept.entitlements = Some(old.entitlements.clone());
        }
        if kept.trial.is_none() {
            kept.trial = Some(old.trial);
        }
        kept
    }

    fn meter_inputs(&self) -> &[MeterInput] {
        self.meters.as_deref().unwrap_or_default()
    }

    fn cap(&self) -> Option<Cents> {
        self.spend_cap.flatten()
    }

    /// The stock sent (None: not tracked, or not sent).
    pub fn stock(&self) -> Option<i64> {
        self.inventory.flatten()
    }

    /// An edit that leaves the stock to sales: `inventory` was not sent.
    pub fn keeps_stock(&self) -> bool {
        self.inventory.is_none()
    }

    /// Validates one tier for a project of `kind`; `path` prefixes error messages.
    pub fn validate(&self, kind: ProjectType, path: &str) -> ApiResult<TierDraft> {
        let display_name = match &self.display_name {
            Some(name) => check_text(&format!("{path}.displayName"), name, MAX_DISPLAY_NAME)?,
            None => title_case(self.name.as_str()),
        };
        let (limit, inventory) = match kind {
            ProjectType::Saas => {
                if self.stock().is_some() {
                    return Err(field_error(
                        &format!("{path}.inventory"),
                        "SaaS tiers have usage limits, not inventory",
                    ));
                }
                if self.limit.is_some_and(|limit| limit > MAX_LIMIT) {
                    return Err(field_error(
                        &format!("{path}.limit"),
                        format!("must be at most {MAX_LIMIT}; use null for unlimited"),
                    ));
                }
                (self.limit.map_or(UsageLimit::UNLIMITED, UsageLimit::limited), None)
            }
            ProjectType::Store => {
                if !self.meter_inputs().is_empty() || self.cap().is_some() {
                    return Err(field_error(
                        &format!("{path}.meters"),
                        "Store products have inventory, not meters or a spend cap",
                    ));
                }
                if !self.feature_keys().is_empty() || self.trial.flatten().is_some() {
                    return Err(field_error(
                        &format!("{path}.entitlements"),
                        "Store products are bought once: they have no entitlements or trial",
                    ));
                }
                if self.limit.is_some() {
                    return Err(field_error(
                        &format!("{path}.limit"),
                        "Store products have inventory, not usage limits",
                    ));
                }
                if self.price.is_free() {
                    return Err(field_error(
                        &format!("{path}.price"),
                        "a Store product must cost more than 0",
                    ));
                }
                if let Some(stock) = self.stock()
                    && !(0..=MAX_INVENTORY).contains(&stock)
                {
                    return Err(field_error(
                        &format!("{path}.inventory"),
                        format!("must be between 0 and {MAX_INVENTORY}"),
                    ));
                }
                (UsageLimit::UNLIMITED, self.stock())
            }
        };
        if self.features.len() > MAX_FEATURES {
            return Err(field_error(
                &format!("{path}.features"),
                format!("at most {MAX_FEATURES} entries"),
            ));
        }
        let features = self
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| check_text(&format!("{path}.features[{i}]"), f, MAX_FEATURE_LEN))
            .collect::<ApiResult<Vec<_>>>()?;
        let mut presentation = serde_json::Map::new();
        if let Some(description) = &self.description {
            presentation.insert(
                "description".into(),
                check_text(&format!("{path}.description"), description, MAX_DESCRIPTION)?.into(),
            );
        }
        if let Some(url) = &self.image_url {
            presentation.insert("imageUrl".into(), check_url(&format!("{path}.imageUrl"), url)?.into());
        }
        presentation.insert("features".into(), features.into());
        let meters = match kind {
            ProjectType::Saas => self.meters(path, limit)?,
            ProjectType::Store => Vec::new(),
        };
        if let Some(cap) = self.cap() {
            if cap.is_free() || !meters.iter().any(|m| m.overage.is_some()) {
                return Err(field_error(
                    &format!("{path}.spendCap"),
                    "a spend cap must be more than 0, on a tier with a meter that has overage",
                ));
            }
        }
        let entitlements = self.entitlements(path)?;
        let trial = self.trial.flatten();
        if let Some(trial) = trial {
            trial
                .check()
                .map_err(|e| field_error(&format!("{path}.trial.days"), e))?;
            if self.price.is_free() {
                return Err(field_error(
                    &format!("{path}.trial"),
                    "a free tier has nothing to try: give the tier a price",
                ));
            }
        }
        Ok(TierDraft {
            entitlements,
            trial,
            name: self.name.clone(),
            display_name,
            price: self.price,
            inventory,
            popular: self.popular,
            presentation: serde_json::Value::Object(presentation),
            limit: meters.first().map_or(limit, |requests| requests.included),
            meters,
            spend_cap: self.cap(),
        })
    }

    fn feature_keys(&self) -> &[FeatureKey] {
        self.entitlements.as_deref().unwrap_or_default()
    }

    fn entitlements(&self, path: &str) -> ApiResult<Vec<FeatureKey>> {
        let keys = self.feature_keys();
        if keys.len() > MAX_FEATURE_KEYS {
            return Err(field_error(
                &format!("{path}.entitlements"),
                format!("at most {MAX_FEATURE_KEYS} features"),
            ));
        }
        let mut seen = HashSet::new();
        for (i, key) in keys.iter().enumerate() {
            if !seen.insert(key.as_str()) {
                return Err(field_error(
                    &format!("{path}.entitlements[{i}]"),
                    format!("`{key}` is listed twice"),
                ));
            }
        }
        Ok(keys.to_vec())
    }

    /// The tier's meters, `requests` first: from `limit` unless listed (not both).
    fn meters(&self, path: &str, limit: UsageLimit) -> ApiResult<Vec<Meter>> {
        if self.meter_inputs().len() >= MAX_METERS {
            return Err(field_error(
                &format!("{path}.meters"),
                format!("at most {} meters besides requests", MAX_METERS - 1),
            ));
        }
        let mut meters = vec![Meter::hard(MeterKey::requests(), limit)];
        let mut seen = HashSet::new();
        for (i, input) in self.meter_inputs().iter().enumerate() {
            let at = format!("{path}.meters[{i}]");
            if !seen.insert(input.key.as_str()) {
                return Err(field_error(
                    &format!("{at}.key"),
                    format!("`{}` is used twice", input.key),
                ));
            }
            if input.included.is_some_and(|n| n > MAX_LIMIT) {
                return Err(field_error(
                    &format!("{at}.included"),
                    format!("must be at most {MAX_LIMIT}"),
                ));
            }
            if let Some(overage) = input.overage {
                if input.included.is_none() {
                    return Err(field_error(
                        &format!("{at}.overage"),
                        "an unlimited meter has no overage; give `included`",
                    ));
                }
                if self.price.is_free() {
                    return Err(field_error(
                        &format!("{at}.overage"),
                        "overage is billed on the tier's subscription: give the tier a price",
                    ));
                }
                if !(1..=MAX_PACKAGE).contains(&overage.per) {
                    return Err(field_error(
                        &format!("{at}.overage.per"),
                        format!("must be 1-{MAX_PACKAGE}"),
                    ));
                }
            }
            let meter = Meter {
                overage: input.overage,
                ..Meter::hard(
                    input.key.clone(),
                    input.included.map_or(UsageLimit::UNLIMITED, UsageLimit::limited),
                )
            };
            if input.key.as_str() == REQUESTS {
                if self.limit.is_some() {
                    return Err(field_error(
                        &format!("{at}.key"),
                        "give the requests meter either as `limit` or in `meters`, not both",
                    ));
                }
                meters[0] = meter;
            } else {
                meters.push(meter);
            }
        }
        Ok(meters)
    }
}

/// Validates a full tier list: 1-20 tiers, names unique within the project.
pub fn validate_tiers(kind: ProjectType, tiers: &[TierInput]) -> ApiResult<Vec<TierDraft>> {
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        return Err(field_error("tiers", format!("a project needs 1-{MAX_TIERS} tiers")));
    }
    let mut seen = HashSet::new();
    let drafts = tiers
        .iter()
        .enumerate()
        .map(|(i, tier)| {
            if !seen.insert(tier.name.as_str()) {
                return Err(field_error(
                    &format!("tiers[{i}].name"),
                    format!("`{}` is used twice", tier.name),
                ));
            }
            tier.validate(kind, &format!("tiers[{i}]"))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    check_feature_names(drafts.iter().map(|d| (&d.meters[..], &d.entitlements[..])))?;
    Ok(drafts)
}

/// A project's features and meters share one namespace (`POST /api/check {feature}` names
/// either): no feature of any tier may be named like a meter of any tier.
pub fn check_feature_names<'a>(
    tiers: impl IntoIterator<Item = (&'a [Meter], &'a [FeatureKey])> + Clone,
) -> ApiResult<()> {
    let meters: HashSet<&str> = tiers
        .clone()
        .into_iter()
        .flat_map(|(meters, _)| meters.iter().map(|m| m.key.as_str()))
        .chain([REQUESTS])
        .collect();
    for (_, features) in tiers {
        if let Some(clash) = features.iter().find(|f| meters.contains(f.as_str())) {
            return Err(ApiError::invalid_request(format!(
                "entitlements: `{clash}` is the name of a meter; features and meters need different names"
            )));
        }
    }
    Ok(())
}

impl CreateProjectInput {
    pub fn validate(&self) -> ApiResult<(String, Vec<TierDraft>)> {
        let name = check_text("name", &self.name, MAX_PROJECT_NAME)?;
        Ok((name, validate_tiers(self.project_type, &self.tiers)?))
    }
}

fn title_case(slug: &str) -> String {
    slug.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<CreateProjectInput, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    fn saas(tiers: serde_json::Value) -> serde_json::Value {
        json!({"name": "My API", "projectType": "saas", "tiers": tiers})
    }

    #[test]
    fn entitlements_and_trials_are_validated_and_kept_when_an_edit_omits_them() {
        let input = parse(saas(json!([
            {"name": "free", "price": 0, "entitlements": ["api"]},
            {"name": "pro", "price": 29, "entitlements": ["api", "sso"], "trial": {"days": 14, "cardRequired": false}}
        ])))
        .unwrap();
        let (_, tiers) = input.validate().unwrap();
        assert_eq!(tiers[1].entitlements.len(), 2);
        assert_eq!(
            tiers[1].trial,
            Some(Trial {
                days: 14,
                card_required: false
            })
        );
        let pro = tiers[1].clone().into_tier(crate::money::Currency::USD).unwrap();
        assert!(pro.grants("sso") && !pro.grants("priority_support"));
        let edit: TierInput = serde_json::from_value(json!({"name": "pro", "price": 39})).unwrap();
        let kept = edit.keeping(&pro).validate(ProjectType::Saas, "tier").unwrap();
        assert_eq!((kept.entitlements, kept.trial), (pro.entitlements.clone(), pro.trial));
        let cleared: TierInput =
            serde_json::from_value(json!({"name": "pro", "price": 39, "entitlements": [], "trial": null})).unwrap();
        let cleared = cleared.keeping(&pro).validate(ProjectType::Saas, "tier").unwrap();
        assert!(cleared.entitlements.is_empty() && cleared.trial.is_none());
        for (tiers, expected) in [
            (
                json!([{"name": "free", "price": 0, "trial": {"days": 7}}]),
                "tiers[0].trial: a free tier",
            ),
            (
                json!([{"name": "pro", "price": 5, "trial": {"days": 0}}]),
                "tiers[0].trial.days: must be 1-730",
            ),
            (
                json!([{"name": "pro", "price": 5, "entitlements": ["sso", "sso"]}]),
                "tiers[0].entitlements[1]",
            ),
            (
                json!([{"name": "pro", "price": 5, "meters": [{"key": "tokens", "included": 5}]},
                       {"name": "max", "price": 9, "entitlements": ["tokens"]}]),
                "`tokens` is the name of a meter",
            ),
            (
                json!([{"name": "pro", "price": 5, "entitlements": ["requests"]}]),
                "`requests` is the name of a meter",
            ),
        ] {
            let err = parse(saas(tiers)).unwrap().validate().unwrap_err();
            assert!(err.message().contains(expected), "{}", err.message());
        }
        let store = parse(
            json!({"name": "S", "projectType": "store", "tiers": [{"name": "mug", "price": 5, "trial": {"days": 3}}]}),
        );
        assert!(
            store
                .unwrap()
                .validate()
                .unwrap_err()
                .message()
                .contains("tiers[0].entitlements")
        );
    }

    #[test]
    fn accepts_a_saas_project() {
        let input = parse(saas(json!([
            {"name": "free", "price": 0, "limit": 100},
            {"name": "pro-plan", "price": 9.99, "limit": null, "features": ["API"], "popular": true}
        ])))
        .unwrap();
        let (name, tiers) = input.validate().unwrap();
        assert_eq!(name, "My API");
        assert_eq!(tiers[0].limit, UsageLimit::limited(100));
        assert_eq!(tiers[1].display_name, "Pro Plan");
        assert_eq!(tiers[1].price.get(), 999);
        assert_eq!(tiers[1].limit, UsageLimit::UNLIMITED);
        assert_eq!(tiers[1].presentation["features"], json!(["API"]));
    }

    #[test]
    fn an_absent_stock_is_told_apart_from_a_null_one() {
        let tier = |v: serde_json::Value| serde_json::from_value::<TierInput>(v).unwrap();
        let absent = tier(json!({"name": "mug", "price": 5}));
        assert!(absent.keeps_stock() && absent.stock().is_none());
        let untracked = tier(json!({"name": "mug", "price": 5, "inventory": null}));
        assert!(!untracked.keeps_stock() && untracked.stock().is_none());
        let counted = tier(json!({"name": "mug", "price": 5, "inventory": 3}));
        assert_eq!((counted.keeps_stock(), counted.stock()), (false, Some(3)));
        let draft = counted.validate(ProjectType::Store, "tier").unwrap();
        assert_eq!(draft.inventory, Some(3));
    }

    #[test]
    fn accepts_a_store_project() {
        let input = parse(json!({"name": "Shop", "projectType": "store", "tiers": [
            {"name": "mug", "price": 12.5, "inventory": 3, "imageUrl": "https://cdn.example/mug.png", "description": "A mug"}
        ]}))
        .unwrap();
        let (_, tiers) = input.validate().unwrap();
        assert_eq!(tiers[0].inventory, Some(3));
        assert_eq!(tiers[0].presentation["imageUrl"], "https://cdn.example/mug.png");
    }

    #[test]
    fn type_errors_are_caught_when_parsing() {
        for (body, expected) in [
            (saas(json!([{"name": "Free", "price": 0}])), "tier name"),
            (saas(json!([{"name": "free", "price": -1}])), "negative"),
            (saas(json!([{"name": "free", "price": 1.999}])), "2 decimals"),
            (
                saas(json!([{"name": "free", "price": 0, "limit": -5}])),
                "invalid value",
            ),
            (
                saas(json!([{"name": "free", "price": 0, "color": "red"}])),
                "unknown field",
            ),
            (
                json!({"name": "x", "projectType": "hybrid", "tiers": []}),
                "unknown variant",
            ),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let cases = [
            (saas(json!([])), "tiers: a project needs"),
            (
                saas(json!([{"name": "free", "price": 0}, {"name": "free", "price": 5}])),
                "tiers[1].name: `free` is used twice",
            ),
            (
                saas(json!([{"name": "free", "price": 0, "inventory": 5}])),
                "tiers[0].inventory",
            ),
            (
                json!({"name": "S", "projectType": "store", "tiers": [{"name": "mug", "price": 5, "limit": 10}]}),
                "tiers[0].limit",
            ),
            (
                json!({"name": "S", "projectType": "store", "tiers": [{"name": "mug", "price": 0}]}),
                "tiers[0].price",
            ),
            (
                json!({"name": "S", "projectType": "store", "tiers": [{"name": "mug", "price": 5, "inventory": -1}]}),
                "tiers[0].inventory",
            ),
            (
                json!({"name": "  ", "projectType": "saas", "tiers": [{"name": "free", "price": 0}]}),
                "name: must be",
            ),
            (
                saas(json!([{"name": "free", "price": 0, "imageUrl": "javascript:alert(1)"}])),
                "tiers[0].imageUrl",
            ),
            (
                saas(json!([{"name": "free", "price": 0, "displayName": "a\u{0}b"}])),
                "control characters",
            ),
            (
                saas(json!([{"name": "free", "price": 0, "limit": 9_007_199_254_740_993_u64}])),
                "tiers[0].limit: must be at most",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body).unwrap().validate().unwrap_err();
            assert!(err.message().contains(expected), "{}", err.message());
        }
        let too_many: Vec<_> = (0..=MAX_TIERS)
            .map(|i| json!({"name": format!("t{i}"), "price": 0}))
            .collect();
        assert!(parse(saas(json!(too_many))).unwrap().validate().is_err());
    }
}
