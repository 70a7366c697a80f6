"""The course's cache of derived values: kept while what they are made from holds, made anew when damaged."""

from __future__ import annotations

import dataclasses
import os
from contextlib import closing

from autograder.derived import NAME, open_derived


def _with_cache(config, folder):
    return dataclasses.replace(config, data=dataclasses.replace(config.data, cache_dir=folder))


def test_a_value_is_made_once_while_what_it_is_made_from_holds(config, tmp_path):
    config = _with_cache(config, tmp_path / "cache")
    made = []

    def make():
        made.append(1)
        return {"b": [1.5, None], "a": "x"}

    with closing(open_derived(config)) as derived:
        assert derived.remember("v", "d1", make) == derived.remember("v", "d1", make) == {"b": [1.5, None], "a": "x"}
    with closing(open_derived(config)) as derived:  # another run
        assert list(derived.remember("v", "d1", make)) == ["b", "a"], "a kept dict keeps its order"
        derived.remember("v", "d2", make)
    assert len(made) == 2


def test_a_digest_is_computed_again_when_the_file_changes(config, tmp_path):
    config = _with_cache(config, tmp_path / "cache")
    data = tmp_path / "x.bin"
    data.write_bytes(b"one")
    with closing(open_derived(config)) as derived:
        first = derived.digest(data)
        data.write_bytes(b"two")
        os.utime(data, ns=(1, 1))
        assert derived.digest(data) != first


def test_a_damaged_cache_is_made_anew_and_an_unwritable_one_is_kept_in_memory(config, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / NAME).write_bytes(b"no database here" * 64)
    with closing(open_derived(_with_cache(config, folder))) as derived:
        assert derived.remember("v", "d", lambda: [1]) == [1]
    with closing(open_derived(_with_cache(config, folder))) as derived:
        assert derived.remember("v", "d", lambda: [2]) == [1], "the new file keeps values"
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with closing(open_derived(_with_cache(config, blocked / "cache"))) as derived:
        assert derived.remember("v", "d", lambda: [3]) == [3]
