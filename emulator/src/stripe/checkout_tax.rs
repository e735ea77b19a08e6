//! Automatic tax in Checkout: `automatic_tax` and `customer_update` when a session is created
//! (with Stripe's refusals), the billing address when it is paid, and the tax of its lines.
//!
//! Which address is taxed, as Stripe's Checkout guide lays it out: a new customer's (or a
//! guest's) billing address entered on the page; an existing customer's saved address, unless
//! `customer_update[address]=auto`, which takes the address entered and saves it onto them.
//! An existing customer without an address must therefore come with
//! `customer_update[address]=auto`, or Stripe refuses the session.

use serde::{Deserialize, Serialize};

use super::checkout::CheckoutSession;
use super::error::{StripeError, StripeResult};
use super::params::Params;
use super::tax::{Address, is_country_code, is_inclusive};
use crate::state::{Db, Scope};

/// When the buyer gives no country to a session that asks for one (the complete control).
pub const DEFAULT_COUNTRY: &str = "US";

/// `customer_update[address|name|shipping]`: `auto` lets completing the session write what
/// the buyer entered onto the session's `customer`; `never` (Stripe's default) does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerUpdate {
    pub address: Option<String>,
    pub name: Option<String>,
    pub shipping: Option<String>,
}

impl CustomerUpdate {
    pub fn saves_address(&self) -> bool {
        self.address.as_deref() == Some("auto")
    }

    pub fn saves_name(&self) -> bool {
        self.name.as_deref() == Some("auto")
    }
}

pub struct TaxParams {
    pub automatic_tax: bool,
    pub customer_update: CustomerUpdate,
}

/// `automatic_tax[enabled|liability]` and `customer_update[...]`, which Stripe takes only
/// together with `customer`.
pub fn parse(params: &Params, has_customer: bool) -> StripeResult<TaxParams> {
    let automatic_tax = match params.hash("automatic_tax")? {
        None => false,
        Some(tax) => {
            tax.allow(&["enabled", "liability"])?;
            if let Some(liability) = tax.hash("liability")? {
                liability.allow(&["type", "account"])?;
                match liability.choice("type", &["account", "self"])?.as_deref() {
                    None => return Err(StripeError::missing(&liability.name("type"))),
                    Some("account") => {
                        return Err(StripeError::invalid(
                            "dream-emulator: making another account liable for tax (`type=account`) is not emulated; use `self`.",
                        )
                        .param(liability.name("type")));
                    }
                    _ if liability.has("account") => {
                        return Err(
                            StripeError::invalid("You can only specify `account` when `type` is `account`.")
                                .param(liability.name("account")),
                        );
                    }
                    _ => {}
                }
            }
            tax.bool("enabled")?
                .ok_or_else(|| StripeError::missing(&tax.name("enabled")))?
        }
    };
    let customer_update = match params.hash("customer_update")? {
        None => CustomerUpdate::default(),
        Some(update) => {
            update.allow(&["address", "name", "shipping"])?;
            let choice = |key| update.choice(key, &["auto", "never"]);
            CustomerUpdate {
                address: choice("address")?,
                name: choice("name")?,
                shipping: choice("shipping")?,
            }
        }
    };
    if params.has("customer_update") && !has_customer {
        return Err(
            StripeError::invalid("`customer_update` can only be used with `customer`.").param("customer_update"),
        );
    }
    Ok(TaxParams {
        automatic_tax,
        customer_update,
    })
}

/// What Stripe refuses about a session with automatic tax: a price whose tax behavior is
/// `unspecified` (the emulated accounts set no default tax behavior in their Tax settings,
/// so, as the price docs say, each price must carry one), and an existing customer who has no
/// address and whose address Checkout may not save (Stripe's own message and code).
pub fn check(
    db: &Db,
    scope: &Scope,
    tax: &TaxParams,
    customer: Option<&str>,
    prices: &[(String, String)],
) -> StripeResult<()> {
    if !tax.automatic_tax {
        return Ok(());
    }
    for (price_id, param) in prices {
        let price = super::find(&db.prices, scope, price_id, Some(param))?;
        if price.tax_behavior == "unspecified" {
            return Err(StripeError::invalid(format!(
                "The price {price_id} has `tax_behavior=unspecified`, which automatic tax cannot compute: set it to `exclusive` or `inclusive` (dream-emulator's accounts have no default tax behavior in their Tax settings)."
            ))
            .param(param.clone()));
        }
    }
    let located = |id: &str| {
        (db.customers.get(id))
            .and_then(|c| c.address.as_ref())
            .is_some_and(|a| a.tax_country().is_some())
    };
    if let Some(id) = customer
        && !located(id)
        && !tax.customer_update.saves_address()
    {
        return Err(StripeError::invalid(
            "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a valid address to the Customer or set `customer_update[address]` to 'auto' to save the billing address entered in Checkout to the Customer.",
        )
        .code("customer_tax_location_invalid"));
    }
    Ok(())
}

