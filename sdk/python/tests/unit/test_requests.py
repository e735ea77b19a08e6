"""What goes on the wire for every route, and the arguments refused before anything is sent."""

from __future__ import annotations

import json
import re

import pytest

from dream_api import DreamApi

from conftest import BASE, SECRET, UUID, make_client, ok, respond, usage


def body_of(call):
    return None if call.body is None else json.loads(call.body)


def test_track_usage_posts_the_user_plan_and_a_generated_key_without_a_body():
    dream, api = make_client([ok({"success": True, "usage": usage(1)})])
    result = dream.track_usage("user_123", plan="free")
    assert result == {"success": True, "usage": usage(1), "replayed": False}
    assert len(api.calls) == 1
    call = api.calls[0]
    assert (call.method, call.url, call.body) == ("POST", f"{BASE}/api/data", None)
    headers = dict(call.headers)
    assert re.match(UUID, headers.pop("idempotency-key"))
    assert headers == {
        "authorization": f"Bearer {SECRET}",
        "accept": "application/json",
        "x-user-id": "user_123",
        "x-user-plan": "free",
    }


def test_track_usage_sends_a_callers_key_as_given_and_no_plan_header_without_a_plan():
    dream, api = make_client([ok({"success": True, "usage": usage(1)})])
    dream.track_usage("u", idempotency_key="order-42")
    assert api.calls[0].headers["idempotency-key"] == "order-42"
    assert "x-user-plan" not in api.calls[0].headers


def test_track_usage_sends_meter_and_quantity_and_refuses_a_bad_quantity_unsent():
    dream, api = make_client([ok({"success": True, "usage": usage(1234)})])
    dream.track_usage("u", meter="tokens", quantity=1234)
    assert body_of(api.calls[0]) == {"meter": "tokens", "quantity": 1234}
    assert api.calls[0].headers["content-type"] == "application/json"
    for quantity in (0, -1, 1.5, float("nan"), True, "3"):
        with pytest.raises(ValueError):
            dream.track_usage("u", meter="tokens", quantity=quantity)
    assert len(api.calls) == 1


def test_track_usage_reports_idempotent_replayed():
    dream, _ = make_client([ok({"success": True, "usage": usage(2)}, {"idempotent-replayed": "true"})])
    result = dream.track_usage("u", idempotency_key="k")
    assert result["replayed"] is True
    assert result["usage"]["count"] == 2


def test_each_method_call_gets_its_own_generated_key():
    dream, api = make_client([ok({"success": True, "usage": usage(1)}), ok({"success": True, "usage": usage(2)})])
    dream.track_usage("u")
    dream.track_usage("u")
    assert api.calls[0].headers["idempotency-key"] != api.calls[1].headers["idempotency-key"]


def test_a_key_factory_makes_the_keys():
    keys = iter(["job-1", "job-2"])
    dream, api = make_client([ok({"success": True, "usage": usage(1)})], idempotency_key_factory=lambda: next(keys))
    dream.track_usage("u")
    assert api.calls[0].headers["idempotency-key"] == "job-1"


def test_get_usage_is_a_get_with_user_and_plan_no_key_no_body():
    dream, api = make_client([ok({"success": True, "usage": usage(0)})])
    assert dream.get_usage("u@example.com", plan="pro") == {"success": True, "usage": usage(0)}
    call = api.calls[0]
    assert (call.method, call.url, call.body) == ("GET", f"{BASE}/api/usage", None)
    assert call.headers == {
        "authorization": f"Bearer {SECRET}",
        "accept": "application/json",
        "x-user-id": "u@example.com",
        "x-user-plan": "pro",
    }


def test_create_customer_posts_only_the_fields_given():
    customer = {
        "id": "user_1",
        "email": "ada@example.com",
        "firstName": "Ada",
        "lastName": None,
        "plan": "free",
        "createdAt": "2026-11-01T00:00:00Z",
    }
    dream, api = make_client([{"status": 201, "json": {"success": True, "created": True, "customer": customer}}])
    result = dream.create_customer("ada@example.com", first_name="Ada", idempotency_key="create-ada")
    assert result == {"success": True, "created": True, "customer": customer}
    call = api.calls[0]
    assert call.url == f"{BASE}/api/customers"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["idempotency-key"] == "create-ada"
    assert "x-user-id" not in call.headers
    assert body_of(call) == {"email": "ada@example.com", "firstName": "Ada"}


