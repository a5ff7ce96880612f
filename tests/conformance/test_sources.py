"""Pinned sdists: a missing pin fails loudly, a download is checked before it is extracted, and a
verified copy in the cache is reused. No test here reaches the network."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conformance import sources


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(sources.CACHE_ENV, str(directory))
    return directory


def _sdist_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {
            "probe-1.0/tests/test_probe.py": b"def test_probe(): pass\n",
            "probe-1.0/probe/__init__.py": b"",
            "probe-1.0/PKG-INFO": b"Name: probe\n",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
    return buffer.getvalue()


def _fake_download(content: bytes) -> Callable[[sources.Sdist, Path], None]:
    def download(sdist: sources.Sdist, into: Path) -> None:
        (into / f"{sdist.project}-{sdist.version}.tar.gz").write_bytes(content)

    return download


def test_every_pin_is_a_sha256() -> None:
    for versions in sources.PINNED_SDISTS.values():
        for sha256 in versions.values():
            assert re.fullmatch("[0-9a-f]{64}", sha256)


def test_an_unpinned_version_fails_with_how_to_pin_it() -> None:
    with pytest.raises(sources.UnpinnedVersionError) as raised:
        sources.pinned("Django", "0.0.1")
    message = str(raised.value)
    assert "Django 0.0.1 is installed" in message
    assert "pip download --no-deps --no-binary :all: Django==0.0.1" in message


def test_a_download_with_another_hash_is_never_extracted(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_download", _fake_download(b"not the pinned file"))
    sdist = sources.Sdist("probe", "1.0", hashlib.sha256(_sdist_bytes()).hexdigest())
    with pytest.raises(sources.HashMismatchError):
        sources.extracted(sdist, ("tests",))
    assert not list(cache.glob("probe-*"))
    assert not list(cache.rglob("*.tar.gz"))


def test_only_the_named_members_are_extracted(monkeypatch: pytest.MonkeyPatch) -> None:
    content = _sdist_bytes()
    monkeypatch.setattr(sources, "_download", _fake_download(content))
    sdist = sources.Sdist("probe", "1.0", hashlib.sha256(content).hexdigest())
    root = sources.extracted(sdist, ("tests",))
    assert sorted(path.name for path in root.iterdir()) == ["tests"]
    assert (root / "tests" / "test_probe.py").read_text() == "def test_probe(): pass\n"


def test_a_verified_copy_in_the_cache_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    content = _sdist_bytes()
    monkeypatch.setattr(sources, "_download", _fake_download(content))
    sdist = sources.Sdist("probe", "1.0", hashlib.sha256(content).hexdigest())
    first = sources.extracted(sdist, ("tests",))

    def no_download(sdist: sources.Sdist, into: Path) -> None:
        raise AssertionError("downloaded again")

    monkeypatch.setattr(sources, "_download", no_download)
    assert sources.extracted(sdist, ("tests",)) == first
    # The archive alone is enough too: the tree is extracted again from it, without a download.
    shutil.rmtree(first)
    assert (sources.extracted(sdist, ("tests",)) / "tests" / "test_probe.py").exists()


def test_a_corrupt_copy_in_the_cache_is_downloaded_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _sdist_bytes()
    sdist = sources.Sdist("probe", "1.0", hashlib.sha256(content).hexdigest())
    stale = cache / "sdists" / sdist.sha256 / "probe-1.0.tar.gz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(content[:10])
    monkeypatch.setattr(sources, "_download", _fake_download(content))
    root = sources.extracted(sdist, ("tests",))
    assert (root / "tests" / "test_probe.py").exists()
    assert stale.read_bytes() == content
