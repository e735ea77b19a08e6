"""Which exception each answer becomes, and what it carries."""

from __future__ import annotations

import pytest

from dream_api import (
    ApiConnectionError,
    ApiTimeoutError,
    AuthenticationError,
    ConflictError,
    DreamApiError,
    ForbiddenError,
    InternalError,
    InvalidRequestError,
    LimitReachedError,
    NotFoundError,
    PaymentRequiredError,
    QuotaExceededError,
    RateLimitedError,
    StripeError,
    UnavailableError,
)
from dream_api._errors import CLASS_BY_CODE, parse_retry_after
from dream_api.types import ErrorCode

from conftest import error_body, make_client, usage

CASES = [
    (400, "invalid_request", InvalidRequestError),
    (401, "unauthorized", AuthenticationError),
    (403, "forbidden", ForbiddenError),
    (404, "not_found", NotFoundError),
    (429, "limit_reached", LimitReachedError),
    (429, "rate_limited", RateLimitedError),
    (409, "conflict", ConflictError),
    (403, "quota_exceeded", QuotaExceededError),
    (402, "payment_required", PaymentRequiredError),
    (502, "stripe_error", StripeError),
    (503, "unavailable", UnavailableError),
    (500, "internal", InternalError),
]


def test_every_code_of_the_document_has_its_class():
    from typing import get_args

    assert sorted(get_args(ErrorCode)) == sorted(code for _, code, _ in CASES) == sorted(CLASS_BY_CODE)


@pytest.mark.parametrize("status,code,cls", CASES, ids=[c for _, c, _ in CASES])
def test_each_code_is_its_class_with_status_request_id_body_and_details(status, code, cls):
    body = error_body(code, f"message of {code}", extra=1)
    dream, _ = make_client([{"status": status, "json": body}], max_retries=0)
    error = pytest.raises(DreamApiError, dream.get_dashboard).value
    assert type(error) is cls
    assert isinstance(error, Exception)
    assert (error.status, error.code, error.message) == (status, code, f"message of {code}")
    assert error.request_id == "req_test123"
    assert error.body == body
    assert error.details == {"extra": 1}
    assert "req_test123" in str(error) and f"message of {code}" in str(error)


def test_an_unknown_code_is_the_base_class():
    dream, _ = make_client([{"status": 418, "json": error_body("teapot", "I'm a teapot")}])
    error = pytest.raises(DreamApiError, dream.get_dashboard).value
    assert type(error) is DreamApiError
    assert (error.code, error.status) == ("teapot", 418)


def test_an_answer_without_a_json_body_is_named_by_its_status_with_the_headers_request_id():
    dream, _ = make_client([{"status": 404, "text": "Not Found", "headers": {"content-type": "text/plain"}}])
    error = pytest.raises(NotFoundError, dream.get_dashboard).value
    assert (error.message, error.request_id, error.body) == ("Not Found", "req_header", "Not Found")


def test_details_of_limit_rate_conflict_payment_and_stripe_errors_are_attributes():
    rate = {"limit": 600, "periodSeconds": 60, "scope": "project+user"}
    stripe = {"type": "card_error", "code": "card_declined", "message": "Declined", "param": None}
    dream, _ = make_client(
        [
            {"status": 429, "json": error_body("limit_reached", "Tier limit reached", usage=usage(3))},
            {"status": 429, "json": error_body("rate_limited", "slow down", rateLimit=rate), "headers": {"retry-after": "7"}},
            {"status": 409, "json": error_body("conflict", "Only 1 of `mug` can be bought now; the cart asks for 2",
                                               priceId="price_mug", product="mug", available=1)},
            {"status": 402, "json": error_body("payment_required", "paused", pausedSince="2026-11-15T00:00:00Z")},
            {"status": 502, "json": error_body("stripe_error", "Stripe: Declined", stripe=stripe)},
        ],
        max_retries=0,
    )
    assert pytest.raises(LimitReachedError, dream.track_usage, "u").value.usage == usage(3)
    rated = pytest.raises(RateLimitedError, dream.track_usage, "u").value
    assert (rated.retry_after_seconds, rated.rate_limit) == (7, rate)
    short = pytest.raises(ConflictError, dream.cart_checkout, []).value
    assert (short.product, short.price_id, short.available) == ("mug", "price_mug", 1)
    assert pytest.raises(PaymentRequiredError, dream.get_dashboard).value.paused_since == "2026-11-15T00:00:00Z"
    assert pytest.raises(StripeError, dream.get_dashboard).value.stripe == stripe


def test_a_2xx_answer_that_is_not_json_is_invalid_response_and_not_retried():
    dream, api = make_client([{"status": 200, "text": "<html>proxy</html>"}, {"status": 200, "json": {}}])
    error = pytest.raises(DreamApiError, dream.get_dashboard).value
    assert (error.code, error.status, error.request_id) == ("invalid_response", 200, "req_header")
    assert len(api.calls) == 1


def test_checkout_and_plan_change_statuses_are_the_documents():
    dream, _ = make_client([
        {"status": 400, "json": error_body("invalid_request", "Unknown tier `gold`; this project's tiers are: free, pro")},
        {"status": 400, "json": error_body("invalid_request", "`free` is a free tier: there is nothing to pay")},
        {"status": 400, "json": error_body("invalid_request", "Unknown tier `gold`; this project's tiers are: free, pro")},
        {"status": 404, "json": error_body("not_found", "This user has no active subscription to change")},
        {"status": 409, "json": error_body("conflict", "This subscription is canceled and can no longer change plans")},
    ])
    pytest.raises(InvalidRequestError, dream.create_checkout, "u", "gold")
    pytest.raises(InvalidRequestError, dream.create_checkout, "u", "free")
    pytest.raises(InvalidRequestError, dream.change_plan, "u", "gold")
    pytest.raises(NotFoundError, dream.change_plan, "u", "pro")
    pytest.raises(ConflictError, dream.change_plan, "u", "pro")


def test_the_timeout_error_is_a_connection_error():
    assert issubclass(ApiTimeoutError, ApiConnectionError)
    assert ApiTimeoutError("x").code == "timeout"
    assert ApiConnectionError("x").status is None


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after(None) is None
    assert parse_retry_after(" 5 ") == 5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490) == 0
    assert parse_retry_after("soon") is None
