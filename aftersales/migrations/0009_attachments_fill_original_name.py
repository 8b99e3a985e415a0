"""Rows stored before the random names: their file name was the uploader's, so it becomes original_name.

The files stay where they are (evidence/<yyyy>/<mm>/<name>) and are served by the protected file view
like the new ones. A delay-report image had no upload time: it takes its report's.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def base_name(name: str) -> str:
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]


def fill(apps, schema_editor):
    for model_name in ("CaseAttachment", "DelayReportImage"):
        model = apps.get_model("aftersales", model_name)
        batch = []
        for row in model.objects.filter(original_name="").only("pk", "file").iterator(chunk_size=2000):
            row.original_name = base_name(row.file.name)
            batch.append(row)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["original_name"])
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["original_name"])
    DelayReport = apps.get_model("aftersales", "DelayReport")
    DelayReportImage = apps.get_model("aftersales", "DelayReportImage")
    DelayReportImage.objects.update(
        created_at=Subquery(DelayReport.objects.filter(pk=OuterRef("report_id")).values("created_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0008_attachments_random_names_original_name")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
