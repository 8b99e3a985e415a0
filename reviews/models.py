"""reviews models (see SPEC.md)."""
