"""Content-Security-Policy header, until Django 6.0 brings its own.

The policy is one constant: every script is a static file and data reaches them through
``json_script`` blocks, so no page needs a nonce, a hash or a per-view policy. This middleware
reads Django 6.0's settings — ``SECURE_CSP`` and ``SECURE_CSP_REPORT_ONLY``, dicts of directive →
list of sources — so moving to Django 6.0 means swapping this class for
``django.middleware.csp.ContentSecurityPolicyMiddleware`` and nothing else. A header a view has
already set is left alone.
"""

from __future__ import annotations

from django.conf import settings

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def build_policy(directives: dict) -> str:
    """``{"default-src": ["'self'"], "upgrade-insecure-requests": True}`` →
    ``"default-src 'self'; upgrade-insecure-requests"``; a directive set to a false value is left out."""
    parts = []
    for name, sources in directives.items():
        if sources is True or sources == []:
            parts.append(name)
        elif sources:
            values = [sources] if isinstance(sources, str) else list(dict.fromkeys(sources))
            parts.append(" ".join([name, *values]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policies = [
            (header, build_policy(directives))
            for header, directives in ((HEADER, getattr(settings, "SECURE_CSP", {})),
                                       (REPORT_ONLY_HEADER, getattr(settings, "SECURE_CSP_REPORT_ONLY", {})))
            if directives
        ]

    def __call__(self, request):
        response = self.get_response(request)
        for header, policy in self.policies:
            if header not in response:
                response[header] = policy
        return response
