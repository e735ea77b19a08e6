//! What a worker and a usage counter (`counter`) say to each other: which counter holds a
//! user, the operations, their requests and answers. Both sides are the same release or one
//! apart during a deploy, so new fields have defaults that mean what the previous release did.

use serde::{Deserialize, Serialize};

use crate::storage::Project;
use dream_core::usage::layout::CounterLayout;
use dream_core::{
    error::ErrorCode,
    money::Cents,
    period::{BillingPeriod, Timestamp},
    tiers::{
        UsageLimit,
        meters::{Amount, Overage, REQUESTS},
    },
};

/// The counters' requests are addressed to the object, not to a host: any origin does.
pub(crate) const ORIGIN: &str = "https://usage-counter";

/// The status of a `StaleConfig` answer (412 Precondition Failed: the caller's configuration
/// is the precondition).
pub(crate) const STALE_CONFIG: u16 = 412;

/// What a caller asks a counter to do. The path of the call names it, so a deploy that adds
/// an operation is refused by the previous release's counters instead of misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Count one request (or replay an Idempotency-Key's first answer): a `CountOutcome`.
    Count,
    /// The user's count in the period, without counting: a `u64`.
    Usage,
    /// Bind an Idempotency-Key to its first user, in the key's directory counter.
    BindKey,
    /// Count a quantity of a meter: a `MeterOutcome`. Its own path, so a counter of the
    /// release before meters refuses it instead of counting one request.
    CountMeter,
    /// Every meter's count of the user in the period: `MeterCounts`.
    MeterCounts,
    /// The project's configuration changed (an edit, a rotation, a revocation): calls made with
    /// a configuration read before are refused as stale (`ConfigChanged` → `StaleConfig`).
    ConfigChanged,
    /// The project's configuration epoch (`StaleConfig`), without counting.
    ConfigEpoch,
}

impl Operation {
    pub fn path(self) -> &'static str {
        match self {
            Self::Count => "/count",
            Self::Usage => "/usage",
            Self::BindKey => "/bind-key",
            Self::CountMeter => "/count-meter",
            Self::MeterCounts => "/meter-counts",
            Self::ConfigChanged => "/config-changed",
            Self::ConfigEpoch => "/config-epoch",
        }
    }

    pub fn from_path(path: &str) -> Option<Self> {
        [
            Self::Count,
            Self::Usage,
            Self::BindKey,
            Self::CountMeter,
            Self::MeterCounts,
            Self::ConfigChanged,
            Self::ConfigEpoch,
        ]
        .into_iter()
        .find(|op| op.path() == path)
    }
}

/// One request to count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountRequest {
    pub user_id: String,
    pub plan: String,
    pub limit: UsageLimit,
    pub period: BillingPeriod,
    pub now: Timestamp,
    pub idempotency_key: Option<String>,
    pub request_id: String,
    /// The most distinct users this counter may count in one period (`None`: no bound).
    pub users_bound: Option<u64>,
    /// How many counters share the project's users in this period (`dream_core::usage::layout`). A
    /// caller of the previous release (a deploy in progress) sends none: one counter.
    #[serde(default = "one_counter")]
    pub shards: u32,
    /// `ProjectConfig::usage_in_d1_before`: whether the counter may have to carry this user's
    /// row over from D1. A caller of the previous release sends none: it may.
    #[serde(default = "usage_in_d1_unknown")]
    pub usage_in_d1_before: Option<Timestamp>,
    /// The meter counted and how much of it (`Count` always counts one request).
    #[serde(default = "requests")]
    pub meter: String,
    #[serde(default = "one")]
    pub quantity: u64,
    /// Set when the meter's overage is billed; `limit` is then the included amount's ceiling
    /// before the cap (none), and the counter applies the cap and reports the overage.
    #[serde(default)]
    pub overage: Option<OverageTerms>,
    /// The configuration epoch the caller's project configuration is as new as
    /// (`SecretKeyAuth::config_epoch`): older than the counter's, the call is refused as
    /// `StaleConfig`. A caller of the previous release sends none and is not checked.
    #[serde(default)]
    pub config_epoch: Option<u64>,
}

