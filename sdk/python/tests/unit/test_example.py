"""examples/gated_server.py against a scripted API (the stack tests run it against a real one)."""

from __future__ import annotations

from gated_server import create_app

from conftest import error_body, make_client, ok, usage

CHECKOUT = {"success": True, "url": "https://checkout.test/cs_1", "sessionId": "cs_1", "reused": False}


def test_reports_then_checkout_then_429_when_there_is_nothing_to_sell():
    limit = {"status": 429, "json": error_body("limit_reached", "Tier limit reached", usage=usage(3))}
    dream, api = make_client([
        ok({"success": True, "usage": usage(3)}),
        limit, ok(CHECKOUT),
        limit, {"status": 409, "json": error_body("conflict", "This user already has a subscription")},
    ])
    app = create_app(dream, public_url="https://app.test/").test_client()
    first = app.get("/report?user=ada")
    assert first.status_code == 200
    assert first.get_json()["usage"]["count"] == 3
    second = app.get("/report?user=ada")
    assert (second.status_code, second.headers["location"]) == (302, CHECKOUT["url"])
    assert api.calls[2].url.endswith("/api/create-checkout")
    import json

    assert json.loads(api.calls[2].body) == {"tier": "pro", "successUrl": "https://app.test/report?user=ada",
                                             "cancelUrl": "https://app.test/"}
    third = app.get("/report?user=ada")
    assert third.status_code == 429
    assert third.get_json()["usage"] == usage(3)


def test_without_an_upgrade_tier_the_limit_is_a_429_and_nothing_else_is_asked():
    dream, api = make_client([{"status": 429, "json": error_body("limit_reached", "Tier limit reached", usage=usage(3))}])
    answer = create_app(dream, upgrade_tier="").test_client().get("/report?user=ada")
    assert answer.status_code == 429
    assert len(api.calls) == 1


def test_asks_for_the_user_and_reports_billing_failures_with_the_request_id():
    dream, _ = make_client([{"status": 500, "json": error_body("internal", "boom")}], max_retries=0)
    app = create_app(dream).test_client()
    assert app.get("/report").status_code == 400
    assert app.get("/report?user=j%C3%B6rg").status_code == 400  # not a valid X-User-Id: never sent
    failed = app.get("/report?user=ada")
    assert failed.status_code == 502
    assert failed.get_json()["requestId"] == "req_test123"
    assert app.get("/elsewhere").status_code == 404


def test_the_account_page_embeds_the_widget_with_a_minted_token_and_never_the_key():
    minted = {"success": True, "token": "wt_abc.def", "userId": "ada", "expiresAt": "2026-12-07T00:10:00Z"}
    dream, api = make_client([ok(minted)])
    page = create_app(dream).test_client().get("/account?user=ada")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<dream-usage token="wt_abc.def"' in text
    assert f'src="{dream.base_url}/widget.js"' in text
    assert api.calls[0].url.endswith("/api/widget/tokens")
    assert "sk_" not in text
