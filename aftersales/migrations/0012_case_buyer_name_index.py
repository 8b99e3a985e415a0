# The case list's search by buyer nickname, exact through this index (as the order list's).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('aftersales', '0011_bounded_settings_and_rules'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='aftersalecase',
            index=models.Index(fields=['buyer_name'], name='case_buyer_name_idx'),
        ),
    ]
