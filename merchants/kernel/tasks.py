"""Publishing an app's Celery tasks from its services without importing them.

An app's tasks.py calls its services; if the services imported tasks.py back, the two would form an
import circle (import-linter forbids it). So the services publish a task by its registered Celery name,
and each app's AppConfig.ready imports its tasks so that the names are known in every process.
"""

from celery import current_app


def enqueue(task_name: str, *args) -> None:
    """Publish the registered task `task_name` (its Celery name) with `args`; callers do it on commit."""
    current_app.tasks[task_name].delay(*args)
