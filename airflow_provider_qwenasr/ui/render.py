"""Rendering pages: one autoescaping Jinja2 environment and the response headers every page gets."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import DictLoader, Environment
from starlette.responses import HTMLResponse

from airflow_provider_qwenasr.ui.templates import TEMPLATES
from airflow_provider_qwenasr.ui.timeline import clock, color_for

__all__ = ["SECURITY_HEADERS", "page"]

#: No script may run, nothing loads from elsewhere, and only Airflow itself may frame the pages.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}


@cache
def _environment() -> Environment:
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    env.globals.update(clock=clock, color=color_for)
    return env


def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with ``context`` into an HTML response with :data:`SECURITY_HEADERS`."""
    context.setdefault("title", "Qwen-ASR")
    html = _environment().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
