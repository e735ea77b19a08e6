//! Everything done to one existing project of a developer: its tiers (edits never change keys;
//! a price change is a new Stripe price), promotion to live, and key rotation. Every change that
//! api-multi caches evicts the project's cache entry.

use super::{CreatedKeySet, StripeModes, new_key_set, require_connected, require_paid};
use crate::{
    identity::Developer,
    projects::ProjectCaches,
    projects::stripe_products,
    storage::{PlatformScope, audit::AuditEntry, project_cache::Cache, projects::OwnedProject},
    upstream::stripe::Stripe,
    webhooks::Senders,
};
use dream_core::api::{ProjectSettings, projects::GracePeriod};
use dream_core::webhooks::payloads;
use dream_core::{
    error::{ApiError, ApiResult},
    keys::{SecretKey, SecretKeyHash},
    mode::Mode,
    period::Timestamp,
    team::Action,
    tiers::{
        Tier, TierName,
        input::{MAX_TIERS, TierDraft, TierInput, check_feature_names, validate_tiers},
        meters::Meter,
        tax::TaxSettings,
    },
};

/// One of the developer's projects, opened for a request, with what edits need.
pub struct ProjectEdit<'a> {
    /// api-multi's caches of the project, told of every edit.
    caches: ProjectCaches,
    /// The project's webhook sender, nudged after a change that has a delivery due.
    senders: Senders,
    platform: PlatformScope,
    project: OwnedProject,
    stripe: StripeModes,
    request_id: &'a str,
}

/// Drops api-multi's cached view of a key so its next request reads D1 (the key stays known).
async fn evict(known_keys: &Cache, hash: &SecretKeyHash) {
    known_keys
        .evict_secret_key(hash, crate::runtime::clock::now_millis())
        .await;
}

fn no_tier(name: &TierName) -> ApiError {
    ApiError::not_found(format!("No tier named `{name}` in this project"))
}

/// A stored tier as a draft for a fresh key set (new Stripe objects, same settings).
fn draft_of(tier: Tier) -> TierDraft {
    TierDraft {
        name: tier.name,
        display_name: tier.display_name,
        price: tier.price,
        limit: tier.limit,
        inventory: tier.inventory,
        popular: tier.popular,
        presentation: tier.features,
        // The key set's own Stripe objects are made when it is published.
        meters: tier
            .meters
            .iter()
            .map(|m| Meter {
                overage: m.overage,
                ..Meter::hard(m.key.clone(), m.included)
            })
            .collect(),
        spend_cap: tier.spend_cap,
        entitlements: tier.entitlements,
        trial: tier.trial,
    }
}

impl<'a> ProjectEdit<'a> {
    /// The developer's project named by `publishable_key`; anyone else's is a 404.
    pub async fn open(
        (stripe, caches, senders): (StripeModes, ProjectCaches, Senders),
        developer: Developer,
        publishable_key: &str,
        request_id: &'a str,
    ) -> ApiResult<Self> {
        let platform = developer.platform().await?;
        let project = platform.project(publishable_key).await?;
        Ok(Self {
            caches,
            senders,
            platform,
            project,
            stripe,
            request_id,
        })
    }

    pub fn project(&self) -> &OwnedProject {
        &self.project
    }

    /// The caller's permission to change this project (its mode decides the role needed), as
    /// the audit entry `action` that the change's write records.
    pub fn change(&self, action: &'static str, now: Timestamp) -> ApiResult<AuditEntry> {
        let actor = self.platform.authorize(Action::Change(self.project.mode))?;
        let pk = self.project.scope.project().publishable_key.as_str();
        Ok(actor.entry(action, now).project(pk, self.project.mode))
    }

    pub async fn tiers(&self) -> ApiResult<Vec<Tier>> {
        self.project.scope.tiers().await
    }

    /// The platform's client for this project's mode, acting on the connected account.
    async fn stripe(&self) -> ApiResult<Stripe> {
        let account = require_connected(&self.platform).await?;
        Ok(self.stripe.for_mode(self.project.mode).on_account(&account))
    }

    fn kind(&self) -> dream_core::mode::ProjectType {
        self.project.scope.project().project_type
    }

    async fn tier_named(&self, name: &TierName) -> ApiResult<Tier> {
        self.tiers()
            .await?
            .into_iter()
            .find(|t| &t.name == name)
            .ok_or_else(|| no_tier(name))
    }

