"""Resolution — who must present what (spec §3).

:func:`resolve` is a pure function: plain frozen dataclasses in, ``now`` passed in, no ORM and
no request. It returns a frozen :class:`Decision` with its *trail*: the ordered, human-readable
steps that led to it, each naming the level that decided. Selectors build the input from the
database; the middleware, the policy tester and ``explain_access`` only read the decision.

It never fails open: anything it cannot place (no matching policy, MFA required but no method
to satisfy it) is a refusal or a prompt, never an allow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from . import constants as c
from .durations import format_duration

# Levels named in the trail.
ENVIRONMENT = "environment"
ORGANIZATION = "organization"
APPLICATION = "application"
POLICY = "policy"
EXEMPTION = "exemption"
AMR = "amr"
SESSION = "session"
ACCESS = "access"

# How a requirement is satisfied (or not).
NOT_REQUIRED = "not_required"
BY_AMR = "amr_match"
BY_MFA_SESSION = "mfa_session"
PROMPT = "prompt"
ENROLL = "enroll"


# --------------------------------------------------------------------------------------- input
@dataclass(frozen=True)
class Rule:
    selector: str
    value: str = ""


@dataclass(frozen=True)
class MfaConfig:
    """An application's or policy's three-mode ``mfa_config``."""

    mode: str = c.MODE_INHERIT
    allowed_authenticators: frozenset[str] = frozenset()
    session_duration: dt.timedelta | None = None


@dataclass(frozen=True)
class EnvironmentSettings:
    mfa_requirement: str = c.ENV_NO
    allowed_authenticators: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OrganizationSettings:
    id: int | None
    name: str
    mfa_required_for_all_apps: bool = False
    allowed_authenticators: frozenset[str] = frozenset()
    session_duration: dt.timedelta = dt.timedelta(hours=24)
    amr_matching_enabled: bool = False
    amr_session_duration: dt.timedelta = dt.timedelta(hours=24)
    has_required_aaguids: bool = False
    exempt_roles: frozenset[str] = frozenset()
    exempt_connections: frozenset[str] = frozenset()
    #: The enrollment grace period: users who must enroll may skip it until this moment and/or
    #: for this many sign-ins (``None``: no limit of that kind; both ``None``: no grace period).
    enrollment_grace_until: dt.datetime | None = None
    enrollment_grace_sign_ins: int | None = None

    @property
    def has_enrollment_grace(self) -> bool:
        return self.enrollment_grace_until is not None or self.enrollment_grace_sign_ins is not None


@dataclass(frozen=True)
class ApplicationSettings:
    id: int | None
    name: str
    session_duration: dt.timedelta = dt.timedelta(hours=24)
    mfa: MfaConfig = MfaConfig()
    config_version: int = 1


@dataclass(frozen=True)
class PolicySettings:
    id: int | None
    name: str
    decision: str = c.ALLOW
    include: tuple[Rule, ...] = ()
    require: tuple[Rule, ...] = ()
    exclude: tuple[Rule, ...] = ()
    mfa: MfaConfig = MfaConfig()

    # Worked out once per policy object (the runtime keeps its policies per configuration
    # generation), so a policy the user does not match costs a set test and a shared trail step.
    @cached_property
    def include_keys(self) -> frozenset | None:
        """The include rules as :func:`match_keys` keys; ``None`` when a rule cannot be keyed
        (then :func:`policy_matches` decides alone)."""
        keys = set()
        for rule in self.include:
            key = _rule_key(rule)
            if key is _UNKEYABLE:
                return None
            if key is not None:
                keys.add(key)
        return frozenset(keys)

    @cached_property
    def no_include_step(self) -> "Step":
        return _skipped_step(self, NO_INCLUDE)


class Policies(tuple):
    """An application's policies in precedence order (a tuple), indexed once for the resolver:
    which positions each include key (:func:`match_keys`) appears at. With it, a login flow finds
    the policies the user may match without trying the others one by one; without it (a plain
    tuple) every policy's include keys are tested in turn. Either way the decision and the trail
    are the same."""

    @cached_property
    def include_index(self) -> tuple[dict, tuple[int, ...]]:
        """``(key → positions, positions that must always be tried)``."""
        by_key: dict = {}
        always = []
        for position, policy in enumerate(self):
            keys = policy.include_keys
            if keys is None:
                always.append(position)
                continue
            for key in keys:
                by_key.setdefault(key, []).append(position)
        return by_key, tuple(always)

    @cached_property
    def no_include_steps(self) -> tuple["Step", ...]:
        return tuple(policy.no_include_step for policy in self)


@dataclass(frozen=True)
class UserFacts:
    """The user as the application's organization sees them."""

    email: str
    is_member: bool
    roles: frozenset[str] = frozenset()
    enrolled_kinds: frozenset[str] = frozenset()
    #: How many times the user has skipped enrollment in this organization (its grace period).
    grace_sign_ins_used: int = 0
    #: A staff or superuser account: the Admin console's people never get a grace period.
    is_privileged: bool = False


