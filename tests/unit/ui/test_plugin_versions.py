"""What the UI plugin gets from each Airflow 3: the pages everywhere, the tab and menu entry on 3.1+.

Each check runs in a fresh interpreter, since Airflow's plugins manager keeps what it loaded.
"""

from __future__ import annotations

import textwrap
from typing import Any

from tests.airflow_runner import fresh_interpreter_json
from tests.airflow_versions import before_airflow, needs_airflow

#: ``get_plugin_info`` dumps the plugin attributes the running Airflow knows (3.0: no external views).
_SCRIPT = textwrap.dedent(
    """
    import json
    from airflow import plugins_manager
    [info] = [p for p in plugins_manager.get_plugin_info() if p["name"] == "qwen_asr"]
    apps = [app["url_prefix"] for app in info["fastapi_apps"]]
    views = [view["destination"] for view in info["external_views"]] if "external_views" in info else None
    print("PLUGINS " + json.dumps({"apps": apps, "views": views}))
    """
)


def _loaded() -> dict[str, Any]:
    loaded: dict[str, Any] = fresh_interpreter_json(_SCRIPT, "PLUGINS ")
    return loaded


@needs_airflow("3.1", "external views (plugin tabs and menu entries) arrived in 3.1")
def test_pages_tab_and_menu_entry_are_registered() -> None:
    loaded = _loaded()
    assert "/qwen-asr" in loaded["apps"]
    assert sorted(loaded["views"]) == ["nav", "task_instance"]


@before_airflow("3.1", "Airflow 3.0 has no external views")
def test_airflow_3_0_serves_the_pages_without_tab_or_menu_entry() -> None:
    """The degraded UI: the app is mounted at /qwen-asr (open it by URL), nothing links to it."""
    loaded = _loaded()
    assert "/qwen-asr" in loaded["apps"]
    assert loaded["views"] is None
