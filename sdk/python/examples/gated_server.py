"""A tiny Flask app whose paid feature is metered by dream-api: ``GET /report?user=<id>`` counts
one request for the user and answers with the report; once the user's tier limit is reached it
sends them (302) to a Stripe Checkout page for the ``pro`` tier instead, or, when there is
nothing to sell them (``UPGRADE_TIER`` empty, or they already subscribe), answers 429.

    pip install dream-api flask
    DREAM_API_SECRET_KEY=sk_test_… DREAM_API_BASE_URL=http://127.0.0.1:8787 PORT=3000 \\
      python examples/gated_server.py
    curl -i 'http://127.0.0.1:3000/report?user=user_123'
    open 'http://127.0.0.1:3000/account?user=user_123'     # the user's usage widget

PUBLIC_URL (optional) is where this app is reached from a browser; with it, Checkout returns the
user here. Without it the API's own success and cancel pages are used.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Optional, Tuple
from html import escape
from urllib.parse import quote

from flask import Flask, jsonify, redirect, request

from dream_api import ConflictError, DreamApi, DreamApiError, InvalidRequestError, LimitReachedError

log = logging.getLogger("gated_server")

#: The tier users are offered when they run out.
DEFAULT_UPGRADE_TIER = "pro"


def create_app(dream: DreamApi, *, public_url: Optional[str] = None,
               upgrade_tier: Optional[str] = DEFAULT_UPGRADE_TIER) -> Flask:
    """The app, around a client shared by every request (``DreamApi`` is thread-safe)."""
    app = Flask(__name__)

    @app.get("/report")
    def report() -> Any:
        user_id = request.args.get("user")
        if not user_id:
            return jsonify(error="`user` is required: GET /report?user=<id>"), 400
        try:
            tracked = dream.track_usage(user_id)
        except LimitReachedError as limit_reached:
            return upgrade(user_id, limit_reached)
        except (ValueError, TypeError, InvalidRequestError) as bad:
            return jsonify(error=str(bad)), 400
        except DreamApiError as error:
            return unavailable(error)
        return jsonify(report=f"Today's report for {user_id}", usage=tracked["usage"])

    @app.get("/account")
    def account() -> Any:
        """The user's own page: their plan and usage in dream-api's widget, read in their browser
        with a token minted here (the secret key stays on this server)."""
        user_id = request.args.get("user")
        if not user_id:
            return jsonify(error="`user` is required: GET /account?user=<id>"), 400
        try:
            minted = dream.widget_token(user_id)
        except (ValueError, TypeError, InvalidRequestError) as bad:
            return jsonify(error=str(bad)), 400
        except DreamApiError as error:
            return unavailable(error)
        api = escape(dream.base_url)
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your account</title>'
            f'<script src="{api}/widget.js" defer></script></head><body><h1>Your account</h1>'
            f'<dream-usage token="{escape(minted["token"])}" api="{api}" upgrade-url="/report"></dream-usage>'
            "</body></html>"
        )
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}

    def upgrade(user_id: str, limit_reached: LimitReachedError) -> Any:
        """Out of requests: off to Checkout for the paid tier, or a 429 when there is none to sell."""
        used_up: Tuple[Any, int] = (
            jsonify(error="You have used this period's requests", usage=limit_reached.usage),
            429,
        )
        if not upgrade_tier:
            return used_up
        back = public_url.rstrip("/") if public_url else None
        try:
            checkout = dream.create_checkout(
                user_id,
                upgrade_tier,
                success_url=f"{back}/report?user={quote(user_id)}" if back else None,
                cancel_url=f"{back}/" if back else None,
            )
        except ConflictError:
            # Already subscribed (the paid tier's limit is used up too): nothing to sell, say so.
            return used_up
        except DreamApiError as error:
            return unavailable(error)
        response = redirect(checkout["url"], code=302)
        response.headers["Cache-Control"] = "no-store"
        return response

    def unavailable(error: DreamApiError) -> Any:
        # Our billing provider failed us: not the user's fault. Log the request id for support.
        log.error("dream-api: %s %s (request %s): %s", type(error).__name__, error.code,
                  error.request_id or "?", error.message)
        return jsonify(error="Billing is unavailable; try again shortly", requestId=error.request_id), 502

    @app.errorhandler(404)
    def not_found(_: Exception) -> Any:
        return jsonify(error="Try GET /report?user=<id>"), 404

    return app


def main() -> int:
    secret_key = os.environ.get("DREAM_API_SECRET_KEY")
    if not secret_key:
        print("Set DREAM_API_SECRET_KEY (and DREAM_API_BASE_URL, default http://127.0.0.1:8787)", file=sys.stderr)
        return 2
    dream = DreamApi(secret_key, base_url=os.environ.get("DREAM_API_BASE_URL") or "http://127.0.0.1:8787")
    app = create_app(dream, public_url=os.environ.get("PUBLIC_URL") or None,
                     upgrade_tier=os.environ.get("UPGRADE_TIER", DEFAULT_UPGRADE_TIER))
    from werkzeug.serving import make_server

    server = make_server(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "3000")), app, threaded=True)
    print(f"gated-server listening on http://{server.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        dream.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