fn one_counter() -> u32 {
    1
}

fn one() -> u64 {
    1
}

fn requests() -> String {
    REQUESTS.to_owned()
}

/// What a counter needs to bill a meter's overage: the price (for the cap), and where Stripe
/// receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverageTerms {
    pub included: u64,
    pub price: Overage,
    pub event_name: String,
    pub stripe_customer: String,
    pub spend_cap: Option<Cents>,
    /// The tier's other billed meters: their overage spends the same cap.
    pub other_meters: Vec<BilledMeter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BilledMeter {
    pub key: String,
    pub included: u64,
    pub price: Overage,
}

impl OverageTerms {
    /// What the user's billed meters other than this one have cost this period.
    pub fn spent_elsewhere(&self, counts: &[(String, u64)]) -> Amount {
        Amount(
            self.other_meters
                .iter()
                .filter_map(|m| {
                    let count = counts.iter().find(|(key, _)| *key == m.key)?.1;
                    Some(m.price.cost(count.saturating_sub(m.included)).0)
                })
                .sum(),
        )
    }

    /// What all of the user's billed meters cost this period, given this meter's count.
    pub fn spent(&self, count: u64, counts: &[(String, u64)]) -> Amount {
        Amount(self.spent_elsewhere(counts).0 + self.price.cost(count.saturating_sub(self.included)).0)
    }
}

/// What `CountMeter` answers: the outcome, and with a spend cap what the user's billed meters
/// have cost this period (after this count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterOutcome {
    pub outcome: CountOutcome,
    /// Billionths of a cent (`Amount`), saturating.
    pub spent_nanocents: Option<u64>,
}

impl MeterOutcome {
    pub fn spent(&self) -> Option<Amount> {
        self.spent_nanocents.map(|n| Amount(u128::from(n)))
    }
}

/// What `MeterCounts` answers: every meter the user counted in the period.
pub type MeterCounts = Vec<(String, u64)>;

