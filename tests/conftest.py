"""Shared fixtures: a private copy of grading.yml, a local HTTP file server, the course data."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib
import pytest
import yaml

from autograder.cli import main
from autograder.config import Config, load_config
from autograder.data import problem1, problem4

matplotlib.use("Agg")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_PROBLEM1 = PROJECT_ROOT.parent / "shared" / "data" / "problem1_Xy.pkl"
# The student environment `make test` builds (`assn1 env create`): every copy of grading.yml points at it.
STUDENT_ENV = load_config(PROJECT_ROOT / "grading.yml").environment.dir


def project_config(**sections) -> dict:
    """The project's grading.yml as data, its student environment at the project's, `sections` replaced."""
    raw = yaml.safe_load((PROJECT_ROOT / "grading.yml").read_text())
    raw["environment"]["dir"] = str(STUDENT_ENV)
    raw.update(sections)
    return raw


def small_course(root: Path) -> Config:
    """A private grading.yml in `root` with short time limits, and its data: problem 1's file and the P4 test
    segments at 128 images each (enough for the committed models to score as at full size)."""
    raw = project_config()
    raw["limits"].update(cell_timeout_s=30, notebook_timeout_s=120)
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    return config


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The project's grading.yml copied into tmp_path, so data/ lands there."""
    target = tmp_path / "grading.yml"
    target.write_text(yaml.safe_dump(project_config(), sort_keys=False))
    return target


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


@dataclass
class FileServer:
    """Serves one payload over HTTP on 127.0.0.1 with Range support and scripted faults."""

    payload: bytes = b""
    cut_after: list[int] = field(default_factory=list)  # per request, in order: bytes to send before dropping
    ignore_range: bool = False
    status: int = 200
    requests: list[dict] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/problem1_Xy.pkl"


def _handler(server_state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            server_state.requests.append({"path": self.path, "range": self.headers.get("Range")})
            if server_state.status != 200:
                self.send_error(server_state.status)
                return
            body = server_state.payload
            start = 0
            rng = self.headers.get("Range")
            if rng and not server_state.ignore_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start:]
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            if server_state.cut_after:
                chunk = chunk[: server_state.cut_after.pop(0)]
            self.wfile.write(chunk)
            self.wfile.flush()
            self.close_connection = True

    return Handler


@pytest.fixture
def file_server():
    state = FileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def execute_notebook(path: Path, timeout: int = 600):
    """Run a notebook top to bottom in a fresh kernel in its own folder; errors stay in the outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def cell_output(cell) -> str:
    """Everything a code cell printed or displayed as text."""
    return "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])
    )


@pytest.fixture(scope="session")
def graded_examples(tmp_path_factory):
    """Every example submission graded once by `assn1 grade -j 2`, for the tests of both grading paths."""
    root = tmp_path_factory.mktemp("examples")
    raw = project_config()
    raw["build"] = {"master": str(PROJECT_ROOT / raw["build"]["master"]), "student_dir": "student", "dist_dir": "dist"}
    (root / "grading.yml").write_text(yaml.safe_dump(raw, sort_keys=False))  # grading.yml's order kept
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    # The first 128 images of each test file are those of the full-size files (same seed, same stream),
    # so the committed models, trained at full size, score here as they do there, within sampling error.
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    out = root / "out"
    assert (
        main(
            [
                "--config",
                str(config.path),
                "grade",
                str(PROJECT_ROOT / "examples" / "submissions"),
                "-o",
                str(out),
                "-j",
                "2",
            ]
        )
        == 0
    )
    return config, out
