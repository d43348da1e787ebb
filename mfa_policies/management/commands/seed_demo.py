from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from mfa_policies.demo.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo
from mfa_policies.models import Organization


class Command(BaseCommand):
    help = "Create (or reset) the demo organization of spec §3.5 with its users. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Seed only a database without users or organizations; leave any other alone.")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and (get_user_model().objects.exists() or Organization.objects.exists()):
            self.stdout.write("The database already has users or organizations: the demo is not seeded.")
            return
        org = seed_demo()
        self.stdout.write(f"organization={org.name}")
        self.stdout.write(f"account_id={org.account_id}")
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.email:<18} {user.note}")
