"""Every method against a real running api-multi (a local stack), as
sdk/typescript/test/integration.test.ts does, with the same projects: DREAM_SDK_SAAS_SECRET_KEY
(tiers free: 3 requests and 5,000 tokens, pro: 1000 at 9.99 with `sso`),
DREAM_SDK_STORE_SECRET_KEY (a product `mug` in stock), and DREAM_SDK_FAULTS_SECRET_KEY on a
Stripe account the tests break on purpose. Skipped without them (see live.py)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import anyio
import httpx
import pytest

from dream_api import (
    AsyncDreamApi,
    AuthenticationError,
    DreamApi,
    InvalidRequestError,
    LimitReachedError,
    NotFoundError,
    StripeError,
    UnavailableError,
)

from live import (
    API_URL,
    FAULTS_KEY,
    FAULTS_STRIPE_ACCOUNT,
    REQUEST_ID,
    SAAS_KEY,
    STORE_KEY,
    clear_faults,
    fresh_user_id,
    inject_fault,
    needs_clerk_faults,
    needs_faults,
    needs_saas,
    needs_store,
)


def saas(**options: Any) -> DreamApi:
    return DreamApi(SAAS_KEY or "", base_url=API_URL or "", retry_base_delay=0.05, **options)


def store() -> DreamApi:
    return DreamApi(STORE_KEY or "", base_url=API_URL or "")


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the API writes them (`2026-11-01T00:00:00Z`, maybe with a fraction)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    assert match, f"not an RFC 3339 time: {text!r}"
    offset = "+00:00" if match.group(2) == "Z" else match.group(2)
    return datetime.fromisoformat(match.group(1) + offset)


# ---- SaaS project ------------------------------------------------------------------------------


@needs_saas
def test_track_usage_counts_a_quantity_of_a_meter_and_refuses_one_past_its_limit_whole():
    dream = saas()
    user_id = fresh_user_id("tokens")
    counted = dream.track_usage(user_id, meter="tokens", quantity=4000)
    assert (counted["usage"]["meter"], counted["usage"]["count"], counted["usage"]["limit"]) == ("tokens", 4000, 5000)
    with pytest.raises(LimitReachedError) as caught:
        dream.track_usage(user_id, meter="tokens", quantity=1001)
    assert caught.value.usage["count"] == 4000, "nothing of the refused quantity was counted"
    overview = dream.get_usage(user_id)
    assert overview["usage"]["meter"] == "requests"
    assert [(m["meter"], m["count"]) for m in overview["meters"]] == [("requests", 0), ("tokens", 4000)]


@needs_saas
def test_widget_token_reads_the_users_widget_and_a_lifetime_out_of_bounds_is_refused():
    dream = saas()
    user_id = fresh_user_id("widget")
    dream.track_usage(user_id)
    minted = dream.widget_token(user_id, expires_in_seconds=120)
    assert minted["token"].startswith("wt_") and minted["userId"] == user_id
    widget = httpx.get(f"{API_URL}/api/widget", params={"token": minted["token"]})
    assert widget.status_code == 200
    requests = [m for m in widget.json()["usage"] if m["meter"] == "requests"]
    assert requests[0]["count"] == 1
    with pytest.raises(InvalidRequestError, match="expiresInSeconds"):
        dream.widget_token(user_id, expires_in_seconds=5)
    # The server chooses what the widget offers: nothing here, and only tiers that exist.
    quiet = dream.widget_token(user_id, offer_tiers=[])
    assert httpx.get(f"{API_URL}/api/widget", params={"token": quiet["token"]}).json()["tiers"] == []
    with pytest.raises(InvalidRequestError, match="platinum"):
        dream.widget_token(user_id, offer_tiers=("platinum",))


@needs_saas
def test_entitlements_and_check_answer_what_the_tier_grants_counting_nothing():
    dream = saas()
    user_id = fresh_user_id("entitled")
    free = dream.get_entitlements(user_id)
    assert (free["plan"], free["source"], free["status"], free["features"]) == ("free", "default", None, [])
    assert [(m["meter"], m["included"]) for m in free["meters"]] == [("requests", 3), ("tokens", 5000)]
    refused = dream.check(user_id, "sso")
    assert (refused["allowed"], refused["reason"], refused["plan"]) == (False, "not_in_plan", "free")
    as_pro = dream.check(user_id, "sso", plan="pro")
    assert (as_pro["allowed"], as_pro["reason"]) == (True, "granted")
    tokens = dream.check(user_id, "tokens")
    assert (tokens["allowed"], tokens["reason"], tokens["usage"]["count"]) == (True, "within_limit", 0)
    with pytest.raises(InvalidRequestError, match="requests, sso, tokens"):
        dream.check(user_id, "teleport")


@needs_saas
def test_track_usage_counts_each_request_then_raises_limit_reached_at_the_free_tiers_limit():
    dream = saas()
    user_id = fresh_user_id("limit")
    for expected in (1, 2, 3):
        result = dream.track_usage(user_id)
        assert (result["success"], result["replayed"]) == (True, False)
        usage = result["usage"]
        assert (usage["count"], usage["limit"], usage["plan"], usage["remaining"]) == (expected, 3, "free", 3 - expected)
        assert parse_time(usage["periodStart"]) < parse_time(usage["periodEnd"])
    with pytest.raises(LimitReachedError) as caught:
        dream.track_usage(user_id)
    error = caught.value
    assert (error.status, error.code) == (429, "limit_reached")
    assert re.match(REQUEST_ID, error.request_id or "")
    assert (error.usage["count"], error.usage["limit"], error.usage["remaining"], error.usage["plan"]) == (3, 3, 0, "free")
    # get_usage reads the same count without counting; a plan header changes the tier only.
    report = dream.get_usage(user_id)
    assert (report["success"], report["usage"]["count"], report["usage"]["limit"], report["usage"]["plan"]) == (True, 3, 3, "free")
    as_pro = dream.get_usage(user_id, plan="pro")
    assert (as_pro["usage"]["count"], as_pro["usage"]["limit"], as_pro["usage"]["plan"], as_pro["usage"]["remaining"]) == (
        3, 1000, "pro", 997)


class LoseFirstAnswer(httpx.BaseTransport):
    """The first attempt reaches the server (which counts it); its answer is then "lost"."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = self.inner.handle_request(request)
        if len(self.sent) == 1:
            response.read()
            response.close()
            raise httpx.ReadError("connection reset after the server answered (simulated)")
        return response

    def close(self) -> None:
        self.inner.close()