@dataclass(frozen=True)
class SignIn:
    """How this browser session signed in.

    ``amr`` holds the IdP's values (empty for local sign-ins) and ``authenticated_at`` the time
    of that IdP authentication. ``in_sign_in_flow`` is true only while the login flow runs as part
    of the sign-in itself; an AMR duration of ``0m`` accepts the IdP's MFA only then.
    """

    connection: str
    amr: tuple[str, ...] = ()
    authenticated_at: dt.datetime | None = None
    in_sign_in_flow: bool = False


@dataclass(frozen=True)
class MfaSession:
    """A completed independent MFA in this browser session, with one method."""

    kind: str
    verified_at: dt.datetime
    authenticator_id: str = ""


@dataclass(frozen=True)
class AccessRequest:
    environment: EnvironmentSettings
    organization: OrganizationSettings
    application: ApplicationSettings
    policies: tuple[PolicySettings, ...]
    user: UserFacts
    sign_in: SignIn
    mfa_sessions: tuple[MfaSession, ...] = ()
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


# -------------------------------------------------------------------------------------- output
@dataclass(frozen=True)
class Step:
    level: str
    message: str
    #: A policy tried before the one that decided, which did not match (a configuration can have
    #: thousands: what keeps the trail short can drop these, never the others).
    skipped: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"[{self.level}] {self.message}"


@dataclass(frozen=True)
class Grace:
    """What remains of an organization's enrollment grace period for one user who must enroll.
    ``until`` and ``sign_ins_left`` are ``None`` when the period has no limit of that kind."""

    until: dt.datetime | None = None
    sign_ins_left: int | None = None


@dataclass(frozen=True)
class Decision:
    """What resolution concluded, and why.

    - ``outcome``: ``allow``, ``deny`` or ``bypass``.
    - ``mfa_required`` with ``allowed_authenticators`` (canonical order) and ``session_duration``
      (how long an MFA session counts; ``0m`` means every login flow).
    - ``satisfied_by``: ``not_required``, ``amr_match``, ``mfa_session``, ``prompt`` (show the
      challenge with the user's enrolled kinds in ``prompt_kinds``) or ``enroll`` (nothing
      enrolled of an allowed kind); ``None`` when refused.
    - ``grace``: with ``enroll`` only, what remains of the organization's enrollment grace period
      (the user may skip enrolling this once); ``None`` when there is none or it has run out.
    - ``decided_by``: the level that decided the requirement (or the refusal).
    - ``app_session_duration``: how long the app session granted after this flow lasts.
    """

    outcome: str
    mfa_required: bool
    allowed_authenticators: tuple[str, ...]
    session_duration: dt.timedelta | None
    satisfied_by: str | None
    decided_by: str
    policy: str | None
    policy_id: int | None
    app_session_duration: dt.timedelta
    trail: tuple[Step, ...]
    prompt_kinds: tuple[str, ...] = ()
    satisfied_kind: str | None = None
    amr_matched: tuple[str, ...] = ()
    grace: Grace | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome in (c.ALLOW, c.BYPASS)

    @property
    def needs_user_action(self) -> bool:
        return self.allowed and self.satisfied_by in (PROMPT, ENROLL)

    @property
    def refusal(self) -> str | None:
        return self.trail[-1].message if self.outcome == c.DENY else None