def test_create_checkout_posts_the_tier_and_urls_with_the_user():
    answer = {"success": True, "url": "https://checkout.test/cs_1", "sessionId": "cs_1", "reused": False}
    dream, api = make_client([ok(answer)])
    result = dream.create_checkout("user_1", "pro", success_url="https://app.test/ok", cancel_url="https://app.test/no")
    assert result == answer
    call = api.calls[0]
    assert call.url == f"{BASE}/api/create-checkout"
    assert call.headers["x-user-id"] == "user_1"
    assert re.match(UUID, call.headers["idempotency-key"])
    assert body_of(call) == {"tier": "pro", "successUrl": "https://app.test/ok", "cancelUrl": "https://app.test/no"}


def test_create_checkout_sends_a_promotion_code_and_check_and_entitlements_name_the_user():
    dream, api = make_client([
        ok({"success": True, "url": "https://checkout.test/cs_2", "sessionId": "cs_2", "reused": False, "trialDays": None}),
        ok({"success": True, "allowed": True, "reason": "granted", "feature": "sso", "plan": "pro", "usage": None}),
        ok({"success": True, "userId": "user_1", "plan": "free", "source": "default", "status": None,
            "features": [], "meters": []}),
    ])
    dream.create_checkout("user_1", "pro", promotion_code="LAUNCH20")
    assert body_of(api.calls[0]) == {"tier": "pro", "promotionCode": "LAUNCH20"}
    assert dream.check("user_1", "sso", plan="pro")["allowed"] is True
    assert api.calls[1].url == f"{BASE}/api/check"
    assert api.calls[1].method == "POST"
    assert (api.calls[1].headers["x-user-id"], api.calls[1].headers["x-user-plan"]) == ("user_1", "pro")
    assert body_of(api.calls[1]) == {"feature": "sso"}
    dream.get_entitlements("user_1")
    assert (api.calls[2].method, api.calls[2].url) == ("GET", f"{BASE}/api/entitlements")
    with pytest.raises(ValueError):
        dream.check("user_1", "")
    assert len(api.calls) == 3


def test_customer_portal_posts_an_empty_body_or_the_return_url():
    dream, api = make_client([ok({"success": True, "url": "https://portal.test/1"}),
                              ok({"success": True, "url": "https://portal.test/2"})])
    assert dream.customer_portal("user_1")["url"] == "https://portal.test/1"
    dream.customer_portal("user_1", return_url="https://app.test/account")
    assert api.calls[0].url == f"{BASE}/api/customer-portal"
    assert api.calls[0].headers["x-user-id"] == "user_1"
    assert body_of(api.calls[0]) == {}
    assert body_of(api.calls[1]) == {"returnUrl": "https://app.test/account"}


def test_change_plan_posts_the_tier_with_the_user():
    subscription = {"id": "sub_1", "plan": "team", "status": "active", "cancelAtPeriodEnd": False,
                    "currentPeriodStart": "2026-11-01T00:00:00Z", "currentPeriodEnd": "2026-12-01T00:00:00Z"}
    dream, api = make_client([ok({"success": True, "changed": True, "subscription": subscription})])
    assert dream.change_plan("user_1", "team") == {"success": True, "changed": True, "subscription": subscription}
    assert api.calls[0].url == f"{BASE}/api/change-plan"
    assert api.calls[0].headers["x-user-id"] == "user_1"
    assert body_of(api.calls[0]) == {"tier": "team"}


def test_dashboard_and_products_are_gets_without_user_key_or_body():
    dashboard = {"publishableKey": "pk_test_" + "0" * 32, "mode": "test", "projectType": "saas",
                 "generatedAt": "2026-11-30T00:00:00Z", "metrics": {"usageThisPeriod": 3}}
    dream, api = make_client([ok(dashboard), ok({"success": True, "products": []})])
    figures = dream.get_dashboard()
    assert figures["projectType"] == "saas"
    assert dream.list_products() == {"success": True, "products": []}
    assert [(c.method, c.url, c.body, sorted(c.headers)) for c in api.calls] == [
        ("GET", f"{BASE}/api/dashboard", None, ["accept", "authorization"]),
        ("GET", f"{BASE}/api/products", None, ["accept", "authorization"]),
    ]