    /// After an edit: evicts the keys read before it and, if a rotation slipped in between, the
    /// keys that are current now (a key in its grace period is cached like the current one),
    /// and tells the project's counters (every isolate's memory).
    async fn evict_after_edit(&self) {
        let read_before = self.keys_read_before();
        for hash in &read_before {
            evict(&self.caches.keys, hash).await;
        }
        match self.project.scope.current_secret_hashes().await {
            Ok(now) => {
                for hash in now.iter().filter(|h| !read_before.contains(h)) {
                    evict(&self.caches.keys, hash).await;
                }
            }
            Err(e) => crate::runtime::log::error(&format!("re-reading the secret key hashes for eviction: {e}")),
        }
        self.tell_counters().await;
    }

    /// Every isolate reads the project from D1 again on its next counted request.
    async fn tell_counters(&self) {
        let scope = &self.project.scope;
        (self.caches)
            .changed(scope.database(), &scope.project().publishable_key)
            .await;
    }

    fn keys_read_before(&self) -> Vec<SecretKeyHash> {
        let mut keys = vec![self.project.secret_key_hash.clone()];
        keys.extend(self.project.previous_secret_key_hash.clone());
        keys
    }

    /// POST /tiers/add
    pub async fn add_tier(&self, input: &TierInput, now: Timestamp) -> ApiResult<Tier> {
        let audit = self.change("tier.created", now)?;
        require_paid(&self.platform, "Editing tiers")?;
        let draft = input.validate(self.kind(), "tier")?;
        let existing = self.tiers().await?;
        if existing.iter().any(|t| t.name == draft.name) {
            return Err(ApiError::conflict(format!(
                "A tier named `{}` already exists",
                draft.name
            )));
        }
        if existing.len() >= MAX_TIERS {
            return Err(ApiError::conflict(format!("A project has at most {MAX_TIERS} tiers")));
        }
        check_feature_names(
            existing
                .iter()
                .map(|t| (&t.meters[..], &t.entitlements[..]))
                .chain([(&draft.meters[..], &draft.entitlements[..])]),
        )?;
        let stripe = self.stripe().await?;
        let key = format!("{}:{}", self.request_id, draft.name);
        let pk = &self.project.scope.project().publishable_key;
        let tier = Tier {
            tax_behavior: Some(self.project.tax.tax_behavior),
            ..draft.into_tier(self.project.currency)?
        };
        let tier = stripe_products::publish_new_tier(&stripe, self.kind(), tier, pk, &key, &existing).await?;
        let audit = audit.target(tier.name.as_str()).changes(None::<()>, &tier);
        if let Err(e) = self
            .project
            .scope
            .insert_tier(self.project.mode, &tier, &audit, now)
            .await
        {
            stripe_products::retire_all_best_effort(&stripe, std::slice::from_ref(&tier), self.request_id).await;
            return Err(e);
        }
        self.evict_after_edit().await;
        Ok(tier)
    }

    /// PUT /tiers: replaces a tier's settings. A limit change needs no Stripe call; a price
    /// change is a new Stripe price, and the old one is retired only once D1 has committed.
    pub async fn update_tier(&self, input: &TierInput, now: Timestamp) -> ApiResult<Tier> {
        let audit = self.change("tier.updated", now)?;
        require_paid(&self.platform, "Editing tiers")?;
        let (old, siblings): (Vec<Tier>, Vec<Tier>) =
            self.tiers().await?.into_iter().partition(|t| t.name == input.name);
        let old = old.into_iter().next().ok_or_else(|| no_tier(&input.name))?;
        let mut new = input
            .keeping(&old)
            .validate(self.kind(), "tier")?
            .into_tier(self.project.currency)?;
        check_feature_names(
            siblings
                .iter()
                .chain([&new])
                .map(|t| (&t.meters[..], &t.entitlements[..])),
        )?;
        new.product_id = old.product_id.clone();
        new.price_id = old.price_id.clone();
        new.tax_behavior = old.tax_behavior;
        let meters_changed = stripe_products::carry_meter_objects(&old, &mut new);
        let keeps_stock = input.keeps_stock();
        if keeps_stock {
            new.inventory = old.inventory;
            new.sold_out = old.sold_out;
        }
        // A free tier has no Stripe price: its subscribers would keep paying the old one.
        if new.price.is_free() && !old.price.is_free() {
            let subscribers = self.project.scope.tier_subscribers(&new.name).await?;
            if subscribers > 0 {
                return Err(crate::storage::projects::subscribed(
                    &new.name,
                    subscribers,
                    "making it free",
                ));
            }
        }
        let stripe_relevant = new.price != old.price
            || new.display_name != old.display_name
            || new.features != old.features
            || meters_changed;
        let audit = audit.target(old.name.as_str());
        if !stripe_relevant {
            let audit = audit.changes(&old, &new);
            self.project
                .scope
                .update_tier(self.project.mode, &new, keeps_stock, &audit, now)
                .await?;
            self.evict_after_edit().await;
            return Ok(new);
        }
        self.publish_replacement(&old, new, keeps_stock, &siblings, audit, now)
            .await
    }

