from django.contrib import admin
from django.urls import include, path

from enrollment import views as enrollment_views
from mfa_policies.access import views as mfa_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("client/v4/", include("api.urls")),
    path("accounts/", include("allauth.urls")),
    path("mfa/", include("mfa_policies.access.urls")),
    path("demo/", include("mfa_policies.demo.urls")),
    path(".well-known/jwks.json", mfa_views.jwks, name="jwks"),
    path("", enrollment_views.launcher, name="launcher"),
    path("", include("enrollment.urls")),
]

# A clear page with the request id for every unhandled error; 503 "try again" when the database
# (or Redis) is unreachable.
handler500 = "mfa_policies.access.outage.server_error"
