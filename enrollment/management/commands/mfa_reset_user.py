from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from enrollment import flows, selectors, throttle


class Command(BaseCommand):
    help = ("Delete every MFA device of a user and clear their MFA verification throttle, audited and e-mailed "
            "as an admin deletion: the way out when the last administrator is locked out.")

    def add_arguments(self, parser):
        parser.add_argument("email", help="the user's e-mail address")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(email__iexact=opts["email"].strip()).first()
        if user is None:
            raise CommandError(f"no user with email {opts['email']!r}: nothing was changed")
        devices = selectors.devices_for(user)
        state = throttle.state_of(user)
        if not devices and state.is_clear:
            self.stdout.write(f"{user.email} has no MFA devices and no failed verifications: nothing to reset.")
            return
        self.stdout.write(f"{user.email}:")
        for device in devices:
            self.stdout.write(f"  MFA device {device.pk}  {device.name} ({device.get_kind_display()})")
        if not state.is_clear:
            self.stdout.write(f"  MFA verification throttle: {state.consecutive_failures} consecutive failed attempts")
        if not opts["yes"]:
            try:
                answer = input(f"Reset MFA for {user.email}: delete {len(devices)} MFA device(s) and clear the "
                               "throttle? Type 'yes' to continue: ")
            except EOFError:  # no terminal to answer from
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("cancelled: nothing was changed")
        actor = flows.CommandActor(command="mfa_reset_user")
        done = flows.mfa_reset_by_command(actor=actor, user=user)
        for device_id, device in done.deleted:
            self.stdout.write(f"deleted MFA device {device_id}  {device.name} ({device.get_kind_display()})")
        if not done.throttle_before.is_clear:
            self.stdout.write(f"cleared the MFA verification throttle "
                              f"({done.throttle_before.consecutive_failures} consecutive failed attempts)")
        self.stdout.write(f"Audited as “{actor}”; {user.email} was e-mailed.")
        if done.deleted:
            self.stdout.write("Each of their browser sessions re-runs the login flow on its next request, which "
                              "sends them to enroll a new device (/AddMfaDevice).")
