"""User-facing text lives in one messages module per app, and every message there is used: a
key nobody raises is wording nobody reads (and drifts from what the code says)."""

from __future__ import annotations

import pathlib
import re

import pytest

from enrollment import messages as enrollment_messages
from mfa_policies import messages as core_messages

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ("accounts", "mfa_policies", "enrollment", "api", "templates", "static")


def _source_text() -> str:
    return "\n".join(
        path.read_text() for folder in SOURCES for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".html", ".js", ".txt") and "migrations" not in path.parts
        and path.name != "messages.py"
    )


def _used(key: str, text: str, dynamic_prefixes: set[str]) -> bool:
    return re.search(rf"[\"']{key}[\"']", text) is not None or any(key.startswith(p) for p in dynamic_prefixes)


@pytest.mark.parametrize("module", [core_messages, enrollment_messages], ids=["mfa_policies", "enrollment"])
def test_every_message_key_is_used(module):
    text = _source_text()
    # f"webauthn_attachment_{kind}": keys chosen at run time by a literal prefix
    dynamic = set(re.findall(r"f[\"']([a-z_]+_)\{", text))
    keys = set(module.MESSAGES) - set(getattr(module, "BROWSER_KEYS", ()))
    unused = sorted(k for k in keys if not _used(k, text, dynamic))
    assert not unused, f"messages nobody shows, in {module.__name__}: {unused}"


def test_the_browser_scripts_hold_no_wording_of_their_own():
    """The scripts read their messages from the page (json_script); no sentence is spelled in them."""
    for script in (ROOT / "static" / "js").glob("*.js"):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script.read_text(), flags=re.S)
        sentences = re.findall(r"[\"']([A-Z][a-z]+(?: [a-z']+){2,}[^\"']*)[\"']", code)
        assert not sentences, f"{script.name} spells user-facing text: {sentences}"


def test_the_page_hands_every_browser_message_to_the_script():
    assert set(enrollment_messages.browser_messages()) == set(enrollment_messages.BROWSER_KEYS)
    scripts = "\n".join(p.read_text() for p in (ROOT / "static" / "js").glob("*.js"))
    for key in enrollment_messages.BROWSER_KEYS:
        assert f'"{key}"' in scripts, f"{key} is handed to the page but no script shows it"


def test_no_refusal_names_an_internal_field():
    """Refusals are shown next to their field in the admin; one that must name another setting uses
    its label (“Use identity provider MFA”), never the code's name (``amr_matching_enabled``). The
    API puts the field's name in front itself (api/envelope.py)."""
    from django.apps import apps

    internal = {field.name for model in apps.get_app_config("mfa_policies").get_models()
                for field in model._meta.get_fields() if "_" in field.name}
    words = {key: re.sub(r"\{[^}]*\}", "", text) for key, text in core_messages.MESSAGES.items()}  # not {params}
    named = {key: sorted(name for name in internal if re.search(rf"\b{name}\b", text)) for key, text in words.items()}
    assert not {key: names for key, names in named.items() if names}
