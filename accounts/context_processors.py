from mfa_policies.app_settings import app_settings


def signup(request):
    """Whether local self sign-up is open (templates show the sign-up link only then)."""
    return {"signup_open": app_settings.OPEN_SIGNUP}