@needs_saas
def test_a_retry_after_a_network_failure_that_hid_a_counted_answer_is_replayed_and_counts_once():
    flaky = LoseFirstAnswer()
    dream = saas(http_client=httpx.Client(transport=flaky))
    user_id = fresh_user_id("retry")
    result = dream.track_usage(user_id)
    assert len(flaky.sent) == 2, "one retry"
    assert flaky.sent[0].headers["idempotency-key"] == flaky.sent[1].headers["idempotency-key"]
    assert result["replayed"] is True, "the retry is answered as a replay (Idempotent-Replayed: true)"
    assert result["usage"]["count"] == 1
    assert saas().get_usage(user_id)["usage"]["count"] == 1, "counted exactly once"


@needs_saas
def test_create_customer_creates_a_customer_and_asking_again_returns_the_same_one():
    dream = saas()
    email = f"sdk-py-{uuid.uuid4()}@example.com"
    first = dream.create_customer(email.upper(), first_name="Ada", plan="free")
    assert (first["success"], first["created"]) == (True, True)
    customer = first["customer"]
    assert isinstance(customer["id"], str)
    assert customer["email"] == email, "lower-cased by the API"
    assert (customer["firstName"], customer["lastName"], customer["plan"]) == ("Ada", None, "free")
    assert parse_time(customer["createdAt"])
    again = dream.create_customer(email.upper(), first_name="Ada", plan="free")
    assert (again["created"], again["customer"]["id"]) == (False, customer["id"])
    # Its id is the user id of the metered calls.
    counted = dream.track_usage(customer["id"])
    assert (counted["usage"]["count"], counted["usage"]["plan"]) == (1, "free")


@needs_saas
def test_create_checkout_for_pro_returns_a_checkout_url_and_asking_again_reuses_the_open_session():
    dream = saas()
    user_id = fresh_user_id("checkout")
    first = dream.create_checkout(user_id, "pro")
    assert first["success"] is True
    assert re.match(r"^https?://", first["url"])
    assert isinstance(first["sessionId"], str)
    assert first["reused"] is False
    again = dream.create_checkout(user_id, "pro")
    assert (again["reused"], again["sessionId"], again["url"]) == (True, first["sessionId"], first["url"])
    # The checkout gave the user a billing account, so the portal opens.
    portal = dream.customer_portal(user_id, return_url="http://localhost:3000/account")
    assert portal["success"] is True
    assert re.match(r"^https?://", portal["url"])


