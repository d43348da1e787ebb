"""Enforcement: one evaluation of a request against an application (spec §3, §3.4).

:func:`enforce` is shared by :class:`~mfa_policies.access.middleware.AccessMiddleware` and
:func:`~mfa_policies.access.decorators.mfa_protected`. It returns a typed :class:`Outcome` —
pass (with ``request.access`` set), sign in first, refused, challenge, enroll, or "the
configuration changed under us" — and :mod:`.responses` turns it into HTTP. Nothing here builds
a response.

Hot path — a live app session: no database query, no network round trip and no resolver. The app
session must belong to this user, be unexpired, carry the application's current ``config_version``
and the current environment generation (from the process's mirror, :mod:`.mirror`) and the user's
current MFA generation (from ``request.user``; see :mod:`.revocation`).

Slow path — the login flow: the resolver's input is the application's configuration input, kept per
application while its ``config_version`` holds (:func:`.mirror.configuration_for`: one query to
check it), plus the user's facts (two queries: roles, enrolled kinds); :func:`resolve` decides, and
the outcome is a pass (app session granted, JWT issued), a refusal naming the rule that refused,
the MFA challenge, or enrollment. The challenge itself (:func:`challenge_for`,
:func:`challenge_complete`) finishes the same flow after a verification.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, not_

from django.db import transaction

from accounts.adapter import safe_next
from accounts.audit import client_ip
from accounts.sign_in import sign_in_context
from enrollment import requested
from enrollment.models import Authenticator
from enrollment.selectors import enrolled_kinds
from mfa_policies import clock, generation, resolution, services
from mfa_policies.messages import message
from mfa_policies.models import Application
from mfa_policies.resolution import kinds_text
from mfa_policies.selectors import access_request_for

from . import mirror, revocation, session_state, tokens
from .app_table import AppEntry, AppTable
from .explain import grace_text

log = logging.getLogger("mfagate.enforcement")

_SKIPPED = attrgetter("skipped")


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

    #: The app session keeps at most this many of the policies tried before the one that decided
    #: (the session is saved with it on every login flow; the policy tester shows them all).
    SKIPPED_KEPT = 20

    @classmethod
    def from_decision(cls, decision: resolution.Decision, *, satisfied_by: str | None = None,
                      satisfied_kind: str | None = None, extra_step: str | None = None) -> "GrantedDecision":
        steps, kept = decision.trail, cls.SKIPPED_KEPT
        # A configuration can have thousands of skipped steps: find them with C-level scans.
        flags = list(map(_SKIPPED, steps))
        skipped = flags.count(True)
        if skipped > kept:
            first = -1  # the first skipped step dropped …
            for _ in range(kept + 1):
                first = flags.index(True, first + 1)
            last = len(flags) - 1 - flags[::-1].index(True)  # … the last, where the summary stands
            summary = f"[{resolution.POLICY}] … and {skipped - kept} more policies that do not match"
            between = flags[first:last]  # steps between the dropped ones that are kept (usually none)
            between = compress(steps[first:last], map(not_, between)) if False in between else ()
            trail = (*map(str, steps[:first]), *map(str, between), summary, *map(str, steps[last + 1:]))
        else:
            trail = tuple(map(str, steps))
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


# What :func:`enforce` concluded.
PASS = "pass"              # the request goes through; ``request.access`` is set
SIGN_IN = "sign_in"        # nobody is signed in
DENIED = "denied"          # the resolver refused: ``decision`` says why
CHALLENGE = "challenge"    # the MFA challenge, for the pending login flow
ENROLL = "enroll"          # nothing enrolled of an allowed kind
STALE = "stale"            # the application is gone: the configuration changed under this process


@dataclass(frozen=True)
class Outcome:
    action: str
    entry: AppEntry | None = None
    decision: resolution.Decision | None = None

    @property
    def passed(self) -> bool:
        return self.action == PASS


PASSED = Outcome(PASS)


# --------------------------------------------------------------------------------- look-ups
def current_table() -> AppTable:
    """The application table, current within the consistency model's bound (:mod:`.mirror`)."""
    return mirror.table()


# ------------------------------------------------------------------------------------ enforce
def enforce(request, entry: AppEntry, table: AppTable) -> Outcome:
    """Evaluate ``request`` against application ``entry`` of ``table`` (from :func:`current_table`)."""
    user = request.user
    if not user.is_authenticated:
        return Outcome(SIGN_IN, entry)
    stored = session_state.app_session(request, entry.id)
    if stored is not None and revocation.app_session_live(user, entry, stored, table.environment_generation):
        request.access = Access(application=entry, decision=stored["decision"], claims=stored["claims"],
                                token=stored["token"])
        return PASSED
    return login_flow(request, entry)