# ------------------------------------------------------------------------------------ helpers
def ordered_kinds(kinds) -> tuple[str, ...]:
    """``kinds`` in the canonical order (authenticator application, security key, biometrics),
    unknown values dropped: the one order every list of methods uses."""
    return tuple(k for k in c.AUTHENTICATOR_KINDS if k in kinds)


def kinds_text(kinds, *, capitalize: bool = False) -> str:
    """The methods as a person reads them, in canonical order: “authenticator application, security
    key or biometrics” — the one wording of the trail, the pages and the messages."""
    names = [c.AUTHENTICATOR_LABELS[k].lower() for k in ordered_kinds(kinds)]
    text = "no method" if not names else names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return text[:1].upper() + text[1:] if capitalize else text


def effective_methods(environment: EnvironmentSettings, organization_methods: frozenset[str]) -> tuple[frozenset[str], bool]:
    """The methods an organization's inherited MFA allows: its own ``allowed_authenticators`` or,
    when it chose none while the environment requires MFA, the environment's default methods.
    Returns ``(methods, whether they are the environment's)``."""
    if not organization_methods and environment.mfa_requirement == c.ENV_YES:
        return frozenset(environment.allowed_authenticators), True
    return frozenset(organization_methods), False


def _fmt(duration: dt.timedelta | None) -> str:
    """A duration in the trail, in the seeds' spelling (whole minutes, rounded down)."""
    return "-" if duration is None else format_duration(duration - duration % dt.timedelta(minutes=1))


def _rule_text(rule: Rule) -> str:
    return rule.selector if rule.selector == c.SELECTOR_EVERYONE else f"{rule.selector}={rule.value}"


def rule_matches(rule: Rule, user: UserFacts, sign_in: SignIn) -> bool:
    """Whether one rule matches. Non-members match no rule (spec §3.1.1)."""
    if not user.is_member:
        return False
    selector, value = rule.selector, rule.value
    if selector == c.SELECTOR_EVERYONE:
        return True
    if selector == c.SELECTOR_EMAIL:
        return user.email.lower() == value.lower()
    if selector == c.SELECTOR_EMAIL_DOMAIN:
        return user.email.lower().rpartition("@")[2] == value.lower().lstrip("@")
    if selector == c.SELECTOR_ROLE:
        return value in user.roles
    if selector == c.SELECTOR_CONNECTION:
        return sign_in.connection == value
    if selector == c.SELECTOR_AUTH_METHOD:
        # Exact: amr values are case-sensitive (RFC 8176), and only this sign-in's values count.
        return value in sign_in.amr
    return False  # an unknown selector never matches


_UNKEYABLE = object()
_KEYED_AS_IS = (c.SELECTOR_ROLE, c.SELECTOR_CONNECTION, c.SELECTOR_AUTH_METHOD)


def _rule_key(rule: Rule):
    """What :func:`rule_matches` compares, as a hashable key: ``None`` for a rule that never
    matches (an unknown selector), ``_UNKEYABLE`` for a value that is not text."""
    selector, value = rule.selector, rule.value
    if selector == c.SELECTOR_EVERYONE:
        return (c.SELECTOR_EVERYONE,)
    if not isinstance(value, str):
        return _UNKEYABLE
    if selector == c.SELECTOR_EMAIL:
        return (c.SELECTOR_EMAIL, value.lower())
    if selector == c.SELECTOR_EMAIL_DOMAIN:
        return (c.SELECTOR_EMAIL_DOMAIN, value.lower().lstrip("@"))
    for keyed in _KEYED_AS_IS:
        if selector == keyed:
            return (keyed, value)
    return None


