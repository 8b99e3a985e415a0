"""The Celery app: configured from the CELERY_-namespaced Django settings, tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shouhou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