def decide(request, entry: AppEntry, *, consume_sign_in: bool,
           user_generation: int) -> tuple[resolution.Decision, resolution.AccessRequest, int]:
    """Run the resolver for this request and application (the login flow's decision): the decision,
    its input and the environment generation that input is at least as new as. Raises
    ``Application.DoesNotExist`` when the application is gone."""
    now = clock.now()
    sign_in = sign_in_context(request, now=now, consume=consume_sign_in)
    mfa = session_state.mfa_sessions(request, user_generation=user_generation)
    configuration = mirror.configuration_for(entry)
    access_request = access_request_for(user=request.user, configuration=configuration, sign_in=sign_in,
                                        enrolled_kinds=enrolled_kinds(request.user), mfa_sessions=mfa, now=now)
    return resolution.resolve(access_request), access_request, configuration.environment_generation


def stale_table(request) -> None:
    """The application this process's table named is gone, and no change said so (deleted behind
    the services' back): record a change of everything, so every process reloads — this one at once."""
    log.warning("application table was stale for %s; reloading", request.path)
    with transaction.atomic():
        generation.configuration_bump(everything=True)
    mirror.invalidate()


def login_flow(request, entry: AppEntry) -> Outcome:
    """The slow path: decide, then pass, refuse, challenge or send to enrollment."""
    session_state.drop_app_session(request, entry.id)
    user_generation = request.user.mfa_generation  # loaded with the user, before the checks it guards
    try:
        decision, access_request, environment_generation = decide(request, entry, consume_sign_in=True,
                                                                  user_generation=user_generation)
    except Application.DoesNotExist:
        stale_table(request)
        return Outcome(STALE, entry)
    if not decision.allowed:
        return Outcome(DENIED, entry, decision)
    if decision.satisfied_by == resolution.PROMPT:
        session_state.set_pending(request, app_id=entry.id, next_url=request.get_full_path())
        return Outcome(CHALLENGE, entry, decision)
    if decision.satisfied_by == resolution.ENROLL:
        requested.remember(request, next_url=request.get_full_path(), application_id=entry.id,
                           application=entry.name, organization_id=access_request.organization.id,
                           kinds=decision.allowed_authenticators, grace=decision.grace)
        return Outcome(ENROLL, entry, decision)

    mfa_kind = authenticator_id = None
    if decision.satisfied_by == resolution.BY_MFA_SESSION:
        used = max((s for s in access_request.mfa_sessions if s.kind == decision.satisfied_kind),
                   key=lambda s: s.verified_at)
        mfa_kind, authenticator_id = used.kind, used.authenticator_id
    request.access = grant(
        request, entry, decision=GrantedDecision.from_decision(decision),
        config_version=access_request.application.config_version, environment_generation=environment_generation,
        app_session_duration=decision.app_session_duration, user_generation=user_generation,
        idp_amr=access_request.sign_in.amr, mfa_kind=mfa_kind, authenticator_id=authenticator_id or "",
    )
    return PASSED


def grant(request, entry: AppEntry, *, decision: GrantedDecision, config_version: int,
          environment_generation: int, app_session_duration: dt.timedelta, user_generation: int, idp_amr,
          mfa_kind: str | None, authenticator_id: str) -> Access:
    """Grant an app session with its JWT, and return the :class:`Access` for this request."""
    now = clock.now()
    expires_at = now + app_session_duration
    token, claims = tokens.issue_access_token(
        user=request.user, application_id=entry.id, issued_at=now, expires_at=expires_at,
        idp_amr=idp_amr, mfa_kind=mfa_kind,
    )
    session_state.grant_app_session(
        request, app_id=entry.id, granted_at=now, expires_at=expires_at, config_version=config_version,
        environment_generation=environment_generation, authenticator_id=authenticator_id, user_generation=user_generation, token=token, claims=claims,
        decision=decision.as_dict(),
    )
    return Access(application=entry, decision=decision, claims=claims, token=token)


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
    environment_generation: int = 0

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.decision.prompt_kinds


@dataclass(frozen=True)
class NoChallenge:
    """There is nothing to verify: continue to ``next_url``. ``expected`` is false when the
    session had no pending challenge at all (the page says so)."""

    next_url: str
    expected: bool = True