def match_keys(user: UserFacts, sign_in: SignIn) -> frozenset | None:
    """The keys of every rule that matches this user and sign-in (see :func:`_rule_key`): a rule
    matches exactly when its key is among them. ``None`` when a fact is not text."""
    if not user.is_member:
        return frozenset()
    facts = (user.email, sign_in.connection, *user.roles, *sign_in.amr)
    if not all(isinstance(fact, str) for fact in facts):
        return None
    email = user.email.lower()
    return frozenset((
        (c.SELECTOR_EVERYONE,), (c.SELECTOR_EMAIL, email), (c.SELECTOR_EMAIL_DOMAIN, email.rpartition("@")[2]),
        (c.SELECTOR_CONNECTION, sign_in.connection),
        *((c.SELECTOR_ROLE, role) for role in user.roles), *((c.SELECTOR_AUTH_METHOD, v) for v in sign_in.amr),
    ))


NO_INCLUDE = "no include rule matches"


def _skipped_step(policy: PolicySettings, why: str) -> Step:
    return Step(POLICY, f"policy “{policy.name}” does not match: {why}", skipped=True)


def _candidates(policies, keys: frozenset | None):
    """The positions, ascending, of the policies whose include rules may match ``keys`` — every
    other one certainly matches none. All of them when ``keys`` is ``None``."""
    if keys is None:
        return range(len(policies))
    if isinstance(policies, Policies):
        by_key, always = policies.include_index
        found = set(always)
        for key in keys:
            found.update(by_key.get(key, ()))
        return sorted(found)
    return [position for position, policy in enumerate(policies)
            if policy.include_keys is None or not policy.include_keys.isdisjoint(keys)]


def _no_include_steps(policies, start: int, stop: int):
    if start >= stop:
        return ()
    if isinstance(policies, Policies):
        return policies.no_include_steps[start:stop]
    return [policy.no_include_step for policy in policies[start:stop]]


def policy_matches(policy: PolicySettings, user: UserFacts, sign_in: SignIn) -> tuple[bool, str]:
    """``(matched, why)`` for one policy: include any, require all, exclude none."""
    included = [r for r in policy.include if rule_matches(r, user, sign_in)]
    if not included:
        return False, NO_INCLUDE
    for rule in policy.require:
        if not rule_matches(rule, user, sign_in):
            if rule.selector == c.SELECTOR_AUTH_METHOD:
                shown = ", ".join(sign_in.amr) or "none"
                return False, (
                    f"require {_rule_text(rule)} does not match: this sign-in’s amr is [{shown}], so the "
                    "identity provider did not report that method"
                )
            return False, f"require {_rule_text(rule)} does not match"
    for rule in policy.exclude:
        if rule_matches(rule, user, sign_in):
            return False, f"exclude {_rule_text(rule)} matches"
    return True, f"include {_rule_text(included[0])} matches"


# ------------------------------------------------------------------------------------ resolve
@dataclass
class _Requirement:
    required: bool
    kinds: frozenset[str]
    duration: dt.timedelta | None
    decided_by: str


