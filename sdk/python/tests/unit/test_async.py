"""The async client: the same wire format, retries, keys, errors and timeouts, awaited."""

from __future__ import annotations

import json
import re
import time

import anyio
import httpx
import pytest

from dream_api import (
    ApiConnectionError,
    ApiTimeoutError,
    AsyncDreamApi,
    InternalError,
    LimitReachedError,
    RateLimitedError,
    StripeError,
)

from conftest import BASE, SECRET, UUID, error_body, make_async_client, network_error, ok, usage


def run(coroutine_function, *args):
    return anyio.run(coroutine_function, *args)


def test_every_method_sends_what_the_sync_client_sends():
    async def main():
        dream, api = make_async_client([
            ok({"success": True, "usage": usage(1)}, {"idempotent-replayed": "true"}),
            ok({"success": True, "usage": usage(1), "meters": []}),
            ok({"success": True, "plan": "free", "features": [], "meters": []}),
            ok({"success": True, "allowed": False, "reason": "not_in_plan"}),
            {"status": 201, "json": {"success": True, "created": True, "customer": {"id": "user_1"}}},
            ok({"success": True, "url": "https://checkout.test", "sessionId": "cs_1", "reused": False}),
            ok({"success": True, "url": "https://portal.test"}),
            ok({"success": True, "changed": True, "subscription": {}}),
            ok({"projectType": "store"}),
            ok({"success": True, "products": []}),
            ok({"success": True, "orderId": "ord_1"}),
            ok({"success": True, "orderId": "ord_1", "status": "expired"}),
        ])
        async with dream:
            tracked = await dream.track_usage("u", meter="tokens", quantity=5, plan="pro", idempotency_key="k-1")
            assert tracked["replayed"] is True
            await dream.get_usage("u")
            await dream.get_entitlements("u", plan="pro")
            assert (await dream.check("u", "sso"))["reason"] == "not_in_plan"
            assert (await dream.create_customer("a@example.com", last_name="L"))["created"] is True
            await dream.create_checkout("u", "pro", allow_promotion_codes=True)
            await dream.customer_portal("u", return_url="https://app.test")
            await dream.change_plan("u", "team")
            assert (await dream.get_dashboard())["projectType"] == "store"
            await dream.list_products()
            await dream.cart_checkout([{"priceId": "p", "quantity": 2}], email="b@example.com")
            await dream.cancel_order("ord_1")
        summary = [(c.method, c.url[len(BASE):], c.headers.get("x-user-id"), c.headers.get("x-user-plan"),
                    c.body and json.loads(c.body)) for c in api.calls]
        assert summary == [
            ("POST", "/api/data", "u", "pro", {"meter": "tokens", "quantity": 5}),
            ("GET", "/api/usage", "u", None, None),
            ("GET", "/api/entitlements", "u", "pro", None),
            ("POST", "/api/check", "u", None, {"feature": "sso"}),
            ("POST", "/api/customers", None, None, {"email": "a@example.com", "lastName": "L"}),
            ("POST", "/api/create-checkout", "u", None, {"tier": "pro", "allowPromotionCodes": True}),
            ("POST", "/api/customer-portal", "u", None, {"returnUrl": "https://app.test"}),
            ("POST", "/api/change-plan", "u", None, {"tier": "team"}),
            ("GET", "/api/dashboard", None, None, None),
            ("GET", "/api/products", None, None, None),
            ("POST", "/api/cart/checkout", None, None, {"email": "b@example.com", "items": [{"priceId": "p", "quantity": 2}]}),
            ("POST", "/api/orders/ord_1/cancel", None, None, None),
        ]
        assert api.calls[0].headers["idempotency-key"] == "k-1"
        assert all(c.headers["authorization"] == f"Bearer {SECRET}" for c in api.calls)
        assert all(("idempotency-key" in c.headers) == (c.method == "POST") for c in api.calls)

    run(main)


def test_retries_keep_one_key_and_limit_reached_is_never_retried():
    async def main():
        dream, api = make_async_client([
            {"status": 500, "json": error_body("internal", "Internal error")},
            network_error(),
            ok({"success": True, "usage": usage(1)}),
            {"status": 429, "json": error_body("limit_reached", "Tier limit reached", usage=usage(3))},
        ])
        assert (await dream.track_usage("u"))["usage"]["count"] == 1
        keys = {c.headers["idempotency-key"] for c in api.calls}
        assert len(keys) == 1 and re.match(UUID, keys.pop())
        assert [type(r.error) for r in api.retries] == [InternalError, ApiConnectionError]
        with pytest.raises(LimitReachedError) as caught:
            await dream.track_usage("u")
        assert caught.value.usage == usage(3)
        assert caught.value.request_id == "req_test123"
        assert len(api.calls) == 4

    run(main)


def test_rate_limited_waits_for_retry_after_and_5xx_ends_in_its_class():
    async def main():
        dream, api = make_async_client([
            {"status": 429, "json": error_body("rate_limited", "slow down"), "headers": {"retry-after": "1"}},
            ok({"success": True, "usage": usage(1)}),
            {"status": 502, "json": error_body("stripe_error", "Stripe: down")},
            {"status": 502, "json": error_body("stripe_error", "Stripe: down")},
            {"status": 502, "json": error_body("stripe_error", "Stripe: down")},
        ])
        started = time.monotonic()
        await dream.track_usage("u")
        assert time.monotonic() - started >= 1.0
        assert isinstance(api.retries[0].error, RateLimitedError)
        assert 1.0 <= api.retries[0].delay <= 1.1
        with pytest.raises(StripeError) as caught:
            await dream.create_checkout("u", "pro")
        assert caught.value.status == 502
        assert len({c.headers["idempotency-key"] for c in api.calls[2:]}) == 1

    run(main)


def test_a_hanging_answer_times_out_on_each_attempt_with_the_same_key():
    async def hang(request):
        await anyio.sleep(10)

    async def main():
        dream, api = make_async_client([hang, hang], timeout=0.05, max_retries=1)
        started = time.monotonic()
        with pytest.raises(ApiTimeoutError) as caught:
            await dream.track_usage("u")
        elapsed = time.monotonic() - started
        assert caught.value.code == "timeout"
        assert isinstance(caught.value, ApiConnectionError)
        assert 0.1 <= elapsed < 1.0, elapsed
        assert len(api.calls) == 2
        assert api.calls[0].headers["idempotency-key"] == api.calls[1].headers["idempotency-key"]

    run(main)


def test_a_slow_body_times_out_too():
    class Slow(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield b"{"
            await anyio.sleep(10)
            yield b"}"

    async def main():
        dream, _ = make_async_client([lambda request: httpx.Response(200, stream=Slow())])
        with pytest.raises(ApiTimeoutError):
            await dream.get_usage("u", timeout=0.05, max_retries=0)

    run(main)


def test_cancelling_the_caller_stops_the_call_also_while_waiting_to_retry():
    async def main():
        dream, api = make_async_client(
            [{"status": 500, "json": error_body("internal", "Internal error")}, ok({})],
            retry_base_delay=10, max_retry_delay=10,
        )
        with anyio.move_on_after(0.2) as scope:
            await dream.get_dashboard()
        assert scope.cancelled_caught
        assert len(api.calls) == 1

    run(main)


def test_arguments_are_checked_before_anything_is_sent():
    async def main():
        dream, api = make_async_client([])
        with pytest.raises(ValueError):
            await dream.track_usage("jörg")
        with pytest.raises(ValueError):
            await dream.cancel_order("../api/data")
        assert api.calls == []
        with pytest.raises(ValueError, match="publishable"):
            AsyncDreamApi("pk_test_x")

    run(main)
