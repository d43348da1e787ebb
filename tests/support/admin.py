"""Helpers for the admin console tests: the change form's POST data."""

from __future__ import annotations


def org_form(org, **changes):
    data = {
        "name": org.name, "auth_domain": org.auth_domain,
        "mfa_required_for_all_apps": "on" if org.mfa_required_for_all_apps else "",
        "allowed_authenticators": org.allowed_authenticators, "session_duration": org.session_duration,
        "amr_session_duration": org.amr_session_duration, "required_aaguids": "",
        "exempt_roles": [str(r.pk) for r in org.exempt_roles.all()],
        "exempt_connections": [str(x.pk) for x in org.exempt_connections.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}
