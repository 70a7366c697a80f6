"""Download a data file whose size and sha256 are known: streamed, resumable, verified.

Bytes go to `<name>.part` beside the target; only a file of the right size and digest is renamed
to the target, so the target is either absent or correct. An interrupted transfer leaves the
`.part` file and the next call resumes it with an HTTP Range request. A host that can't be
reached at all fails at once, before any file is created.
"""

from __future__ import annotations

import http.client
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from autograder.config import RemoteSource
from autograder.data.checksum import CHUNK, sha256_file
from autograder.errors import DownloadError


@dataclass(frozen=True)
class FetchResult:
    path: Path
    downloaded_bytes: int
    resumed_from: int
    already_present: bool


class _Interrupted(Exception):
    """The transfer stopped before all bytes arrived; the .part file keeps what did."""


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def fetch(
    source: RemoteSource,
    dest: str | Path,
    *,
    timeout_s: float = 15.0,
    retries: int = 2,
    progress: bool = True,
) -> FetchResult:
    """Make `dest` hold the verified bytes of `source`, downloading or resuming as needed."""
    dest = Path(dest)
    if dest.is_file() and dest.stat().st_size == source.size and sha256_file(dest) == source.sha256:
        return FetchResult(dest, 0, 0, already_present=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    first_offset = part.stat().st_size if part.exists() else 0
    downloaded = 0
    for attempt in range(retries + 1):
        try:
            downloaded += _download(source, part, timeout_s, progress)
            break
        except _Interrupted as exc:
            if attempt == retries:
                raise DownloadError(
                    f"{source.url}: transfer interrupted ({exc}); {part.stat().st_size if part.exists() else 0:,} of "
                    f"{source.size:,} bytes kept in {part.name}; run the same command again to resume."
                ) from None
    _verify_part(source, part)
    os.replace(part, dest)
    return FetchResult(dest, downloaded, first_offset, already_present=False)


def _download(source: RemoteSource, part: Path, timeout_s: float, progress: bool) -> int:
    """Append the missing bytes of `source` to `part`; return how many bytes arrived."""
    have = part.stat().st_size if part.exists() else 0
    if have > source.size:
        part.unlink()
        have = 0
    if have == source.size:
        return 0
    request = urllib.request.Request(source.url, headers={"User-Agent": "assn1-fetch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            part.unlink()  # our partial file doesn't fit the server's; start over next attempt
            raise _Interrupted("server refused to resume; starting over") from None
        raise DownloadError(f"{source.url}: server answered HTTP {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        host = urlsplit(source.url).netloc
        raise DownloadError(
            f"cannot reach {host} ({reason}); check the network, or use `assn1 data generate` for offline look-alikes."
        ) from None
    received = 0
    with response:
        mode = "ab" if have and response.status == 206 else "wb"
        start = have if mode == "ab" else 0
        with (
            open(part, mode) as out,
            tqdm(
                total=source.size,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=None if progress else True,
                leave=False,
            ) as bar,
        ):
            try:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
            except (http.client.HTTPException, ConnectionError, socket.timeout, TimeoutError) as exc:
                raise _Interrupted(type(exc).__name__) from None
    total = start + received
    if total < source.size:
        raise _Interrupted(f"connection closed after {total:,} of {source.size:,} bytes")
    return received


def _verify_part(source: RemoteSource, part: Path) -> None:
    size = part.stat().st_size
    digest = sha256_file(part)
    if size != source.size or digest != source.sha256:
        part.unlink()
        raise DownloadError(
            f"{source.url}: downloaded file does not verify (size {size:,}, expected {source.size:,}; "
            f"sha256 {digest[:12]}..., expected {source.sha256[:12]}...); removed it, nothing was written."
        )
