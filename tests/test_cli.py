"""The `assn1` command: version, data generate/fetch/verify, one-line errors and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from autograder import __version__
from autograder.cli import main
from autograder.data.checksum import sha256_file


def test_console_script_reports_the_version():
    exe = shutil.which("assn1") or str(Path(sys.executable).with_name("assn1"))
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"assn1 {__version__}"


def test_generate_then_verify_passes(config_file, capsys):
    assert main(["--config", str(config_file), "data", "generate"]) == 0
    assert main(["--config", str(config_file), "data", "verify"]) == 1  # the P4 test segments are missing
    assert "real_7.gz: missing (a P4 test segment); run `assn1 data generate --problem 4`" in capsys.readouterr().out
    p4 = ["data", "generate", "--problem", "4", "--images-per-segment", "128", "--segments", "7", "8", "9"]
    assert main(["--config", str(config_file), *p4]) == 0
    assert main(["--config", str(config_file), "data", "verify"]) == 0
    out = capsys.readouterr().out
    assert "generated look-alike" in out and "generated stand-in (seed 365, 128 images)" in out
    assert "8 ok, 0 with problems" in out


def test_problem4_fetch_downloads_the_configured_files(config_file, file_server, tmp_path, capsys):
    assert main(["--config", str(config_file), "data", "fetch", "--problem", "4"]) == 1
    assert "`data.problem4.sources` lists no files to download" in capsys.readouterr().err
    main(
        [
            "--config",
            str(config_file),
            "data",
            "generate",
            "--problem",
            "4",
            "--images-per-segment",
            "128",
            "--segments",
            "7",
        ]
    )
    served = tmp_path / "data" / "real_7.gz"
    file_server.payload = served.read_bytes()
    for leftover in (served, tmp_path / "data" / "fake_7.gz", tmp_path / "data" / "problem4_manifest.json"):
        leftover.unlink()
    raw = yaml.safe_load(config_file.read_text())
    source = {
        "url": file_server.url,
        "sha256": sha256_file_bytes(file_server.payload),
        "size": len(file_server.payload),
    }
    raw["data"]["problem4"]["sources"] = {"real_7.gz": source}
    config_file.write_text(yaml.safe_dump(raw))
    assert main(["--config", str(config_file), "data", "fetch", "--problem", "4", "--no-progress"]) == 0
    assert "fetched" in capsys.readouterr().out and served.read_bytes() == file_server.payload
    main(["--config", str(config_file), "data", "verify"])
    assert "real_7.gz: course file, sha256 verified." in capsys.readouterr().out


def sha256_file_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_verify_fails_with_exit_1_on_missing_data(config_file, capsys):
    assert main(["--config", str(config_file), "data", "verify"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_fetch_through_the_cli_uses_grading_yml_source(config_file, file_server, tmp_path, capsys):
    payload_file = tmp_path / "served.pkl"
    main(["--config", str(config_file), "data", "generate", "--seed", "5"])
    shutil.copyfile(tmp_path / "data" / "problem1_Xy.pkl", payload_file)
    (tmp_path / "data" / "problem1_Xy.pkl").unlink()
    file_server.payload = payload_file.read_bytes()
    raw = yaml.safe_load(config_file.read_text())
    raw["data"]["problem1"]["source"] = {
        "url": file_server.url,
        "sha256": sha256_file(payload_file),
        "size": len(file_server.payload),
    }
    config_file.write_text(yaml.safe_dump(raw))
    assert main(["--config", str(config_file), "data", "fetch", "--no-progress"]) == 0
    assert "sha256 verified" in capsys.readouterr().out
    assert (tmp_path / "data" / "problem1_Xy.pkl").read_bytes() == file_server.payload


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    bad = tmp_path / "grading.yml"
    bad.write_text("assignment: {title: x}\n")
    assert main(["--config", str(bad), "data", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("assn1: error:") and "Traceback" not in err
