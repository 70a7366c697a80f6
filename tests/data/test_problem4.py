"""Problem-4 data: calcium segments in the course format, deterministic, not separable by a trivial statistic."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from autograder.data import calcium, problem4
from autograder.data.checksum import sha256_file
from autograder.errors import DataError

SMALL = calcium.CHUNK  # images per file in these tests


# The course notebook's own helpers, as students run them (cwd holds data/).
def course_read_gz(filedir, shape=[-1, 128, 128]):  # noqa: B006 - the course's signature
    with gzip.open(filedir, "rb") as f:
        content = f.read()
    imgs = np.frombuffer(content, dtype="float32").reshape(shape)
    return imgs


def course_load_data(pieces):
    data = []
    label = []
    for i in pieces:
        real_img = course_read_gz("data/real_{:d}.gz".format(i), shape=[-1, 128, 128, 1])
        fake_img = course_read_gz("data/fake_{:d}.gz".format(i), shape=[-1, 128, 128, 1])
        real_label = np.zeros((real_img.shape[0], 1))
        fake_label = np.zeros((fake_img.shape[0], 1))
        real_label[:, 0] = 0
        fake_label[:, 0] = 1
        data.append(real_img)
        data.append(fake_img)
        label.append(real_label)
        label.append(fake_label)
    return np.concatenate(data, axis=0), np.concatenate(label, axis=0)


@pytest.fixture
def small(config):
    """Segments 0, 7 and 8 at 128 images per file, in the private data folder."""
    problem4.generate(config, segments=[0, 7, 8], images_per_segment=SMALL, jobs=2)
    return config


def test_files_have_the_course_format_and_load_with_the_course_helpers(small, monkeypatch):
    data_dir = small.data.dir
    for name in ("real_7.gz", "fake_7.gz"):
        with gzip.open(data_dir / name, "rb") as fh:
            raw = fh.read()
        assert len(raw) == SMALL * 128 * 128 * 4  # raw float32, nothing else (full size: 134,217,728 bytes)
    monkeypatch.chdir(data_dir.parent)
    images, labels = course_load_data([7, 8])
    assert images.shape == (4 * SMALL, 128, 128, 1) and images.dtype == np.float32
    assert labels[:SMALL].sum() == 0 and labels[SMALL : 2 * SMALL].min() == 1
    assert np.all(np.isfinite(images))
    assert np.array_equal(images[:SMALL, :, :, 0], problem4.read_segment(data_dir / "real_7.gz"))


def test_same_seed_same_bytes_and_prefix_of_a_longer_file(config, tmp_path):
    first = problem4.generate(config, segments=[3], images_per_segment=SMALL, seed=11, jobs=1)
    digests = {e.name: e.sha256 for e in first}
    os.remove(config.data.dir / "real_3.gz")
    again = problem4.generate(config, segments=[3], images_per_segment=SMALL, seed=11, jobs=1)
    assert {e.name: e.sha256 for e in again} == digests
    longer = problem4.generate(config, segments=[3], images_per_segment=2 * SMALL, seed=11, jobs=1)
    real = problem4.read_segment(config.data.dir / "real_3.gz")
    assert len(real) == 2 * SMALL and {e.name for e in longer} == set(digests)
    assert np.array_equal(real[:SMALL], calcium.draw_images(11, 3, "real", 0))
    other = problem4.generate(config, segments=[3], images_per_segment=SMALL, seed=12, jobs=1)
    assert {e.name: e.sha256 for e in other} != digests


def test_generating_again_keeps_verified_files_and_remakes_damaged_ones(small):
    target = small.data.dir / "fake_7.gz"
    stamp = target.stat().st_mtime_ns
    reused = []
    problem4.generate(small, segments=[7], images_per_segment=SMALL, on_file=lambda e, kept: reused.append(kept))
    assert reused == [True, True] and target.stat().st_mtime_ns == stamp
    target.write_bytes(b"damaged")
    problem4.generate(small, segments=[7], images_per_segment=SMALL)
    assert len(problem4.read_segment(target)) == SMALL


def test_a_file_not_made_here_is_never_overwritten(config):
    config.data.dir.mkdir(parents=True, exist_ok=True)
    course = config.data.dir / "real_5.gz"
    course.write_bytes(b"pretend this is the course's download")
    with pytest.raises(DataError, match="real_5.gz was not generated here"):
        problem4.generate(config, segments=[5], images_per_segment=SMALL)
    assert course.read_bytes().startswith(b"pretend")


def test_generation_streams_chunks_not_whole_segments():
    """Peak memory is a few chunks: each chunk is drawn on its own and is CHUNK images."""
    block = calcium.draw_images(1, 0, "fake", 5)
    assert block.shape == (calcium.CHUNK, 128, 128) and block.dtype == np.float32
    assert calcium.CHUNK * 128 * 128 * 4 <= problem4.IMAGE_BYTES * 256  # 8 MB per chunk vs 134 MB per segment


def _summaries(images: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "mean": images.mean(axis=(1, 2)),
        "variance": images.var(axis=(1, 2)),
        "corner pixel": images[:, 0, 0],
        "centre pixel": images[:, 64, 64],
        "midline pixel": images[:, 64, 30],
        "minimum": images.min(axis=(1, 2)),
        "maximum": images.max(axis=(1, 2)),
    }


def test_fakes_are_not_separable_by_one_trivial_statistic():
    """A logistic regression on one per-image summary (or on mean and variance together) stays near chance.

    Combining a corner pixel with the minimum does better (about 0.74 here), by design: in a real image
    the fill outside the mask is exactly constant, in a fake it is noisy, which is one of the cues the
    CNNs are meant to find."""
    features: dict[str, list] = {}
    labels = []
    for segment in (0, 1, 7):
        for label, kind in enumerate(calcium.KINDS):
            for name, values in _summaries(calcium.draw_images(365, segment, kind, 0)).items():
                features.setdefault(name, []).append(values)
            labels.append(np.full(calcium.CHUNK, label))
    y = np.concatenate(labels)
    X = {name: np.concatenate(v) for name, v in features.items()}
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = {name: cross_val_score(model, x[:, None], y, cv=folds).mean() for name, x in X.items()}
    together = np.column_stack([X["mean"], X["variance"]])
    scores["mean and variance"] = cross_val_score(model, together, y, cv=folds).mean()
    assert max(scores.values()) <= 0.7, scores


def test_real_images_have_an_exact_constant_outside_the_mask_and_fakes_do_not():
    real = calcium.draw_images(365, 2, "real", 0)
    fake = calcium.draw_images(365, 2, "fake", 0)
    corners = (slice(None), slice(0, 4), slice(0, 4))
    assert np.all(real[corners].std(axis=(1, 2)) == 0)
    assert np.mean(fake[corners].std(axis=(1, 2)) > 0) > 0.95


def test_sessions_differ_and_drift():
    first, last = calcium.draw_session(365, 0), calcium.draw_session(365, 9)
    assert first != last
    assert calcium.draw_session(365, 4) == calcium.draw_session(365, 4)


def test_test_set_cache_is_built_once_and_verified(small, tmp_path):
    cache = small.data.cache_dir
    made = problem4.test_set(small.data.dir, cache, [7, 8])
    assert made.count == 4 * SMALL
    images = np.load(made.images, mmap_mode="r")
    labels = np.load(made.labels)
    assert images.shape == (4 * SMALL, 128, 128, 1)
    assert np.array_equal(images[:SMALL, :, :, 0], problem4.read_segment(small.data.dir / "real_7.gz"))
    assert labels.tolist() == [0] * SMALL + [1] * SMALL + [0] * SMALL + [1] * SMALL
    stamp = made.images.stat().st_mtime_ns
    again = problem4.test_set(small.data.dir, cache, [7, 8])
    assert again == made and made.images.stat().st_mtime_ns == stamp  # reused, not rebuilt
    with open(made.images, "r+b") as fh:  # damage it: the checksum catches it and it is rebuilt
        fh.seek(-4, os.SEEK_END)
        fh.write(b"\0\0\0\1")
    rebuilt = problem4.test_set(small.data.dir, cache, [7, 8])
    assert sha256_file(rebuilt.images) == made.sha256


def test_a_segment_in_two_gzip_members_is_counted_not_sized_from_its_last_member(small):
    """gzip's length field covers only the last member, so the cache cannot take its size from it alone."""
    path = small.data.dir / "fake_8.gz"
    images = problem4.read_segment(path)
    with open(path, "wb") as fh:  # the course helpers read this file unchanged
        fh.write(gzip.compress(images[:100].tobytes()) + gzip.compress(images[100:].tobytes()))
    made = problem4.test_set(small.data.dir, small.data.cache_dir, [8])
    assert made.count == 2 * SMALL and sha256_file(made.images) == made.sha256
    assert np.array_equal(np.load(made.images)[SMALL:, :, :, 0], images)
    assert np.load(made.labels).tolist() == [0] * SMALL + [1] * SMALL


def test_a_missing_test_segment_names_the_file_and_the_command(small):
    with pytest.raises(DataError, match=r"real_9.gz is missing.*assn1 data generate --problem 4"):
        problem4.test_set(small.data.dir, small.data.cache_dir, [9])


def test_a_truncated_segment_is_reported(tmp_path):
    path = Path(tmp_path) / "real_0.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"\0" * 1000)
    with pytest.raises(DataError, match="not a whole number|ends inside an image"):
        problem4.read_segment(path)
