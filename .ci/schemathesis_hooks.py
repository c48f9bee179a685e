"""Hooks for .ci/schemathesis.

A filing's `received_at` may not be in the future: a rule of the clock that no schema can say.
Generated date-times are mostly in the future, so a valid one is moved into the past before it
is sent; every other member is sent as generated.
"""

import re
from datetime import datetime, timedelta, timezone

import schemathesis

# An RFC 3339 date-time and nothing else: a string that is not one is left for the server to refuse.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@schemathesis.hook("before_call").apply_to(method="POST", path="/api/v1/requests")
def received_in_the_past(ctx, case, **kwargs):
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("received_at"), str):
        return
    if not RFC3339.fullmatch(body["received_at"]):
        return
    try:
        at = datetime.fromisoformat(body["received_at"].replace("Z", "+00:00"))
    except ValueError:
        return
    now = datetime.now(timezone.utc)
    if at.tzinfo is not None and at > now:
        body["received_at"] = (now - timedelta(days=3)).isoformat()
