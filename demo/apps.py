from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and the demo simulator: the top layer, it imports every app and no app imports it."""

    name = "demo"
