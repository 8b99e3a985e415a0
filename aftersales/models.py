"""aftersales models (see SPEC.md)."""
