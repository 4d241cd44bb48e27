"""Once per delivery: Twilio may deliver a webhook twice; the second gets the first one's answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request

from bot.core.engine import fallback_reply
from bot.storage.guards import delivery_key
from bot.web.twiml import TWIML_MIMETYPE

F = TypeVar("F", bound=Callable[..., Response])


def once_per_delivery(render_busy: Callable[[Any], Response]) -> Callable[[F], F]:
    """Cache a webhook's TwiML by delivery identity; `render_busy` answers a copy still in flight."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            parts = current_app.extensions["helpline_parts"]
            key = delivery_key(request.full_path, request.form.to_dict(flat=True))

            def busy() -> bytes:
                return render_busy(fallback_reply(parts.helpline.context.hotlines)).get_data()

            body = parts.replay.once(key, lambda: view(*args, **kwargs).get_data(), busy)
            return Response(body, status=200, mimetype=TWIML_MIMETYPE)

        return wrapper  # type: ignore[return-value]

    return decorate
