"""tickets models (see SPEC.md)."""
