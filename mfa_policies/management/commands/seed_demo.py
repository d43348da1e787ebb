from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from mfa_policies.demo.seed import DEMO_PASSWORD, DEMO_USERS, demo_reset
from mfa_policies.models import Organization


class Command(BaseCommand):
    help = ("Create (or reset) the demo organization of spec §3.5 with its users, and say what was reset. "
            "With --if-empty, only into a database without any organization or user (what `make run` and `make serve` do).")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="seed only when the database holds no organization yet; otherwise change nothing")

    def handle(self, *args, **options):
        # A database with any organization or any user is somebody's: never add the demo's accounts
        # (and their published password) to it, never reset what an admin changed.
        users = get_user_model().objects.count()
        if options["if_empty"] and (Organization.objects.exists() or users):
            count = Organization.objects.count()
            held = (f"{count} organization{'s' if count != 1 else ''}" if count
                    else f"{users} user{'s' if users != 1 else ''}")
            self.stdout.write(f"The database already holds {held}: "
                              "the demo was not seeded again and nothing was changed "
                              "(`manage.py seed_demo` resets the demo on purpose).")
            org = Organization.objects.filter(name="Demo").first()
            if org is not None:
                self.stdout.write(f"account_id={org.account_id}")
            self._sign_ins(existing_only=True)
            return
        result = demo_reset()
        org = result.organization
        self.stdout.write(f"organization={org.name}")
        self.stdout.write(f"account_id={org.account_id}")
        created_demo = any(line.startswith("organization “Demo”") for line in result.created)
        if created_demo:
            self.stdout.write(f"created: the demo ({len(result.created)} rows)")
        elif result.created:
            self.stdout.write("created again (they had been deleted):")
            for line in result.created:
                self.stdout.write(f"  {line}")
        if result.reset:
            self.stdout.write("reset:")
            for line in result.reset:
                self.stdout.write(f"  {line}")
        elif not result.created:
            self.stdout.write("reset: nothing — the demo was as seeded")
        self._sign_ins()

    def _sign_ins(self, existing_only=False):
        users = DEMO_USERS
        if existing_only:
            present = set(get_user_model().objects.filter(email__in=[u.email for u in DEMO_USERS])
                          .values_list("email", flat=True))
            users = [u for u in DEMO_USERS if u.email in present]
            if not users:
                self.stdout.write("No demo users in this database (`manage.py seed_demo` adds them).")
                return
            self.stdout.write(f"Demo sign-ins (password as seeded: {DEMO_PASSWORD}, unless changed since):")
        else:
            self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for user in users:
            self.stdout.write(f"  {user.email:<18} {user.note}")
