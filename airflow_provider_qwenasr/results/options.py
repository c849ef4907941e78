"""The fetch's options and their checks: formats, what goes to XCom, the size limits, renderer options.

Every check here runs before anything is queried or billed (the operators call them from
``check_fetch_options``), and raises :class:`~airflow_provider_qwenasr.exceptions.QwenASRInputError`
naming the argument and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.hooks.download import DEFAULT_MAX_RESULT_BYTES

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_MAX_XCOM_BYTES",
    "DEFAULT_OUTPUT_FORMATS",
    "XCOM_OUTPUTS",
    "check_format_options",
    "check_options",
    "normalize_formats",
]

#: What the fetch returns to XCom: the manifest alone, or with each file's text or whole result.
XCOM_OUTPUTS = ("manifest", "text", "full")
DEFAULT_OUTPUT_FORMATS = ("json", "txt")
DEFAULT_MAX_XCOM_BYTES = 256 * 1024


def normalize_formats(output_formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the output formats lower-cased, without duplicates, in the order given.

    A string is split on commas (a templated ``"json,srt"`` works).

    :raises QwenASRInputError: for a format that is not one of ``json txt srt vtt jsonl``.
    """
    from airflow_provider_qwenasr.formats import check_format

    if output_formats is None:
        return ()
    items = output_formats.split(",") if isinstance(output_formats, str) else list(output_formats)
    names: list[str] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        name = check_format(item)
        if name not in names:
            names.append(name)
    return tuple(names)


def check_options(xcom_output: str, max_xcom_bytes: int, max_result_bytes: int) -> None:
    """Check ``xcom_output`` (one of :data:`XCOM_OUTPUTS`) and that both limits are positive integers.

    :raises QwenASRInputError: naming the first option that is wrong.
    """
    if xcom_output not in XCOM_OUTPUTS:
        raise QwenASRInputError(f"xcom_output must be one of {', '.join(XCOM_OUTPUTS)}, got {xcom_output!r}")
    for name, value in (("max_xcom_bytes", max_xcom_bytes), ("max_result_bytes", max_result_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise QwenASRInputError(f"{name} must be a positive integer, got {value!r}")


def check_format_options(
    format_options: Mapping[str, Mapping[str, Any]] | None, formats: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """The renderer options of the requested ``formats``, each checked against its writer's keywords.

    :raises QwenASRInputError: for an unknown format, options for ``json`` (copied untouched), a
        value that is not a dict, or an option the format's writer does not take.
    """
    if not format_options:
        return {}
    if not isinstance(format_options, Mapping):
        raise QwenASRInputError("format_options must map a format to its options, e.g. {'srt': {...}}")
    from airflow_provider_qwenasr import formats as renderers

    options: dict[str, dict[str, Any]] = {}
    for name, values in format_options.items():
        # The name and the options are checked as formats.write checks them. A value that is not a
        # dict is refused after its name (so checked against no options first), as it always was.
        try:
            fmt, _ = renderers._checked(name, values if isinstance(values, Mapping) else {})
        except QwenASRInputError as exc:
            raise QwenASRInputError(f"format_options[{name!r}]: {exc.message}") from None
        if not isinstance(values, Mapping):
            raise QwenASRInputError(f"format_options[{name!r}] must be a dict of renderer options")
        options[fmt] = dict(values)
    return {fmt: values for fmt, values in options.items() if fmt in formats}
