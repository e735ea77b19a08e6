"""verify_webhook: the Standard Webhooks signature, with the specification's published example
(the vectors sdk/typescript and sdk/rust test too)."""

from __future__ import annotations

import pytest

from dream_api import WebhookVerificationError, sign_webhook, verify_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = '{"test": 2432232314}'
HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
NOW = 1614265330 + 10


def test_signs_as_the_specification_does_and_verifies_its_example():
    assert sign_webhook(SECRET, HEADERS["webhook-id"], 1614265330, BODY) == HEADERS["webhook-signature"]
    event = verify_webhook(BODY, HEADERS, SECRET, now=NOW)
    assert event == {"test": 2432232314}
    # Bytes as a framework hands them over verify the same.
    assert verify_webhook(BODY.encode(), HEADERS, SECRET, now=NOW) == {"test": 2432232314}


def test_takes_other_header_mappings_and_a_rotations_two_signatures():
    import httpx

    both = httpx.Headers({**HEADERS, "webhook-signature": f"v1,bm90IHRoaXMgb25l {HEADERS['webhook-signature']}"})
    verify_webhook(BODY, both, SECRET, now=NOW)
    title_case = {name.title(): value for name, value in HEADERS.items()}
    verify_webhook(BODY, title_case, SECRET, now=NOW)
    as_lists = {name: [value] for name, value in HEADERS.items()}
    verify_webhook(BODY, as_lists, SECRET, now=NOW)


@pytest.mark.parametrize("body,headers,secret,now,message", [
    ('{"test": 1}', HEADERS, SECRET, NOW, "No signature matches"),
    (BODY, HEADERS, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW, "No signature matches"),
    (BODY, HEADERS, SECRET, NOW + 3600, "too far from now"),
    (BODY, HEADERS, SECRET, 1614265330 - 301, "too far from now"),
    (BODY, {"webhook-id": HEADERS["webhook-id"]}, SECRET, NOW, "Missing"),
    (BODY, {**HEADERS, "webhook-timestamp": "yesterday"}, SECRET, NOW, "not a Unix time"),
    (BODY, {**HEADERS, "webhook-signature": "v1,ü"}, SECRET, NOW, "No signature matches"),
    (BODY, HEADERS, "whsec_%%%", NOW, "not a whsec_"),
], ids=["altered body", "other secret", "old", "future", "missing headers", "bad timestamp", "non-ascii", "bad secret"])
def test_refuses(body, headers, secret, now, message):
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(body, headers, secret, now=now)


def test_the_tolerance_is_adjustable_and_300_seconds_by_default():
    verify_webhook(BODY, HEADERS, SECRET, now=1614265330 + 300)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, HEADERS, SECRET, now=1614265330 + 301)
    verify_webhook(BODY, HEADERS, SECRET, now=1614265330 + 3600, tolerance_seconds=3600)


def test_an_authentic_body_that_is_not_json_is_refused():
    signature = sign_webhook(SECRET, "msg_1", 1614265330, "not json")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1614265330", "webhook-signature": signature}
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify_webhook("not json", headers, SECRET, now=NOW)
