//! Webhook deliveries: signed exactly as Stripe signs them, sent off the request path,
//! retried with exponential backoff, every attempt logged for `/_emulator/deliveries`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::webhooks::{Target, targets};
use crate::App;

const EXCERPT_CHARS: usize = 1000;

/// `Stripe-Signature: t=<unix>,v1=<hex>`: HMAC-SHA256 keyed with the whole `whsec_...`
/// string (its bytes, not a decoding of it) over `"{t}.{body}"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm only satisfies the type.
        Err(_) => return format!("t={timestamp}"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a delivery was sent, shown in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Event,
    Redeliver,
    DeliverTwice,
    Batch,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub event: String,
    pub event_type: String,
    pub endpoint: String,
    pub url: String,
    pub attempt: u32,
    pub reason: Reason,
    /// The HTTP status, or null when no response came (timeout, refused connection).
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    pub response_body: String,
    pub signature: String,
    pub at: i64,
    pub at_ms: i64,
    pub duration_ms: u64,
}

/// Deliveries held back (a slow or down webhook path, for tests): events whose body contains a
/// held string are parked instead of sent, until that hold is released.
#[derive(Default)]
pub struct Holds(Mutex<HoldState>);

#[derive(Default)]
struct HoldState {
    containing: Vec<String>,
    parked: Vec<Parked>,
}

/// A delivery held back, with the holds its body matched when it was parked.
struct Parked {
    target: Target,
    event_id: String,
    matched: Vec<String>,
}

impl Holds {
    fn lock(&self) -> std::sync::MutexGuard<'_, HoldState> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn hold(&self, containing: &str) {
        let mut state = self.lock();
        if !state.containing.iter().any(|c| c == containing) {
            state.containing.push(containing.to_owned());
        }
    }

    /// Parks the delivery if a hold matches its body; true when parked.
    fn park(&self, target: &Target, event_id: &str, body: &[u8]) -> bool {
        let mut state = self.lock();
        let text = String::from_utf8_lossy(body);
        let matched: Vec<String> = (state.containing.iter())
            .filter(|c| text.contains(c.as_str()))
            .cloned()
            .collect();
        if matched.is_empty() {
            return false;
        }
        let (target, event_id) = (target.clone(), event_id.to_owned());
        state.parked.push(Parked {
            target,
            event_id,
            matched,
        });
        true
    }
}

/// Lifts a hold and sends what it parked, in the order it was parked (a delivery another hold
/// also matches is parked again when sent). Returns how many.
pub fn release(app: &Arc<App>, containing: &str) -> usize {
    let parked: Vec<Parked> = {
        let mut state = app.holds.lock();
        state.containing.retain(|c| c != containing);
        let (released, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut state.parked)
            .into_iter()
            .partition(|p| p.matched.iter().any(|m| m == containing));
        state.parked = kept;
        released
    };
    let generation = app.current_generation();
    let count = parked.len();
    let app = app.clone();
    tokio::spawn(async move {
        for Parked { target, event_id, .. } in parked {
            send_in_order(app.clone(), target, vec![event_id], Reason::Event, generation).await;
        }
    });
    count
}

#[derive(Default)]
pub struct DeliveryLog(Mutex<Vec<Attempt>>);

impl DeliveryLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Attempt>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn push(&self, attempt: Attempt) {
        self.lock().push(attempt);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn list(&self, event: Option<&str>) -> Vec<Attempt> {
        self.lock()
            .iter()
            .filter(|a| event.is_none_or(|e| a.event == e))
            .cloned()
            .collect()
    }
}

/// Sends the events one mutation recorded. Per endpoint they go out in the order they were
/// recorded (first attempts awaited one by one); a failed one retries on its own, so a
/// failing receiver never holds up later events, just as Stripe does not wait.
pub fn dispatch_new(app: &Arc<App>, event_ids: Vec<String>) {
    let generation = app.current_generation();
    for (target, events) in group_by_target(app, &event_ids) {
        tokio::spawn(send_in_order(app.clone(), target, events, Reason::Event, generation));
    }
}

