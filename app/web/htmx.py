"""HTMX manners (house style §3): one page template, named blocks rendered alone for fragment requests."""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """A fragment request is an HTMX request that is not boosted and not a history restore."""
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def render_page(
    template: str, block: str | None = None, *, status: int = 200, oob_swaps: Iterable[str] = (), **ctx
) -> Response:
    """The whole page for browsers, just `block` for HTMX fragment requests; always `Vary: HX-Request`.

    `oob_swaps`: rendered elements carrying `hx-swap-oob` (the cart badge…), appended to a fragment answer so it
    also updates other content (house style §3); a full page already shows that content. (Not named `oob`: some
    templates take an `oob` flag of their own.)"""
    if block and wants_fragment():
        body = render_block(template, block, **ctx) + "".join(oob_swaps)
    else:
        body = render_template(template, **ctx)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def hx_trigger(response: Response, event: str, detail: dict | None = None) -> Response:
    """Add an HX-Trigger event, merging with any already set."""
    current = response.headers.get("HX-Trigger")
    events = json.loads(current) if current and current.startswith("{") else ({current: None} if current else {})
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def see_other(target: str) -> Response:
    """After a successful POST: 204 + HX-Redirect for HTMX fragment requests, else 303 See Other."""
    from flask import redirect

    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)
