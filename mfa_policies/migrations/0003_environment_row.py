from django.db import migrations


def create_environment(apps, schema_editor):
    Environment = apps.get_model("mfa_policies", "Environment")
    Environment.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("mfa_policies", "0002_duration_blank_handled_by_validation")]
    operations = [migrations.RunPython(create_environment, migrations.RunPython.noop)]
