"""Writes to accounts: users, their privileges and password, groups, and allauth's social
applications (the enterprise IdPs' client credentials).

Each takes the acting user, runs atomically and writes its audit row in the same transaction,
with before/after — never a password or a client secret (a change to either is recorded as a
fact). Changes that affect what a user may open (e-mail, active, staff, superuser) raise the
user's MFA generation, so every app session they hold re-runs the login flow and MFA is asked
again (spec §3.4); a deactivated user is signed out everywhere (Django refuses inactive users on
every request).
"""

from __future__ import annotations

from django.db import transaction

from mfa_policies.generation import user_generation_bump

from .audit import audit_record

#: User fields whose change alters what the user may open.
DECISIVE_USER_FIELDS = ("email", "is_active", "is_staff", "is_superuser")


def user_snapshot(user) -> dict:
    """Everything an admin can change about a user, except the password."""
    snapshot = {
        "email": user.email, "name": user.name, "is_active": user.is_active, "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }
    if user.pk is not None and not user._state.adding:
        snapshot["groups"] = sorted(user.groups.values_list("name", flat=True))
        snapshot["user_permissions"] = sorted(
            f"{app}.{code}" for app, code in user.user_permissions.values_list("content_type__app_label", "codename"))
    return snapshot


def _stored(model, pk):
    return model.objects.filter(pk=pk).first() if pk is not None else None


@transaction.atomic
def user_save(*, acting_user, user, groups=None, user_permissions=None, password_set: bool = False,
              ip_address: str | None = None):
    """Validate and save ``user`` (and, when given, exactly these ``groups`` / ``user_permissions``),
    with its audit row. ``password_set``: the caller set a new password on ``user`` (a new user's
    first password); recorded as a fact."""
    stored = _stored(type(user), user.pk)
    before = user_snapshot(stored) if stored is not None else None
    user.full_clean(exclude=["password"])
    user.save()
    if groups is not None:
        user.groups.set(groups)
    if user_permissions is not None:
        user.user_permissions.set(user_permissions)
    after = user_snapshot(user)
    if before == after and not password_set:
        return user
    if password_set:
        after = {**after, "password": "set"}
    audit_record(actor=acting_user, action=f"user.{'update' if before else 'create'}", obj=user, subject_user=user,
                 ip_address=ip_address, before=before, after=after)
    if before is not None and any(before[f] != after[f] for f in DECISIVE_USER_FIELDS):
        user_generation_bump(user.pk)
    return user


@transaction.atomic
def user_password_set(*, acting_user, user, raw_password: str | None, ip_address: str | None = None):
    """Set ``user``'s password (``None``: disable password sign-in), with its audit row. Django's
    session hash changes with it, so the user's other browser sessions are signed out."""
    if raw_password is None:
        user.set_unusable_password()
    else:
        user.set_password(raw_password)
    user.save(update_fields=["password"])
    audit_record(actor=acting_user, action="user.password_set" if raw_password is not None else "user.password_unset",
                 obj=user, subject_user=user, ip_address=ip_address)
    user_generation_bump(user.pk)
    return user


@transaction.atomic
def user_delete(*, acting_user, user, ip_address: str | None = None) -> None:
    """Delete ``user`` (their memberships and authenticators go with them), with its audit row."""
    before, label, pk = user_snapshot(user), str(user)[:254], str(user.pk)
    user.delete()
    audit_record(actor=acting_user, action="user.delete", object_type=type(user)._meta.label_lower,
                 object_id=pk, object_label=label, ip_address=ip_address, before=before)


def _group_snapshot(group) -> dict:
    return {"name": group.name, "permissions": sorted(
        f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename"))}


@transaction.atomic
def group_save(*, acting_user, group, permissions=None, ip_address: str | None = None):
    """Save a permission group (and, when given, exactly these ``permissions``), with its audit row."""
    stored = _stored(type(group), group.pk)
    before = _group_snapshot(stored) if stored is not None else None
    group.full_clean()
    group.save()
    if permissions is not None:
        group.permissions.set(permissions)
    after = _group_snapshot(group)
    if before != after:
        audit_record(actor=acting_user, action=f"group.{'update' if before else 'create'}", obj=group,
                     ip_address=ip_address, before=before, after=after)
    return group


@transaction.atomic
def group_delete(*, acting_user, group, ip_address: str | None = None) -> None:
    before, label, pk = _group_snapshot(group), str(group)[:254], str(group.pk)
    group.delete()
    audit_record(actor=acting_user, action="group.delete", object_type=type(group)._meta.label_lower,
                 object_id=pk, object_label=label, ip_address=ip_address, before=before)


def _social_app_snapshot(app) -> dict:
    """The social application without its secret (a change to it is recorded as ``secret_changed``)."""
    return {"provider": app.provider, "provider_id": app.provider_id, "name": app.name, "client_id": app.client_id,
            "key": app.key, "settings": app.settings}


@transaction.atomic
def social_app_save(*, acting_user, app, ip_address: str | None = None):
    """Save an allauth social application (an enterprise IdP's client), with its audit row."""
    stored = _stored(type(app), app.pk)
    before = _social_app_snapshot(stored) if stored is not None else None
    secret_changed = stored is None or stored.secret != app.secret
    app.full_clean()
    app.save()
    after = _social_app_snapshot(app)
    if before != after or secret_changed:
        audit_record(actor=acting_user, action=f"socialapp.{'update' if before else 'create'}", obj=app,
                     ip_address=ip_address, before=before, after={**after, "secret_changed": secret_changed})
    return app


@transaction.atomic
def social_app_delete(*, acting_user, app, ip_address: str | None = None) -> None:
    before, label, pk = _social_app_snapshot(app), str(app)[:254], str(app.pk)
    app.delete()
    audit_record(actor=acting_user, action="socialapp.delete", object_type=type(app)._meta.label_lower,
                 object_id=pk, object_label=label, ip_address=ip_address, before=before)