fn usage_in_d1_unknown() -> Option<Timestamp> {
    Some(Timestamp(i64::MAX))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountOutcome {
    Counted(u64),
    /// The limit stopped it; the count is what the period already holds.
    LimitReached(u64),
    /// The same Idempotency-Key was counted before; this is that request's count.
    Replayed(u64),
    /// A user new to the period, refused: the counter holds its bound of users already.
    TooManyUsers,
}

impl CountRequest {
    /// Whether D1 can hold a count of this user and period that a counter which started at
    /// `counter_started_at` does not: only for a period that began before both the counter and
    /// the end of the project's counting in D1. Otherwise the counter asks D1 nothing.
    pub fn may_need_seed(&self, counter_started_at: Timestamp) -> bool {
        let start = self.period.start;
        start < counter_started_at && self.usage_in_d1_before.is_some_and(|before| start < before)
    }
}

/// The counter holding a user's rows in the request's period: `{publishableKey}/0` while the
/// project has one counter (the name it always had), `{publishableKey}/{shards}/{shard}` with
/// more. A layout applies only to periods no counter has seen yet, so reusing a name of an
/// earlier layout with as many counters finds no rows of those periods.
pub fn counter_name(project: &Project, request: &CountRequest) -> String {
    shard_name(project, request.shards, &request.user_id)
}

/// With several counters, an Idempotency-Key is bound to its first user in the counter its
/// own hash picks, so a key reused for another user is a 409 whichever counters the two
/// users count in (with one counter, its claims already say so).
pub fn key_directory_name(project: &Project, request: &CountRequest) -> Option<String> {
    let key = request.idempotency_key.as_deref().filter(|_| request.shards > 1)?;
    Some(shard_name(project, request.shards, key))
}

fn shard_name(project: &Project, shards: u32, hashed: &str) -> String {
    let pk = project.publishable_key.as_str();
    match shards {
        0 | 1 => format!("{pk}/0"),
        n => format!("{pk}/{n}/{}", shard(hashed, u64::from(n))),
    }
}

/// Every counter a project may have under `layouts`: the one it always has, and each counter of
/// every split (a change of configuration must reach all of them).
pub fn counter_names(project: &dream_core::keys::PublishableKey, layouts: &[&CounterLayout]) -> Vec<String> {
    let pk = project.as_str();
    let mut names = vec![format!("{pk}/0")];
    for change in layouts.iter().flat_map(|layout| layout.changes()) {
        for shard in (0..change.shards).filter(|_| change.shards > 1) {
            let name = format!("{pk}/{}/{shard}", change.shards);
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Stable across releases and platforms: a user must never change counter mid-period.
fn shard(hashed: &str, shards: u64) -> u64 {
    fnv1a(hashed.as_bytes()) % shards
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Each counter admits its share of the project's distinct users per period.
pub fn users_bound_per_counter(project_bound: u64, shards: u32) -> u64 {
    project_bound.div_ceil(u64::from(shards.max(1)))
}

#[derive(Serialize)]
pub(crate) struct CallRef<'a> {
    pub project: &'a Project,
    pub request: &'a CountRequest,
}

#[derive(Deserialize)]
pub(crate) struct Call {
    pub project: Project,
    pub request: CountRequest,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// Which of the metered bounds refused (`rate_limits::Limit::scope`), on a `rate_limited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
}

/// A `ConfigChanged` notice: when the change was committed (the new epoch is at least this,
/// and always above the previous one).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ConfigChange {
    pub at_ms: u64,
}

/// The counter's answer to a call made with a configuration older than its epoch (HTTP 412),
/// and to a `ConfigChanged` notice: the project's configuration epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleConfig {
    pub epoch: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dream_core::{
        keys::KeyPair,
        mode::{Mode, ProjectType},
        period::{BillingPeriod, Timestamp},
        tiers::UsageLimit,
    };

    fn project(mode: Mode) -> Project {
        Project {
            publishable_key: KeyPair::generate(mode).publishable,
            platform_id: "plt_1".to_owned(),
            project_type: ProjectType::Saas,
        }
    }

    fn request(user_id: &str, shards: u32, key: Option<&str>) -> CountRequest {
        let now = Timestamp(1_796_000_000);
        CountRequest {
            user_id: user_id.to_owned(),
            plan: "free".to_owned(),
            limit: UsageLimit::limited(10),
            period: BillingPeriod::calendar_month(now),
            now,
            idempotency_key: key.map(str::to_owned),
            request_id: "req_1".to_owned(),
            users_bound: None,
            shards,
            usage_in_d1_before: None,
            meter: REQUESTS.to_owned(),
            quantity: 1,
            overage: None,
            config_epoch: None,
        }
    }

    #[test]
    fn only_a_project_that_counted_in_d1_before_its_counter_is_ever_seeded() {
        let mut req = request("user_1", 1, None);
        let start = req.period.start;
        let after_start = Timestamp(start.0 + 86_400);
        // A project created since the counters: its counter never asks D1.
        assert!(!req.may_need_seed(after_start));
        // One that counted in D1 until after this period began: its new counter must.
        req.usage_in_d1_before = Some(Timestamp(start.0 + 3_600));
        assert!(req.may_need_seed(after_start));
        // ... but not for periods that began after it stopped counting in D1,
        req.usage_in_d1_before = Some(Timestamp(start.0 - 1));
        assert!(!req.may_need_seed(after_start));
        // nor for a period that began after the counter did.
        req.usage_in_d1_before = Some(Timestamp(i64::MAX));
        assert!(!req.may_need_seed(start));
        // A caller of the previous release sends no field: assume D1 may hold counts.
        let old: CountRequest = serde_json::from_value({
            let mut v = serde_json::to_value(request("user_1", 1, None)).unwrap();
            assert!(v.as_object_mut().unwrap().remove("usage_in_d1_before").is_some());
            v
        })
        .unwrap();
        assert!(old.may_need_seed(after_start));
    }

    #[test]
    fn a_user_always_has_the_same_counter_and_projects_and_modes_never_share_one() {
        let (test, live) = (project(Mode::Test), project(Mode::Live));
        let user_1 = request("user_1", 1, None);
        assert_eq!(counter_name(&test, &user_1), counter_name(&test, &user_1));
        assert_ne!(counter_name(&test, &user_1), counter_name(&live, &user_1));
        // One counter keeps the name counters had before layouts: `{pk}/0`.
        assert_eq!(
            counter_name(&test, &user_1),
            format!("{}/0", test.publishable_key.as_str())
        );
        assert_eq!(
            counter_name(&test, &request("user_1", 4, None)),
            format!("{}/4/{}", test.publishable_key.as_str(), shard("user_1", 4))
        );
        // Pinned to FNV-1a's published test vectors: a change of hash would move every user to
        // a fresh counter mid-period.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        let shards: Vec<u64> = ["a", "b", "user_2abc", "u@example.com"]
            .iter()
            .map(|u| shard(u, 4))
            .collect();
        assert_eq!(shards, [0, 1, 1, 1]);
    }

    #[test]
    fn users_spread_over_every_shard_and_the_bound_is_split_among_them() {
        let mut per_shard = [0u32; 4];
        for i in 0..10_000 {
            per_shard[shard(&format!("user_{i}"), 4) as usize] += 1;
        }
        assert!(per_shard.iter().all(|&n| (2_300..2_700).contains(&n)), "{per_shard:?}");
        assert_eq!(users_bound_per_counter(50_000, 1), 50_000);
        assert_eq!(users_bound_per_counter(50_000, 4), 12_500);
        assert_eq!(
            users_bound_per_counter(50_000, 3) * 3,
            50_001,
            "the shards admit at least the bound"
        );
    }

    #[test]
    fn a_key_has_a_directory_only_among_several_counters() {
        let p = project(Mode::Test);
        assert_eq!(key_directory_name(&p, &request("u", 1, Some("k"))), None);
        assert_eq!(key_directory_name(&p, &request("u", 4, None)), None);
        let pk = p.publishable_key.as_str();
        // The directory depends on the key, not on the user.
        let a = key_directory_name(&p, &request("user_a", 4, Some("retry-1")));
        let b = key_directory_name(&p, &request("user_b", 4, Some("retry-1")));
        assert_eq!(a, b);
        assert_eq!(a, Some(format!("{pk}/4/{}", shard("retry-1", 4))));
    }

    #[test]
    fn operations_round_trip_through_their_paths() {
        for op in [
            Operation::Count,
            Operation::Usage,
            Operation::BindKey,
            Operation::CountMeter,
            Operation::MeterCounts,
            Operation::ConfigChanged,
            Operation::ConfigEpoch,
        ] {
            assert_eq!(Operation::from_path(op.path()), Some(op));
        }
        assert_eq!(Operation::from_path("/flush"), None);
        assert_eq!(Operation::from_path("count"), None);
    }

    #[test]
    fn a_change_of_configuration_reaches_every_counter_a_user_may_count_in() {
        let p = project(Mode::Test);
        let start = request("u", 1, None).period.start;
        let split = CounterLayout::default().change(4, start, true).unwrap();
        let names = counter_names(&p.publishable_key, &[&CounterLayout::default(), &split]);
        assert_eq!(names.len(), 5, "{names:?}");
        for user in ["a", "b", "c", "d", "e", "f", "g"] {
            assert!(names.contains(&counter_name(&p, &request(user, 1, None))));
            let shards = split.shards_for(start);
            assert_eq!(shards, 4);
            assert!(names.contains(&counter_name(&p, &request(user, shards, None))));
        }
    }
}
