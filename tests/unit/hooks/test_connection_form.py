"""The ``qwen_asr`` connection form as the API server serves it to the UI, on every Airflow 3.

Airflow >= 3.2 reads ``conn-fields`` from the provider info; 3.0 and 3.1 ask the hook's
``get_connection_form_widgets``. Each check runs in a fresh interpreter: the API server's
``HookMetaService`` and the ``ProvidersManager`` singleton cache what they read.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import pytest

from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from tests.airflow_runner import fresh_interpreter_json
from tests.airflow_versions import before_airflow, needs_airflow

FIELDS = {"region", "workspace", "query_qps", "expected_processes", "status_sweep", "read_timeout"}

#: What Airflow 3.1's API server does when FAB is missing, and what a 3.0 install with FAB (which
#: brings wtforms) has: wtforms importable, so the API server can swap in its stand-in fields.
_STUB_WTFORMS = """
import sys
from importlib.machinery import ModuleSpec
from unittest.mock import MagicMock
for name in ("wtforms", "wtforms.csrf", "wtforms.fields", "wtforms.fields.simple", "wtforms.validators",
             "flask_babel", "flask_appbuilder", "flask_appbuilder.fieldwidgets"):
    stub = sys.modules.setdefault(name, MagicMock())
    stub.__spec__ = ModuleSpec(name, None)
"""


def _hook_meta(*, wtforms: bool) -> dict[str, Any]:
    script = (_STUB_WTFORMS if wtforms else "") + textwrap.dedent(
        """
        import json, warnings
        warnings.simplefilter("error", DeprecationWarning)  # a hook method 3.2+ deprecates
        from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
        [meta] = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "qwen_asr"]
        print("HOOK-META " + json.dumps(meta.model_dump(mode="json")))
        """
    )
    meta: dict[str, Any] = fresh_interpreter_json(script, "HOOK-META ")
    return meta


def _assert_full_form(meta: dict[str, Any]) -> None:
    assert set(meta["extra_fields"]) == FIELDS
    assert meta["extra_fields"]["region"]["schema"]["title"] == "Region"
    assert meta["standard_fields"]["host"]["title"] == "Base URL"
    assert meta["standard_fields"]["password"]["title"] == "API key"
    assert meta["standard_fields"]["login"]["hidden"] is True


@needs_airflow("3.1", "3.0's API server reads hook form fields only when wtforms is installed")
def test_form_has_the_extra_fields_and_labels_without_fab() -> None:
    _assert_full_form(_hook_meta(wtforms=False))


def test_form_has_the_extra_fields_and_labels_with_wtforms() -> None:
    _assert_full_form(_hook_meta(wtforms=True))


@before_airflow("3.1", "Airflow 3.0 needs wtforms (apache-airflow-providers-fab) for any hook's form")
def test_airflow_3_0_without_wtforms_shows_the_standard_form() -> None:
    """The degraded form: Airflow's plain fields, no extras; the connection still works (extra JSON)."""
    try:
        import wtforms  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("wtforms is installed here")
    meta = _hook_meta(wtforms=False)
    assert not meta["extra_fields"]
    assert meta["hook_name"] == "Qwen-ASR (DashScope)"


@needs_airflow("3.2", "3.2 reads conn-fields from the provider info")
def test_hook_leaves_the_form_to_the_provider_info_on_3_2() -> None:
    """Declaring the fields on the hook too would make 3.2+ warn (deprecated) and skip duplicates."""
    assert "get_connection_form_widgets" not in QwenASRHook.__dict__
    assert "get_ui_field_behaviour" not in QwenASRHook.__dict__


@before_airflow("3.2", "3.0 and 3.1 ask the hook for the form")
def test_hook_declares_the_form_before_3_2() -> None:
    assert "get_connection_form_widgets" in QwenASRHook.__dict__
    behaviour = QwenASRHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == ["schema", "login", "port"]
    assert behaviour["relabeling"]["password"] == "API key"


def test_widgets_are_empty_without_wtforms(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_qwenasr.hooks.form import connection_form_widgets

    monkeypatch.setitem(sys.modules, "wtforms", None)
    assert connection_form_widgets() == {}


def test_widget_fields_mirror_conn_fields() -> None:
    """One declaration: the classic widgets are derived from the provider info's conn-fields."""
    from unittest.mock import MagicMock

    from airflow_provider_qwenasr.hooks.form import connection_form_widgets

    stub = MagicMock()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("wtforms", "wtforms.validators", "flask_babel", "flask_appbuilder.fieldwidgets"):
            patch.setitem(sys.modules, name, stub)
        widgets = connection_form_widgets()
    assert set(widgets) == FIELDS