def resolve(request: AccessRequest) -> Decision:
    """Apply spec §3.1–3.3 to ``request`` and explain the result."""
    trail: list[Step] = []
    app, org, user, sign_in = request.application, request.organization, request.user, request.sign_in

    def deny(level: str, message: str, policy: PolicySettings | None = None) -> Decision:
        trail.append(Step(level, message))
        return Decision(
            outcome=c.DENY, mfa_required=False, allowed_authenticators=(), session_duration=None,
            satisfied_by=None, decided_by=level, policy=policy.name if policy else None,
            policy_id=policy.id if policy else None, app_session_duration=app.session_duration,
            trail=tuple(trail),
        )

    # §3.1 access policies
    if not user.is_member:
        trail.append(Step(ACCESS, f"{user.email} is not a member of organization “{org.name}”, so no identity rule can match"))
    matched: PolicySettings | None = None
    policies = request.policies
    tried = 0  # the policies before this position are in the trail
    for position in _candidates(policies, match_keys(user, sign_in)):
        # Those in between match no include rule: their steps are what policy_matches would say, built once.
        trail.extend(_no_include_steps(policies, tried, position))
        tried = position + 1
        policy = policies[position]
        ok, why = policy_matches(policy, user, sign_in)
        if ok:
            trail.append(Step(POLICY, f"policy “{policy.name}” ({policy.decision}) matches: {why}"))
            matched = policy
            break
        trail.append(_skipped_step(policy, why))
    if matched is None:
        trail.extend(_no_include_steps(policies, tried, len(policies)))
        if not request.policies:
            return deny(ACCESS, f"application “{app.name}” has no policies, so nobody is allowed")
        return deny(ACCESS, f"no policy of application “{app.name}” matches {user.email}, so access is refused")
    if matched.decision == c.DENY:
        return deny(POLICY, f"policy “{matched.name}” denies access", matched)
    if matched.decision == c.BYPASS:
        trail.append(Step(POLICY, f"policy “{matched.name}” bypasses identity and MFA checks"))
        return Decision(
            outcome=c.BYPASS, mfa_required=False, allowed_authenticators=(), session_duration=None,
            satisfied_by=NOT_REQUIRED, decided_by=POLICY, policy=matched.name, policy_id=matched.id,
            app_session_duration=app.session_duration, trail=tuple(trail),
        )

    # §3.2 the independent MFA requirement, most specific level first
    req = _requirement(request, matched, trail)

    def allow(satisfied_by: str, **extra) -> Decision:
        return Decision(
            outcome=c.ALLOW, mfa_required=req.required, allowed_authenticators=ordered_kinds(req.kinds),
            session_duration=req.duration, satisfied_by=satisfied_by, decided_by=req.decided_by,
            policy=matched.name, policy_id=matched.id, app_session_duration=app.session_duration,
            trail=tuple(trail), **extra,
        )

    if not req.required:
        return allow(NOT_REQUIRED)
    if not req.kinds:
        # Required, yet no method can satisfy it: a configuration error. Refuse, never allow.
        return deny(req.decided_by, "MFA is required but no authenticator kinds are allowed; an admin must choose "
                    "methods for this organization or the environment", matched)

    # §3.3 satisfying the requirement (methods M, duration D)
    kinds, duration = req.kinds, req.duration
    amr_kinds = _amr_match(request, kinds, trail)
    if amr_kinds:
        return allow(BY_AMR, satisfied_kind=ordered_kinds(amr_kinds)[0],
                     amr_matched=tuple(v for v in sign_in.amr if c.AMR_TO_KIND.get(v) in kinds))

    session = _live_mfa_session(request, kinds, duration, trail)
    if session is not None:
        return allow(BY_MFA_SESSION, satisfied_kind=session.kind)

    enrolled = ordered_kinds(user.enrolled_kinds & kinds)
    if enrolled:
        trail.append(Step(SESSION, f"prompt for {kinds_text(enrolled)} (enrolled and allowed)"))
        return allow(PROMPT, prompt_kinds=enrolled)
    trail.append(Step(SESSION, f"nothing enrolled of the allowed kinds ({kinds_text(kinds)}): enroll one first"))
    return allow(ENROLL, grace=_grace(request, trail))


def when_text(moment: dt.datetime, *, long: bool = False) -> str:
    """A moment as the trail and the pages print it, in UTC: “1 Dec 2026, 14:30 UTC”
    (``long``: “1 December 2026, 14:30 UTC”)."""
    moment = moment.astimezone(dt.timezone.utc)
    month = moment.strftime("%B" if long else "%b")
    return f"{moment.day} {month} {moment.year}, {moment:%H:%M} UTC"


def _sign_ins_text(count: int) -> str:
    return f"{count} sign-in{'' if count == 1 else 's'}"


def grace_left(organization: OrganizationSettings, *, sign_ins_used: int, now: dt.datetime) -> Grace | None:
    """What remains of ``organization``'s enrollment grace period for a user who has skipped
    ``sign_ins_used`` times, or ``None`` when it has none or it has run out. With both a date and
    a number of sign-ins, it ends when the first of them runs out."""
    until, allowed = organization.enrollment_grace_until, organization.enrollment_grace_sign_ins
    if until is None and allowed is None:
        return None
    if until is not None and now >= until:
        return None
    left = None if allowed is None else max(0, allowed - max(0, sign_ins_used))
    if left == 0:
        return None
    return Grace(until=until, sign_ins_left=left)


