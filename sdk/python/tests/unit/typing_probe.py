"""Type-level tests: never run, only checked by ``mypy --strict`` (test_typing.py). Each
``assert_type`` / ``# type: ignore[...]`` here is what a developer's type checker sees: the
answers are the document's TypedDicts, the dashboard narrows on ``projectType``, and wrong
calls do not type-check (``warn_unused_ignores`` fails the run if one of them ever does)."""

from __future__ import annotations

from typing import List, Optional

from typing_extensions import assert_type

from dream_api import AsyncDreamApi, DreamApi, LimitReachedError, RetryInfo, verify_webhook
from dream_api.types import CartItem, RecentOrder, SaasSummary, TrackUsageResult, UsageReport, WebhookEvent


def sync_client(dream: DreamApi) -> None:
    tracked = dream.track_usage("u", meter="tokens", quantity=3)
    assert_type(tracked, TrackUsageResult)
    assert_type(tracked["replayed"], bool)
    assert_type(tracked["usage"], UsageReport)
    assert_type(tracked["usage"]["limit"], Optional[int])
    dashboard = dream.get_dashboard()
    if dashboard["projectType"] == "saas":
        assert_type(dashboard["metrics"], SaasSummary)
    else:
        assert_type(dashboard["recentOrders"], List[RecentOrder])
    assert_type(dream.check("u", "sso")["allowed"], bool)
    line: CartItem = {"priceId": "price_1", "quantity": 2}
    dream.cart_checkout([line], email="buyer@example.com")
    dream.track_usage("u", quantity="3")  # type: ignore[arg-type]
    dream.create_checkout("u")  # type: ignore[call-arg]
    dream.get_usage("u", meter="tokens")  # type: ignore[call-arg]
    incomplete: CartItem = {"priceId": "price_1"}  # type: ignore[typeddict-item]
    del incomplete


async def async_client(dream: AsyncDreamApi) -> None:
    tracked = await dream.track_usage("u")
    assert_type(tracked, TrackUsageResult)
    assert_type((await dream.get_usage("u"))["meters"][0]["count"], int)


def errors_and_webhooks(error: LimitReachedError, info: RetryInfo, body: bytes) -> None:
    assert_type(error.usage["count"], int)
    assert_type(error.request_id, Optional[str])
    assert_type(info.delay, float)
    event = verify_webhook(body, {}, "whsec_x")
    assert_type(event, WebhookEvent)
    if event["type"] == "usage.threshold":
        assert_type(event["data"]["userId"], str)
