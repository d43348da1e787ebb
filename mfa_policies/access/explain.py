"""The policy tester's core: resolve a hypothetical sign-in, and show a decision as plain data
and one sentence. Used by ``explain_access`` and the admin policy tester."""

from __future__ import annotations

import datetime as dt

from mfa_policies import constants as c
from mfa_policies import resolution as r
from enrollment.selectors import enrolled_kinds
from mfa_policies.durations import format_duration
from mfa_policies.selectors import access_request_for


def explain(*, user, application, connection: str, amr: tuple[str, ...], now: dt.datetime) -> r.Decision:
    """What ``user`` would get opening ``application`` right after signing in through ``connection``
    with the IdP reporting ``amr`` now. Runs the real selectors and resolver, with what the user
    has enrolled today."""
    sign_in = r.SignIn(connection=connection, amr=tuple(amr), authenticated_at=now if amr else None,
                       in_sign_in_flow=True)
    return r.resolve(access_request_for(user=user, application=application, sign_in=sign_in,
                                        enrolled_kinds=enrolled_kinds(user), now=now))


def summarize(decision: r.Decision) -> str:
    if decision.outcome == c.DENY:
        return f"refused — {decision.refusal}"
    if decision.outcome == c.BYPASS:
        return "allowed (bypass: no identity or MFA checks)"
    if not decision.mfa_required:
        return "allowed without MFA"
    kinds = r.kinds_text(decision.allowed_authenticators, capitalize=True)
    how = {
        r.BY_AMR: "satisfied by the identity provider's MFA",
        r.BY_MFA_SESSION: "satisfied by this session's earlier MFA",
        r.PROMPT: "the user is prompted",
        r.ENROLL: "the user must enroll an authenticator first",
    }[decision.satisfied_by]
    if decision.grace is not None:
        how += f", or may skip it this time (grace period: {grace_text(decision.grace)})"
    return f"allowed with MFA ({kinds}, every {format_duration(decision.session_duration)}); {how}"


def grace_text(grace: r.Grace) -> str:
    """What remains of a grace period, for the summary: “2 sign-ins left, until 1 Dec 2026, 00:00 UTC”."""
    parts = []
    if grace.sign_ins_left is not None:
        parts.append(f"{grace.sign_ins_left} sign-in{'' if grace.sign_ins_left == 1 else 's'} left")
    if grace.until is not None:
        parts.append(f"until {r.when_text(grace.until)}")
    return ", ".join(parts)


def decision_as_dict(decision: r.Decision, **context) -> dict:
    return {
        **context,
        "outcome": decision.outcome,
        "mfa_required": decision.mfa_required,
        "allowed_authenticators": list(decision.allowed_authenticators),
        "session_duration": format_duration(decision.session_duration) if decision.session_duration is not None else None,
        "app_session_duration": format_duration(decision.app_session_duration),
        "satisfied_by": decision.satisfied_by,
        "decided_by": decision.decided_by,
        "policy": decision.policy,
        "grace": None if decision.grace is None else {
            "until": decision.grace.until.isoformat() if decision.grace.until is not None else None,
            "sign_ins_left": decision.grace.sign_ins_left,
        },
        "summary": summarize(decision),
        "trail": [{"level": step.level, "message": step.message} for step in decision.trail],
    }
