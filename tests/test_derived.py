"""The course's cache of derived values: kept while what they are made from holds, made anew when damaged."""

from __future__ import annotations

import os
from contextlib import closing

from autograder.derived import NAME, open_derived


def test_a_value_is_made_once_while_what_it_is_made_from_holds(tmp_path):
    made = []

    def make():
        made.append(1)
        return {"b": [1.5, None], "a": "x"}

    with closing(open_derived(tmp_path / "cache")) as derived:
        assert derived.remember("v", "d1", make) == derived.remember("v", "d1", make) == {"b": [1.5, None], "a": "x"}
    with closing(open_derived(tmp_path / "cache")) as derived:  # another run
        assert list(derived.remember("v", "d1", make)) == ["b", "a"], "a kept dict keeps its order"
        derived.remember("v", "d2", make)
    assert len(made) == 2


def test_a_digest_is_computed_again_when_the_file_changes(tmp_path):
    data = tmp_path / "x.bin"
    data.write_bytes(b"one")
    with closing(open_derived(tmp_path / "cache")) as derived:
        first = derived.digest(data)
        data.write_bytes(b"two")
        os.utime(data, ns=(1, 1))
        assert derived.digest(data) != first


def test_a_damaged_cache_is_made_anew_and_an_unwritable_one_is_kept_in_memory(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / NAME).write_bytes(b"no database here" * 64)
    with closing(open_derived(folder)) as derived:
        assert derived.remember("v", "d", lambda: [1]) == [1]
    with closing(open_derived(folder)) as derived:
        assert derived.remember("v", "d", lambda: [2]) == [1], "the new file keeps values"
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with closing(open_derived(blocked / "cache")) as derived:
        assert derived.remember("v", "d", lambda: [3]) == [3]
