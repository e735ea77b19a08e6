//! The whole emulated world in one value: Stripe objects by id, events, OAuth grants,
//! idempotency records and the Clerk instances. Serialized as JSON for `--state-file`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clerk::ClerkInstance;
use crate::ids::IdGen;
use crate::stripe::charges::Charge;
use crate::stripe::checkout::CheckoutSession;
use crate::stripe::coupons::Coupon;
use crate::stripe::customers::Customer;
use crate::stripe::discounts::Discount;
use crate::stripe::disputes::Dispute;
use crate::stripe::events::Event;
use crate::stripe::idempotency::Stored;
use crate::stripe::invoices::Invoice;
use crate::stripe::meter_events::MeterEvent;
use crate::stripe::meters::Meter;
use crate::stripe::oauth::{Account, OAuthCode, OAuthToken};
use crate::stripe::payment_intents::PaymentIntent;
use crate::stripe::portal::PortalSession;
use crate::stripe::prices::Price;
use crate::stripe::products::Product;
use crate::stripe::promotion_codes::PromotionCode;
use crate::stripe::refunds::Refund;
use crate::stripe::subscriptions::Subscription;
use crate::stripe::tax_rates::TaxRate;
use crate::stripe::webhooks::WebhookEndpoint;

const FORMAT: u32 = 1;

/// Who owns an object: the platform (`account: None`) or a connected account, in test or
/// live mode. An object is visible only to requests with exactly the same scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub account: Option<String>,
    pub livemode: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Db {
    pub format: u32,
    pub ids: IdGen,
    /// Request ids come from their own stream: reads must not shift the ids of objects.
    pub req_ids: IdGen,
    /// Creation order across all objects: lists are newest first, and many objects share
    /// a second.
    pub seq: u64,
    pub platform_account: String,
    /// `/_emulator/accounts/{platform}/event_padding`: bytes added to the platform's own events.
    #[serde(default)]
    pub platform_event_padding: usize,
    pub accounts: BTreeMap<String, Account>,
    pub oauth_codes: BTreeMap<String, OAuthCode>,
    pub oauth_tokens: BTreeMap<String, OAuthToken>,
    pub products: BTreeMap<String, Product>,
    pub prices: BTreeMap<String, Price>,
    pub customers: BTreeMap<String, Customer>,
    pub checkout_sessions: BTreeMap<String, CheckoutSession>,
    pub subscriptions: BTreeMap<String, Subscription>,
    pub invoices: BTreeMap<String, Invoice>,
    pub payment_intents: BTreeMap<String, PaymentIntent>,
    /// Added after the first saved states: `default` lets those load with none.
    #[serde(default)]
    pub charges: BTreeMap<String, Charge>,
    #[serde(default)]
    pub refunds: BTreeMap<String, Refund>,
    #[serde(default)]
    pub disputes: BTreeMap<String, Dispute>,
    #[serde(default)]
    pub meters: BTreeMap<String, Meter>,
    /// Usage as it arrived; meter events have no id of their own at Stripe.
    #[serde(default)]
    pub meter_events: Vec<MeterEvent>,
    /// When each recent identifier (per account and mode) was first used, for Stripe's
    /// duplicate check.
    #[serde(default)]
    pub meter_event_identifiers: BTreeMap<String, i64>,
    /// Under `coupons::key` (account, mode and id): coupon ids are the merchant's choice.
    #[serde(default)]
    pub coupons: BTreeMap<String, Coupon>,
    #[serde(default)]
    pub promotion_codes: BTreeMap<String, PromotionCode>,
    #[serde(default)]
    pub discounts: BTreeMap<String, Discount>,
    /// The rates automatic tax has used (`txr_...`).
    #[serde(default)]
    pub tax_rates: BTreeMap<String, TaxRate>,
    pub portal_sessions: BTreeMap<String, PortalSession>,
    pub events: BTreeMap<String, Event>,
    pub webhook_endpoints: BTreeMap<String, WebhookEndpoint>,
    pub idempotency: BTreeMap<String, Stored>,
    pub clerk: BTreeMap<String, ClerkInstance>,
    /// Where this process serves, for the hosted pages' URLs (the port may differ per run).
    #[serde(skip)]
    pub base_url: String,
    /// The `--webhook` endpoints: configuration, not state, so never saved nor reset.
    #[serde(skip)]
    pub cli_webhooks: Vec<crate::CliWebhook>,
    /// Events recorded by the current mutation, handed to the dispatcher after it.
    #[serde(skip)]
    pub outbox: Vec<String>,
}

impl Db {
    pub fn new(seed: u64) -> Self {
        let mut ids = IdGen::new(seed);
        let platform_account = ids.id("acct_", 16);
        let clerk = crate::clerk::instances(&mut ids);
        Db {
            format: FORMAT,
            ids,
            req_ids: IdGen::new(seed.rotate_left(17) ^ 0x5bd1_e995),
            seq: 0,
            platform_account,
            platform_event_padding: 0,
            accounts: BTreeMap::new(),
            oauth_codes: BTreeMap::new(),
            oauth_tokens: BTreeMap::new(),
            products: BTreeMap::new(),
            prices: BTreeMap::new(),
            customers: BTreeMap::new(),
            checkout_sessions: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            invoices: BTreeMap::new(),
            payment_intents: BTreeMap::new(),
            charges: BTreeMap::new(),
            refunds: BTreeMap::new(),
            disputes: BTreeMap::new(),
            meters: BTreeMap::new(),
            meter_events: Vec::new(),
            meter_event_identifiers: BTreeMap::new(),
            coupons: BTreeMap::new(),
            promotion_codes: BTreeMap::new(),
            discounts: BTreeMap::new(),
            tax_rates: BTreeMap::new(),
            portal_sessions: BTreeMap::new(),
            events: BTreeMap::new(),
            webhook_endpoints: BTreeMap::new(),
            idempotency: BTreeMap::new(),
            clerk,
            base_url: String::new(),
            cli_webhooks: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Back to a fresh state with the same seed, so a seeded run after a reset repeats the
    /// ids of the first. Clerk keys are kept: tokens issued before stay verifiable.
    pub fn reset(&mut self) {
        let clerk_keys: BTreeMap<String, ClerkInstance> = std::mem::take(&mut self.clerk)
            .into_iter()
            .map(|(name, instance)| (name, instance.without_users()))
            .collect();
        let cli_webhooks = std::mem::take(&mut self.cli_webhooks);
        let base_url = std::mem::take(&mut self.base_url);
        *self = Db::new(self.ids.seed);
        self.base_url = base_url;
        self.clerk = clerk_keys;
        self.cli_webhooks = cli_webhooks;
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn id(&mut self, prefix: &str, n: usize) -> String {
        self.ids.id(prefix, n)
    }
}

pub fn load_or_create(path: Option<&Path>, seed: Option<u64>) -> Result<Db, String> {
    if let Some(path) = path {
        match std::fs::read(path) {
            Ok(bytes) => {
                let db: Db = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "the state file {} is not valid ({e}); move it away to start fresh",
                        path.display()
                    )
                })?;
                if db.format != FORMAT {
                    return Err(format!(
                        "the state file {} has format {}, this emulator reads {FORMAT}",
                        path.display(),
                        db.format
                    ));
                }
                return Ok(db);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read the state file {}: {e}", path.display())),
        }
    }
    Ok(Db::new(seed.unwrap_or_else(crate::ids::random_seed)))
}

/// Writes beside the target and renames, so a crash mid-write never leaves half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
