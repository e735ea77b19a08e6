//! Creating a Checkout Session: `POST /v1/checkout/sessions` and its validation (modes,
//! line items, customer, URLs, `subscription_data` with its trial, `payment_intent_data`, a
//! discount or `allow_promotion_codes`, automatic tax with `customer_update`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::{Extension, Json};
use serde_json::Value;

use super::auth::Ctx;
use super::checkout::{CheckoutSession, LIFETIME_SECONDS, SessionLine};
use super::checkout_tax;
use super::discounts;
use super::error::{StripeError, StripeResult};
use super::params::Params;
use super::{expand, find};
use crate::App;

fn valid_url(params: &Params, key: &str) -> StripeResult<Option<String>> {
    let Some(url) = params.str(key)?.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // The template is not a valid URL character sequence on its own; check with it filled.
    let probe = url.replace("{CHECKOUT_SESSION_ID}", "cs_probe");
    match url::Url::parse(&probe) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Some(url)),
        _ => Err(StripeError::invalid("Not a valid URL").param(params.name(key))),
    }
}

/// A line's quantity: required for a licensed price, refused for a metered one (its usage is
/// billed at the end of each period), as Stripe words it.
fn line_quantity(line: &Params, metered: bool, quantity: Option<i64>) -> StripeResult<Option<i64>> {
    let index = line.prefix();
    match (metered, quantity) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(StripeError::invalid(format!(
            "Quantity should not be specified where usage_type is `metered`. Remove quantity from `{index}`."
        ))
        .param(line.name("quantity"))),
        (false, None) => Err(StripeError::missing(&line.name("quantity"))),
        (false, Some(q)) if q < 1 => {
            Err(StripeError::invalid("Quantity must be at least 1.").param(line.name("quantity")))
        }
        (false, Some(q)) => Ok(Some(q)),
    }
}

/// `payment_intent_data`: metadata and description.
fn nested_data(params: &Params, key: &str) -> StripeResult<(BTreeMap<String, String>, Option<String>)> {
    let Some(data) = params.hash(key)? else {
        return Ok((BTreeMap::new(), None));
    };
    data.allow(&["metadata", "description"])?;
    let metadata = data.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    Ok((metadata, data.str("description")?.filter(|s| !s.is_empty())))
}

/// Stripe's longest trial: two years.
const MAX_TRIAL_DAYS: i64 = 730;
/// `subscription_data[trial_end]` must leave Checkout at least this long.
const MIN_TRIAL_END_AHEAD: i64 = 2 * 86_400;

/// What `subscription_data` asks of the subscription checkout creates.
#[derive(Default)]
struct SubscriptionData {
    metadata: BTreeMap<String, String>,
    description: Option<String>,
    trial_period_days: Option<i64>,
    trial_end: Option<i64>,
    missing_payment_method: Option<String>,
}

fn subscription_data(params: &Params, now: i64) -> StripeResult<SubscriptionData> {
    let Some(data) = params.hash("subscription_data")? else {
        return Ok(SubscriptionData::default());
    };
    data.allow(&[
        "metadata",
        "description",
        "trial_period_days",
        "trial_end",
        "trial_settings",
    ])?;
    let trial_period_days = data.int("trial_period_days")?;
    let trial_end = data.int("trial_end")?;
    if trial_period_days.is_some() && trial_end.is_some() {
        return Err(StripeError::invalid(
            "You may only specify one of these parameters: trial_end, trial_period_days.",
        )
        .code("parameters_exclusive")
        .param(data.name("trial_end")));
    }
    // Stripe's wording for a number out of its range.
    match trial_period_days {
        Some(days) if days < 1 => {
            return Err(StripeError::invalid("This value must be greater than or equal to 1.")
                .param(data.name("trial_period_days")));
        }
        Some(days) if days > MAX_TRIAL_DAYS => {
            return Err(
                StripeError::invalid(format!("This value must be less than or equal to {MAX_TRIAL_DAYS}."))
                    .param(data.name("trial_period_days")),
            );
        }
        _ => {}
    }
    match trial_end {
        Some(end) if end < now + MIN_TRIAL_END_AHEAD => {
            return Err(
                StripeError::invalid("The `trial_end` date has to be at least 2 days in the future.")
                    .param(data.name("trial_end")),
            );
        }
        Some(end) if end > now + MAX_TRIAL_DAYS * 86_400 => {
            return Err(StripeError::invalid(format!(
                "The `trial_end` date has to be at most {MAX_TRIAL_DAYS} days (2 years) in the future."
            ))
            .param(data.name("trial_end")));
        }
        _ => {}
    }
    let missing_payment_method = match data.hash("trial_settings")? {
        None => None,
        Some(settings) => {
            settings.allow(&["end_behavior"])?;
            let behavior = settings
                .hash("end_behavior")?
                .ok_or_else(|| StripeError::missing(&settings.name("end_behavior")))?;
            behavior.allow(&["missing_payment_method"])?;
            let choice = behavior.choice("missing_payment_method", &["cancel", "create_invoice", "pause"])?;
            Some(choice.ok_or_else(|| StripeError::missing(&behavior.name("missing_payment_method")))?)
        }
    };
    Ok(SubscriptionData {
        metadata: data.metadata()?.map(|m| m.into_map()).unwrap_or_default(),
        description: data.str("description")?.filter(|s| !s.is_empty()),
        trial_period_days,
        trial_end,
        missing_payment_method,
    })
}

