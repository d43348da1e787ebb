from django.conf import settings


def signup(request):
    """Whether local self sign-up is open (templates show the sign-up link only then)."""
    return {"signup_open": settings.MFAGATE_OPEN_SIGNUP}