    /// Makes the Stripe objects `new` needs in place of `old`'s, points D1 at them, then
    /// retires `old`'s. D1 first: until it commits, the old price stays on sale and D1 keeps
    /// pointing at it.
    async fn publish_replacement(
        &self,
        old: &Tier,
        new: Tier,
        keeps_stock: bool,
        siblings: &[Tier],
        audit: AuditEntry,
        now: Timestamp,
    ) -> ApiResult<Tier> {
        let stripe = self.stripe().await?;
        let key = format!("{}:{}", self.request_id, new.name);
        let pk = &self.project.scope.project().publishable_key;
        let new = stripe_products::publish_edit(&stripe, self.kind(), old, new, pk, &key, siblings).await?;
        let audit = audit.changes(old, &new);
        if let Err(e) = self
            .project
            .scope
            .update_tier(self.project.mode, &new, keeps_stock, &audit, now)
            .await
        {
            if let Err(cleanup) = stripe_products::retire_replaced(&stripe, &new, old, &format!("{key}:rollback")).await
            {
                crate::runtime::log::error(&format!("rolling back Stripe objects of tier {}: {cleanup}", new.name));
            }
            if let Some(product) = old
                .product_id
                .as_deref()
                .filter(|p| new.product_id.as_deref() == Some(*p))
            {
                stripe_products::undo_product(&stripe, old, product, pk, &format!("{key}:rollback")).await;
            }
            return Err(e);
        }
        self.evict_after_edit().await;
        // Committed: an old price still active in Stripe sells nothing new (checkouts use the
        // price D1 names), so a failure to retire it is logged, not reported.
        if let Err(e) = stripe_products::retire_replaced(&stripe, old, &new, &format!("{key}:retire")).await {
            crate::runtime::log::error(&format!(
                "retiring the replaced Stripe objects of tier {}: {e}",
                new.name
            ));
        }
        Ok(new)
    }

    /// DELETE /tiers: removes the tier, then archives its Stripe product. D1 goes first: its
    /// statement refuses to delete the last tier even under concurrent deletes, and a product
    /// left active in Stripe sells nothing (checkouts only use prices D1 names), so a failed
    /// archive is logged rather than undoing the delete.
    pub async fn delete_tier(&self, name: &TierName, now: Timestamp) -> ApiResult<()> {
        let audit = self.change("tier.deleted", now)?;
        require_paid(&self.platform, "Editing tiers")?;
        let tier = self.tier_named(name).await?;
        let audit = audit.target(name.as_str()).changes(&tier, None::<()>);
        self.project.scope.delete_tier(name, &audit).await?;
        self.evict_after_edit().await;
        if tier.product_id.is_some() {
            let key = format!("{}:{name}", self.request_id);
            let archived = match self.stripe().await {
                Ok(stripe) => stripe_products::retire_tier(&stripe, &tier, &key).await,
                Err(e) => Err(e),
            };
            if let Err(e) = archived {
                crate::runtime::log::error(&format!("archiving the Stripe product of deleted tier {name}: {e}"));
            }
        }
        Ok(())
    }

    /// POST /promote-to-live: the (optionally edited) tiers become live products and a live
    /// key pair of the same project; the test project is untouched. A project is promoted once.
    pub async fn promote_to_live(&self, edited: Option<&[TierInput]>, now: Timestamp) -> ApiResult<CreatedKeySet> {
        let actor = self.platform.authorize(Action::GoLive)?;
        require_paid(&self.platform, "Going live")?;
        if self.project.mode != Mode::Test {
            return Err(ApiError::conflict("Promote the test project; this key is already live"));
        }
        if self
            .platform
            .project_modes(&self.project.project_id)
            .await?
            .contains(&Mode::Live)
        {
            return Err(ApiError::conflict(
                "This project already has live keys; edit the live project's tiers instead",
            ));
        }
        let drafts = match edited {
            Some(tiers) => validate_tiers(self.kind(), tiers)?,
            None => self.tiers().await?.into_iter().map(draft_of).collect(),
        };
        let identity = (
            self.project.project_id.as_str(),
            self.project.name.as_str(),
            self.kind(),
            Mode::Live,
        );
        // Live is priced and taxed as the test project is.
        let settings = (self.project.currency, self.project.tax);
        new_key_set(
            &self.platform,
            &self.stripe,
            &self.caches.keys,
            identity,
            settings,
            drafts,
            actor
                .entry("project.went_live", now)
                .target(self.project.scope.project().publishable_key.as_str()),
            now,
            self.request_id,
        )
        .await
    }

