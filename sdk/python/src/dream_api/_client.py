"""The clients: one method per api-multi route, over a transport that times out, retries what is
safe to retry, and keeps one ``Idempotency-Key`` across a call's retries. :class:`DreamApi` is
synchronous (``httpx.Client``), :class:`AsyncDreamApi` asynchronous (``httpx.AsyncClient``,
asyncio or trio); both share everything but the waiting."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Mapping,
    Optional,
    Generic,
    Tuple,
    TypeVar,
)
from urllib.parse import urlsplit

import anyio
import httpx

from ._errors import ApiConnectionError, ApiTimeoutError, DreamApiError, RateLimitedError, error_from_response

if TYPE_CHECKING:
    from .types import (
        CartCheckoutResponse,
        CheckAnswer,
        CheckoutResponse,
        CustomerCreated,
        Entitlements,
        OrderCanceled,
        PlanChanged,
        PortalResponse,
        ProductList,
        ProjectDashboard,
        TrackUsageResult,
        UsageOverview,
        WidgetToken,
    )

#: api-multi of a local ``make dev`` stack. Pass ``base_url`` for your deployment.
DEFAULT_BASE_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BASE_DELAY = 0.5
DEFAULT_MAX_RETRY_DELAY = 8.0
DEFAULT_MAX_RETRY_AFTER = 60.0

_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_ORDER_ID = re.compile(r"ord_[A-Za-z0-9]+")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryInfo:
    """Passed to ``on_retry`` before each retry (for logs and metrics)."""

    method: str
    path: str
    #: The attempt that failed: 1 for the first request.
    attempt: int
    #: How long the client waits before the next attempt, in seconds.
    delay: float
    #: Why the attempt failed.
    error: DreamApiError
    #: The key every attempt of this call carries (POST only).
    idempotency_key: Optional[str]


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One route's request; ``T`` is what the method returns."""

    method: str
    path: str
    user_id: Optional[str] = None
    plan: Optional[str] = None
    body: Optional[Dict[str, Any]] = None
    idempotency_key: Optional[str] = None
    #: Turns the parsed body (and the answer's headers) into the method's result.
    finish: Callable[[Any, httpx.Headers], T] = lambda data, headers: data


def _compact(fields: Mapping[str, Any]) -> Dict[str, Any]:
    """The fields that were given: ``None`` means "not sent", as the API's defaults apply."""
    return {k: v for k, v in fields.items() if v is not None}


def _header_value(name: str, value: Any) -> str:
    """Header values must be visible ASCII for the API; checking here also keeps httpx from
    refusing them with an error that would look like a network failure."""
    if not isinstance(value, str) or not _VISIBLE_ASCII.fullmatch(value):
        raise ValueError(f"DreamApi: `{name}` must be a non-empty string of visible ASCII characters")
    return value


def _required_user(user_id: Any) -> str:
    if not isinstance(user_id, str):
        raise TypeError("DreamApi: `user_id` is required (your end user's id, sent as X-User-Id)")
    return user_id


def _positive(name: str, value: Any, fallback: float) -> float:
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ValueError(f"DreamApi: `{name}` must be a positive number of seconds")
    return float(value)


def _non_negative(name: str, value: Any, fallback: float) -> float:
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf"):
        raise ValueError(f"DreamApi: `{name}` must be a number of seconds, 0 or more")
    return float(value)


def _retry_count(name: str, value: Any, fallback: int) -> int:
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"DreamApi: `{name}` must be a whole number, 0 or more")
    return value


def _random_idempotency_key() -> str:
    return str(uuid.uuid4())


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    cause = error.__cause__ or error.__context__
    return f"{text} ({cause})" if cause is not None and str(cause) and str(cause) not in text else text