/// `discounts`: a coupon or a promotion code (by id), with the parameter that named it.
enum DiscountParam {
    Coupon(String, String),
    PromotionCode(String, String),
}

/// Checkout takes at most one discount.
fn discount_param(params: &Params) -> StripeResult<Option<DiscountParam>> {
    let Some(list) = params.list_of_hashes("discounts")? else {
        return Ok(None);
    };
    if list.len() > 1 {
        return Err(StripeError::invalid("Checkout Sessions accept only one discount.").param("discounts"));
    }
    let Some(discount) = list.first() else {
        return Ok(None);
    };
    discount.allow(&["coupon", "promotion_code"])?;
    let coupon = discount.str("coupon")?.filter(|s| !s.is_empty());
    let promotion_code = discount.str("promotion_code")?.filter(|s| !s.is_empty());
    match (coupon, promotion_code) {
        (Some(_), Some(_)) => Err(StripeError::invalid(
            "You may only specify one of these parameters: coupon, promotion_code.",
        )
        .code("parameters_exclusive")
        .param(discount.name("promotion_code"))),
        (Some(c), None) => Ok(Some(DiscountParam::Coupon(c, discount.name("coupon")))),
        (None, Some(p)) => Ok(Some(DiscountParam::PromotionCode(p, discount.name("promotion_code")))),
        (None, None) => Err(StripeError::missing(&discount.name("coupon"))),
    }
}

