"""bench/settings.py's URLconf: the project's routes plus the benchmarked view at three paths."""

import django_otp
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_otp.decorators import otp_required
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.urls import urlpatterns as project_urlpatterns


def bench_view(request):
    return HttpResponse(f"hello {request.user.email}")


@csrf_exempt
def peer_verify(request):
    """Verify this signed-in session with django-otp, as its login form would: the code of the
    user's TOTP device named "peer", then ``django_otp.login``."""
    device = TOTPDevice.objects.filter(user=request.user, name="peer").first() if request.user.is_authenticated else None
    if device is None or not device.verify_token(request.POST.get("otp_token", "")):
        return HttpResponseForbidden("not verified")
    django_otp.login(request, device)
    return HttpResponse("verified")


urlpatterns = [
    path("demo/a/bench/", bench_view),  # behind mfagate (Application A)
    path("bench/plain/", bench_view),  # the baseline: no access middleware
    path("bench/peer/", otp_required(bench_view)),  # the peer: OTPMiddleware + otp_required
    path("bench/peer/verify/", peer_verify),
    *project_urlpatterns,
]
