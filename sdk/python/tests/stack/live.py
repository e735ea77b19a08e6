"""What the stack tests need from the environment: a running api-multi and test projects'
secret keys, the same variables sdk/typescript/test/live.ts reads (``make test`` provides them,
tests/src/bin/dream-stack/sdk.rs). Without them the tests are skipped, saying why; with
DREAM_SDK_REQUIRE_STACK set (as ``make test`` does) a missing one fails the run instead."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any, Dict, Optional

import httpx
import pytest


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name, "").strip()
    return value or None


API_URL = _env("DREAM_API_MULTI_URL")
#: A SaaS test project with tiers free (3 requests, 5,000 tokens) and pro (1,000 at 9.99, feature sso).
SAAS_KEY = _env("DREAM_SDK_SAAS_SECRET_KEY")
#: A Store test project with a product named `mug` in stock.
STORE_KEY = _env("DREAM_SDK_STORE_SECRET_KEY")
#: A SaaS test project of its own developer, whose Stripe account the tests break on purpose.
FAULTS_KEY = _env("DREAM_SDK_FAULTS_SECRET_KEY")
FAULTS_STRIPE_ACCOUNT = _env("DREAM_SDK_FAULTS_STRIPE_ACCOUNT")
#: The local Stripe + Clerk emulator, whose `/_emulator/faults` makes them fail.
EMULATOR_URL = _env("DREAM_EMULATOR_URL")

_HOW = "(`make test` provides them); see sdk/python/README.md"

SKIP_SAAS = None if API_URL and SAAS_KEY else (
    "needs DREAM_API_MULTI_URL and DREAM_SDK_SAAS_SECRET_KEY (a SaaS test project: free limit 3, "
    f"pro limit 1000 at 9.99) {_HOW}")
SKIP_STORE = None if API_URL and STORE_KEY else (
    f"needs DREAM_API_MULTI_URL and DREAM_SDK_STORE_SECRET_KEY (a Store test project with a product `mug` in stock) {_HOW}")
SKIP_FAULTS = None if API_URL and FAULTS_KEY and FAULTS_STRIPE_ACCOUNT and EMULATOR_URL else (
    "needs DREAM_API_MULTI_URL, DREAM_EMULATOR_URL, DREAM_SDK_FAULTS_SECRET_KEY and "
    f"DREAM_SDK_FAULTS_STRIPE_ACCOUNT (a SaaS test project alone on its Stripe account) {_HOW}")
SKIP_CLERK_FAULTS = SKIP_SAAS or (None if EMULATOR_URL else "needs DREAM_EMULATOR_URL")

# `make test` sets this: there, a skipped test would hide a broken setup, so it fails instead.
if _env("DREAM_SDK_REQUIRE_STACK") and (SKIP_SAAS or SKIP_STORE or SKIP_FAULTS):
    raise RuntimeError(f"DREAM_SDK_REQUIRE_STACK is set but: {SKIP_SAAS or SKIP_STORE or SKIP_FAULTS}")

needs_saas = pytest.mark.skipif(SKIP_SAAS is not None, reason=SKIP_SAAS or "")
needs_store = pytest.mark.skipif(SKIP_STORE is not None, reason=SKIP_STORE or "")
needs_faults = pytest.mark.skipif(SKIP_FAULTS is not None, reason=SKIP_FAULTS or "")
needs_clerk_faults = pytest.mark.skipif(SKIP_CLERK_FAULTS is not None, reason=SKIP_CLERK_FAULTS or "")

REQUEST_ID = r"^req_"


def fresh_user_id(label: str) -> str:
    """A user id no earlier run used, so every run starts from a count of 0."""
    return f"sdk-py-{label}-{uuid.uuid4()}"


def inject_fault(fault: Dict[str, Any]) -> None:
    """Makes the emulator fail the requests `fault` matches (`/_emulator/faults`)."""
    answer = httpx.post(f"{EMULATOR_URL}/_emulator/faults", content=json.dumps(fault),
                        headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text


def clear_faults() -> None:
    assert httpx.delete(f"{EMULATOR_URL}/_emulator/faults").status_code == 200
