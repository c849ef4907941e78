"""``qwenasr-emulator``: run the DashScope emulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .config import SPEAKER_ID_STYLES, EmulatorConfig
from .server import EmulatorServer


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="qwenasr-emulator", description="A local DashScope file-transcription emulator."
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)"
    )
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one; default 8765)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help='accepted key; repeatable (default "sk-emulator")',
    )
    parser.add_argument(
        "--time-speed", type=float, default=defaults.time_speed, help="emulated seconds per real second"
    )
    parser.add_argument("--pending-seconds", type=float, default=defaults.pending_seconds)
    parser.add_argument("--running-seconds", type=float, default=defaults.running_seconds)
    parser.add_argument(
        "--query-qps",
        type=float,
        default=defaults.query_qps,
        help="per-key limit of each of query/list/cancel/customization",
    )
    parser.add_argument(
        "--list-qps",
        type=float,
        default=defaults.list_qps,
        help="per-key limit of the task list alone (default: --query-qps, in a bucket of its own)",
    )
    parser.add_argument(
        "--list-lag-seconds",
        type=float,
        default=defaults.list_lag_seconds,
        help="how many seconds the task list trails the query (default 0)",
    )
    parser.add_argument(
        "--max-files-per-task",
        type=int,
        default=defaults.max_files_per_task,
        help="file limit of every model (default: each model's own, from the model table)",
    )
    parser.add_argument(
        "--submit-per-second",
        type=float,
        default=defaults.submit_per_second,
        help="per-key submit rate of every model family (default 0: only the documented quotas)",
    )
    parser.add_argument(
        "--speaker-id-style",
        choices=SPEAKER_ID_STYLES,
        default=defaults.speaker_id_style,
        help='speaker_id in diarized results: int (0) or spk ("spk0")',
    )
    parser.add_argument(
        "--max-vocabularies-per-key",
        type=int,
        default=defaults.max_vocabularies_per_key,
        help="hot-word tables one key may hold",
    )
    parser.add_argument("--retention-hours", type=float, default=defaults.retention_hours)
    parser.add_argument(
        "--workspace", default=None, help="reject requests naming another X-DashScope-WorkSpace"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding {args.host}: the emulator and its control API are reachable from other hosts",
            file=sys.stderr,
        )
    config = EmulatorConfig(
        api_keys=tuple(args.api_keys or ("sk-emulator",)),
        pending_seconds=args.pending_seconds,
        running_seconds=args.running_seconds,
        time_speed=args.time_speed,
        query_qps=args.query_qps,
        list_qps=args.list_qps,
        list_lag_seconds=args.list_lag_seconds,
        max_files_per_task=args.max_files_per_task,
        submit_per_second=args.submit_per_second,
        speaker_id_style=args.speaker_id_style,
        max_vocabularies_per_key=args.max_vocabularies_per_key,
        retention_hours=args.retention_hours,
        workspace=args.workspace,
    )
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    server = EmulatorServer(config, host=args.host, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        stopping.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