def test_cart_checkout_sends_only_price_id_and_quantity_per_line():
    answer = {"success": True, "url": "https://checkout.test/cs_2", "sessionId": "cs_2", "orderId": "ord_1",
              "amountCents": 2400, "expiresAt": "2026-11-30T00:31:00Z"}
    dream, api = make_client([ok(answer)])
    line = {"priceId": "price_mug", "quantity": 2, "name": "mug"}
    assert dream.cart_checkout([line], email="buyer@example.com") == answer
    call = api.calls[0]
    assert call.url == f"{BASE}/api/cart/checkout"
    assert "x-user-id" not in call.headers
    assert re.match(UUID, call.headers["idempotency-key"])
    assert body_of(call) == {"email": "buyer@example.com", "items": [{"priceId": "price_mug", "quantity": 2}]}
    with pytest.raises(TypeError):
        dream.cart_checkout({"priceId": "p", "quantity": 1})  # a line, not a list
    assert len(api.calls) == 1


def test_cancel_order_posts_to_the_order_and_refuses_what_is_not_an_order_id():
    answer = {"success": True, "orderId": "ord_7", "status": "expired"}
    dream, api = make_client([ok(answer)])
    assert dream.cancel_order("ord_7") == answer
    assert (api.calls[0].method, api.calls[0].url, api.calls[0].body) == ("POST", f"{BASE}/api/orders/ord_7/cancel", None)
    assert "idempotency-key" in api.calls[0].headers
    with pytest.raises(ValueError):
        dream.cancel_order("../api/data")
    assert len(api.calls) == 1


def test_a_trailing_slash_of_base_url_is_dropped():
    dream, api = make_client([ok({"success": True, "products": []})], base_url="http://api.test/v/")
    dream.list_products()
    assert api.calls[0].url == "http://api.test/v/api/products"


def test_non_ascii_json_is_sent_as_utf8():
    dream, api = make_client([{"status": 201, "json": {"success": True, "created": True, "customer": {}}}])
    dream.create_customer("jorg@example.com", first_name="Jörg")
    assert api.calls[0].body == '{"email":"jorg@example.com","firstName":"Jörg"}'.encode("utf-8")


# ---- arguments ------------------------------------------------------------------------------------


def test_the_client_refuses_a_missing_key_a_publishable_key_a_relative_url_and_bad_settings():
    with pytest.raises(ValueError):
        DreamApi("")
    with pytest.raises(ValueError, match="publishable key"):
        DreamApi("pk_test_" + "0" * 32)
    with pytest.raises(ValueError, match="base_url"):
        DreamApi(SECRET, base_url="/api")
    with pytest.raises(ValueError, match="max_retries"):
        DreamApi(SECRET, max_retries=-1)
    with pytest.raises(ValueError, match="timeout"):
        DreamApi(SECRET, timeout=0)


def test_header_values_httpx_or_the_api_would_refuse_are_refused_unsent():
    dream, api = make_client([])
    with pytest.raises(ValueError):
        dream.track_usage("jörg")
    with pytest.raises(ValueError):
        dream.track_usage("")
    with pytest.raises(ValueError):
        dream.get_usage("a\r\nb")
    with pytest.raises(ValueError):
        dream.track_usage("u", idempotency_key="two words")
    with pytest.raises(TypeError, match="user_id"):
        dream.get_usage(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        dream.get_usage("u", timeout=-1)
    assert api.calls == []


def test_the_secret_key_does_not_show_when_the_client_is_printed():
    dream = DreamApi(SECRET, base_url=BASE)
    assert SECRET not in repr(dream)
    assert SECRET not in repr(vars(dream))
    assert SECRET not in str(vars(dream).values())
    dream.close()


def test_the_client_is_a_context_manager_that_closes_its_own_http_client_only():
    import httpx

    given = httpx.Client(transport=httpx.MockTransport(lambda r: respond(200, {})))
    with DreamApi(SECRET, base_url=BASE, http_client=given):
        pass
    assert not given.is_closed
    with DreamApi(SECRET, base_url=BASE) as own:
        pass
    assert own._http.is_closed


def test_widget_token_sends_the_tiers_to_offer_only_when_given_and_refuses_one_string_unsent():
    minted = {"success": True, "token": "wt_x.y", "userId": "u", "expiresAt": "2026-12-07T00:10:00Z"}
    dream, api = make_client([ok(minted), ok(minted), ok(minted)])
    dream.widget_token("u")
    dream.widget_token("u", offer_tiers=[], expires_in_seconds=120)
    dream.widget_token("u", offer_tiers=(t for t in ("pro", "scale")))
    assert [body_of(c) for c in api.calls] == [
        {}, {"expiresInSeconds": 120, "offerTiers": []}, {"offerTiers": ["pro", "scale"]},
    ]
    with pytest.raises(TypeError):
        dream.widget_token("u", offer_tiers="pro")
    assert len(api.calls) == 3
