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
from mfa_policies.models import AppPolicy, Application, Membership, Organization, Policy

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
    ("other@demo.test", "Application A", True, ["totp", "security_key"], "24h", "organization"),
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
