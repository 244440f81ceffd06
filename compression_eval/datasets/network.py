"""A bounded "can we download from there?" check, run before any tfds download.

tfds retries failed downloads and its HTTP client has no overall deadline, so on a
machine without network a build can stall for minutes before failing with a long
traceback. Probing the source first turns that into a one-line `UserError` in seconds.
"""
from __future__ import annotations

import socket
import threading
import urllib.parse
import urllib.request

from compression_eval.errors import UserError

# Long enough for a slow but working link, short enough that an offline user hardly waits.
PROBE_TIMEOUT_S = 3.0

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _endpoint(url: str) -> tuple[str, int]:
  """The host and port a download of `url` connects to: its proxy's, if one is set."""
  parts = urllib.parse.urlsplit(url)
  proxy = urllib.request.getproxies().get(parts.scheme)
  if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
  return parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)


def reachable(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
  """Whether a TCP connection towards `url` opens within `timeout_s` seconds.

  The socket timeout does not bound the DNS lookup, which can hang for much longer on
  a machine with a broken resolver, so the probe runs in a daemon thread that is simply
  abandoned when time is up.
  """
  host, port = _endpoint(url)
  outcome: list[bool] = []

  def probe() -> None:
    try:
      with socket.create_connection((host, port), timeout=timeout_s):
        outcome.append(True)
    except OSError:
      outcome.append(False)

  thread = threading.Thread(target=probe, daemon=True)
  thread.start()
  thread.join(timeout_s)
  return outcome == [True]


def require_network(url: str, hint: str) -> None:
  """Raises `UserError` with `hint` unless `url`'s server (or proxy) answers quickly."""
  if not reachable(url):
    host, _ = _endpoint(url)
    raise UserError(f"cannot reach {host} (offline?): {hint}")
