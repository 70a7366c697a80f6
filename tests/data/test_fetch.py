"""The fetcher against a local HTTP server: download, resume, corruption, offline, verify."""

from __future__ import annotations

import socket
import time

import pytest

from autograder.config import RemoteSource
from autograder.data import problem1
from autograder.data.checksum import sha256_file
from autograder.data.fetch import fetch, part_path
from autograder.data.verify import verify_data
from autograder.errors import DownloadError


@pytest.fixture
def served(config, file_server):
    """A generated problem-1 file served on 127.0.0.1, with the source entry describing it."""
    problem1.generate(config, seed=3)
    path = problem1.data_path(config)
    payload = path.read_bytes()
    file_server.payload = payload
    source = RemoteSource(url=file_server.url, sha256=sha256_file(path), size=len(payload))
    target = config.data.dir / "downloaded.pkl"
    return file_server, source, target


def test_plain_download_verifies_and_renames(served):
    server, source, target = served
    result = fetch(source, target, progress=False)
    assert target.read_bytes() == server.payload
    assert result.downloaded_bytes == source.size and not result.already_present
    assert not part_path(target).exists()


def test_second_fetch_downloads_nothing(served):
    server, source, target = served
    fetch(source, target, progress=False)
    result = fetch(source, target, progress=False)
    assert result.already_present and len(server.requests) == 1


def test_interrupted_transfer_keeps_part_and_resumes_with_range(served):
    server, source, target = served
    server.cut_after = [10_000]
    with pytest.raises(DownloadError, match="transfer interrupted.*run the same command again to resume"):
        fetch(source, target, retries=0, progress=False)
    assert not target.exists()
    assert part_path(target).stat().st_size == 10_000
    result = fetch(source, target, retries=0, progress=False)
    assert server.requests[-1]["range"] == "bytes=10000-"
    assert result.resumed_from == 10_000 and result.downloaded_bytes == source.size - 10_000
    assert target.read_bytes() == server.payload


def test_retries_resume_within_one_call(served):
    server, source, target = served
    server.cut_after = [4_096, 8_192]
    fetch(source, target, retries=2, progress=False)
    assert [r["range"] for r in server.requests] == [None, "bytes=4096-", "bytes=12288-"]
    assert target.read_bytes() == server.payload


def test_server_that_ignores_range_restarts_cleanly(served):
    server, source, target = served
    server.cut_after = [5_000]
    server.ignore_range = True
    fetch(source, target, retries=1, progress=False)
    assert target.read_bytes() == server.payload


def test_corrupted_download_is_rejected_and_nothing_is_written(served):
    server, source, target = served
    server.payload = server.payload[:-1] + bytes([server.payload[-1] ^ 0xFF])
    with pytest.raises(DownloadError, match="does not verify.*nothing was written"):
        fetch(source, target, progress=False)
    assert not target.exists() and not part_path(target).exists()


def test_http_error_is_reported_with_its_status(served):
    server, source, target = served
    server.status = 404
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(source, target, progress=False)
    assert not part_path(target).exists()


def test_unreachable_host_fails_at_once_leaving_nothing(config, tmp_path):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = RemoteSource(url=f"http://127.0.0.1:{port}/x.pkl", sha256="0" * 64, size=10)
    target = tmp_path / "data" / "x.pkl"
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"cannot reach 127\.0\.0\.1:\d+ .*assn1 data generate"):
        fetch(source, target, progress=False)
    assert time.monotonic() - started < 5
    assert not target.exists() and not part_path(target).exists()


def test_verify_rejects_a_corrupted_data_file(config):
    problem1.generate(config)
    path = problem1.data_path(config)
    assert all(r.ok for r in verify_data(config) if r.path.name.startswith("problem1"))
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0x01  # one bit in y's last bytes: still a valid pickle, wrong digest
    path.write_bytes(bytes(raw))
    reports = {r.path: r for r in verify_data(config)}
    assert not reports[path].ok and "neither the course file" in reports[path].message


def test_verify_reports_truncated_file_and_leftover_part(config):
    problem1.generate(config)
    path = problem1.data_path(config)
    path.write_bytes(path.read_bytes()[:1000])
    part_path(path).write_bytes(b"abc")
    reports = {r.path: r for r in verify_data(config)}
    assert not reports[path].ok and "not a pickle of numpy arrays" in reports[path].message
    assert not reports[part_path(path)].ok and "incomplete download" in reports[part_path(path)].message


def test_verify_reports_missing_data(config):
    reports = verify_data(config)
    names = {r.path.name for r in reports}
    assert names == {"problem1_Xy.pkl"} | {f"{k}_{s}.gz" for s in (7, 8, 9) for k in ("real", "fake")}
    assert all(not r.ok and "missing" in r.message for r in reports)
