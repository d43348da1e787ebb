"""Enforcement: one function evaluates a request against an application (spec §3, §3.4).

:func:`enforce` is shared by :class:`~mfa_policies.access.middleware.AccessMiddleware` and
:func:`~mfa_policies.access.decorators.mfa_protected`. It returns ``None`` to let the request through
(with ``request.access`` set) or the response to send instead.

Hot path — a live app session: no database query and no resolver. The app session must belong to
this user, be unexpired, carry the application's current ``config_version`` (from the in-process
table, reloaded when the configuration generation changes) and the user's current MFA generation
(one cache read). A changed generation only costs one query: whether the authenticator the session
was granted with still exists.

Slow path — the login flow: the selectors build the resolver's input, :func:`resolve` decides, and
the result is a pass (app session granted, JWT issued), a 403 page naming the rule that refused, the
MFA challenge, or the enrollment page. The challenge itself (:func:`challenge_for`,
:func:`challenge_complete`) finishes the same flow after a verification.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages as django_messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from mfa_policies import clock, resolution
from mfa_policies.access import app_table
from mfa_policies.access import revocation
from mfa_policies.access import session_state
from mfa_policies.access import tokens
from mfa_policies.access.app_table import AppEntry, AppTable
from mfa_policies.messages import kinds_text, message

log = logging.getLogger("mfagate.enforcement")

ENROLL_URL = "/AddMfaDevice"


# ------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class GrantedDecision:
    """The part of a :class:`~mfa_policies.resolution.Decision` an app session keeps: what let the
    user in, and the trail that explains it."""

    outcome: str
    mfa_required: bool
    satisfied_by: str
    satisfied_kind: str | None
    decided_by: str
    policy: str | None
    trail: tuple[str, ...] = field(default=())

    @classmethod
    def from_decision(cls, decision: resolution.Decision, *, satisfied_by: str | None = None,
                      satisfied_kind: str | None = None, extra_step: str | None = None) -> "GrantedDecision":
        trail = tuple(str(step) for step in decision.trail)
        if extra_step:
            trail += (extra_step,)
        return cls(
            outcome=decision.outcome, mfa_required=decision.mfa_required,
            satisfied_by=satisfied_by or decision.satisfied_by, satisfied_kind=satisfied_kind or decision.satisfied_kind,
            decided_by=decision.decided_by, policy=decision.policy, trail=trail,
        )

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "mfa_required": self.mfa_required, "satisfied_by": self.satisfied_by,
                "satisfied_kind": self.satisfied_kind, "decided_by": self.decided_by, "policy": self.policy,
                "trail": list(self.trail)}

    @classmethod
    def from_dict(cls, data: dict) -> "GrantedDecision":
        return cls(**{**data, "trail": tuple(data.get("trail", ()))})


class Access:
    """``request.access`` for a view an application covers: ``application``, ``decision`` (a
    :class:`GrantedDecision`), ``claims`` and ``token`` (the app session's JWT)."""

    __slots__ = ("application", "claims", "token", "_decision")

    def __init__(self, *, application: AppEntry, decision: GrantedDecision | dict, claims: dict, token: str):
        self.application, self.claims, self.token = application, claims, token
        self._decision = decision  # the stored dict on the hot path, rebuilt only when a view reads it

    @property
    def decision(self) -> GrantedDecision:
        if isinstance(self._decision, dict):
            self._decision = GrantedDecision.from_dict(self._decision)
        return self._decision


# --------------------------------------------------------------------------------- look-ups
def current_table() -> AppTable:
    """The application table for the current configuration generation (one cache read)."""
    return app_table.table_for(revocation.config_generation())


def safe_next(request, candidate: str | None, default: str | None = "/") -> str | None:
    """``candidate`` if it stays on this site, else ``default`` (SECURITY row 22)."""
    if candidate and isinstance(candidate, str) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


# ------------------------------------------------------------------------------------ enforce
def enforce(request, entry: AppEntry, *, user_generation: int | None = None) -> HttpResponse | None:
    """Evaluate ``request`` against application ``entry``: ``None`` to pass, or the response.

    ``user_generation``: the user's MFA generation when the caller already read it from the cache.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    stored = session_state.app_session(request, entry.id)
    if stored is not None and _app_session_live(request, user, entry, stored, user_generation):
        request.access = Access(application=entry, decision=stored["decision"], claims=stored["claims"],
                                token=stored["token"])
        return None
    return login_flow(request, entry)


def _app_session_live(request, user, entry: AppEntry, stored: dict, user_generation: int | None) -> bool:
    user_id = user.pk
    if (stored.get("user_id") != str(user_id)
            or stored.get("config_version") != entry.config_version
            or stored.get("expires_at", 0) <= clock.now().timestamp()):
        return False
    if revocation.user_generation(user_id, cached=user_generation) != stored.get("user_generation"):
        # An authenticator of this user was removed since: every other session redoes MFA.
        log.info("app session for %s on app %s revoked: an authenticator was removed", user_id, entry.id)
        return False
    return True


def decide(request, entry: AppEntry, *, consume_sign_in: bool,
           user_generation: int) -> tuple[resolution.Decision, resolution.AccessRequest]:
    """Run the resolver for this request and application (the login flow's decision)."""
    from mfa_policies.selectors import access_request_for

    now = clock.now()
    sign_in = session_state.sign_in_context(request, now=now, consume=consume_sign_in)
    mfa = session_state.mfa_sessions(request, user_generation=user_generation)
    access_request = access_request_for(user=request.user, application=entry.id, sign_in=sign_in,
                                        mfa_sessions=mfa, now=now)
    return resolution.resolve(access_request), access_request


def _table_was_stale(request) -> HttpResponse:
    """The application this process's table named is gone: the configuration changed under us
    (e.g. an application deleted). Make every process reload, and send the request again — with
    its method and body (307) — so it is matched against the current configuration."""
    log.warning("application table was stale for %s; reloading", request.path)
    revocation.force_reload()
    response = HttpResponse(status=307)
    response["Location"] = request.get_full_path()
    return response


def login_flow(request, entry: AppEntry) -> HttpResponse | None:
    """The slow path: decide, then pass, refuse, challenge or send to enrollment."""
    from mfa_policies.models import Application

    session_state.drop_app_session(request, entry.id)
    generation = revocation.user_generation(request.user.pk)  # before the checks it guards
    try:
        decision, access_request = decide(request, entry, consume_sign_in=True, user_generation=generation)
    except Application.DoesNotExist:
        return _table_was_stale(request)
    if not decision.allowed:
        return denied_response(request, entry, decision)
    if decision.satisfied_by == resolution.PROMPT:
        session_state.set_pending(request, app_id=entry.id, next_url=request.get_full_path())
        return HttpResponseRedirect(f"{reverse('mfa:verify')}?{urlencode({'next': request.get_full_path()})}")
    if decision.satisfied_by == resolution.ENROLL:
        django_messages.warning(request, message(
            "enroll_first", app=entry.name, kinds=kinds_text(decision.allowed_authenticators)))
        return HttpResponseRedirect(f"{ENROLL_URL}?{urlencode({'next': request.get_full_path()})}")

    mfa_kind = authenticator_id = None
    if decision.satisfied_by == resolution.BY_MFA_SESSION:
        used = max((s for s in access_request.mfa_sessions if s.kind == decision.satisfied_kind),
                   key=lambda s: s.verified_at)
        mfa_kind, authenticator_id = used.kind, used.authenticator_id
    request.access = grant(
        request, entry, decision=GrantedDecision.from_decision(decision),
        config_version=access_request.application.config_version,
        app_session_duration=decision.app_session_duration, user_generation=generation,
        idp_amr=access_request.sign_in.amr, mfa_kind=mfa_kind, authenticator_id=authenticator_id or "",
    )
    return None


def grant(request, entry: AppEntry, *, decision: GrantedDecision, config_version: int,
          app_session_duration: dt.timedelta, user_generation: int, idp_amr, mfa_kind: str | None,
          authenticator_id: str) -> Access:
    """Grant an app session with its JWT, and return the :class:`Access` for this request."""
    now = clock.now()
    expires_at = now + app_session_duration
    token, claims = tokens.issue_access_token(
        user=request.user, application_id=entry.id, issued_at=now, expires_at=expires_at,
        idp_amr=idp_amr, mfa_kind=mfa_kind,
    )
    session_state.grant_app_session(
        request, app_id=entry.id, granted_at=now, expires_at=expires_at, config_version=config_version,
        authenticator_id=authenticator_id, user_generation=user_generation, token=token, claims=claims,
        decision=decision.as_dict(),
    )
    return Access(application=entry, decision=decision, claims=claims, token=token)


def denied_response(request, entry: AppEntry, decision: resolution.Decision) -> HttpResponse:
    context = {
        "application": entry,
        "decision": decision,
        "trail": decision.trail,
        "refusal": decision.refusal,
        "help": message("denied_help", app=entry.name),
    }
    return HttpResponse(render_to_string("mfa/denied.html", context, request=request), status=403)


# ------------------------------------------------------------------------------- the challenge
@dataclass(frozen=True)
class Challenge:
    """What the MFA challenge page offers: the app, the decision, where to go next, and the
    user's enrolled authenticators of the kinds the decision prompts for."""

    application: AppEntry
    decision: resolution.Decision
    access_request: resolution.AccessRequest
    next_url: str
    authenticators: tuple

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.decision.prompt_kinds


def challenge_for(request) -> Challenge | HttpResponse:
    """The pending challenge for this session, freshly decided; or a redirect when there is nothing
    to verify (no or expired pending challenge, or the decision no longer prompts)."""
    from enrollment.models import Authenticator

    pending = session_state.pending(request)
    if pending is None:
        django_messages.info(request, message("no_challenge"))
        return HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    next_url = safe_next(request, pending.get("next"))
    entry = current_table().apps.get(pending.get("app_id"))
    if entry is None:
        session_state.clear_pending(request)
        return HttpResponseRedirect("/")
    from mfa_policies.models import Application

    try:
        decision, access_request = decide(request, entry, consume_sign_in=False,
                                          user_generation=revocation.user_generation(request.user.pk))
    except Application.DoesNotExist:
        session_state.clear_pending(request)
        revocation.force_reload()
        return HttpResponseRedirect(next_url)
    if decision.satisfied_by != resolution.PROMPT:
        # Something changed (configuration, enrollment, another tab verified): let the app decide again.
        session_state.clear_pending(request)
        return HttpResponseRedirect(next_url)
    authenticators = tuple(Authenticator.objects.filter(user=request.user, kind__in=decision.prompt_kinds)
                           .order_by("kind", "created_at"))
    return Challenge(application=entry, decision=decision, access_request=access_request,
                     next_url=next_url, authenticators=authenticators)


def challenge_complete(request, challenge: Challenge, authenticator) -> str:
    """Finish the login flow after ``authenticator`` verified: rotate the session key, record the
    MFA session, grant the app session. Returns the URL to continue to."""
    if authenticator.user_id != request.user.pk or authenticator.kind not in challenge.kinds:
        raise PermissionError(message("kind_not_allowed", app=challenge.application.name,
                                      kinds=kinds_text(challenge.kinds)))
    generation = revocation.user_generation(request.user.pk)
    request.session.cycle_key()  # SECURITY row 12: a new session key after MFA
    now = clock.now()
    session_state.record_mfa(request, kind=authenticator.kind, authenticator_id=str(authenticator.pk),
                             user_generation=generation, at=now)
    step = f"[session] verified with {kinds_text({authenticator.kind})} “{authenticator.name}” just now"
    request.access = grant(
        request, challenge.application,
        decision=GrantedDecision.from_decision(challenge.decision,
                                               satisfied_kind=authenticator.kind, extra_step=step),
        config_version=challenge.access_request.application.config_version,
        app_session_duration=challenge.decision.app_session_duration, user_generation=generation,
        idp_amr=challenge.access_request.sign_in.amr, mfa_kind=authenticator.kind,
        authenticator_id=str(authenticator.pk),
    )
    session_state.clear_pending(request)
    return challenge.next_url
