"""`field__any=[…]`: membership in a list of any length, bound as ONE parameter.

`field__in=[…]` writes one placeholder per value. For the batch paths (a sweep locking 2,000 cases, an
import looking up 50,000 orders, the level job reading 10,000 shops) that costs twice: psycopg splits and
quotes the query client-side per placeholder, and SQLite refuses more than 32,766 of them. This lookup binds
the whole list as one value:

- PostgreSQL: `col = ANY(%s::type[])` — one array parameter of the column's type, without its length or
  precision (so an index on it is used, and no value is cut or rounded into a match);
- SQLite (3.38+, JSON built in): `col IN (SELECT value FROM json_each(%s))` — one JSON text parameter.

Values go through the field's get_db_prep_value first (an id, a code, a date: as `__in` would bind them).
Registered on every concrete field by MerchantsConfig.ready (merchants/apps.py → register()).
"""

from __future__ import annotations

import json
import re

from django.db.models import Field, ForeignObject, Lookup, Model

_TYPE_MODIFIER = re.compile(r"\s*\([^)]*\)")


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False  # a list, not one value of the field

    def get_prep_lookup(self):
        values = self.rhs
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise TypeError(f"__any takes a list of values, not {type(values).__name__}")
        return [value.pk if isinstance(value, Model) else value for value in values]  # an instance: its key

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs]
        if connection.vendor == "postgresql":
            # The column's type without its length or precision: a cast to varchar(32)[] would cut a longer
            # value down to one that matches, a cast to numeric(12,2)[] would round one.
            element = _TYPE_MODIFIER.sub("", field.cast_db_type(connection))
            return f"{lhs} = ANY(%s::{element}[])", [*lhs_params, values]
        if connection.vendor == "sqlite":
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [
                *lhs_params,
                json.dumps(values, default=str),
            ]
        if not values:  # another backend: a plain IN (an empty one would be a syntax error)
            return "0 = 1", []
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # a foreign key keeps lookups of its own: `order__any=[…]`
