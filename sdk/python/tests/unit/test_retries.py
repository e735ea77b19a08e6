"""Retries: one Idempotency-Key across a call's retries, backoff with jitter, Retry-After, and
what is never retried."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from dream_api import (
    ApiConnectionError,
    ApiTimeoutError,
    DreamApiError,
    InternalError,
    LimitReachedError,
    RateLimitedError,
)

from conftest import UUID, error_body, make_client, network_error, ok, usage


def test_every_retry_of_a_call_keeps_the_same_idempotency_key():
    dream, api = make_client([
        {"status": 500, "json": error_body("internal", "Internal error; quote the requestId when reporting it")},
        network_error(),
        ok({"success": True, "usage": usage(1)}, {"idempotent-replayed": "true"}),
    ])
    result = dream.track_usage("u")
    assert len(api.calls) == 3
    keys = {c.headers["idempotency-key"] for c in api.calls}
    assert len(keys) == 1
    key = keys.pop()
    assert re.match(UUID, key)
    assert [(r.attempt, type(r.error), r.idempotency_key, r.method, r.path) for r in api.retries] == [
        (1, InternalError, key, "POST", "/api/data"),
        (2, ApiConnectionError, key, "POST", "/api/data"),
    ]
    assert result["replayed"] is True


def test_retries_of_other_posts_keep_the_callers_key_and_the_same_body():
    answer = {"success": True, "url": "u", "sessionId": "cs", "orderId": "ord", "amountCents": 1, "expiresAt": "t"}
    dream, api = make_client([{"status": 502, "json": error_body("stripe_error", "Stripe: down")}, ok(answer)])
    dream.cart_checkout([{"priceId": "p", "quantity": 1}], idempotency_key="cart-7")
    assert [(c.headers["idempotency-key"], c.body) for c in api.calls] == [
        ("cart-7", b'{"items":[{"priceId":"p","quantity":1}]}'),
        ("cart-7", b'{"items":[{"priceId":"p","quantity":1}]}'),
    ]


def test_rate_limited_waits_for_retry_after():
    dream, api = make_client([
        {"status": 429, "headers": {"retry-after": "1"},
         "json": error_body("rate_limited", "Rate limit exceeded",
                            rateLimit={"limit": 600, "periodSeconds": 60, "scope": "project+user"})},
        ok({"success": True, "usage": usage(1)}),
    ])
    started = time.monotonic()
    dream.track_usage("u")
    elapsed = time.monotonic() - started
    assert len(api.calls) == 2
    assert len(api.retries) == 1
    assert isinstance(api.retries[0].error, RateLimitedError)
    assert 1.0 <= api.retries[0].delay <= 1.1, api.retries[0].delay
    assert elapsed >= 1.0


def test_a_retry_after_as_an_http_date_is_honoured():
    from email.utils import formatdate

    when = formatdate(time.time() + 2, usegmt=True)
    dream, api = make_client(
        [{"status": 503, "json": error_body("unavailable", "Sign-in is down"), "headers": {"retry-after": when}}],
        max_retries=1, max_retry_after=0.5,
    )
    error = pytest.raises(DreamApiError, dream.create_customer, "a@example.com").value
    assert error.retry_after_seconds in (1, 2, 3)
    assert len(api.calls) == 1, "longer than max_retry_after: raised at once"


def test_a_retry_after_longer_than_max_retry_after_is_raised_at_once():
    dream, api = make_client(
        [{"status": 429, "json": error_body("rate_limited", "Too many"), "headers": {"retry-after": "60"}}],
        max_retry_after=5,
    )
    error = pytest.raises(RateLimitedError, dream.track_usage, "u").value
    assert error.retry_after_seconds == 60
    assert len(api.calls) == 1


def test_limit_reached_is_never_retried():
    dream, api = make_client([
        {"status": 429, "json": error_body("limit_reached", "Tier limit reached", usage=usage(3))},
        ok({"success": True, "usage": usage(3)}),
    ])
    error = pytest.raises(LimitReachedError, dream.track_usage, "u").value
    assert error.usage == usage(3)
    assert (error.status, error.code, error.request_id) == (429, "limit_reached", "req_test123")
    assert len(api.calls) == 1
    assert api.retries == []


@pytest.mark.parametrize("status,code", [
    (400, "invalid_request"), (401, "unauthorized"), (402, "payment_required"), (403, "forbidden"),
    (403, "quota_exceeded"), (404, "not_found"), (409, "conflict"),
])
def test_other_4xx_answers_are_never_retried(status, code):
    dream, api = make_client([{"status": status, "json": error_body(code, "no")}, ok({})])
    with pytest.raises(DreamApiError):
        dream.create_checkout("u", "pro")
    assert len(api.calls) == 1


def test_5xx_backs_off_exponentially_with_jitter():
    dream, api = make_client(
        [
            {"status": 503, "text": "<html>Service Unavailable</html>", "headers": {"content-type": "text/html"}},
            {"status": 500, "json": error_body("internal", "Internal error")},
            ok({"success": True, "products": []}),
        ],
        retry_base_delay=0.02, max_retry_delay=1.0,
    )
    dream.list_products()
    assert len(api.calls) == 3
    first, second = (r.delay for r in api.retries)
    assert 0.01 <= first <= 0.02, first
    assert 0.02 <= second <= 0.04, second


def test_the_computed_backoff_is_capped_at_max_retry_delay():
    dream, api = make_client(
        [network_error(), network_error(), network_error(), ok({"success": True, "products": []})],
        max_retries=3, retry_base_delay=0.008, max_retry_delay=0.01,
    )
    dream.list_products()
    assert [r.delay <= 0.01 for r in api.retries] == [True, True, True]


def test_network_failures_end_in_api_connection_error_after_max_retries():
    dream, api = make_client([network_error(), network_error(), network_error(), ok({})])
    error = pytest.raises(ApiConnectionError, dream.track_usage, "u").value
    assert not isinstance(error, ApiTimeoutError)
    assert (error.code, error.status) == ("connection_error", None)
    assert "ECONNREFUSED" in error.message
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert len(api.calls) == 3, "the first attempt and max_retries (2) retries"


def test_a_body_cut_off_mid_read_is_a_network_failure_and_retried():
    class CutOff(httpx.SyncByteStream):
        def __iter__(self):
            yield b'{"success": tr'
            raise httpx.ReadError("connection reset by peer")

    dream, api = make_client([
        lambda request: httpx.Response(200, stream=CutOff()),
        ok({"success": True, "usage": usage(1)}),
    ])
    assert dream.track_usage("u")["usage"]["count"] == 1
    assert api.calls[0].headers["idempotency-key"] == api.calls[1].headers["idempotency-key"]


def test_retries_are_off_with_max_retries_0_per_client_or_per_call():
    dream, api = make_client([network_error(), ok({})], max_retries=0)
    with pytest.raises(ApiConnectionError):
        dream.get_dashboard()
    assert len(api.calls) == 1
    dream, api = make_client([network_error(), ok({})])
    with pytest.raises(ApiConnectionError):
        dream.get_dashboard(max_retries=0)
    assert len(api.calls) == 1


def test_a_connection_refused_by_a_real_socket_is_retried_then_raised():
    import socket

    from dream_api import DreamApi

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` now.
    retries = []
    dream = DreamApi("sk_test_x", base_url=f"http://127.0.0.1:{port}", retry_base_delay=0.001,
                     on_retry=retries.append)
    with pytest.raises(ApiConnectionError) as caught:
        dream.get_usage("u")
    assert len(retries) == 2
    assert caught.value.code == "connection_error"
    dream.close()
