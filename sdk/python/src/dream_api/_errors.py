"""Typed errors. Every failure of a call is a :class:`DreamApiError`: the API's own errors (one
class per ``code`` of ``shared/src/error.rs``), and :class:`ApiConnectionError` /
:class:`ApiTimeoutError` when no answer arrived."""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Type

if TYPE_CHECKING:
    from ._schema import RateLimitDetail, StripeErrorDetail, UsageReport

_FIXED_FIELDS = frozenset({"error", "code", "requestId"})
_MAX_MESSAGE_CHARS = 512


class DreamApiError(Exception):
    """The base class of every error a call raises. An error body with a ``code`` this version
    does not know is raised as this class itself."""

    #: The HTTP status; ``None`` when no answer arrived (connection errors, timeouts).
    status: Optional[int]
    #: The API's ``code`` (``ErrorCode``), or ``connection_error``, ``timeout``, ``invalid_response``.
    code: str
    #: ``requestId`` of the body, else the ``X-Request-Id`` header: quote it when reporting a problem.
    request_id: Optional[str]
    #: The raw body: parsed JSON, or the text when it was not JSON.
    body: Any
    #: The body's fields other than ``error``, ``code`` and ``requestId`` (``usage``, ``available``, ...).
    details: Dict[str, Any]
    #: ``Retry-After`` in seconds, when the answer had one (``rate_limited`` always does).
    retry_after_seconds: Optional[int]

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: Optional[int] = None,
        request_id: Optional[str] = None,
        body: Any = None,
        retry_after_seconds: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body
        self.retry_after_seconds = retry_after_seconds
        self.details = (
            {k: v for k, v in body.items() if k not in _FIXED_FIELDS} if isinstance(body, dict) else {}
        )

    def __str__(self) -> str:
        where = f" (HTTP {self.status}, {self.code}" if self.status is not None else f" ({self.code}"
        request = f", request {self.request_id})" if self.request_id else ")"
        return f"{self.message}{where}{request}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r}, request_id={self.request_id!r})"


class InvalidRequestError(DreamApiError):
    """400 ``invalid_request``: a missing or malformed header or body, an unknown plan or tier, a
    free tier for a checkout or a plan change, a Store call with a SaaS key (or the reverse)."""


class AuthenticationError(DreamApiError):
    """401 ``unauthorized``: a missing, malformed, unknown or revoked secret key."""


class ForbiddenError(DreamApiError):
    """403 ``forbidden``: the caller's role does not allow the action (``details["requiredRole"]``)."""


class NotFoundError(DreamApiError):
    """404 ``not_found``: no such route, or nothing to act on (a portal for a user who never
    checked out, a plan change without a subscription)."""


class LimitReachedError(DreamApiError):
    """429 ``limit_reached``: the user used up their tier's limit for the period. Never retried:
    the request was not counted. Send the user to ``create_checkout`` or wait for
    ``usage["periodEnd"]``."""

    @property
    def usage(self) -> "UsageReport":
        """The user's usage in this period (``count`` equals ``limit``)."""
        return self.details.get("usage")  # type: ignore[return-value]


class RateLimitedError(DreamApiError):
    """429 ``rate_limited``: too many requests for one end user (600 a minute), or too many
    unknown keys from one address. Retried after ``Retry-After`` seconds while retries remain."""

    @property
    def rate_limit(self) -> Optional["RateLimitDetail"]:
        """Which limit it was (present for the per-user limit of ``POST /api/data``)."""
        return self.details.get("rateLimit")


class ConflictError(DreamApiError):
    """409 ``conflict``: an ``Idempotency-Key`` reused for another user, a checkout while the user
    already subscribes, a plan change of a subscription that can no longer change, a cart the
    stock cannot cover (``product``, ``price_id``, ``available`` say which), the developer's
    Stripe account not connected."""

    @property
    def product(self) -> Optional[str]:
        value = self.details.get("product")
        return value if isinstance(value, str) else None

    @property
    def price_id(self) -> Optional[str]:
        value = self.details.get("priceId")
        return value if isinstance(value, str) else None

    @property
    def available(self) -> Optional[int]:
        value = self.details.get("available")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class QuotaExceededError(DreamApiError):
    """403 ``quota_exceeded``: an account allowance is used up."""


