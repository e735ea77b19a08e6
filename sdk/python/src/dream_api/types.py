"""The request and response bodies of api-multi, under their public names.

Everything comes from ``_schema.py``, which ``scripts/generate_types.py`` writes from
api-multi's OpenAPI document (``openapi/api-multi/openapi.json``, itself generated from the
Rust types the handlers serialize): each name here is the document's schema, or built on it
where the SDK adds something (``TrackUsageResult``'s ``replayed``).

They are ``TypedDict`` s: at run time every answer is a plain ``dict`` of the JSON, so
``result["usage"]["count"]``. Field names are camelCase as on the wire; an absent value is
``None`` (JSON ``null``), never a missing key; times are RFC 3339 strings; money is in cents
(``…Cents``) unless the field says dollars.
"""

from __future__ import annotations

from ._schema import *  # noqa: F401,F403  (the document's schemas, by their own names)
from ._schema import CustomerView, SubscriptionView, UsageResponse
from ._schema import __all__ as _schema_names

#: Same as ``CustomerView``: its ``id`` is the ``user_id`` of the other calls.
Customer = CustomerView
#: Same as ``SubscriptionView``; ``status`` is Stripe's (``active``, ``trialing``, ``past_due``, ...).
Subscription = SubscriptionView


class TrackUsageResult(UsageResponse):
    """``track_usage``'s answer: the body, and whether it was a replay."""

    #: ``True`` when the API answered with the result of an earlier request with the same
    #: ``Idempotency-Key`` (header ``Idempotent-Replayed: true``): nothing was counted this time.
    replayed: bool


__all__ = [*_schema_names, "Customer", "Subscription", "TrackUsageResult"]
