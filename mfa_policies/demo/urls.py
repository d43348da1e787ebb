from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("a/", views.demo_app, name="a"),
    path("b/", views.demo_app, name="b"),
    path("reports/", views.demo_reports, name="reports"),
]