def _parse_success(status: int, headers: httpx.Headers, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DreamApiError(
            f"The API answered {status} with a body that is not JSON",
            code="invalid_response",
            status=status,
            request_id=headers.get("x-request-id"),
            body=raw.decode("utf-8", "replace"),
        ) from None


def _with_replayed(data: Any, headers: httpx.Headers) -> Any:
    result = dict(data)
    result["replayed"] = headers.get("idempotent-replayed") == "true"
    return result


class _Secret:
    """Holds the key so that neither ``repr`` nor ``vars`` of a client shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


class _BaseClient:
    """Settings, argument checks, what each route sends, and the retry policy."""

    def __init__(
        self,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        max_retry_delay: Optional[float] = None,
        max_retry_after: Optional[float] = None,
        on_retry: Optional[Callable[[RetryInfo], None]] = None,
        idempotency_key_factory: Optional[Callable[[], str]] = None,
    ) -> None:
        if not isinstance(secret_key, str) or secret_key.strip() == "":
            raise ValueError("DreamApi: `secret_key` is required (the project's sk_test_… or sk_live_… key)")
        if secret_key.startswith("pk_"):
            raise ValueError(
                "DreamApi: a publishable key (pk_) cannot authenticate API calls; use the project's secret key (sk_)"
            )
        self.__authorization = _Secret(f"Bearer {secret_key.strip()}")
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"DreamApi: `base_url` is not an absolute http(s) URL: {base_url!r}")
        #: The API's URL, without a trailing slash.
        self.base_url = base_url.rstrip("/")
        #: Per attempt, in seconds, covering the answer's body too.
        self.timeout = _positive("timeout", timeout, DEFAULT_TIMEOUT)
        #: Retries after the first attempt (0 turns retries off).
        self.max_retries = _retry_count("max_retries", max_retries, DEFAULT_MAX_RETRIES)
        self._retry_base_delay = _non_negative("retry_base_delay", retry_base_delay, DEFAULT_RETRY_BASE_DELAY)
        self._max_retry_delay = _non_negative("max_retry_delay", max_retry_delay, DEFAULT_MAX_RETRY_DELAY)
        self._max_retry_after = _non_negative("max_retry_after", max_retry_after, DEFAULT_MAX_RETRY_AFTER)
        self._on_retry = on_retry
        self._new_idempotency_key = idempotency_key_factory or _random_idempotency_key

    def __repr__(self) -> str:
        # The key never shows in logs of the client object.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # ---- what goes on the wire ------------------------------------------------------------------

    def _prepare(self, call: "_Call[Any]") -> Tuple[str, Dict[str, str], Optional[bytes], Optional[str]]:
        headers = {"Authorization": self.__authorization.value, "Accept": "application/json"}
        if call.user_id is not None:
            headers["X-User-Id"] = _header_value("user_id", call.user_id)
        if call.plan is not None:
            headers["X-User-Plan"] = _header_value("plan", call.plan)
        # One key per method call, made before the first attempt: every retry repeats it.
        key = None
        if call.method == "POST":
            given = call.idempotency_key if call.idempotency_key is not None else self._new_idempotency_key()
            key = _header_value("idempotency_key", given)
            headers["Idempotency-Key"] = key
        content = None
        if call.body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(call.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self.base_url + call.path, headers, content, key

    def _settings(self, timeout: Optional[float], max_retries: Optional[int]) -> Tuple[float, int]:
        return _positive("timeout", timeout, self.timeout), _retry_count("max_retries", max_retries, self.max_retries)

    def _retry_delay(self, error: DreamApiError, attempt: int) -> Optional[float]:
        """How long to wait before retrying after ``error``, or ``None`` when it must not be retried."""
        retryable = (
            isinstance(error, (ApiConnectionError, RateLimitedError))
            or (error.status is not None and error.status >= 500)
        )
        if not retryable:
            return None
        if error.retry_after_seconds is not None:
            wait = float(error.retry_after_seconds)
            if wait > self._max_retry_after:
                return None
            # A little jitter on top, so clients told the same moment do not all return at once.
            return wait + random.random() * min(1.0, wait / 10)
        cap = min(self._max_retry_delay, self._retry_base_delay * 2 ** (attempt - 1))
        return float(cap / 2 + random.random() * cap / 2)

    def _next_delay(self, call: "_Call[Any]", error: DreamApiError, attempt: int, max_retries: int, key: Optional[str]) -> float:
        """The wait before the next attempt (after telling ``on_retry``), or raises ``error``."""
        delay = self._retry_delay(error, attempt) if attempt <= max_retries else None
        if delay is None:
            raise error
        if self._on_retry is not None:
            self._on_retry(RetryInfo(call.method, call.path, attempt, delay, error, key))
        return delay

    @staticmethod
    def _outcome(status: int, headers: httpx.Headers, raw: bytes) -> Tuple[Any, Optional[DreamApiError]]:
        if 200 <= status < 300:
            return _parse_success(status, headers, raw), None
        return None, error_from_response(status, headers, raw.decode("utf-8", "replace"))

    # ---- the routes (what each sends; the clients send them) -------------------------------------

    @staticmethod
    def _track_usage(user_id: str, meter: Optional[str], quantity: Optional[int], plan: Optional[str],
                     idempotency_key: Optional[str]) -> "_Call[TrackUsageResult]":
        body: Dict[str, Any] = {}
        if meter is not None:
            body["meter"] = meter
        if quantity is not None:
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise ValueError(f"DreamApi: `quantity` must be a positive whole number, not {quantity!r}")
            body["quantity"] = quantity
        return _Call("POST", "/api/data", _required_user(user_id), plan, body or None, idempotency_key,
                     finish=_with_replayed)

    @staticmethod
    def _get_usage(user_id: str, plan: Optional[str]) -> "_Call[UsageOverview]":
        return _Call("GET", "/api/usage", _required_user(user_id), plan)

    @staticmethod
    def _get_entitlements(user_id: str, plan: Optional[str]) -> "_Call[Entitlements]":
        return _Call("GET", "/api/entitlements", _required_user(user_id), plan)

    @staticmethod
    def _check(user_id: str, feature: str, plan: Optional[str]) -> "_Call[CheckAnswer]":
        if not isinstance(feature, str) or feature == "":
            raise ValueError("DreamApi: `feature` is required (a boolean feature or a meter of the project)")
        return _Call("POST", "/api/check", _required_user(user_id), plan, {"feature": feature})

    @staticmethod
    def _widget_token(user_id: str, expires_in_seconds: Optional[int],
                      offer_tiers: Optional[Iterable[str]]) -> "_Call[WidgetToken]":
        if isinstance(offer_tiers, str):
            raise TypeError("DreamApi: `offer_tiers` is a list of tier names, not one string")
        offered = None if offer_tiers is None else list(offer_tiers)
        body = _compact({"expiresInSeconds": expires_in_seconds, "offerTiers": offered})
        return _Call("POST", "/api/widget/tokens", _required_user(user_id), None, body)

    @staticmethod
    def _create_customer(email: str, first_name: Optional[str], last_name: Optional[str], plan: Optional[str],
                         idempotency_key: Optional[str]) -> "_Call[CustomerCreated]":
        body = _compact({"email": email, "firstName": first_name, "lastName": last_name, "plan": plan})
        return _Call("POST", "/api/customers", body=body, idempotency_key=idempotency_key)

    @staticmethod
    def _create_checkout(user_id: str, tier: str, success_url: Optional[str], cancel_url: Optional[str],
                         allow_promotion_codes: Optional[bool], promotion_code: Optional[str],
                         idempotency_key: Optional[str]) -> "_Call[CheckoutResponse]":
        body = _compact({
            "tier": tier,
            "successUrl": success_url,
            "cancelUrl": cancel_url,
            "allowPromotionCodes": allow_promotion_codes,
            "promotionCode": promotion_code,
        })
        return _Call("POST", "/api/create-checkout", _required_user(user_id), None, body, idempotency_key)

    @staticmethod
    def _customer_portal(user_id: str, return_url: Optional[str], idempotency_key: Optional[str]) -> "_Call[PortalResponse]":
        body = _compact({"returnUrl": return_url})
        return _Call("POST", "/api/customer-portal", _required_user(user_id), None, body, idempotency_key)

    @staticmethod
    def _change_plan(user_id: str, tier: str, idempotency_key: Optional[str]) -> "_Call[PlanChanged]":
        return _Call("POST", "/api/change-plan", _required_user(user_id), None, {"tier": tier}, idempotency_key)

    @staticmethod
    def _cart_checkout(items: Iterable[Mapping[str, Any]], email: Optional[str], success_url: Optional[str],
                       cancel_url: Optional[str], allow_promotion_codes: Optional[bool],
                       promotion_code: Optional[str], idempotency_key: Optional[str]) -> "_Call[CartCheckoutResponse]":
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise TypeError("DreamApi.cart_checkout: `items` must be a list of {'priceId', 'quantity'}")
        # Field by field: the API refuses unknown fields.
        lines = [{"priceId": item["priceId"], "quantity": item["quantity"]} for item in items]
        body = _compact({
            "email": email,
            "items": lines,
            "successUrl": success_url,
            "cancelUrl": cancel_url,
            "allowPromotionCodes": allow_promotion_codes,
            "promotionCode": promotion_code,
        })
        return _Call("POST", "/api/cart/checkout", body=body, idempotency_key=idempotency_key)

    @staticmethod
    def _get_dashboard() -> "_Call[ProjectDashboard]":
        return _Call("GET", "/api/dashboard")

    @staticmethod
    def _list_products() -> "_Call[ProductList]":
        return _Call("GET", "/api/products")

    @staticmethod
    def _cancel_order(order_id: str) -> "_Call[OrderCanceled]":
        if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
            raise ValueError("DreamApi.cancel_order: `order_id` must be an order id (`ord_…`) from cart_checkout")
        return _Call("POST", f"/api/orders/{order_id}/cancel")


class DreamApi(_BaseClient):
    """A synchronous client of dream-api's metered API (api-multi) for one project, authenticated
    with its secret key. Create one per process and share it (it is thread-safe, as its
    ``httpx.Client`` is); close it with :meth:`close` or use it as a context manager.

    >>> dream = DreamApi(os.environ["DREAM_API_SECRET_KEY"], base_url="https://api.example.com")
    >>> dream.track_usage("user_123")["usage"]["count"]
    """

    def __init__(self, secret_key: str, *, base_url: str = DEFAULT_BASE_URL, http_client: Optional[httpx.Client] = None,
                 timeout: Optional[float] = None, max_retries: Optional[int] = None,
                 retry_base_delay: Optional[float] = None, max_retry_delay: Optional[float] = None,
                 max_retry_after: Optional[float] = None, on_retry: Optional[Callable[[RetryInfo], None]] = None,
                 idempotency_key_factory: Optional[Callable[[], str]] = None) -> None:
        """
        :param secret_key: the project's secret key, ``sk_test_…`` or ``sk_live_…``. Keep it on your server.
        :param base_url: api-multi's URL (default: a local ``make dev`` stack).
        :param http_client: an ``httpx.Client`` to send with (proxies, a mock transport); the
            client does not close one it was given.
        :param timeout: seconds per attempt, covering the answer's body too (default 30).
        :param max_retries: retries after the first attempt (default 2); 0 turns retries off.
        :param retry_base_delay: the first retry waits about this long, each next one twice as
            long, with jitter (default 0.5 s).
        :param max_retry_delay: the longest computed backoff (default 8 s).
        :param max_retry_after: the longest ``Retry-After`` waited for (default 60 s); a longer
            one is raised at once, with its ``retry_after_seconds``.
        :param on_retry: called with a :class:`RetryInfo` before each retry.
        :param idempotency_key_factory: makes the ``Idempotency-Key`` of a POST given none
            (default: a random UUID).
        """
        super().__init__(secret_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                         retry_base_delay=retry_base_delay, max_retry_delay=max_retry_delay,
                         max_retry_after=max_retry_after, on_retry=on_retry,
                         idempotency_key_factory=idempotency_key_factory)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()

    def close(self) -> None:
        """Closes the connection pool (unless the ``http_client`` was given)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "DreamApi":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- usage ------------------------------------------------------------------------------------

    def track_usage(self, user_id: str, *, meter: Optional[str] = None, quantity: Optional[int] = None,
                    plan: Optional[str] = None, idempotency_key: Optional[str] = None,
                    timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "TrackUsageResult":
        """``POST /api/data``: counts one request for the user (or ``quantity`` of a ``meter`` of
        their tier), or refuses it whole at the meter's limit or the tier's spend cap.

        Returns the meter's usage after counting; ``replayed`` is ``True`` when this answer
        repeats an earlier request with the same ``Idempotency-Key`` (nothing was counted).
        Raises :class:`LimitReachedError` at the limit (never retried; its ``usage`` says where
        the user stands), :class:`RateLimitedError` past 600 requests a minute once retries are
        used up, :class:`InvalidRequestError` for an unknown plan or meter, a quantity out of
        range or a Store key, :class:`ConflictError` for a key used for another user or meter.
        """
        return self._request(self._track_usage(user_id, meter, quantity, plan, idempotency_key), timeout, max_retries)

    def get_usage(self, user_id: str, *, plan: Optional[str] = None, timeout: Optional[float] = None,
                  max_retries: Optional[int] = None) -> "UsageOverview":
        """``GET /api/usage``: the user's usage in the current period, without counting: ``usage``
        for requests, ``meters`` for every meter of their tier."""
        return self._request(self._get_usage(user_id, plan), timeout, max_retries)

    def get_entitlements(self, user_id: str, *, plan: Optional[str] = None, timeout: Optional[float] = None,
                         max_retries: Optional[int] = None) -> "Entitlements":
        """``GET /api/entitlements``: what the user's tier grants now (features, meters) and the
        subscription behind it."""
        return self._request(self._get_entitlements(user_id, plan), timeout, max_retries)

    def check(self, user_id: str, feature: str, *, plan: Optional[str] = None, timeout: Optional[float] = None,
              max_retries: Optional[int] = None) -> "CheckAnswer":
        """``POST /api/check``: whether the user may use a boolean ``feature`` of their tier, or one
        more unit of a meter (nothing is counted). An unknown feature is an InvalidRequestError."""
        return self._request(self._check(user_id, feature, plan), timeout, max_retries)

    def widget_token(self, user_id: str, *, expires_in_seconds: Optional[int] = None,
                     offer_tiers: Optional[Iterable[str]] = None,
                     timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "WidgetToken":
        """``POST /api/widget/tokens``: a short-lived ``wt_`` token for this user's usage widget
        (``<dream-usage token="…">``, served by api-multi at ``/widget.js``). Give it to that
        user's browser: it reads their plan, usage and tiers, and nothing else. ``offer_tiers``
        names the tiers the widget may offer (all the project's other tiers when ``None``, none
        when empty). A lifetime outside 60-3600 seconds or an unknown tier is an
        InvalidRequestError."""
        return self._request(self._widget_token(user_id, expires_in_seconds, offer_tiers), timeout, max_retries)

    # ---- customers and subscriptions --------------------------------------------------------------

    def create_customer(self, email: str, *, first_name: Optional[str] = None, last_name: Optional[str] = None,
                        plan: Optional[str] = None, idempotency_key: Optional[str] = None,
                        timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "CustomerCreated":
        """``POST /api/customers``: creates a customer of the project; the same email again returns
        the same customer with ``created: False``. Use ``customer["id"]`` as the ``user_id``."""
        return self._request(self._create_customer(email, first_name, last_name, plan, idempotency_key),
                             timeout, max_retries)

    def create_checkout(self, user_id: str, tier: str, *, success_url: Optional[str] = None,
                        cancel_url: Optional[str] = None, allow_promotion_codes: Optional[bool] = None,
                        promotion_code: Optional[str] = None, idempotency_key: Optional[str] = None,
                        timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "CheckoutResponse":
        """``POST /api/create-checkout``: a Stripe Checkout page that subscribes the user to a paid
        tier (``reused: True`` when their open session is handed out again). An unknown or free
        tier is an InvalidRequestError (400); a user who already subscribes a ConflictError."""
        return self._request(self._create_checkout(user_id, tier, success_url, cancel_url, allow_promotion_codes,
                                                   promotion_code, idempotency_key), timeout, max_retries)

    def customer_portal(self, user_id: str, *, return_url: Optional[str] = None,
                        idempotency_key: Optional[str] = None, timeout: Optional[float] = None,
                        max_retries: Optional[int] = None) -> "PortalResponse":
        """``POST /api/customer-portal``: Stripe's billing portal for the user. A user who never
        started a checkout is a NotFoundError."""
        return self._request(self._customer_portal(user_id, return_url, idempotency_key), timeout, max_retries)

    def change_plan(self, user_id: str, tier: str, *, idempotency_key: Optional[str] = None,
                    timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "PlanChanged":
        """``POST /api/change-plan``: moves the user's subscription to another paid tier at once.
        An unknown or free tier is an InvalidRequestError (400), no active subscription a
        NotFoundError (404), a subscription that is ending a ConflictError (409)."""
        return self._request(self._change_plan(user_id, tier, idempotency_key), timeout, max_retries)

    # ---- figures and store --------------------------------------------------------------------------

    def get_dashboard(self, *, timeout: Optional[float] = None,
                      max_retries: Optional[int] = None) -> "ProjectDashboard":
        """``GET /api/dashboard``: the project's figures; tell them apart by ``projectType``."""
        return self._request(self._get_dashboard(), timeout, max_retries)

    def list_products(self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "ProductList":
        """``GET /api/products`` (Store projects): every product with its price and stock."""
        return self._request(self._list_products(), timeout, max_retries)

    def cart_checkout(self, items: Iterable[Mapping[str, Any]], *, email: Optional[str] = None,
                      success_url: Optional[str] = None, cancel_url: Optional[str] = None,
                      allow_promotion_codes: Optional[bool] = None, promotion_code: Optional[str] = None,
                      idempotency_key: Optional[str] = None, timeout: Optional[float] = None,
                      max_retries: Optional[int] = None) -> "CartCheckoutResponse":
        """``POST /api/cart/checkout`` (Store projects): holds the cart's stock and returns a Stripe
        Checkout page for it. Stock that cannot cover the cart is a ConflictError naming the line."""
        return self._request(self._cart_checkout(items, email, success_url, cancel_url, allow_promotion_codes,
                                                 promotion_code, idempotency_key), timeout, max_retries)

    def cancel_order(self, order_id: str, *, timeout: Optional[float] = None,
                     max_retries: Optional[int] = None) -> "OrderCanceled":
        """``POST /api/orders/{order_id}/cancel`` (Store projects): the checkout can no longer be
        paid and its stock is available again. A paid order is a ConflictError."""
        return self._request(self._cancel_order(order_id), timeout, max_retries)

    # ---- transport ----------------------------------------------------------------------------------

    def _request(self, call: "_Call[T]", timeout: Optional[float], max_retries: Optional[int]) -> T:
        timeout_s, retries = self._settings(timeout, max_retries)
        url, headers, content, key = self._prepare(call)
        attempt = 1
        while True:
            try:
                status, answer_headers, raw = self._attempt(call.method, url, headers, content, timeout_s)
                data, error = self._outcome(status, answer_headers, raw)
                if error is None:
                    return call.finish(data, answer_headers)
            except ApiConnectionError as failed:
                error = failed
            time.sleep(self._next_delay(call, error, attempt, retries, key))
            attempt += 1

    def _attempt(self, method: str, url: str, headers: Dict[str, str], content: Optional[bytes],
                 timeout: float) -> Tuple[int, httpx.Headers, bytes]:
        """One request and its body, within the timeout: each network step is bounded by it, and
        reading stops once it has passed since the start."""
        deadline = time.monotonic() + timeout
        try:
            with self._http.stream(method, url, headers=headers, content=content,
                                   timeout=httpx.Timeout(timeout)) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the body was still arriving after {timeout} s")
                return response.status_code, response.headers, b"".join(chunks)
        except (httpx.TimeoutException, TimeoutError) as cause:
            raise ApiTimeoutError(f"No answer from {method} {url} within {timeout:g} s") from cause
        except httpx.RequestError as cause:
            raise ApiConnectionError(f"{method} {url} failed: {_describe(cause)}") from cause


class AsyncDreamApi(_BaseClient):
    """The asynchronous client: the same methods as :class:`DreamApi`, awaited, on an
    ``httpx.AsyncClient`` (asyncio or trio). Close it with :meth:`aclose` or ``async with``.

    >>> async with AsyncDreamApi(secret_key, base_url=url) as dream:
    ...     result = await dream.track_usage("user_123")
    """

    def __init__(self, secret_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 http_client: Optional[httpx.AsyncClient] = None, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None, retry_base_delay: Optional[float] = None,
                 max_retry_delay: Optional[float] = None, max_retry_after: Optional[float] = None,
                 on_retry: Optional[Callable[[RetryInfo], None]] = None,
                 idempotency_key_factory: Optional[Callable[[], str]] = None) -> None:
        """The same parameters as :class:`DreamApi`; ``http_client`` is an ``httpx.AsyncClient``."""
        super().__init__(secret_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
                         retry_base_delay=retry_base_delay, max_retry_delay=max_retry_delay,
                         max_retry_after=max_retry_after, on_retry=on_retry,
                         idempotency_key_factory=idempotency_key_factory)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()

    async def aclose(self) -> None:
        """Closes the connection pool (unless the ``http_client`` was given)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncDreamApi":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def track_usage(self, user_id: str, *, meter: Optional[str] = None, quantity: Optional[int] = None,
                          plan: Optional[str] = None, idempotency_key: Optional[str] = None,
                          timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "TrackUsageResult":
        """See :meth:`DreamApi.track_usage`."""
        return await self._request(self._track_usage(user_id, meter, quantity, plan, idempotency_key),
                                   timeout, max_retries)

    async def get_usage(self, user_id: str, *, plan: Optional[str] = None, timeout: Optional[float] = None,
                        max_retries: Optional[int] = None) -> "UsageOverview":
        """See :meth:`DreamApi.get_usage`."""
        return await self._request(self._get_usage(user_id, plan), timeout, max_retries)

    async def get_entitlements(self, user_id: str, *, plan: Optional[str] = None, timeout: Optional[float] = None,
                               max_retries: Optional[int] = None) -> "Entitlements":
        """See :meth:`DreamApi.get_entitlements`."""
        return await self._request(self._get_entitlements(user_id, plan), timeout, max_retries)

    async def check(self, user_id: str, feature: str, *, plan: Optional[str] = None,
                    timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "CheckAnswer":
        """See :meth:`DreamApi.check`."""
        return await self._request(self._check(user_id, feature, plan), timeout, max_retries)

    async def widget_token(self, user_id: str, *, expires_in_seconds: Optional[int] = None,
                           offer_tiers: Optional[Iterable[str]] = None,
                           timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "WidgetToken":
        """See :meth:`DreamApi.widget_token`."""
        return await self._request(self._widget_token(user_id, expires_in_seconds, offer_tiers), timeout,
                                   max_retries)

    async def create_customer(self, email: str, *, first_name: Optional[str] = None,
                              last_name: Optional[str] = None, plan: Optional[str] = None,
                              idempotency_key: Optional[str] = None, timeout: Optional[float] = None,
                              max_retries: Optional[int] = None) -> "CustomerCreated":
        """See :meth:`DreamApi.create_customer`."""
        return await self._request(self._create_customer(email, first_name, last_name, plan, idempotency_key),
                                   timeout, max_retries)

    async def create_checkout(self, user_id: str, tier: str, *, success_url: Optional[str] = None,
                              cancel_url: Optional[str] = None, allow_promotion_codes: Optional[bool] = None,
                              promotion_code: Optional[str] = None, idempotency_key: Optional[str] = None,
                              timeout: Optional[float] = None,
                              max_retries: Optional[int] = None) -> "CheckoutResponse":
        """See :meth:`DreamApi.create_checkout`."""
        return await self._request(self._create_checkout(user_id, tier, success_url, cancel_url,
                                                         allow_promotion_codes, promotion_code, idempotency_key),
                                   timeout, max_retries)

    async def customer_portal(self, user_id: str, *, return_url: Optional[str] = None,
                              idempotency_key: Optional[str] = None, timeout: Optional[float] = None,
                              max_retries: Optional[int] = None) -> "PortalResponse":
        """See :meth:`DreamApi.customer_portal`."""
        return await self._request(self._customer_portal(user_id, return_url, idempotency_key), timeout, max_retries)

    async def change_plan(self, user_id: str, tier: str, *, idempotency_key: Optional[str] = None,
                          timeout: Optional[float] = None, max_retries: Optional[int] = None) -> "PlanChanged":
        """See :meth:`DreamApi.change_plan`."""
        return await self._request(self._change_plan(user_id, tier, idempotency_key), timeout, max_retries)

    async def get_dashboard(self, *, timeout: Optional[float] = None,
                            max_retries: Optional[int] = None) -> "ProjectDashboard":
        """See :meth:`DreamApi.get_dashboard`."""
        return await self._request(self._get_dashboard(), timeout, max_retries)

    async def list_products(self, *, timeout: Optional[float] = None,
                            max_retries: Optional[int] = None) -> "ProductList":
        """See :meth:`DreamApi.list_products`."""
        return await self._request(self._list_products(), timeout, max_retries)

    async def cart_checkout(self, items: Iterable[Mapping[str, Any]], *, email: Optional[str] = None,
                            success_url: Optional[str] = None, cancel_url: Optional[str] = None,
                            allow_promotion_codes: Optional[bool] = None, promotion_code: Optional[str] = None,
                            idempotency_key: Optional[str] = None, timeout: Optional[float] = None,
                            max_retries: Optional[int] = None) -> "CartCheckoutResponse":
        """See :meth:`DreamApi.cart_checkout`."""
        return await self._request(self._cart_checkout(items, email, success_url, cancel_url, allow_promotion_codes,
                                                       promotion_code, idempotency_key), timeout, max_retries)

    async def cancel_order(self, order_id: str, *, timeout: Optional[float] = None,
                           max_retries: Optional[int] = None) -> "OrderCanceled":
        """See :meth:`DreamApi.cancel_order`."""
        return await self._request(self._cancel_order(order_id), timeout, max_retries)

    async def _request(self, call: "_Call[T]", timeout: Optional[float], max_retries: Optional[int]) -> T:
        timeout_s, retries = self._settings(timeout, max_retries)
        url, headers, content, key = self._prepare(call)
        attempt = 1
        while True:
            try:
                status, answer_headers, raw = await self._attempt(call.method, url, headers, content, timeout_s)
                data, error = self._outcome(status, answer_headers, raw)
                if error is None:
                    return call.finish(data, answer_headers)
            except ApiConnectionError as failed:
                error = failed
            await anyio.sleep(self._next_delay(call, error, attempt, retries, key))
            attempt += 1

    async def _attempt(self, method: str, url: str, headers: Dict[str, str], content: Optional[bytes],
                       timeout: float) -> Tuple[int, httpx.Headers, bytes]:
        """One request and its body, within the timeout (the whole of it, wherever it stalls)."""
        try:
            with anyio.fail_after(timeout):
                async with self._http.stream(method, url, headers=headers, content=content,
                                             timeout=httpx.Timeout(timeout)) as response:
                    raw = await response.aread()
                    return response.status_code, response.headers, raw
        except (httpx.TimeoutException, TimeoutError) as cause:
            raise ApiTimeoutError(f"No answer from {method} {url} within {timeout:g} s") from cause
        except httpx.RequestError as cause:
            raise ApiConnectionError(f"{method} {url} failed: {_describe(cause)}") from cause
