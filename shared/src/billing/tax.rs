//! Stripe Tax on a project's checkouts (`TaxSettings`): Stripe computes the tax from the
//! customer's address, which the checkout then asks for, and keeps computing it on the
//! subscription's invoices.

use crate::upstream::stripe::Form;
use dream_core::tiers::tax::TaxSettings;

/// Who pays a checkout: a Stripe customer we made (subscriptions), or a guest (carts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payer {
    Customer,
    Guest,
}

/// The checkout session's tax parameters.
pub fn checkout_tax(form: Form, tax: TaxSettings, payer: Payer) -> Form {
    if !tax.automatic_tax {
        return form;
    }
    let form = form
        .field("automatic_tax[enabled]", "true")
        .field("billing_address_collection", "required");
    match payer {
        // Stripe refuses automatic tax for an existing customer unless checkout may save the
        // address it collects on them (renewals are taxed from it).
        Payer::Customer => form.field("customer_update[address]", "auto"),
        Payer::Guest => form,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::tiers::tax::TaxBehavior;

    #[test]
    fn tax_parameters_only_when_automatic_tax_is_on() {
        let on = TaxSettings {
            automatic_tax: true,
            tax_behavior: TaxBehavior::Inclusive,
        };
        let encoded = checkout_tax(Form::new(), on, Payer::Customer).encode();
        assert!(encoded.contains("automatic_tax%5Benabled%5D=true"), "{encoded}");
        assert!(encoded.contains("customer_update%5Baddress%5D=auto"), "{encoded}");
        let guest = checkout_tax(Form::new(), on, Payer::Guest).encode();
        assert!(!guest.contains("customer_update"), "{guest}");
        assert_eq!(
            checkout_tax(Form::new(), TaxSettings::default(), Payer::Customer).encode(),
            ""
        );
    }
}
