"""Admin registrations for shops and orders (filled in by the workbench work)."""
