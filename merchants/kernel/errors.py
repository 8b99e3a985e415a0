"""The site's own 404 page in DEBUG too (issue 11 §15): the demo runs with DEBUG on, and Django then answers
a missing page — or another shop's id (N-7) — with its yellow technical page listing every URL pattern.

With DEBUG off Django renders templates/404.html itself and this middleware is not installed
(config/settings.py adds it for DEBUG unless SHOUHOU_TECHNICAL_404 asks for Django's debugging page).
"""

from __future__ import annotations

from django.http import Http404
from django.views.defaults import page_not_found


class ThemedNotFoundMiddleware:
    """Replace an HTML 404 answer with templates/404.html, the page production shows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404 or getattr(response, "_shouhou_themed", False):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response  # a JSON or file answer keeps its own body
        themed = page_not_found(request, Http404())
        themed._shouhou_themed = True
        return themed
