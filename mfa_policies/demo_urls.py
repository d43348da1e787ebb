from django.urls import path

from . import demo_views

app_name = "demo"

urlpatterns = [
    path("a/", demo_views.demo_app, name="a"),
    path("b/", demo_views.demo_app, name="b"),
    path("reports/", demo_views.demo_reports, name="reports"),
]
