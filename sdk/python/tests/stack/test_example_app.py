"""examples/gated_server.py run as a user would run it (a subprocess on a free port), against a
real api-multi with the SaaS test project (free: 3 requests): three reports, then Checkout; and
with no tier to sell, three reports, then its 429."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Iterator, Tuple

import httpx
import pytest

from dream_api import DreamApi

from live import API_URL, SAAS_KEY, fresh_user_id, needs_saas

SDK = Path(__file__).resolve().parents[2]


def start_example(**env: str) -> Tuple[subprocess.Popen, str]:
    child_env: Dict[str, str] = {
        **os.environ,
        "PYTHONPATH": str(SDK / "src"),
        "DREAM_API_SECRET_KEY": SAAS_KEY or "",
        "DREAM_API_BASE_URL": API_URL or "",
        "HOST": "127.0.0.1",
        "PORT": "0",
        "PUBLIC_URL": "",  # Checkout's own return pages, whatever the caller's environment says
        **env,
    }
    child = subprocess.Popen([sys.executable, str(SDK / "examples" / "gated_server.py")], env=child_env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found: Dict[str, str] = {}
    output: list = []

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            output.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match and "url" not in found:
                found["url"] = match.group(1)
                ready.set()
        ready.set()

    ready = threading.Event()
    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(15) or "url" not in found:
        child.kill()
        raise AssertionError("the example did not start in 15 s:\n" + "".join(output))
    return child, found["url"]


@pytest.fixture
def example() -> Iterator[str]:
    child, url = start_example()
    yield url
    child.terminate()
    child.wait(10)


@pytest.fixture
def example_without_upgrade() -> Iterator[str]:
    child, url = start_example(UPGRADE_TIER="")
    yield url
    child.terminate()
    child.wait(10)


def three_reports(app: str, user_id: str) -> None:
    for n in (1, 2, 3):
        answer = httpx.get(f"{app}/report", params={"user": user_id})
        assert answer.status_code == 200, f"request {n}: {answer.text}"
        usage = answer.json()["usage"]
        assert (usage["count"], usage["limit"]) == (n, 3)


@needs_saas
def test_serves_three_reports_then_redirects_the_fourth_to_a_checkout_page_for_pro(example):
    user_id = fresh_user_id("example")
    three_reports(example, user_id)
    fourth = httpx.get(f"{example}/report", params={"user": user_id})
    assert fourth.status_code == 302
    location = fourth.headers["location"]
    assert re.match(r"^https?://", location)
    # It is this user's Checkout session for `pro`: asking again hands out the same one.
    checkout = DreamApi(SAAS_KEY, base_url=API_URL).create_checkout(user_id, "pro")
    assert (checkout["reused"], checkout["url"]) == (True, location)


@needs_saas
def test_with_nothing_to_sell_the_fourth_report_is_a_429_with_the_usage(example_without_upgrade):
    user_id = fresh_user_id("example-429")
    three_reports(example_without_upgrade, user_id)
    fourth = httpx.get(f"{example_without_upgrade}/report", params={"user": user_id})
    assert fourth.status_code == 429
    assert (fourth.json()["usage"]["count"], fourth.json()["usage"]["limit"]) == (3, 3)


@needs_saas
def test_asks_for_the_user(example):
    assert httpx.get(f"{example}/report").status_code == 400


@needs_saas
def test_the_account_page_embeds_the_users_widget_with_a_token_that_reads_only_them(example):
    user_id = fresh_user_id("example-widget")
    three_reports(example, user_id)
    page = httpx.get(f"{example}/account", params={"user": user_id})
    assert page.status_code == 200
    assert f'src="{API_URL}/widget.js"' in page.text
    token = re.search(r'token="(wt_[^"]+)"', page.text)
    assert token, page.text
    assert SAAS_KEY not in page.text
    widget = httpx.get(f"{API_URL}/api/widget", params={"token": token.group(1)})
    assert widget.status_code == 200
    assert widget.json()["userId"] == user_id
    assert [m["count"] for m in widget.json()["usage"] if m["meter"] == "requests"] == [3]
    assert httpx.get(f"{example}/account").status_code == 400
