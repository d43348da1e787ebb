from django.core.management.base import BaseCommand

from mfa_policies.demo.seed import DEMO_PASSWORD, DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Create (or reset) the demo organization of spec §3.5 with its users. Safe to run again."

    def handle(self, *args, **options):
        org = seed_demo()
        self.stdout.write(f"organization={org.name}")
        self.stdout.write(f"account_id={org.account_id}")
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.email:<18} {user.note}")
