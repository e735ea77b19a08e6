//! The emulator's own table of tax rates by the customer's billing country. **This is not
//! Stripe's data**: Stripe Tax decides rates from the product's tax code, the customer's full
//! address and the account's registrations. The emulator stands for an account registered to
//! collect VAT/GST/JCT in the countries below at their standard rate for digital services, and
//! registered nowhere else (so not in the US, where Stripe then reports `not_collecting`).
//! Enough to see tax move through Checkout, invoices and payments; never a source of truth
//! for what a real customer owes.

/// How the emulated account taxes a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jurisdiction {
    /// In hundredths of a percent: 1900 is 19 %.
    pub basis_points: i64,
    /// The rate object's `display_name` and `tax_type`, as Stripe Tax names them.
    pub display_name: &'static str,
    pub tax_type: Option<&'static str>,
    /// Whether the account collects tax there; `false` taxes at 0 with `not_collecting`.
    pub collecting: bool,
}

const fn collects(basis_points: i64, display_name: &'static str, tax_type: &'static str) -> Jurisdiction {
    Jurisdiction {
        basis_points,
        display_name,
        tax_type: Some(tax_type),
        collecting: true,
    }
}

/// Registered: these countries at these rates. Everything else is not collected.
const REGISTERED: [(&str, Jurisdiction); 10] = [
    ("DE", collects(1900, "VAT", "vat")),
    ("FR", collects(2000, "VAT", "vat")),
    ("GB", collects(2000, "VAT", "vat")),
    ("NL", collects(2100, "VAT", "vat")),
    ("IE", collects(2300, "VAT", "vat")),
    ("ES", collects(2100, "VAT", "vat")),
    ("IT", collects(2200, "VAT", "vat")),
    ("JP", collects(1000, "JCT", "jct")),
    ("AU", collects(1000, "GST", "gst")),
    // Canada's federal GST only (no provincial HST/PST/QST: the emulator takes no province).
    ("CA", collects(500, "GST", "gst")),
];

/// The jurisdiction of a billing country (ISO 3166-1 alpha-2, upper case).
pub fn jurisdiction(country: &str) -> Jurisdiction {
    if let Some((_, j)) = REGISTERED.iter().find(|(c, _)| *c == country) {
        return *j;
    }
    // Not registered: Stripe Tax still reports the line, with no tax and `not_collecting`.
    let (display_name, tax_type) = match country {
        "US" => ("Sales Tax", Some("sales_tax")),
        _ => ("Tax", None),
    };
    Jurisdiction {
        basis_points: 0,
        display_name,
        tax_type,
        collecting: false,
    }
}

/// Stripe's `taxability_reason` for a line taxed in `j`.
pub fn taxability_reason(j: &Jurisdiction) -> &'static str {
    if j.collecting {
        "standard_rated"
    } else {
        "not_collecting"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_and_not() {
        assert_eq!(jurisdiction("DE").basis_points, 1900);
        assert_eq!(jurisdiction("CA").basis_points, 500);
        let us = jurisdiction("US");
        assert_eq!(
            (us.basis_points, us.collecting, us.tax_type),
            (0, false, Some("sales_tax"))
        );
        assert_eq!(taxability_reason(&us), "not_collecting");
        assert_eq!(taxability_reason(&jurisdiction("IE")), "standard_rated");
        assert!(!jurisdiction("BR").collecting);
    }
}
