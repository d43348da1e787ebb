"""Bench-only middleware (bench/settings.py): each benchmarked path gets exactly its own stack."""

from django_otp.middleware import OTPMiddleware

from mfa_policies.access.middleware import AccessMiddleware

BASELINE_PREFIXES = ("/bench/plain/", "/bench/peer/")
PEER_PREFIX = "/bench/peer/"


class AccessMiddlewareExceptBaselines:
    """mfagate's access middleware, skipped entirely (as if not installed) on the baseline and
    peer paths."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.access = AccessMiddleware(get_response)

    def __call__(self, request):
        if request.path_info.startswith(BASELINE_PREFIXES):
            request.access = None
            return self.get_response(request)
        return self.access(request)


class OTPMiddlewareOnPeerPaths:
    """django-otp's OTPMiddleware, on the peer's paths only."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.otp = OTPMiddleware(get_response)

    def __call__(self, request):
        if request.path_info.startswith(PEER_PREFIX):
            return self.otp(request)
        return self.get_response(request)
