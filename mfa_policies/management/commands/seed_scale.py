import time
from dataclasses import fields

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from mfa_policies.demo import scale


class Command(BaseCommand):
    help = (
        "Load generator: write many organizations, users, applications, policies and the rows every admin page "
        "lists (defaults: issue 8's scale, one application with 2 000 attached policies), for measuring the admin "
        "console (bench/admin_pages.py). It bypasses the audited services — bulk_create in batches, no validation, "
        "one scale.seed audit event for the whole run — so it refuses a database holding anything but demo and "
        "earlier seed_scale data unless --force. Each run uses a fresh prefix; nothing is reset."
    )

    def add_arguments(self, parser):
        defaults = scale.ScaleSizes()
        for field in fields(scale.ScaleSizes):
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=int, default=getattr(defaults, field.name),
                                metavar="N", help=f"default {getattr(defaults, field.name)}")
        parser.add_argument("--prefix", help="marks this run's rows (default: the first free of s1, s2, …)")
        parser.add_argument("--force", action="store_true",
                            help="write even though the database holds data that is neither demo nor seed_scale's")

    def handle(self, *args, **opts):
        sizes = scale.ScaleSizes(**{field.name: opts[field.name] for field in fields(scale.ScaleSizes)})
        if problems := sizes.problems():
            raise CommandError("; ".join(problems))
        foreign = scale.foreign_data()
        if foreign and not opts["force"]:
            raise CommandError(
                f"refusing to write load data into {connection.settings_dict['NAME']}: it holds {'; '.join(foreign)}, "
                "which neither seed_demo nor seed_scale wrote. Use a database of its own, or --force.")
        prefix = opts["prefix"] or scale.free_prefix()
        if problem := scale.prefix_problem(prefix):
            raise CommandError(problem)
        self.stdout.write(f"seed_scale: prefix {prefix} into {connection.vendor} database "
                          f"{connection.settings_dict['NAME']}")

        def progress(kind, count, seconds):
            if opts["verbosity"] >= 1:
                self.stdout.write(f"  {kind:<16} {count:>8}  {seconds:6.1f} s")

        started = time.perf_counter()
        try:
            counts = scale.build(sizes, prefix=prefix, progress=progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        self.stdout.write(f"created {summary} in {time.perf_counter() - started:.1f} s")
