"""seed_demo and explain_access, run as an admin would run them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent, User
from mfa_policies.models import AppPolicy, Application, Membership, Organization, Policy, Role
from mfa_policies.services import configuration_save, membership_save

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def explain(email, app, *extra) -> dict:
    return json.loads(run("explain_access", "--email", email, "--app", app, "--json", *extra))


def test_seed_demo_prints_the_account_id_and_the_sign_ins(db):
    out = run("seed_demo")
    org = Organization.objects.get(name="Demo")
    assert re.search(r"^account_id=[0-9a-f]{32}$", out, re.M)
    assert f"account_id={org.account_id}" in out
    for email in ("p1@demo.test", "p2@demo.test", "other@demo.test", "admin@demo.test"):
        assert email in out
    assert "demo-password" in out


def test_seed_demo_is_idempotent(db):
    run("seed_demo")
    counts = [M.objects.count() for M in (Organization, Application, Policy, AppPolicy, User, Membership)]
    account_id = Organization.objects.get().account_id
    run("seed_demo")
    assert [M.objects.count() for M in (Organization, Application, Policy, AppPolicy, User, Membership)] == counts
    assert Organization.objects.get().account_id == account_id
    assert User.objects.get(email="admin@demo.test").is_superuser
    assert User.objects.get(email="p1@demo.test").check_password("demo-password")
    assert AuditEvent.objects.filter(action="demo.seed").count() == 2


SIGN_INS = ("p1@demo.test", "p2@demo.test", "other@demo.test", "mixed@demo.test", "admin@demo.test")


def _admin_changes_the_demo():
    """What an admin might do in the Demo organization between two starts."""
    admin = User.objects.get(email="admin@demo.test")
    org = Organization.objects.get(name="Demo")
    org.session_duration, org.mfa_required_for_all_apps = "2h", False
    configuration_save(acting_user=admin, instance=org, m2m={"exempt_roles": [], "exempt_connections": []})
    policy = Policy.objects.get(name="Policy 1")
    policy.mfa_session_duration = "3h"
    configuration_save(acting_user=admin, instance=policy)
    Policy.objects.get(name="Everyone").delete()
    membership_save(acting_user=admin, user=User.objects.get(email="mixed@demo.test"), organization=org,
                    roles=[Role.objects.get(key="viewer")])
    user = User.objects.get(email="p1@demo.test")
    user.set_password("changed-by-the-admin")
    user.is_staff = True
    user.save()


def test_seed_demo_if_empty_seeds_a_new_database(db):
    out = run("seed_demo", "--if-empty")
    assert Organization.objects.get().name == "Demo"
    assert "created: the demo (" in out
    assert "Demo sign-ins (password for all: demo-password):" in out
    assert all(email in out for email in SIGN_INS)


def test_seed_demo_if_empty_keeps_what_the_admin_changed(db):
    run("seed_demo")
    _admin_changes_the_demo()
    events = AuditEvent.objects.count()
    out = run("seed_demo", "--if-empty")
    assert "The database already holds 1 organization: the demo was not seeded again and nothing was changed" in out
    assert f"account_id={Organization.objects.get().account_id}" in out
    assert "Demo sign-ins (password as seeded: demo-password, unless changed since):" in out
    assert all(email in out for email in SIGN_INS)
    org = Organization.objects.get(name="Demo")
    assert (org.session_duration, org.mfa_required_for_all_apps) == ("2h", False)
    assert not Policy.objects.filter(name="Everyone").exists()
    assert User.objects.get(email="p1@demo.test").check_password("changed-by-the-admin")
    assert AuditEvent.objects.count() == events


def test_seed_demo_if_empty_leaves_a_database_without_the_demo_alone(db, make_org):
    make_org(name="Acme")
    out = run("seed_demo", "--if-empty")
    assert list(Organization.objects.values_list("name", flat=True)) == ["Acme"]
    assert "No demo users in this database (`manage.py seed_demo` adds them)." in out
    assert not User.objects.exists()


def test_seed_demo_resets_the_demo_and_says_what_it_reset(db):
    run("seed_demo")
    _admin_changes_the_demo()
    out = run("seed_demo")
    assert out.split("reset:\n")[1].split("Demo sign-ins")[0].splitlines() == [
        "  organization “Demo”: exempt_connections, exempt_roles, mfa_required_for_all_apps, session_duration",
        "  policy “Policy 1”: mfa_session_duration",
        "  application “Application A”: attached policies",
        "  application “Application B”: attached policies",
        "  membership “mixed@demo.test in Demo”: roles",
        "  user “p1@demo.test”: is_staff, password",
    ]
    assert "created again (they had been deleted):\n  policy “Everyone”\n" in out
    assert all(email in out for email in SIGN_INS)
    org = Organization.objects.get(name="Demo")
    assert (org.session_duration, org.mfa_required_for_all_apps) == ("24h", True)
    assert Policy.objects.get(name="Policy 1").mfa_session_duration == "1h"
    assert Policy.objects.filter(name="Everyone").exists()
    user = User.objects.get(email="p1@demo.test")
    assert user.check_password("demo-password") and not user.is_staff
    seed = AuditEvent.objects.filter(action="demo.seed").first()  # the latest
    assert "policy “Policy 1”: mfa_session_duration" in seed.after["reset"]
    assert seed.after["created"] == ["policy “Everyone”"]


def test_seed_demo_on_an_unchanged_demo_says_nothing_was_reset(db):
    run("seed_demo")
    out = run("seed_demo")
    assert "reset: nothing — the demo was as seeded" in out
    assert "created" not in out


def test_make_run_seeds_the_demo_only_into_a_new_database():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: demo$", makefile, re.M)
    assert re.search(r"^demo: migrate\n\t\$\(PY\) manage\.py seed_demo --if-empty$", makefile, re.M)
    assert re.search(r"^demo-reset: migrate\n\t\$\(PY\) manage\.py seed_demo$", makefile, re.M)

def test_seed_demo_if_empty_seeds_an_empty_database(db):
    out = run("seed_demo", "--if-empty")
    assert Organization.objects.filter(name="Demo").exists() and "demo-password" in out


@pytest.mark.parametrize("existing", ["user", "organization"])
def test_seed_demo_if_empty_leaves_a_database_with_data_alone(db, existing):
    """make serve seeds with --if-empty: it never resets what an admin changed, nor adds demo
    accounts (with their published password) to a real deployment."""
    if existing == "user":
        User.objects.create_user(email="root@corp.test", password="x")
    else:
        Organization.objects.create(name="Corp")
    before = [M.objects.count() for M in (Organization, Application, Policy, User, AuditEvent)]
    out = run("seed_demo", "--if-empty")
    assert "not seeded" in out and "demo-password" not in out
    assert [M.objects.count() for M in (Organization, Application, Policy, User, AuditEvent)] == before


@pytest.mark.parametrize("email, app, required, kinds, duration, decided_by", [
    ("p1@demo.test", "Application A", True, ["security_key"], "1h", "policy"),
    ("p2@demo.test", "Application A", False, [], None, "policy"),
    ("other@demo.test", "Application A", True, ["totp", "security_key", "biometrics"], "24h", "organization"),
    ("p1@demo.test", "Application B", False, [], None, "application"),
    ("p2@demo.test", "Application B", False, [], None, "application"),
    ("other@demo.test", "Application B", False, [], None, "application"),
])
def test_explain_access_gives_the_precedence_outcomes(db, email, app, required, kinds, duration, decided_by):
    run("seed_demo")
    result = explain(email, app)
    assert result["outcome"] == "allow"
    assert result["mfa_required"] is required
    assert result["allowed_authenticators"] == kinds
    assert result["session_duration"] == duration
    assert result["decided_by"] == decided_by
    assert result["trail"] and all({"level", "message"} <= set(step) for step in result["trail"])


def test_explain_access_shows_the_exempt_connection_and_roles(db):
    run("seed_demo")
    assert explain("other@demo.test", "Application A", "--connection", "okta")["decided_by"] == "exemption"
    assert explain("admin@demo.test", "Application A")["decided_by"] == "exemption"
    assert explain("mixed@demo.test", "Application A")["mfa_required"] is True


def test_explain_access_text_lists_the_trail(db):
    run("seed_demo")
    out = run("explain_access", "--email", "other@demo.test", "--app", "Application A")
    assert "other@demo.test → Application A: allowed with MFA" in out
    assert "[organization]" in out and "  1. [policy]" in out


@pytest.mark.parametrize("args, message", [
    (["--email", "ghost@demo.test", "--app", "Application A"], "--email: no user"),
    (["--email", "p1@demo.test", "--app", "Nope"], "--app: no application named 'Nope'"),
    (["--email", "p1@demo.test", "--app", "Application A", "--connection", "nope"], "--connection: no connection"),
])
def test_explain_access_refuses_unknown_names(db, args, message):
    run("seed_demo")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("explain_access", *args, stdout=StringIO())


def test_a_missing_secret_key_is_refused_when_debug_is_off(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "", "DJANGO_SETTINGS_MODULE": "config.settings"}
    proc = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "SECRET_KEY must be set" in proc.stderr


def test_a_secret_key_from_the_environment_is_used(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "config.settings"}
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "x" * 50


def test_explain_access_shows_the_enrollment_grace_period(db):
    run("seed_demo")
    org = Organization.objects.get(name="Demo")
    org.enrollment_grace_sign_ins = 3
    configuration_save(acting_user=None, instance=org)
    data = explain("p1@demo.test", "Application A")
    assert data["satisfied_by"] == "enroll"
    assert data["grace"] == {"until": None, "sign_ins_left": 3}
    assert data["summary"].endswith("the user must enroll an authenticator first, or may skip it this time "
                                    "(grace period: 3 sign-ins left)")
    assert {"level": "organization", "message": "organization “Demo” lets users who have not enrolled skip "
                                                "enrollment for 3 more sign-ins"} in data["trail"]
    text = run("explain_access", "--email", "p1@demo.test", "--app", "Application A")
    assert "[organization] organization “Demo” lets users who have not enrolled skip enrollment" in text
    assert explain("other@demo.test", "Application B")["grace"] is None
