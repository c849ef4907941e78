"""Apache Airflow provider for Qwen-ASR, Alibaba Cloud DashScope's file transcription service.

Importing this package is cheap on purpose: a DAG file that imports an operator pays only for
the modules it names, and the HTTP clients load when a task runs.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ``ProvidersManager`` (entry point ``apache_airflow_provider``).

    Registers the ``qwen_asr`` connection type with its form fields (Airflow >= 3.2 reads
    ``conn-fields`` and ``ui-field-behaviour`` from here), the hooks, operators, sensors and
    triggers, and the operators' extra link.
    """
    return {
        "package-name": "airflow-provider-qwenasr",
        "name": "Qwen-ASR (DashScope)",
        "description": "Transcribe audio with Alibaba Cloud Qwen-ASR / Fun-ASR file transcription.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Qwen-ASR",
                "external-doc-url": "https://www.alibabacloud.com/help/en/model-studio/qwen-asr-api-reference",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "Qwen-ASR", "python-modules": ["airflow_provider_qwenasr.hooks.qwen_asr"]}
        ],
        "operators": [
            {
                "integration-name": "Qwen-ASR",
                "python-modules": ["airflow_provider_qwenasr.operators.qwen_asr"],
            }
        ],
        "sensors": [
            {"integration-name": "Qwen-ASR", "python-modules": ["airflow_provider_qwenasr.sensors.qwen_asr"]}
        ],
        "triggers": [
            {
                "integration-name": "Qwen-ASR",
                "python-modules": ["airflow_provider_qwenasr.triggers.qwen_asr"],
            }
        ],
        "extra-links": ["airflow_provider_qwenasr.operators.links.QwenASRTranscriptLink"],
        "config": {
            "qwen_asr": {
                "description": "The Qwen-ASR provider's pages in the Airflow UI.",
                "options": {
                    "ui_enabled": {
                        "description": "Show the Transcript tab and the Transcriptions page.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "ui_local_roots": {
                        "description": (
                            "Comma-separated folders from which the UI may serve local (file://) "
                            "outputs. Empty: none, since a DAG author could otherwise name any file "
                            "on the api-server. Object-store outputs are not affected."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/data/transcripts",
                        "default": "",
                    },
                    "ui_signing_key": {
                        "description": (
                            "The key that signs each output the fetch operators name in their "
                            "manifest; the UI serves only outputs whose signature checks. Set the "
                            "same value on workers and api-servers (comma-separated: the first "
                            "signs, all verify). Empty: [core] fernet_key is used."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "sensitive": True,
                        "example": "a long random string",
                        "default": "",
                    },
                },
            }
        },
        "connection-types": [
            {
                "connection-type": "qwen_asr",
                "hook-class-name": "airflow_provider_qwenasr.hooks.qwen_asr.QwenASRHook",
                "hook-name": "Qwen-ASR (DashScope)",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "login", "port"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {
                        "host": "empty for the region's default, or https://dashscope-intl.aliyuncs.com",
                        "password": "sk-...",
                    },
                },
                "conn-fields": {
                    "region": {
                        "label": "Region",
                        "description": (
                            "cn (Beijing, default) or intl (Singapore); ignored when a Base URL is set."
                        ),
                        "schema": {"type": ["string", "null"], "enum": ["cn", "intl", None]},
                    },
                    "workspace": {
                        "label": "Workspace ID",
                        "description": "Sent as X-DashScope-WorkSpace when set.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "query_qps": {
                        "label": "Query rate ceiling (queries/s)",
                        "description": "Per-process ceiling for task queries; the account's quota is 20/s.",
                        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
                    },
                    "expected_processes": {
                        "label": "Processes sharing the key",
                        "description": (
                            "How many triggerers/workers poll with this key at once; divides the rate."
                        ),
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "status_sweep": {
                        "label": "Status sweep",
                        "description": (
                            "true (default, when empty) or false: deferred waits learn that their task "
                            "ended from sweeps of the task list instead of each polling its task."
                        ),
                        # Text, not a checkbox: an untouched checkbox would save false and turn it off.
                        "schema": {"type": ["string", "null"], "enum": ["true", "false", None]},
                    },
                    "read_timeout": {
                        "label": "Read timeout (s)",
                        "description": (
                            "Seconds to wait for an answer (default 60); a submit whose answer is "
                            "lost waits twice this before deciding whether a task was created."
                        ),
                        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
                    },
                },
            }
        ],
    }