    /// POST /rotate-key: a new secret for the same project and mode. The old one keeps working
    /// for the grace period, or stops at once (its hash leaves D1 and its cache entry is
    /// evicted). A key still in the grace of an earlier rotation stops at once either way.
    /// Returns the new key and when the old one stops.
    pub async fn rotate_key(&self, grace: GracePeriod, now: Timestamp) -> ApiResult<(SecretKey, Option<Timestamp>)> {
        let audit = self.change("key.rotated", now)?;
        let secret = SecretKey::generate(self.project.mode);
        let grace_until = grace.seconds().map(|s| Timestamp(now.0 + s));
        let pk = &self.project.scope.project().publishable_key;
        let event = dream_core::webhooks::Event::new(
            dream_core::webhooks::EventType::KeyRotated,
            pk,
            now,
            payloads::data(&payloads::KeyRotatedData {
                publishable_key: pk.as_str().to_owned(),
                mode: self.project.mode,
                previous_key_expires_at: grace_until.map(Timestamp::to_rfc3339),
                request_id: self.request_id.to_owned(),
            }),
        );
        let (rotated, queued) = (self.project.scope)
            .rotate_secret(
                &self.project.secret_key_hash,
                &secret.hash(),
                grace_until,
                &event,
                &audit.changes(
                    None::<()>,
                    serde_json::json!({ "previousKeyExpiresAt": grace_until.map(Timestamp::to_rfc3339) }),
                ),
                now,
            )
            .await?;
        if !rotated {
            return Err(ApiError::conflict(
                "The key was rotated concurrently; reload and try again",
            ));
        }
        if queued {
            self.senders.nudge(pk.as_str()).await;
        }
        // Revoked keys are forgotten by api-multi entirely; the new one is known from now on.
        let keys = &self.caches.keys;
        if grace_until.is_none() {
            keys.forget_secret_key(&self.project.secret_key_hash).await;
        }
        if let Some(previous) = &self.project.previous_secret_key_hash {
            keys.forget_secret_key(previous).await;
        }
        keys.evict_secret_key(&secret.hash(), now.millis()).await;
        self.tell_counters().await;
        Ok((secret, grace_until))
    }

    /// PUT /project-settings: how far `X-User-Plan` is trusted, the most units one cart may
    /// hold, and tax (given ones change, absent ones stay). api-multi reads them at once. A tax
    /// setting that changes what prices must say makes those prices again.
    pub async fn save_settings(&self, change: &ProjectSettings, now: Timestamp) -> ApiResult<()> {
        let audit = self.change("project.settings_changed", now)?;
        if let Some(Some(units)) = change.max_cart_units
            && !(1..=crate::store::MAX_CART_UNITS).contains(&units)
        {
            return Err(ApiError::invalid_request(format!(
                "maxCartUnits must be from 1 to {} (or null for that bound)",
                crate::store::MAX_CART_UNITS
            )));
        }
        if change.max_cart_units.is_some() && self.kind() != dream_core::mode::ProjectType::Store {
            return Err(ApiError::invalid_request(
                "maxCartUnits is a Store setting; this is a SaaS project",
            ));
        }
        let tax = TaxSettings {
            automatic_tax: change.automatic_tax.unwrap_or(self.project.tax.automatic_tax),
            tax_behavior: change.tax_behavior.unwrap_or(self.project.tax.tax_behavior),
        };
        if tax != self.project.tax {
            require_paid(&self.platform, "Changing tax settings")?;
        }
        // Prices first: the settings are saved only once every price says what they want, so
        // checkouts never ask Stripe for tax on a price that does not say how it applies. A
        // failure leaves the old settings and some new prices; asking again makes the rest.
        self.reprice_for_tax(tax, now).await?;
        let before = serde_json::json!({
            "planHeader": self.project.plan_header,
            "maxCartUnits": self.project.max_cart_units,
            "automaticTax": self.project.tax.automatic_tax,
            "taxBehavior": self.project.tax.tax_behavior,
        });
        let audit = audit.changes(before, change);
        self.project.scope.save_settings(change, &audit, now).await?;
        self.evict_after_edit().await;
        Ok(())
    }

