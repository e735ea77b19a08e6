"""``dream-api``: the client developers' servers use to call dream-api's metered API
(api-multi) with their project's secret key. Sync (:class:`DreamApi`) and async
(:class:`AsyncDreamApi`) on ``httpx``.

>>> from dream_api import DreamApi, LimitReachedError
>>> dream = DreamApi(secret_key, base_url="https://api.example.com")
>>> try:
...     usage = dream.track_usage("user_123")["usage"]
... except LimitReachedError as e:
...     url = dream.create_checkout("user_123", "pro")["url"]
"""

from ._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_RETRY_BASE_DELAY,
    DEFAULT_TIMEOUT,
    AsyncDreamApi,
    DreamApi,
    RetryInfo,
)
from ._errors import (
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
from ._webhooks import WebhookVerificationError, sign_webhook, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_MAX_RETRY_DELAY",
    "DEFAULT_RETRY_BASE_DELAY",
    "DEFAULT_TIMEOUT",
    "ApiConnectionError",
    "ApiTimeoutError",
    "AsyncDreamApi",
    "AuthenticationError",
    "ConflictError",
    "DreamApi",
    "DreamApiError",
    "ForbiddenError",
    "InternalError",
    "InvalidRequestError",
    "LimitReachedError",
    "NotFoundError",
    "PaymentRequiredError",
    "QuotaExceededError",
    "RateLimitedError",
    "RetryInfo",
    "StripeError",
    "UnavailableError",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]
