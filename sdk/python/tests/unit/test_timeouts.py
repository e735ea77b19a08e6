"""Timeouts: per attempt, retried with the same key, then ApiTimeoutError."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from dream_api import ApiConnectionError, ApiTimeoutError, DreamApi

from conftest import make_client, ok, usage


def test_httpx_timeouts_are_retried_with_the_same_key_then_raised_as_api_timeout_error():
    dream, api = make_client([httpx.ReadTimeout("timed out"), httpx.ConnectTimeout("timed out")], max_retries=1)
    error = pytest.raises(ApiTimeoutError, dream.track_usage, "u").value
    assert isinstance(error, ApiConnectionError)
    assert (error.code, error.status) == ("timeout", None)
    assert len(api.calls) == 2
    assert isinstance(api.retries[0].error, ApiTimeoutError)
    assert api.calls[0].headers["idempotency-key"] == api.calls[1].headers["idempotency-key"]


def test_the_timeout_covers_reading_the_body_and_a_per_call_timeout_wins():
    class Slow(httpx.SyncByteStream):
        def __iter__(self):
            yield b'{"success": '
            time.sleep(0.15)
            yield b"true}"

    dream, api = make_client([lambda request: httpx.Response(200, stream=Slow())])
    with pytest.raises(ApiTimeoutError):
        dream.get_usage("u", timeout=0.05, max_retries=0)
    assert len(api.calls) == 1


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_times_out_on_every_attempt(silent_server):
    url, accepted = silent_server
    retries = []
    dream = DreamApi("sk_test_x", base_url=url, timeout=0.2, max_retries=1, retry_base_delay=0.001,
                     on_retry=retries.append)
    started = time.monotonic()
    error = pytest.raises(ApiTimeoutError, dream.track_usage, "u").value
    elapsed = time.monotonic() - started
    assert error.code == "timeout"
    assert len(retries) == 1
    assert 0.4 <= elapsed < 2.0, elapsed
    assert len(accepted) == 2
    dream.close()


def test_a_fast_answer_is_not_affected_by_a_short_timeout():
    dream, _ = make_client([ok({"success": True, "usage": usage(1)})], timeout=0.05)
    assert dream.track_usage("u")["usage"]["count"] == 1
