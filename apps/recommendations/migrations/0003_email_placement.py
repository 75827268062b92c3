"""The `email` placement that campaign templates use ({% recommendations placement="email" %}):
four products, nothing bought in the last 30 days, available ones only. Editable like any
placement; created only where it does not exist yet."""

from django.db import migrations


def create(apps, schema_editor):
    Placement = apps.get_model("recommendations", "Placement")
    Placement.objects.get_or_create(
        key="email",
        defaults={
            "name": "Email",
            "description": "Recommendation blocks in campaign and journey emails.",
            "default_count": 4,
            "diversity": 0.3,
            "exclude_purchased_days": 30,
            "exclude_out_of_stock": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0002_served_cache_answer")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