@needs_saas
def test_create_checkout_refuses_the_free_tier_and_an_unknown_tier_with_invalid_request():
    with pytest.raises(InvalidRequestError, match="free tier") as free:
        saas().create_checkout(fresh_user_id("free"), "free")
    assert (free.value.status, free.value.code) == (400, "invalid_request")
    with pytest.raises(InvalidRequestError, match="Unknown tier `no-such-tier`") as unknown:
        saas().create_checkout(fresh_user_id("unknown"), "no-such-tier")
    assert unknown.value.status == 400


@needs_saas
def test_customer_portal_for_a_user_who_never_checked_out_is_not_found():
    with pytest.raises(NotFoundError) as caught:
        saas().customer_portal(fresh_user_id("portal"))
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert re.match(REQUEST_ID, caught.value.request_id or "")


@needs_saas
def test_change_plan_for_a_user_without_a_subscription_is_not_found():
    with pytest.raises(NotFoundError, match="no active subscription") as caught:
        saas().change_plan(fresh_user_id("change"), "pro")
    assert (caught.value.status, caught.value.code) == (404, "not_found")


@needs_saas
@pytest.mark.parametrize("tier,message", [("free", "free tier"), ("no-such-tier", "Unknown tier `no-such-tier`")])
def test_change_plan_to_the_free_tier_or_an_unknown_tier_is_invalid_request(tier, message):
    # The tier is checked before the subscription, so these are 400 even without one.
    with pytest.raises(InvalidRequestError, match=message) as caught:
        saas().change_plan(fresh_user_id("change"), tier)
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


@needs_saas
def test_get_dashboard_gives_the_saas_figures():
    # The usage counters copy their counts into the dashboard's database within seconds.
    dashboard = saas().get_dashboard()
    for _ in range(100):
        if dashboard["projectType"] != "saas" or dashboard["metrics"]["usageThisPeriod"] >= 3:
            break
        time.sleep(0.1)
        dashboard = saas().get_dashboard()
    assert (dashboard["projectType"], dashboard["mode"]) == ("saas", "test")
    assert dashboard["publishableKey"].startswith("pk_test_")
    assert dashboard["metrics"]["customers"] >= 1, "the customers created above"
    assert dashboard["metrics"]["usageThisPeriod"] >= 3
    assert len(dashboard["customers"]) >= 1
    assert len(dashboard["usageByMonth"]) == 6
    assert isinstance(dashboard["tierMix"], list)


@needs_saas
def test_store_routes_refuse_a_saas_key():
    with pytest.raises(InvalidRequestError):
        saas().list_products()


@needs_saas
def test_an_unknown_secret_key_is_an_authentication_error_with_a_request_id():
    dream = DreamApi("sk_test_" + "0" * 64, base_url=API_URL)
    with pytest.raises(AuthenticationError) as caught:
        dream.get_usage("anyone")
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert re.match(REQUEST_ID, caught.value.request_id or "")


