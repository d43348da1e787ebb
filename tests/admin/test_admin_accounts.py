"""Accounts in the admin: a user's privileges, activation, e-mail and password, permission groups and
the IdPs' social applications change through audited services; no secret is shown again."""

from __future__ import annotations

import json

from allauth.socialaccount.models import SocialApp
from django.urls import reverse

from accounts.models import AuditEvent, User
from tests.support.html_forms import form_fields

PASSWORD = "a long test password 42"


def _post_change(client, url, form_id, **changes):
    data = form_fields(client.get(url).content.decode(), form_id)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    data["_save"] = ["Save"]
    return client.post(url, data)


def test_the_social_application_secret_is_never_shown_and_empty_keeps_it(admin_client, db):
    app = SocialApp.objects.create(provider="openid_connect", provider_id="corp", name="Corp", client_id="cid",
                                   secret="the-stored-secret-value", settings={"server_url": "http://127.0.0.1:9/"})
    url = reverse("admin:socialaccount_socialapp_change", args=[app.pk])
    page = admin_client.get(url).content.decode()
    assert "the-stored-secret-value" not in page
    assert _post_change(admin_client, url, "socialapp_form", name="Corp IdP").status_code == 302
    app.refresh_from_db()
    assert (app.name, app.secret) == ("Corp IdP", "the-stored-secret-value")
    event = AuditEvent.objects.get(action="socialapp.update")
    assert event.after["secret_changed"] is False and "the-stored-secret-value" not in json.dumps(
        [event.before, event.after])

    assert _post_change(admin_client, url, "socialapp_form", secret="a-rotated-secret").status_code == 302
    app.refresh_from_db()
    assert app.secret == "a-rotated-secret"
    rotated = AuditEvent.objects.filter(action="socialapp.update").latest("id")
    assert rotated.after["secret_changed"] is True and "a-rotated-secret" not in json.dumps(rotated.after)


def test_privileges_activation_and_email_are_audited_with_before_and_after(admin_client, admin_user, db):
    user = User.objects.create_user("ann@example.test", PASSWORD)
    generation = user.mfa_generation
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = _post_change(admin_client, url, "user_form", email="ann@corp.example", is_staff="on",
                            is_superuser="on", is_active=None)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.update")
    assert event.actor == admin_user and event.subject_user_id == user.pk
    assert (event.before["email"], event.after["email"]) == ("ann@example.test", "ann@corp.example")
    assert (event.before["is_staff"], event.after["is_staff"]) == (False, True)
    assert (event.before["is_superuser"], event.after["is_superuser"]) == (False, True)
    assert (event.before["is_active"], event.after["is_active"]) == (True, False)
    user.refresh_from_db()
    assert user.mfa_generation > generation, "what the user may open changed: their sessions re-run the login flow"


def test_setting_a_password_is_audited_without_the_password(admin_client, admin_user, db):
    user = User.objects.create_user("ann@example.test", PASSWORD)
    url = reverse("admin:auth_user_password_change", args=[user.pk])  # Django names it for auth, whatever the model
    response = admin_client.post(url, {"password1": "another long password 43", "password2": "another long password 43",
                                       "set_usable_password": "true", "usable_password": "true"})
    assert response.status_code == 302, response.content[:400]
    user.refresh_from_db()
    assert user.check_password("another long password 43")
    event = AuditEvent.objects.get(action="user.password_set")
    assert event.actor == admin_user and event.subject_user_id == user.pk
    assert "another long password" not in json.dumps([event.before, event.after])


def test_group_permissions_are_audited(admin_client, db):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Auditors")
    permission = Permission.objects.get(codename="view_auditevent")
    url = reverse("admin:auth_group_change", args=[group.pk])
    assert _post_change(admin_client, url, "group_form", permissions=[str(permission.pk)]).status_code == 302
    event = AuditEvent.objects.get(action="group.update")
    assert event.after["permissions"] == ["accounts.view_auditevent"] and event.before["permissions"] == []
