"""A scripted API for the unit tests (httpx.MockTransport): records every request and answers
from a list. The same script drives the sync and the async client."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

import httpx
import pytest

from dream_api import AsyncDreamApi, DreamApi, RetryInfo

BASE = "http://api.test"
SECRET = "sk_test_" + "ab" * 32
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


@dataclass
class Recorded:
    method: str
    url: str
    #: Header names lower-cased; only those the SDK set (not httpx's own).
    headers: Dict[str, str]
    body: Optional[bytes]


#: A reply: {status, json | text, headers}, an exception to raise (a network failure), or a
#: function of the request returning an httpx.Response (async functions for the async client).
Reply = Union[Dict[str, Any], BaseException, Callable[[httpx.Request], Any]]

HTTPX_OWN = {"host", "accept-encoding", "connection", "user-agent", "content-length"}


def respond(status: int, body: Any = "", headers: Optional[Dict[str, str]] = None) -> httpx.Response:
    text = body if isinstance(body, str) else json.dumps(body)
    all_headers = {"content-type": "application/json", "x-request-id": "req_header", **(headers or {})}
    return httpx.Response(status, content=text.encode(), headers=all_headers)


def network_error() -> httpx.ConnectError:
    """What httpx raises when the connection is refused."""
    return httpx.ConnectError("[Errno 111] Connection refused (ECONNREFUSED)")


def error_body(code: str, message: str, **extra: Any) -> Dict[str, Any]:
    return {"error": message, "code": code, "requestId": "req_test123", **extra}


def usage(count: int, limit: Optional[int] = 3) -> Dict[str, Any]:
    return {
        "count": count,
        "limit": limit,
        "plan": "free",
        "remaining": None if limit is None else max(0, limit - count),
        "periodStart": "2026-11-01T00:00:00Z",
        "periodEnd": "2026-12-01T00:00:00Z",
        "meter": "requests",
        "overageBilled": False,
        "overage": 0,
        "overageCost": "0",
        "spendCap": None,
        "spendCapLeft": None,
    }


def ok(body: Any, headers: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    return {"status": 200, "json": body, "headers": headers or {}}


@dataclass
class Script:
    replies: List[Reply]
    calls: List[Recorded] = field(default_factory=list)
    retries: List[RetryInfo] = field(default_factory=list)

    def _record(self, request: httpx.Request) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in HTTPX_OWN}
        self.calls.append(Recorded(request.method, str(request.url), headers, request.content or None))
        if len(self.calls) > len(self.replies):
            raise AssertionError(f"scripted API: no reply for request {len(self.calls)}")
        return self.replies[len(self.calls) - 1]

    def sync_handler(self, request: httpx.Request) -> httpx.Response:
        reply = self._record(request)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(request)
        return respond(reply["status"], reply.get("json", reply.get("text", "")), reply.get("headers"))

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        reply = self._record(request)
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            answer = reply(request)
            return await answer if inspect.isawaitable(answer) else answer
        return respond(reply["status"], reply.get("json", reply.get("text", "")), reply.get("headers"))


def fast(options: Dict[str, Any], script: Script) -> Dict[str, Any]:
    settings: Dict[str, Any] = {
        "base_url": BASE,
        "retry_base_delay": 0.001,
        "max_retry_delay": 0.005,
        "on_retry": script.retries.append,
    }
    settings.update(options)
    return settings


def make_client(replies: List[Reply], **options: Any):
    """A sync client on a scripted API, with fast retries unless the test says otherwise."""
    script = Script(list(replies))
    http = httpx.Client(transport=httpx.MockTransport(script.sync_handler))
    return DreamApi(SECRET, http_client=http, **fast(options, script)), script


def make_async_client(replies: List[Reply], **options: Any):
    script = Script(list(replies))
    http = httpx.AsyncClient(transport=httpx.MockTransport(script.async_handler))
    return AsyncDreamApi(SECRET, http_client=http, **fast(options, script)), script


@pytest.fixture
def client():
    return make_client
