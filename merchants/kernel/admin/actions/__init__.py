"""The admin's two action kits: a move on one object on its own page (pages.py), and a move on many
objects with a confirmation and a result per object (bulk.py)."""

from merchants.kernel.admin.actions.bulk import BulkAction, BulkRow, bulk_action, run_bulk
from merchants.kernel.admin.actions.pages import ConfirmForm, ObjectAction, ObjectActionsMixin

__all__ = [
    "BulkAction",
    "BulkRow",
    "ConfirmForm",
    "ObjectAction",
    "ObjectActionsMixin",
    "bulk_action",
    "run_bulk",
]
