"""Verifying dream-api's webhooks in your app: the Standard Webhooks signature (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``), with the standard library only. The maintained
``standardwebhooks`` package verifies the same deliveries, if you prefer it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Union, cast

if TYPE_CHECKING:
    from ._schema import WebhookEvent

#: How far a delivery's timestamp may be from now, in seconds.
DEFAULT_TOLERANCE_SECONDS = 300

#: Headers as a mapping: a ``dict``, Flask's/Werkzeug's ``Headers``, Starlette's, ``httpx.Headers``.
WebhookHeaders = Mapping[str, Union[str, Sequence[str]]]


class WebhookVerificationError(Exception):
    """A delivery that is not dream-api's, was altered, or is too old to accept."""


def _header(headers: WebhookHeaders, name: str) -> str:
    value: Any = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    if value is None:
        # A plain dict with other capitalisation.
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value if isinstance(value, str) else ""


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: Union[str, bytes]) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the secret ``whsec_…``."""
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("The secret is not a whsec_… signing secret") from None
    payload = body.encode("utf-8") if isinstance(body, str) else body
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode("utf-8") + payload, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def verify_webhook(
    body: Union[str, bytes],
    headers: WebhookHeaders,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[int] = None,
) -> "WebhookEvent":
    """Checks a delivery's signature and age and returns its event (a dict; ``WebhookEvent``
    for type checkers, told apart by ``event["type"]``).

    Pass the body exactly as received (the raw bytes or text, before any JSON parsing). Raises
    :class:`WebhookVerificationError` when the delivery is not authentic or too old.
    Deduplicate by ``event["id"]``: a retry or a replay carries the same id.
    """
    webhook_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not webhook_id or not timestamp_text or not signatures:
        raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature")
    if not re.fullmatch(r"-?\d+", timestamp_text.strip()):
        raise WebhookVerificationError("webhook-timestamp is not a Unix time")
    timestamp = int(timestamp_text.strip())
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("The delivery's timestamp is too far from now (a replay, or a wrong clock)")
    expected = sign_webhook(secret, webhook_id, timestamp, body)
    # During a secret rotation the header carries one signature per secret.
    if not any(hmac.compare_digest(candidate.encode("utf-8"), expected.encode("utf-8")) for candidate in signatures.split(" ")):
        raise WebhookVerificationError("No signature matches: a wrong secret, or an altered delivery")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("The body is not JSON") from None
    return cast("WebhookEvent", event)