class ChallengeRefused(Exception):
    """An authenticator that cannot finish this challenge (another user's, or a kind the
    application does not accept). ``message`` is for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def challenge_for(request) -> Challenge | NoChallenge:
    """The pending challenge for this session, freshly decided; or :class:`NoChallenge` when there
    is nothing to verify (no or expired pending challenge, or the decision no longer prompts)."""
    pending = session_state.pending(request)
    if pending is None:
        return NoChallenge(next_url=safe_next(request, request.GET.get("next")), expected=False)
    next_url = safe_next(request, pending.get("next"))
    entry = current_table().apps.get(pending.get("app_id"))
    if entry is None:
        session_state.clear_pending(request)
        return NoChallenge(next_url="/")
    try:
        decision, access_request, environment_generation = decide(request, entry, consume_sign_in=False,
                                                                  user_generation=request.user.mfa_generation)
    except Application.DoesNotExist:
        session_state.clear_pending(request)
        stale_table(request)
        return NoChallenge(next_url=next_url)
    if decision.satisfied_by != resolution.PROMPT:
        # Something changed (configuration, enrollment, another tab verified): let the app decide again.
        session_state.clear_pending(request)
        return NoChallenge(next_url=next_url)
    authenticators = tuple(Authenticator.objects.filter(user=request.user, kind__in=decision.prompt_kinds)
                           .order_by("kind", "created_at"))
    return Challenge(application=entry, decision=decision, access_request=access_request,
                     next_url=next_url, authenticators=authenticators, environment_generation=environment_generation)


def challenge_complete(request, challenge: Challenge, authenticator) -> str:
    """Finish the login flow after ``authenticator`` verified: rotate the session key, record the
    MFA session, grant the app session. Returns the URL to continue to. Raises
    :class:`ChallengeRefused` for an authenticator that cannot finish ``challenge``."""
    if authenticator.user_id != request.user.pk or authenticator.kind not in challenge.kinds:
        raise ChallengeRefused(message("kind_not_allowed", app=challenge.application.name,
                                       kinds=kinds_text(challenge.kinds)))
    user_generation = request.user.mfa_generation
    request.session.cycle_key()  # SECURITY row 12: a new session key after MFA
    now = clock.now()
    session_state.record_mfa(request, kind=authenticator.kind, authenticator_id=str(authenticator.pk),
                             user_generation=user_generation, at=now)
    step = f"[session] verified with {kinds_text({authenticator.kind})} “{authenticator.name}” just now"
    request.access = grant(
        request, challenge.application,
        decision=GrantedDecision.from_decision(challenge.decision,
                                               satisfied_kind=authenticator.kind, extra_step=step),
        config_version=challenge.access_request.application.config_version,
        environment_generation=challenge.environment_generation,
        app_session_duration=challenge.decision.app_session_duration, user_generation=user_generation,
        idp_amr=challenge.access_request.sign_in.amr, mfa_kind=authenticator.kind,
        authenticator_id=str(authenticator.pk),
    )
    session_state.clear_pending(request)
    return challenge.next_url


# ------------------------------------------------------------------------- “Set up later”
#: ``satisfied_by`` of an app session granted because the user skipped enrollment.
ENROLLMENT_SKIPPED = "enrollment_skipped"


class SkipRefused(Exception):
    """“Set up later” cannot let this request through. ``message`` is for the user; ``next_url``
    is where to send them (the enrollment page, or the application to decide again)."""

    def __init__(self, message: str, next_url: str):
        self.message, self.next_url = message, next_url
        super().__init__(message)


def _remaining_text(grace: resolution.Grace | None) -> str:
    return "nothing left: enrollment is required next time" if grace is None else grace_text(grace)


def skip_enrollment(request, next_url: str | None) -> str:
    """Let this login flow through because the user chose “Set up later”: the grace period must be
    on offer for the login flow that sent them to enroll (recorded in :mod:`enrollment.requested`
    for this very ``next_url``, and consumed here), and the resolver, asked again now, must still
    say “enroll” with grace. Records the skip (audited), grants the app session, and returns the
    URL to continue to. Raises :class:`SkipRefused` otherwise, granting nothing."""
    asked = requested.consume(request, next_url)
    if asked is None:
        raise SkipRefused(message("grace_nothing_to_skip"), safe_next(request, next_url))
    entry = current_table().apps.get(asked.application_id)
    if entry is None:
        raise SkipRefused(message("grace_nothing_to_skip"), asked.next_url)
    user_generation = request.user.mfa_generation
    try:
        decision, access_request, environment_generation = decide(request, entry, consume_sign_in=False,
                                                                  user_generation=user_generation)
    except Application.DoesNotExist:
        stale_table(request)
        raise SkipRefused(message("grace_nothing_to_skip"), asked.next_url) from None
    if decision.satisfied_by != resolution.ENROLL or decision.grace is None:
        # Denied now, enrolled meanwhile, or the grace period ran out: the application decides again.
        raise SkipRefused(message("grace_unavailable"), asked.next_url)
    try:
        remaining = services.enrollment_grace_skip(
            acting_user=request.user, decision=decision, organization_id=access_request.organization.id,
            now=access_request.now, ip_address=client_ip(request))
    except services.GraceUnavailable as exc:
        raise SkipRefused(exc.message, asked.next_url) from None
    step = (f"[{resolution.ORGANIZATION}] {request.user.email} chose “Set up later” in organization "
            f"“{access_request.organization.name}”’s grace period ({_remaining_text(remaining)})")
    request.access = grant(
        request, entry,
        decision=GrantedDecision.from_decision(decision, satisfied_by=ENROLLMENT_SKIPPED, extra_step=step),
        config_version=access_request.application.config_version, environment_generation=environment_generation,
        app_session_duration=decision.app_session_duration, user_generation=user_generation,
        idp_amr=access_request.sign_in.amr, mfa_kind=None, authenticator_id="",
    )
    return asked.next_url