    /// Every paid tier whose Stripe price does not say what `tax` wants gets a new price
    /// (subscribers keep theirs, as after a price change). Asking again after a failure makes
    /// the prices that are still missing.
    async fn reprice_for_tax(&self, tax: TaxSettings, now: Timestamp) -> ApiResult<()> {
        let tiers = self.tiers().await?;
        for old in &tiers {
            let stale = match old.tax_behavior {
                Some(behavior) => behavior != tax.tax_behavior,
                // Made before tax settings: Stripe must know once it computes tax.
                None => tax.automatic_tax,
            };
            if !stale || old.price_id.is_none() {
                continue;
            }
            let new = Tier {
                tax_behavior: Some(tax.tax_behavior),
                ..old.clone()
            };
            let siblings: Vec<Tier> = tiers.iter().filter(|t| t.name != old.name).cloned().collect();
            // Each new price is its own change: it stands even if the settings' save fails.
            let audit = self.change("tier.repriced", now)?.target(old.name.as_str());
            self.publish_replacement(old, new, true, &siblings, audit, now).await?;
        }
        Ok(())
    }

    /// GET /promotion-codes (`billing::promotions`).
    pub async fn promotion_codes(&self) -> ApiResult<Vec<dream_core::api::promotions::PromotionCodeView>> {
        let stripe = self.stripe().await?;
        crate::billing::promotions::list(&stripe, &self.project.scope).await
    }

    /// POST /promotion-codes.
    pub async fn create_promotion_code(
        &self,
        request: &dream_core::api::promotions::CreatePromotionCode,
        now: Timestamp,
    ) -> ApiResult<dream_core::api::promotions::PromotionCodeView> {
        let audit = self.change("promotion_code.created", now)?;
        require_paid(&self.platform, "Creating promotion codes")?;
        let stripe = self.stripe().await?;
        crate::billing::promotions::create(
            &stripe,
            (&self.project.scope, self.project.currency),
            request,
            audit,
            self.request_id,
            now,
        )
        .await
    }

    /// PUT /promotion-codes/{id}.
    pub async fn set_promotion_code_active(
        &self,
        promotion_code_id: &str,
        active: bool,
        now: Timestamp,
    ) -> ApiResult<dream_core::api::promotions::PromotionCodeView> {
        let audit = self
            .change("promotion_code.updated", now)?
            .target(promotion_code_id)
            .changes(None::<()>, serde_json::json!({ "active": active }));
        let stripe = self.stripe().await?;
        crate::billing::promotions::set_active(
            &stripe,
            &self.project.scope,
            (promotion_code_id, active),
            &audit,
            self.request_id,
            now,
        )
        .await
    }

    /// POST /orders/cancel: an open Store order ends (`store::after_sale::cancel_order`).
    pub async fn cancel_order(&self, order_id: &str, now: Timestamp) -> ApiResult<String> {
        let audit = self.change("order.canceled", now)?.target(order_id);
        let stripe = self.stripe().await?;
        crate::store::after_sale::cancel_order(&stripe, &self.project.scope, order_id, &audit, now).await
    }

    /// POST /orders/refund: a paid Store order is refunded (`store::after_sale::refund_order`).
    pub async fn refund_order(
        &self,
        order_id: &str,
        restock: bool,
        now: Timestamp,
    ) -> ApiResult<dream_core::api::store::OrderRefunded> {
        let audit = self
            .change("order.refunded", now)?
            .target(order_id)
            .changes(None::<()>, serde_json::json!({ "restock": restock }));
        let stripe = self.stripe().await?;
        crate::store::after_sale::refund_order(
            &stripe,
            &self.project.scope,
            &self.senders,
            (order_id, restock),
            &audit,
            now,
        )
        .await
    }

    /// POST /expire-previous-key: the key replaced by a rotation with a grace period stops now
    /// (it leaked, or every deploy has the new one). A 409 when no key is in its grace period.
    pub async fn expire_previous_key(&self, now: Timestamp) -> ApiResult<Timestamp> {
        let audit = self.change("key.previous_expired", now)?;
        let nothing_to_stop = || ApiError::conflict("No previous secret key is in its grace period; nothing to stop");
        let previous = self
            .project
            .previous_secret_key_hash
            .as_ref()
            .ok_or_else(nothing_to_stop)?;
        if !self.project.scope.expire_previous_key(previous, &audit, now).await? {
            return Err(nothing_to_stop());
        }
        self.caches.keys.forget_secret_key(previous).await;
        self.tell_counters().await;
        Ok(now)
    }
}