class PaymentRequiredError(DreamApiError):
    """402 ``payment_required``: a live key of a developer whose dream-api plan lapsed more than
    14 days ago."""

    @property
    def paused_since(self) -> Optional[str]:
        value = self.details.get("pausedSince")
        return value if isinstance(value, str) else None


class StripeError(DreamApiError):
    """502 ``stripe_error``: Stripe refused or failed. Retried like any 5xx."""

    @property
    def stripe(self) -> Optional["StripeErrorDetail"]:
        """Stripe's own error (type, code, message, param), when Stripe answered with one."""
        return self.details.get("stripe")


class UnavailableError(DreamApiError):
    """503 ``unavailable``: a provider the API depends on (the sign-in service) is down or slow.
    Retried, honouring ``Retry-After``."""


class InternalError(DreamApiError):
    """500 ``internal`` (or another 5xx without a code): the API's fault, logged under
    ``request_id``. Retried."""


class ApiConnectionError(DreamApiError):
    """No answer: the connection failed (DNS, refused, reset, a body cut off). Retried; raised
    once retries are used up. The underlying exception is ``__cause__``."""

    def __init__(self, message: str, *, code: str = "connection_error") -> None:
        super().__init__(message, code=code)


class ApiTimeoutError(ApiConnectionError):
    """No answer within the timeout (per attempt). Retried; raised once retries are used up."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="timeout")


CLASS_BY_CODE: Mapping[str, Type[DreamApiError]] = {
    "invalid_request": InvalidRequestError,
    "unauthorized": AuthenticationError,
    "forbidden": ForbiddenError,
    "not_found": NotFoundError,
    "limit_reached": LimitReachedError,
    "rate_limited": RateLimitedError,
    "conflict": ConflictError,
    "quota_exceeded": QuotaExceededError,
    "payment_required": PaymentRequiredError,
    "stripe_error": StripeError,
    "unavailable": UnavailableError,
    "internal": InternalError,
}


def code_for_status(status: int) -> str:
    """The code of an error answer without one (a proxy's HTML page), the way the API's own
    ``ErrorCode::for_status`` names them."""
    if status in (401, 403):
        return "unauthorized"
    if status == 404:
        return "not_found"
    if status == 409:
        return "conflict"
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "invalid_request"
    return "internal"


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[int]:
    """``Retry-After`` in seconds: delta-seconds, or an HTTP date (relative to ``now``, Unix
    seconds). ``None`` when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0, int(-(-(when.timestamp() - current) // 1)))


def error_from_response(status: int, headers: Mapping[str, str], text: str) -> DreamApiError:
    """The error for a non-2xx answer: by the body's ``code``, else by the status. ``headers``
    must look names up case-insensitively (``httpx.Headers`` does)."""
    body: Any = text
    try:
        body = json.loads(text)
    except ValueError:
        pass  # not JSON (an HTML error page of a proxy): keep the text
    record = body if isinstance(body, dict) else {}
    given = record.get("code")
    code: str = given if isinstance(given, str) else code_for_status(status)
    if isinstance(record.get("error"), str):
        message = record["error"]
    else:
        message = text.strip()[:_MAX_MESSAGE_CHARS] or f"HTTP {status}"
    request_id = record.get("requestId") if isinstance(record.get("requestId"), str) else headers.get("x-request-id")
    cls = CLASS_BY_CODE.get(code, DreamApiError)
    return cls(
        message,
        code=code,
        status=status,
        request_id=request_id,
        body=body,
        retry_after_seconds=parse_retry_after(headers.get("retry-after")),
    )