/// Sends one event again to every endpoint it matches now. Returns how many.
pub fn redeliver(app: &Arc<App>, event_id: &str, reason: Reason) -> usize {
    let generation = app.current_generation();
    let groups = group_by_target(app, &[event_id.to_string()]);
    let copies = if reason == Reason::DeliverTwice { 2 } else { 1 };
    for (target, events) in &groups {
        for _ in 0..copies {
            tokio::spawn(send_in_order(
                app.clone(),
                target.clone(),
                events.clone(),
                reason,
                generation,
            ));
        }
    }
    groups.len()
}

/// Sends `event_ids` in the given order to each endpoint that matches any of them.
pub fn deliver_in_order(app: &Arc<App>, event_ids: &[String]) -> usize {
    let generation = app.current_generation();
    let groups = group_by_target(app, event_ids);
    for (target, events) in &groups {
        tokio::spawn(send_in_order(
            app.clone(),
            target.clone(),
            events.clone(),
            Reason::Batch,
            generation,
        ));
    }
    groups.len()
}

fn group_by_target(app: &App, event_ids: &[String]) -> Vec<(Target, Vec<String>)> {
    app.read(|db| {
        let mut groups: Vec<(Target, Vec<String>)> = Vec::new();
        for id in event_ids {
            let Some(event) = db.events.get(id) else { continue };
            for target in targets(db, event) {
                match groups.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, events)) => events.push(id.clone()),
                    None => groups.push((target, vec![id.clone()])),
                }
            }
        }
        groups
    })
}

async fn send_in_order(app: Arc<App>, target: Target, events: Vec<String>, reason: Reason, generation: u64) {
    for event in events {
        if !attempt(&app, &target, &event, 1, reason, generation).await {
            tokio::spawn(retry(app.clone(), target.clone(), event, reason, generation));
        }
    }
}

async fn retry(app: Arc<App>, target: Target, event: String, reason: Reason, generation: u64) {
    let base = app.config.retry_base_ms;
    for n in 2..=app.config.max_delivery_attempts {
        let delay = base.saturating_mul(1u64 << (n - 2).min(20));
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if attempt(&app, &target, &event, n, reason, generation).await {
            return;
        }
    }
}

/// One POST. True when the receiver answered 2xx.
async fn attempt(app: &Arc<App>, target: &Target, event_id: &str, n: u32, reason: Reason, generation: u64) -> bool {
    if app.current_generation() != generation {
        return true; // reset since: nothing left to deliver
    }
    let Some((body, event_type)) = app.read(|db| db.events.get(event_id).map(|e| (e.to_json(), e.kind.clone()))) else {
        return true;
    };
    if app.holds.park(target, event_id, &body) {
        return true;
    }
    let at = crate::time::now();
    let signature = sign(&target.secret, at, &body);
    let started = Instant::now();
    let sent = app
        .http
        .post(&target.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .header("stripe-signature", &signature)
        .body(body)
        .send()
        .await;
    let (status, response_body, error) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (Some(status), text.chars().take(EXCERPT_CHARS).collect(), None)
        }
        Err(e) => {
            let kind = if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            };
            (None, String::new(), Some(format!("{kind}: {e}")))
        }
    };
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    if app.current_generation() != generation {
        return true;
    }
    app.deliveries.push(Attempt {
        event: event_id.to_string(),
        event_type,
        endpoint: target.endpoint.clone(),
        url: target.url.clone(),
        attempt: n,
        reason,
        status,
        ok,
        error,
        response_body,
        signature,
        at,
        at_ms: crate::time::now_ms(),
        duration_ms: started.elapsed().as_millis() as u64,
    });
    if ok && reason == Reason::Event {
        app.mutate(|db| {
            if let Some(e) = db.events.get_mut(event_id) {
                e.pending_webhooks = e.pending_webhooks.saturating_sub(1);
            }
        });
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn signature_matches_a_known_vector() {
        // Computed independently: printf '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#),
            format!(
                "t=1700000000,v1={}",
                "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
            )
        );
    }
}