/// POST /v1/checkout/sessions
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> StripeResult<Json<Value>> {
    let params = Params::from_form(&body)?;
    params.allow(&[
        "mode",
        "line_items",
        "customer",
        "customer_email",
        "customer_creation",
        "metadata",
        "client_reference_id",
        "success_url",
        "cancel_url",
        "subscription_data",
        "payment_intent_data",
        "expires_at",
        "payment_method_types",
        "allow_promotion_codes",
        "billing_address_collection",
        "locale",
        "submit_type",
        "ui_mode",
        "payment_method_collection",
        "discounts",
        "automatic_tax",
        "customer_update",
    ])?;
    let mode = params.required("mode")?;
    if !matches!(mode.as_str(), "payment" | "subscription") {
        return Err(StripeError::invalid(format!(
            "Invalid mode: must be one of payment or subscription (dream-emulator does not emulate {mode:?})"
        ))
        .param("mode"));
    }
    let customer = params.str("customer")?.filter(|s| !s.is_empty());
    let customer_email = params.str("customer_email")?.filter(|s| !s.is_empty());
    if customer.is_some() && customer_email.is_some() {
        return Err(
            StripeError::invalid("You may only specify one of these parameters: customer, customer_email.")
                .code("parameters_exclusive")
                .param("customer_email"),
        );
    }
    let tax_params = checkout_tax::parse(&params, customer.is_some())?;
    let customer_creation = params.choice("customer_creation", &["always", "if_required"])?;
    if customer_creation.is_some() && mode != "payment" {
        return Err(
            StripeError::invalid("`customer_creation` can only be used in `payment` mode.").param("customer_creation"),
        );
    }
    if customer_creation.is_some() && customer.is_some() {
        return Err(
            StripeError::invalid("You may only specify one of these parameters: customer, customer_creation.")
                .code("parameters_exclusive")
                .param("customer_creation"),
        );
    }
    let success_url = valid_url(&params, "success_url")?;
    let cancel_url = valid_url(&params, "cancel_url")?;
    let metadata = params.metadata()?.map(|m| m.into_map()).unwrap_or_default();
    let client_reference_id = params.str("client_reference_id")?.filter(|s| !s.is_empty());
    let now = crate::time::now();
    let subscription_data = subscription_data(&params, now)?;
    let (payment_intent_metadata, payment_intent_description) = nested_data(&params, "payment_intent_data")?;
    if params.has("subscription_data") && mode != "subscription" {
        return Err(
            StripeError::invalid("You can only specify `subscription_data` in `subscription` mode.")
                .param("subscription_data"),
        );
    }
    if params.has("payment_intent_data") && mode != "payment" {
        return Err(
            StripeError::invalid("You can only specify `payment_intent_data` in `payment` mode.")
                .param("payment_intent_data"),
        );
    }
    if let Some(types) = params.str_list("payment_method_types")?
        && types.iter().any(|t| t != "card")
    {
        return Err(StripeError::invalid("dream-emulator only emulates card payments").param("payment_method_types"));
    }
    // 2026-03-25.dahlia renamed `hosted` to `hosted_page` and refuses the old name.
    let hosted = if ctx.api_version.as_str() < "2026-03-25" {
        "hosted"
    } else {
        "hosted_page"
    };
    if params.str("ui_mode")?.is_some_and(|m| m != hosted) {
        return Err(StripeError::invalid(format!("dream-emulator only emulates ui_mode={hosted}")).param("ui_mode"));
    }
    let payment_method_collection = params.choice("payment_method_collection", &["always", "if_required"])?;
    if payment_method_collection.is_some() && mode != "subscription" {
        return Err(
            StripeError::invalid("You can only specify `payment_method_collection` in `subscription` mode.")
                .param("payment_method_collection"),
        );
    }
    let allow_promotion_codes = params.bool("allow_promotion_codes")?;
    let discount_param = discount_param(&params)?;
    if allow_promotion_codes.is_some() && discount_param.is_some() {
        return Err(StripeError::invalid(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
        )
        .code("parameters_exclusive")
        .param("discounts"));
    }
    let billing_address_collection = params.choice("billing_address_collection", &["auto", "required"])?;
    let locale = params.str("locale")?;
    let submit_type = params.choice("submit_type", &["auto", "book", "donate", "pay", "subscribe"])?;
    let expires_at = match params.int("expires_at")? {
        None => now + LIFETIME_SECONDS,
        Some(t) if t >= now + 1800 && t <= now + LIFETIME_SECONDS => t,
        Some(_) => {
            return Err(StripeError::invalid(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )
            .param("expires_at"));
        }
    };
    let line_params = params.list_of_hashes("line_items")?.unwrap_or_default();
    if line_params.is_empty() {
        return Err(StripeError::missing("line_items"));
    }
    let expand = params.expand()?;

    app.mutate(|db| {
        if let Some(id) = &customer {
            find(&db.customers, &ctx.scope, id, Some("customer"))?;
        }
        let mut lines = Vec::new();
        let mut currency: Option<String> = None;
        let mut total = 0i64;
        let mut recurring_interval: Option<(String, i64)> = None;
        for line in &line_params {
            line.allow(&["price", "quantity"])?;
            let price_id = line.required("price")?;
            let quantity = line.int("quantity")?;
            let price = find(&db.prices, &ctx.scope, &price_id, Some(&line.name("price")))?;
            let quantity = line_quantity(line, price.is_metered(), quantity)?;
            if !price.active {
                return Err(StripeError::invalid(format!(
                    "The price specified ({price_id}) is inactive. This field must be an active price."
                ))
                .param(line.name("price")));
            }
            match (&mode[..], &price.recurring) {
                ("payment", Some(_)) => {
                    return Err(StripeError::invalid(
                        "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
                    )
                    .param(line.name("price")));
                }
                ("subscription", None) => {
                    return Err(StripeError::invalid(
                        "dream-emulator: one-time prices in `subscription` mode are not emulated; pass only recurring prices.",
                    )
                    .param(line.name("price")));
                }
                ("subscription", Some(r)) => {
                    let interval = (r.interval.clone(), r.interval_count);
                    if recurring_interval.as_ref().is_some_and(|i| *i != interval) {
                        return Err(StripeError::invalid(
                            "Checkout does not support multiple prices with different billing intervals.",
                        )
                        .param(line.name("price")));
                    }
                    recurring_interval = Some(interval);
                }
                _ => {}
            }
            if currency.as_ref().is_some_and(|c| *c != price.currency) {
                return Err(StripeError::invalid("All prices on a Checkout Session must use the same currency.")
                    .param(line.name("price")));
            }
            currency = Some(price.currency.clone());
            total += quantity.map_or(0, |q| price.amount_for(q));
            lines.push((price_id, quantity, line.name("price")));
        }
        let priced: Vec<(String, String)> = (lines.iter()).map(|(p, _, param)| (p.clone(), param.clone())).collect();
        checkout_tax::check(db, &ctx.scope, &tax_params, customer.as_deref(), &priced)?;
        let currency = currency.unwrap_or_else(|| "usd".into());
        let discount = match &discount_param {
            None => None,
            Some(DiscountParam::Coupon(id, param)) => {
                Some(discounts::by_coupon(db, &ctx.scope, id, param, &currency, now)?)
            }
            Some(DiscountParam::PromotionCode(id, param)) => {
                let promo = find(&db.promotion_codes, &ctx.scope, id, Some(param))?;
                let purchase = (total, currency.as_str());
                Some(discounts::by_promotion_code(db, promo, customer.as_deref(), purchase, param, now)?)
            }
        };
        let prefix = if ctx.scope.livemode { "cs_live_a1" } else { "cs_test_a1" };
        let id = db.id(prefix, 56);
        let lines = lines
            .into_iter()
            .map(|(price, quantity, _)| SessionLine { id: db.id("li_", 24), price, quantity })
            .collect();
        let seq = db.next_seq();
        let mut session = CheckoutSession {
            id: id.clone(),
            scope: ctx.scope.clone(),
            seq,
            created: now,
            expires_at,
            customer_creation: if mode == "payment" && customer.is_none() {
                Some(customer_creation.unwrap_or_else(|| "if_required".into()))
            } else {
                None
            },
            mode: mode.clone(),
            status: "open".into(),
            payment_status: "unpaid".into(),
            lines,
            currency,
            // Set from the lines just below: what is due today, after the discount.
            amount_subtotal: 0,
            amount_total: 0,
            customer: customer.clone(),
            customer_email: customer_email.clone(),
            details_email: None,
            client_reference_id,
            metadata,
            success_url,
            cancel_url,
            subscription_metadata: subscription_data.metadata,
            subscription_description: subscription_data.description,
            payment_intent_metadata,
            payment_intent_description,
            subscription: None,
            payment_intent: None,
            invoice: None,
            allow_promotion_codes,
            billing_address_collection,
            locale,
            submit_type,
            trial_period_days: subscription_data.trial_period_days,
            trial_end: subscription_data.trial_end,
            trial_missing_payment_method: subscription_data.missing_payment_method,
            payment_method_collection,
            discount,
            automatic_tax: tax_params.automatic_tax,
            customer_update: tax_params.customer_update,
            details_address: None,
            details_name: None,
            taxes: None,
        };
        // Tax is known at once for a customer whose saved address is taxed (or prefills the
        // page); otherwise it waits for the address (`requires_location_inputs`).
        let saved = session.saved_address(db);
        checkout_tax::settle(db, &mut session, saved.as_ref(), now);
        let rendered = session.render(db);
        db.checkout_sessions.insert(id, session);
        Ok(Json(expand::apply(db, &ctx.scope, rendered, &expand)?))
    })
}