def _grace(request: AccessRequest, trail: list[Step]) -> Grace | None:
    org, now = request.organization, request.now
    if not org.has_enrollment_grace:
        return None
    if request.user.is_privileged:  # SECURITY row 16: no path, the Admin console included, skips MFA
        trail.append(Step(ORGANIZATION, f"organization “{org.name}”’s grace period does not apply to staff "
                                        "accounts; enrollment is required"))
        return None
    used = request.user.grace_sign_ins_used
    grace = grace_left(org, sign_ins_used=used, now=now)
    until, allowed = org.enrollment_grace_until, org.enrollment_grace_sign_ins
    if grace is not None:
        remains = []
        if grace.until is not None:
            remains.append(f"until {when_text(grace.until)}")
        if grace.sign_ins_left is not None:
            remains.append(f"for {grace.sign_ins_left} more sign-in{'' if grace.sign_ins_left == 1 else 's'}")
        whichever = ", whichever ends first" if len(remains) > 1 else ""
        trail.append(Step(ORGANIZATION, f"organization “{org.name}” lets users who have not enrolled skip "
                                        f"enrollment {' or '.join(remains)}{whichever}"))
        return grace
    if until is not None and now >= until:
        why = f"ended on {when_text(until)}"
    else:
        why = f"is used up ({_sign_ins_text(allowed)} skipped)"
    trail.append(Step(ORGANIZATION, f"organization “{org.name}”’s grace period {why}; enrollment is required"))
    return None


def _requirement(request: AccessRequest, policy: PolicySettings, trail: list[Step]) -> _Requirement:
    app, org, env, user, sign_in = (
        request.application, request.organization, request.environment, request.user, request.sign_in,
    )
    if policy.mfa.mode == c.MODE_DISABLED:
        trail.append(Step(POLICY, f"policy “{policy.name}” disables MFA"))
        return _Requirement(False, frozenset(), None, POLICY)
    if policy.mfa.mode == c.MODE_CUSTOM:
        trail.append(Step(POLICY, f"policy “{policy.name}” requires MFA with {kinds_text(policy.mfa.allowed_authenticators)}, "
                                  f"valid for {_fmt(policy.mfa.session_duration)}"))
        return _Requirement(True, policy.mfa.allowed_authenticators, policy.mfa.session_duration, POLICY)
    if app.mfa.mode == c.MODE_DISABLED:
        trail.append(Step(APPLICATION, f"application “{app.name}” disables MFA"))
        return _Requirement(False, frozenset(), None, APPLICATION)
    if app.mfa.mode == c.MODE_CUSTOM:
        trail.append(Step(APPLICATION, f"application “{app.name}” requires MFA with {kinds_text(app.mfa.allowed_authenticators)}, "
                                       f"valid for {_fmt(app.mfa.session_duration)}"))
        return _Requirement(True, app.mfa.allowed_authenticators, app.mfa.session_duration, APPLICATION)

    trail.append(Step(APPLICATION, f"policy and application “{app.name}” respect the global enforcement setting"))
    kinds, from_environment = effective_methods(env, org.allowed_authenticators)
    methods_from = "the environment’s default methods" if from_environment else f"organization “{org.name}”’s methods"

    if env.mfa_requirement == c.ENV_YES:
        level = ENVIRONMENT
        trail.append(Step(ENVIRONMENT, "the environment requires MFA for every organization (it overrides the organization switch)"))
    elif org.mfa_required_for_all_apps:
        level = ORGANIZATION
        trail.append(Step(ORGANIZATION, f"organization “{org.name}” enforces MFA for all applications "
                                        f"(environment: {env.mfa_requirement})"))
    elif env.mfa_requirement == c.ENV_OPTIONAL and user.enrolled_kinds & kinds:
        level = ORGANIZATION
        trail.append(Step(ENVIRONMENT, f"the environment makes MFA optional and {user.email} opted in by enrolling "
                                       f"{kinds_text(user.enrolled_kinds & kinds)}"))
    else:
        level = ORGANIZATION if env.mfa_requirement == c.ENV_NO else ENVIRONMENT
        why = ("the environment makes MFA optional and nothing allowed is enrolled"
               if env.mfa_requirement == c.ENV_OPTIONAL else "the environment does not require MFA")
        trail.append(Step(level, f"organization “{org.name}” does not enforce MFA and {why}"))
        return _Requirement(False, frozenset(), None, level)

    # Exemptions apply on this inherited path only; a connection exemption wins over roles.
    if sign_in.connection in org.exempt_connections:
        trail.append(Step(EXEMPTION, f"sign-in through exempt connection “{sign_in.connection}”: no MFA"))
        return _Requirement(False, frozenset(), None, EXEMPTION)
    if user.roles and user.roles <= org.exempt_roles:
        trail.append(Step(EXEMPTION, f"every role of {user.email} in “{org.name}” is exempt "
                                     f"({', '.join(sorted(user.roles))}): no MFA"))
        return _Requirement(False, frozenset(), None, EXEMPTION)
    if user.roles & org.exempt_roles:
        trail.append(Step(EXEMPTION, f"roles {', '.join(sorted(user.roles & org.exempt_roles))} are exempt but "
                                     f"{', '.join(sorted(user.roles - org.exempt_roles))} are not: MFA applies"))
    trail.append(Step(level, f"MFA with {methods_from}: {kinds_text(kinds)}, valid for {_fmt(org.session_duration)}"))
    return _Requirement(True, kinds, org.session_duration, level)


