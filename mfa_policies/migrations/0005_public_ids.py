"""A UUID public id for applications and policies: the REST API's ``id``.

Three steps, so that rows that already exist each get their own UUID: add the column nullable and
without uniqueness, fill every row with a fresh uuid4, then make it unique and not null. The
integer primary keys, and therefore every foreign key, attached policy and app session, are left
as they are; going back drops the column and nothing else.
"""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    for model_name in ("Application", "Policy"):
        model = apps.get_model("mfa_policies", model_name)
        rows = list(model.objects.filter(public_id__isnull=True).only("pk"))
        for row in rows:
            row.public_id = uuid.uuid4()
        model.objects.bulk_update(rows, ["public_id"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("mfa_policies", "0004_connection_provider_id_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="API id"),
        ),
        migrations.AddField(
            model_name="policy",
            name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="API id"),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="application",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="API id",
                help_text="The application's id in the REST API (a UUID, as Cloudflare's clients expect); the "
                "integer primary key stays the id the runtime, the JWT audience and the admin use."),
        ),
        migrations.AlterField(
            model_name="policy",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="API id",
                help_text="The policy's id in the REST API (a UUID); the integer primary key stays the internal id."),
        ),
    ]