impl CheckoutSession {
    /// An existing customer whose saved address is taxed, not one entered on the page.
    fn taxes_saved_address(&self) -> bool {
        self.customer.is_some() && !self.customer_update.saves_address()
    }

    /// The session's customer's saved address, if it locates them.
    pub fn saved_address(&self, db: &Db) -> Option<Address> {
        (self.customer.as_ref())
            .and_then(|c| db.customers.get(c))
            .and_then(|c| c.address.clone())
            .filter(|a| a.tax_country().is_some())
    }

    /// Whether the page asks for a billing address: always with
    /// `billing_address_collection=required`; with automatic tax, whenever the address taxed
    /// is the one entered.
    pub fn collects_address(&self) -> bool {
        self.billing_address_collection.as_deref() == Some("required")
            || (self.automatic_tax && !self.taxes_saved_address())
    }

    /// The address automatic tax uses, given what the buyer entered.
    pub fn tax_address(&self, db: &Db, entered: Option<&Address>) -> Option<Address> {
        if self.taxes_saved_address() {
            self.saved_address(db)
        } else {
            entered.cloned()
        }
    }
}

/// The billing address the buyer enters: a country (two letters, any case) and perhaps a
/// postal code. A session that asks for one and is given nothing takes the customer's saved
/// address (Stripe's page is prefilled with it), else `US`. Refused on a session that asks
/// for none, whose page has no such field.
pub fn entered_address(
    db: &Db,
    session: &CheckoutSession,
    country: Option<String>,
    postal_code: Option<String>,
) -> StripeResult<Option<Address>> {
    if !session.collects_address() {
        return match (&country, &postal_code) {
            (None, None) => Ok(None),
            (c, _) => Err(StripeError::invalid(
                "This Checkout Session does not collect a billing address (no automatic tax, or its customer's saved address is taxed, and billing_address_collection is not `required`).",
            )
            .param(if c.is_some() { "country" } else { "postal_code" })),
        };
    }
    let postal_code = postal_code.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    let country = match country.map(|c| c.trim().to_ascii_uppercase()) {
        Some(c) if is_country_code(&c) => c,
        Some(c) => {
            return Err(StripeError::invalid(format!(
                "Invalid country: {c:?}; give an ISO 3166-1 alpha-2 code such as DE or US."
            ))
            .param("country"));
        }
        None => match session.saved_address(db) {
            Some(saved) if postal_code.is_none() => return Ok(Some(saved)),
            Some(saved) => saved.country.unwrap_or_else(|| DEFAULT_COUNTRY.into()),
            None => DEFAULT_COUNTRY.into(),
        },
    };
    Ok(Some(Address::in_country(&country, postal_code)))
}

/// Computes the tax of each line of `session` (after its discount) for `address`, and its
/// totals after it. Without automatic tax, or without an address yet, there is none.
pub fn settle(db: &mut Db, session: &mut CheckoutSession, address: Option<&Address>, now: i64) {
    session.taxes = None;
    if let (true, Some(country)) = (session.automatic_tax, address.and_then(Address::tax_country)) {
        let amounts = session.line_amounts(db);
        let shares = session.discount_shares(db);
        let lines: Vec<(i64, bool)> = (session.lines.iter())
            .zip(amounts.iter().zip(&shares))
            .map(|(line, (amount, share))| {
                let inclusive = (db.prices.get(&line.price)).is_some_and(|p| is_inclusive(&p.tax_behavior));
                (amount - share, inclusive)
            })
            .collect();
        let scope = session.scope.clone();
        session.taxes = Some(db.tax_lines(&scope, country, &lines, now));
    }
    session.compute_totals(db);
}
