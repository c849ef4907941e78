"""The emulator's clock: real time, sped up and moved forward on request.

Every time the emulator reads (task lifecycle, expiry of results, policies and tasks) comes from one
:class:`Clock`, never from ``time.time()`` or ``datetime.now()``, so tests can jump a day ahead.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Epoch seconds that run ``speed`` times as fast as real time, plus any :meth:`advance`.

    :param speed: the initial speed factor (1.0 = real time).
    :param start: the epoch seconds the clock shows now (default: the real time).
    """

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._base = time.time() if start is None else float(start)
        self._mono0 = time.monotonic()

    def now(self) -> float:
        """The emulated epoch time in seconds."""
        with self._lock:
            return self._base + (time.monotonic() - self._mono0) * self._speed

    @property
    def speed(self) -> float:
        """How many emulated seconds pass per real second."""
        return self._speed

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base += float(seconds)
        return self.now()

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on; the time shown does not jump."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            mono = time.monotonic()
            # Re-base so the reading stays continuous across the change.
            self._base += (mono - self._mono0) * self._speed
            self._mono0 = mono
            self._speed = float(speed)

    @staticmethod
    def monotonic() -> float:
        """Real monotonic seconds: rate limits count real requests per real second."""
        return time.monotonic()