@needs_saas
def test_the_async_client_counts_until_the_limit_and_replays_a_retry_after_a_lost_answer():
    class LoseFirstAnswerAsync(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()
            self.sent: list = []

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            response = await self.inner.handle_async_request(request)
            if len(self.sent) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection reset after the server answered (simulated)")
            return response

    async def main() -> None:
        flaky = LoseFirstAnswerAsync()
        user_id = fresh_user_id("async")
        async with AsyncDreamApi(SAAS_KEY or "", base_url=API_URL or "", retry_base_delay=0.05,
                                 http_client=httpx.AsyncClient(transport=flaky)) as dream:
            first = await dream.track_usage(user_id)
            assert (first["replayed"], first["usage"]["count"], len(flaky.sent)) == (True, 1, 2)
            for expected in (2, 3):
                assert (await dream.track_usage(user_id))["usage"]["count"] == expected
            with pytest.raises(LimitReachedError) as caught:
                await dream.track_usage(user_id)
            assert caught.value.usage["count"] == 3
            assert re.match(REQUEST_ID, caught.value.request_id or "")
            assert (await dream.get_usage(user_id))["usage"]["count"] == 3

    anyio.run(main)


# ---- Store project -----------------------------------------------------------------------------


def the_mug(dream: DreamApi) -> Any:
    products = dream.list_products()["products"]
    mug = next((p for p in products if p["name"] == "mug"), None)
    assert mug is not None, f"no product named mug: {[p['name'] for p in products]}"
    return mug


@needs_store
def test_list_products_shows_the_mug_and_cart_checkout_holds_one_and_returns_a_checkout_url():
    dream = store()
    before = dream.list_products()
    assert before["success"] is True
    mug = the_mug(dream)
    assert isinstance(mug["priceId"], str)
    assert isinstance(mug["priceCents"], int)
    assert mug["available"] is None or mug["available"] >= 1, (
        f"mug has nothing available now ({mug['available']}); holds of earlier runs end about 36 minutes after them")
    cart = dream.cart_checkout([{"priceId": mug["priceId"], "quantity": 1}], email=f"buyer-{uuid.uuid4()}@example.com")
    assert cart["success"] is True
    assert re.match(r"^https?://", cart["url"])
    assert isinstance(cart["sessionId"], str)
    assert cart["orderId"].startswith("ord")
    assert cart["amountCents"] == mug["priceCents"]
    assert parse_time(cart["expiresAt"]) > datetime.now(timezone.utc)
    after = the_mug(dream)
    if mug["available"] is not None:
        assert after["available"] == mug["available"] - 1, "the cart holds one"


@needs_store
def test_get_dashboard_gives_the_store_figures():
    dashboard = store().get_dashboard()
    assert dashboard["projectType"] == "store"
    assert any(p["name"] == "mug" for p in dashboard["products"])
    assert dashboard["metrics"]["openCheckouts"] >= 1, "the cart above"
    assert len(dashboard["revenueByDay"]) == 30
    assert isinstance(dashboard["recentOrders"], list)


@needs_store
def test_cancel_order_ends_a_carts_checkout_and_gives_its_stock_back_at_once():
    dream = store()
    mug = the_mug(dream)
    cart = dream.cart_checkout([{"priceId": mug["priceId"], "quantity": 1}])
    canceled = dream.cancel_order(cart["orderId"])
    assert canceled == {"success": True, "orderId": cart["orderId"], "status": "expired"}
    assert dream.cancel_order(cart["orderId"])["status"] == "expired", "asking again answers the same"
    assert the_mug(dream)["available"] == mug["available"], "the hold is released"


@needs_store
def test_metering_refuses_a_store_key():
    with pytest.raises(InvalidRequestError):
        store().track_usage(fresh_user_id("store"))


# ---- faults ------------------------------------------------------------------------------------


@needs_faults
def test_stripe_down_is_a_stripe_error_after_the_retries_and_the_same_call_works_once_it_is_back():
    # Every checkout-session creation on this project's Stripe account fails until cleared.
    inject_fault({"path": "/v1/checkout/sessions", "method": "POST", "kind": "error", "count": 100,
                  "account": FAULTS_STRIPE_ACCOUNT})
    retries: list = []
    dream = DreamApi(FAULTS_KEY, base_url=API_URL, retry_base_delay=0.02, on_retry=retries.append)
    user_id = fresh_user_id("stripe-down")
    try:
        with pytest.raises(StripeError) as caught:
            dream.create_checkout(user_id, "pro")
    finally:
        clear_faults()
    assert caught.value.status == 502
    assert re.match(REQUEST_ID, caught.value.request_id or "")
    assert len(retries) == 2 and len({r.idempotency_key for r in retries}) == 1
    checkout = dream.create_checkout(user_id, "pro")
    assert checkout["sessionId"].startswith("cs_")


@needs_clerk_faults
def test_clerk_down_is_unavailable_after_the_retries_and_the_customer_is_created_once_it_is_back():
    who = fresh_user_id("clerk-down")
    # Matches only this test's e-mail (Clerk's lookup carries it in its query).
    inject_fault({"path": who, "kind": "error", "count": 100})
    retries: list = []
    # One retry, after the answer's `Retry-After`.
    dream = DreamApi(SAAS_KEY, base_url=API_URL, max_retries=1, on_retry=retries.append)
    email = f"{who}@example.com"
    try:
        with pytest.raises(UnavailableError) as caught:
            dream.create_customer(email)
    finally:
        clear_faults()
    assert caught.value.status == 503
    assert re.match(REQUEST_ID, caught.value.request_id or "")
    assert len(retries) == 1
    if caught.value.retry_after_seconds is not None:
        assert retries[0].delay >= caught.value.retry_after_seconds
    assert dream.create_customer(email)["created"] is True
