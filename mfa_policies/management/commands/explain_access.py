import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mfa_policies import clock
from mfa_policies.access.explain import decision_as_dict, explain
from mfa_policies.models import Application, Connection


class Command(BaseCommand):
    help = "Resolve what a user must present to open an application, and print the decision with its trail."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--app", required=True, help="application name")
        parser.add_argument("--connection", default="password", help="connection key used to sign in (default: password)")
        parser.add_argument("--amr", default="", help="the IdP's amr values, comma-separated, e.g. pwd,hwk")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(email__iexact=opts["email"].strip()).first()
        if user is None:
            raise CommandError(f"--email: no user with email {opts['email']!r}")
        apps = list(Application.objects.select_related("organization").filter(name=opts["app"]))
        if not apps:
            known = ", ".join(Application.objects.order_by("name").values_list("name", flat=True)) or "none"
            raise CommandError(f"--app: no application named {opts['app']!r} (known: {known})")
        if len(apps) > 1:
            raise CommandError(f"--app: {len(apps)} organizations have an application named {opts['app']!r}")
        if not Connection.objects.filter(key=opts["connection"]).exists():
            known = ", ".join(Connection.objects.values_list("key", flat=True)) or "none"
            raise CommandError(f"--connection: no connection with key {opts['connection']!r} (known: {known})")
        amr = tuple(v.strip() for v in opts["amr"].split(",") if v.strip())
        decision = explain(user=user, application=apps[0], connection=opts["connection"], amr=amr, now=clock.now())
        data = decision_as_dict(decision, application=apps[0].name, email=user.email)
        if opts["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(f"{user.email} → {apps[0].name}: {data['summary']}")
        for number, step in enumerate(decision.trail, start=1):
            self.stdout.write(f"  {number}. [{step.level}] {step.message}")
