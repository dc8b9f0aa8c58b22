"""One new row in one ``INSERT … RETURNING`` whose SQL is built once per model.

``QuerySet.create`` compiles its INSERT statement again on every call: for the rows written
on every intake and every state change (work order, address, event) that compilation was
about a tenth of the request's CPU (docs/workorders.md, "Intake under load"). :func:`insert`
does what ``Model.save()`` does for a new row of a plain model — each field's ``pre_save``
(``auto_now_add``, …) and the database's value preparation, the primary key read back — with
the statement cached per model and database.

Anything it does not cover goes through ``Model.save()`` unchanged: a model with its own
``save()``, ``pre_save``/``post_save`` receivers, multi-table inheritance, generated or
database-default columns, a value that is an expression, or a database that cannot return
the new key.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connections, router, transaction
from django.db.models import Model, signals
from django.db.models.fields import NOT_PROVIDED

M = TypeVar("M", bound=Model)

_statements: dict[tuple[type[Model], str, bool], tuple[str, list] | None] = {}


def _statement(model: type[Model], alias: str, with_pk: bool) -> tuple[str, list] | None:
    """The cached SQL and fields for ``model`` on ``alias``; None if save() must do it."""
    key = (model, alias, with_pk)
    if key in _statements:
        return _statements[key]
    meta = model._meta
    connection = connections[alias]
    plain = (
        model.save is Model.save  # an overridden save() must run
        and not meta.parents
        and not meta.proxy
        and connection.features.can_return_columns_from_insert
        and all(
            not getattr(field, "generated", False) and field.db_default is NOT_PROVIDED
            for field in meta.local_concrete_fields
        )
    )
    statement = None
    if plain:
        fields = [
            field for field in meta.local_concrete_fields if with_pk or field is not meta.auto_field
        ]
        quote = connection.ops.quote_name
        statement = (
            # Only names from the model's meta, quoted by the backend; values are parameters.
            "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}".format(  # noqa: S608
                table=quote(meta.db_table),
                columns=", ".join(quote(field.column or field.name) for field in fields),
                values=", ".join(["%s"] * len(fields)),
                pk=quote(meta.pk.column or meta.pk.name),
            ),
            fields,
        )
    _statements[key] = statement
    return statement


def insert(instance: M, *, using: str | None = None) -> M:
    """Save ``instance`` as a new row and return it (with its primary key set)."""
    model = type(instance)
    alias = using or router.db_for_write(model, instance=instance)
    meta = model._meta
    with_pk = instance.pk is not None or meta.auto_field is None
    statement = _statement(model, alias, with_pk)
    if statement is None or _has_receivers(model):
        instance.save(force_insert=True, using=alias)
        return instance
    sql, fields = statement
    # The same check as save(): a related object assigned before it was saved is refused.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    connection = connections[alias]
    values = []
    for field in fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            instance.save(force_insert=True, using=alias)
            return instance
        values.append(field.get_db_prep_save(value, connection))
    # As save(): an error inside an atomic block marks it for rollback even if caught.
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, values)
        (pk,) = cursor.fetchone()
    setattr(instance, meta.pk.attname, meta.pk.to_python(pk))
    instance._state.adding = False
    instance._state.db = alias
    return instance


def _has_receivers(model: type[Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
