"""``manage.py create_api_token --account-id ID --scope SCOPE [--scope …] [--name N] [--expires-in 30d]
[--owner EMAIL]``: create an API token through the audited service and print it as the last line.

The token acts as ``--owner`` (an active admin); without it, as the only active superuser.
"""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken
from api.scopes import SCOPES
from api.services import api_token_create
from mfa_policies import clock
from mfa_policies.models import Organization

_EXPIRES = re.compile(r"^(\d{1,5})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_expires_in(value: str) -> dt.timedelta:
    match = _EXPIRES.match(value.strip())
    if match is None or int(match[1]) == 0:
        raise CommandError(f"--expires-in: “{value}” is not a duration such as 30d, 12h or 90m.")
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = "Create a REST API token for an organization (account) and print it; it is shown only once."

    def add_arguments(self, parser):
        parser.add_argument("--account-id", required=True, help="the organization's account id (32 hex)")
        parser.add_argument("--scope", action="append", required=True, choices=SCOPES, dest="scopes",
                            help="a scope; repeat for more")
        parser.add_argument("--name", default="manage.py create_api_token", help="a name to recognise it by")
        parser.add_argument("--expires-in", default=None, help="e.g. 30d, 12h, 90m (default: never)")
        parser.add_argument("--owner", default=None,
                            help="email of the admin the token acts as (default: the only active superuser)")

    def handle(self, *args, **opts):
        org = Organization.objects.filter(account_id=opts["account_id"].strip().lower()).first()
        if org is None:
            raise CommandError(f"--account-id: no organization with account id {opts['account_id']!r}")
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        if opts["owner"]:
            owner = users.filter(email__iexact=opts["owner"].strip()).first()
            if owner is None:
                raise CommandError(f"--owner: no active admin with email {opts['owner']!r}")
        else:
            superusers = list(users.filter(is_superuser=True)[:2])
            if len(superusers) != 1:
                raise CommandError("--owner: name the admin the token acts as "
                                   f"({'several' if superusers else 'no'} active superusers to choose from)")
            owner = superusers[0]
        expires_at = clock.now() + parse_expires_in(opts["expires_in"]) if opts["expires_in"] else None
        token = ApiToken(name=opts["name"], owner=owner, organization=org, scopes=list(dict.fromkeys(opts["scopes"])),
                         expires_at=expires_at)
        try:
            token, plaintext = api_token_create(acting_user=owner, token=token)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Created API token {token.name!r} ({token.key_id}…) for {org.name} acting as {owner.email}, "
                          f"scopes {', '.join(token.scopes)}, "
                          f"{'expires ' + expires_at.isoformat() if expires_at else 'never expires'}. "
                          "It is not stored and will not be shown again:")
        self.stdout.write(plaintext)
