"""E-mails to a user about their account's MFA, and the client address recorded with an event.

Every notice is ``templates/enrollment/email/<template>_{subject,message}.txt`` and is sent only
once the transaction that records the event commits: a rolled-back change mails nobody, and a
mail outage is logged, never turned into an error page (the event is already committed).
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from accounts.audit import client_ip  # noqa: F401 — re-exported: the notices and events name it from here

logger = logging.getLogger("mfagate.enrollment")


def notify(user, template: str, **context) -> None:
    """E-mail ``user`` the notice ``templates/enrollment/email/<template>_{subject,message}.txt``
    once the transaction commits."""
    subject = render_to_string(f"enrollment/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"enrollment/email/{template}_message.txt", context)

    def send():
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # the event is committed; a mail outage must not turn it into an error page
            logger.exception("could not send the %s notice to %s", template, user.pk)

    transaction.on_commit(send)
