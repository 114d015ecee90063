"""Seed the DAX node-hour prices (us-east-1) from cachemetrics.pricing; editable in admin."""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    from cachemetrics import pricing

    DaxNodePrice = apps.get_model("cachemetrics", "DaxNodePrice")
    for node_type, hourly in pricing.DAX_NODE_PRICES_US_EAST_1.items():
        DaxNodePrice.objects.get_or_create(
            region="us-east-1",
            node_type=node_type,
            defaults={
                "hourly_usd": Decimal(str(hourly)),
                "source": pricing.DAX_PRICE_SOURCE,
                "as_of": pricing.DAX_PRICE_AS_OF,
                "note": pricing.DAX_PRICE_NOTE[:300],
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("cachemetrics", "DaxNodePrice").objects.filter(region="us-east-1").delete()


class Migration(migrations.Migration):
    dependencies = [("cachemetrics", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
