"""The scoped base of every import/export resource (STYLE §7, B-4, B-6).

A resource always knows its actor: exports read only the actor's shops, whatever queryset they are
handed; import lookups read only the actor's shops, so another shop's id fails its row instead of
updating it; a new row gets the actor's shop when the actor is a member of exactly one, and a row
naming a shop the actor may not touch is an error, never a write; an FSM `status` is never imported
(state changes go through the services). The admin side is merchants.kernel.admin.importexport.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMFieldMixin
from import_export import resources

from merchants.kernel.scoping import merchant_ids_for, scope_to_actor, sees_all

_REQUIRED = object()

# B-6: a cell starting with one of these is a formula to Excel/WPS/LibreOffice (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix a formula-looking text cell with an apostrophe so the spreadsheet shows it as text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class MerchantScopedResource(resources.ModelResource):
    """Base of every resource of a merchant-owned model: constructed with `actor=` (None = the system)."""

    def __init__(self, *, actor=_REQUIRED, **kwargs):
        if actor is _REQUIRED:
            raise TypeError(
                f"{type(self).__name__} needs actor= (the user importing or exporting, None = system)"
            )
        super().__init__(**kwargs)
        self.actor = actor
        self._refuse_state_fields()

    def _refuse_state_fields(self) -> None:
        model = self._meta.model
        state_fields = {f.name for f in model._meta.concrete_fields if isinstance(f, FSMFieldMixin)}
        writable = sorted(
            field.attribute
            for field in self.fields.values()
            if field.attribute and not field.readonly and field.attribute.split("__")[0] in state_fields
        )
        if writable:  # an export shows the state through a dehydrate_ method, with no attribute to write
            raise ImproperlyConfigured(
                f"{type(self).__name__} maps {writable}: state moves through the services, never an import"
            )

    # -- exports

    def get_queryset(self):
        return scope_to_actor(super().get_queryset(), self.actor)

    def filter_export(self, queryset, **kwargs):
        # Whatever the caller passes, nothing outside the actor's shops leaves the building.
        return scope_to_actor(queryset, self.actor)

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))

    # -- imports

    def import_data(
        self, dataset, *args, use_transactions=True, rollback_on_validation_errors=True, **kwargs
    ):
        """B-3, all or nothing: any bad row (an error or a validation error) rolls the whole import back."""
        return super().import_data(
            dataset,
            *args,
            use_transactions=use_transactions,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kwargs,
        )

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        if not hasattr(instance, "merchant_id") or sees_all(self.actor):
            return  # the system and platform staff name the shop in each row (the platform's feeds)
        shops = merchant_ids_for(self.actor)
        if instance.merchant_id is None and len(shops) == 1:
            instance.merchant_id = shops[0]  # a member of one shop imports into it
        merchant_id = instance.merchant_id
        if merchant_id is None or merchant_id not in merchant_ids_for(self.actor):
            raise ValidationError(
                _("该行属于其他店铺，或未指定店铺：您只能导入自己店铺的数据。"), code="other_shop"
            )
