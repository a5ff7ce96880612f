"""The upstream source distributions whose test suites the conformance tests run.

Each version is pinned by the sha256 of its sdist on PyPI. The harness picks the sdist whose version
equals the installed one exactly, because the upstream tests describe the behaviour of that release
and no other. The sdists are downloaded with ``pip download`` when the tests first need them, into
a cache outside the repository (the upstream test files are never stored here), checked against
their pin before anything is extracted, and reused afterwards.

To pin a new release::

    python -m pip download --no-deps --no-binary :all: Django==X.Y.Z -d DIR
    sha256sum DIR/*
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: ``{project: {version: sha256 of its sdist}}``: Django's oldest supported series and the newest
#: release of each newer one, and blinker.
PINNED_SDISTS: dict[str, dict[str, str]] = {
    "Django": {
        "5.2.19": "ad03d8abc51dbff95ebf34b27123cf0c26a3b62db7ba0cd520783686362533d1",
        "6.0.10": "6005d030df924f85088454c18bd35dcf082b058aa355ad3df520d8de9aef9f41",
        "6.1.3": "b5d2d9e35295065d13b1927b3f19a59bd119f737aa6299def14ccca1ae3c8c0d",
    },
    "blinker": {
        "1.9.0": "b4ce2265a7abece45e7cc896e98dbebe6cead56bcf805a3d23136d145f5445bf",
    },
}

#: Overrides the cache directory (default: ``$XDG_CACHE_HOME/signal-panel-conformance``).
CACHE_ENV = "SIGNAL_PANEL_CONFORMANCE_CACHE"


class UnpinnedVersionError(LookupError):
    """The installed version of a project has no pinned sdist: its hash must be added."""


class HashMismatchError(RuntimeError):
    """A downloaded sdist is not the file its pin names."""


@dataclass(frozen=True)
class Sdist:
    """One pinned source distribution."""

    project: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"

    @property
    def label(self) -> str:
        return f"{self.project} {self.version}"


def pinned(project: str, version: str) -> Sdist:
    """The pinned sdist of exactly ``version``; raise :class:`UnpinnedVersionError` if none is.

    A missing pin fails loudly rather than skipping, so that a new release in the matrix cannot
    silently run without its conformance tests.
    """
    sha256 = PINNED_SDISTS.get(project, {}).get(version)
    if sha256 is None:
        known = ", ".join(sorted(PINNED_SDISTS.get(project, {}))) or "none"
        raise UnpinnedVersionError(
            f"{project} {version} is installed, but tests/conformance/sources.py pins no sdist "
            f"for it (pinned: {known}). Add its sha256 to PINNED_SDISTS: "
            f"python -m pip download --no-deps --no-binary :all: {project}=={version} -d DIR "
            "&& sha256sum DIR/*"
        )
    return Sdist(project, version, sha256)


def cache_dir() -> Path:
    """Where sdists and their extracted tests are kept between runs, outside the repository."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "signal-panel-conformance"


def extracted(sdist: Sdist, members: tuple[str, ...]) -> Path:
    """The root of ``sdist`` extracted into the cache, holding only the top-level ``members``.

    Downloads and extracts on first use. The extraction is named by the sdist's hash, so a changed
    pin never reuses an old tree, and it is moved into place whole, so an interrupted run leaves no
    half-extracted tree behind.
    """
    root = cache_dir() / f"{sdist.project}-{sdist.version}-{sdist.sha256[:12]}"
    if root.is_dir():
        return root
    archive = _archive(sdist)
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".extract-") as scratch:
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/", 1)[0]
            wanted = [
                member
                for member in tar.getmembers()
                if member.name.split("/")[1:2] and member.name.split("/")[1] in members
            ]
            # The "data" filter refuses absolute paths, links out of the tree and device files.
            tar.extractall(scratch, members=wanted, filter="data")
        try:
            Path(scratch, top).rename(root)
        except OSError:
            if not root.is_dir():  # Another run may have put the same tree in place meanwhile.
                raise
    return root


def _archive(sdist: Sdist) -> Path:
    """The sdist's file in the cache, downloaded unless a copy with the pinned hash is there."""
    downloads = cache_dir() / "sdists" / sdist.sha256
    for path in sorted(downloads.glob("*.tar.gz")):
        if _sha256(path) == sdist.sha256:
            return path
        path.unlink()  # A corrupt or truncated download: fetch it again.
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".download-") as scratch:
        _download(sdist, Path(scratch))
        files = sorted(Path(scratch).glob("*.tar.gz"))
        if len(files) != 1:
            raise RuntimeError(f"pip download of {sdist.requirement} gave {files}, not one sdist")
        digest = _sha256(files[0])
        if digest != sdist.sha256:
            raise HashMismatchError(
                f"{files[0].name} has sha256 {digest}, but {sdist.label} is pinned to "
                f"{sdist.sha256}: refusing to run its tests"
            )
        target = downloads / files[0].name
        shutil.move(files[0], target)
    return target


def _download(sdist: Sdist, into: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        sdist.requirement,
        "-d",
        str(into),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
