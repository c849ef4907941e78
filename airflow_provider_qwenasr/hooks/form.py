"""The ``qwen_asr`` connection form the classic way (wtforms fields), for Airflow 3.0 and 3.1.

Airflow >= 3.2 builds the form from the provider info's ``conn-fields`` and ``ui-field-behaviour``;
older releases ask the hook's ``get_connection_form_widgets`` and ``get_ui_field_behaviour``. Both
are derived here from the provider info, so the form is declared once.

wtforms, flask_babel and flask_appbuilder are imported when the form is asked for, never at import
time: the API server of 3.0 and 3.1 swaps them for stand-ins while it reads the form, and a worker
without them must still load the hook.
"""

from __future__ import annotations

from typing import Any

__all__ = ["connection_form_widgets", "ui_field_behaviour"]


def _connection_type() -> dict[str, Any]:
    from airflow_provider_qwenasr import get_provider_info

    connection_type: dict[str, Any] = get_provider_info()["connection-types"][0]
    return connection_type


def ui_field_behaviour() -> dict[str, Any]:
    """The provider info's ``ui-field-behaviour``, with the snake_case keys the hook API uses."""
    behaviour = _connection_type()["ui-field-behaviour"]
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }


def connection_form_widgets() -> dict[str, Any]:
    """One wtforms field per ``conn-fields`` entry; empty when wtforms is not installed.

    Airflow accepts string, integer, password and boolean fields only, so a number (``query_qps``)
    is a string field: :func:`~airflow_provider_qwenasr.hooks.connection.settings_from_connection`
    parses it either way.
    """
    try:
        from wtforms import IntegerField, StringField
        from wtforms.validators import Optional
    except ImportError:
        return {}
    try:
        from flask_babel import lazy_gettext
    except ImportError:

        def lazy_gettext(text: str) -> str:
            return text

    try:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget

        widget: Any = BS3TextFieldWidget()
    except ImportError:
        widget = None  # the field class's own widget
    widgets: dict[str, Any] = {}
    for name, field in _connection_type()["conn-fields"].items():
        types = field.get("schema", {}).get("type", "string")
        field_class = (
            IntegerField if "integer" in (types if isinstance(types, list) else [types]) else StringField
        )
        options: dict[str, Any] = {"validators": [Optional()], "description": field.get("description", "")}
        if widget is not None:
            options["widget"] = widget
        widgets[name] = field_class(lazy_gettext(field["label"]), **options)
    return widgets