def _amr_match(request: AccessRequest, kinds: frozenset[str], trail: list[Step]) -> frozenset[str]:
    org, sign_in, now = request.organization, request.sign_in, request.now
    if not org.amr_matching_enabled:
        return frozenset()
    if org.has_required_aaguids:
        trail.append(Step(AMR, "identity provider MFA is skipped: an AAGUID list is set, and amr carries no AAGUID"))
        return frozenset()
    if not sign_in.amr:
        trail.append(Step(AMR, "the identity provider reported no amr values"))
        return frozenset()
    matched = frozenset(c.AMR_TO_KIND[v] for v in sign_in.amr if v in c.AMR_TO_KIND) & kinds
    if not matched:
        trail.append(Step(AMR, f"amr [{', '.join(sign_in.amr)}] maps to no allowed kind ({kinds_text(kinds)})"))
        return frozenset()
    at = sign_in.authenticated_at
    if org.amr_session_duration == dt.timedelta(0):
        if not sign_in.in_sign_in_flow:
            trail.append(Step(AMR, "AMR matching duration is 0m and this is not the sign-in’s own login flow"))
            return frozenset()
    elif at is None or at > now or now - at >= org.amr_session_duration:
        trail.append(Step(AMR, f"the identity provider’s MFA is older than the AMR matching duration "
                               f"({_fmt(org.amr_session_duration)}) or has no usable time"))
        return frozenset()
    trail.append(Step(AMR, f"identity provider MFA [{', '.join(sign_in.amr)}] satisfies {kinds_text(matched)}"))
    return matched


def _live_mfa_session(request: AccessRequest, kinds: frozenset[str], duration: dt.timedelta | None,
                      trail: list[Step]) -> MfaSession | None:
    if duration is None or duration == dt.timedelta(0):
        if duration == dt.timedelta(0):
            trail.append(Step(SESSION, "authentication duration is 0m: MFA on every login flow"))
        return None
    now = request.now
    live = [s for s in request.mfa_sessions
            if s.kind in kinds and s.verified_at <= now and now - s.verified_at < duration]
    if live:
        best = max(live, key=lambda s: s.verified_at)
        trail.append(Step(SESSION, f"MFA with {kinds_text({best.kind})} {_fmt(now - best.verified_at)} ago is within "
                                   f"{_fmt(duration)}"))
        return best
    if any(s.kind in kinds for s in request.mfa_sessions):
        trail.append(Step(SESSION, f"the last MFA with an allowed kind is older than {_fmt(duration)}"))
    elif request.mfa_sessions:
        used = kinds_text({s.kind for s in request.mfa_sessions})
        trail.append(Step(SESSION, f"this session’s MFA with {used} does not count here (allowed: {kinds_text(kinds)})"))
    return None
