"""Where a run's files live: outside the database, addressed by their SHA-256.

A run with captures weighs about 15 MB; 200 000 of them as rows would make a 3 TB database
that no backup or replica handles. The database keeps each file's metadata (run, name,
size, digest, backend, retention) and the bytes go to a blob store chosen by one URL
(``$RECETTE_FILES`` or the default), looked up in :data:`BACKENDS`:

- ``file:/path``: a folder (0700), one file per content (0600) under ``ab/cd/<sha256>``,
  written to a temporary name, fsynced, then renamed in (a crash leaves a whole blob or
  none); the same content sent twice is stored once;
- ``s3://bucket/prefix?endpoint=URL&region=R``: an S3-compatible bucket (boto3, the ``s3``
  extra); credentials from the environment as boto3 reads them (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``), never from the URL, so they appear in no log or page.

Every read and write goes by chunks: a 500 MB capture never sits in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from harness.errors import RecetteError
from harness.gate.store import private_dir

CHUNK = 1024 * 1024
DEFAULT_FOLDER = Path("/var/lib/recette/files")


class BlobError(RecetteError):
    """A blob store that cannot be reached or is misconfigured (one line, no secret)."""


@dataclass(frozen=True)
class Stored:
    """One blob written: its digest, its size, and whether this write created it (a
    refused upload removes only what it created)."""

    sha256: str
    size: int
    created: bool


class Blobs(Protocol):
    """A blob store: content in, digest out; the digest is the only key."""

    backend: str

    def put(self, stream: IO[bytes], *, limit: int | None = None) -> Stored: ...

    def exists(self, sha256: str) -> bool: ...

    def chunks(self, sha256: str) -> Iterator[bytes]: ...

    def path(self, sha256: str) -> Path | None: ...

    def delete(self, sha256: str) -> None: ...


class TooLarge(RecetteError):
    """A stream longer than the limit given to :meth:`Blobs.put` (nothing is kept)."""


def _copy(src: IO[bytes], dst: IO[bytes] | None, limit: int | None) -> tuple[str, int]:
    """Copy by chunks while hashing (``dst`` None: hash only): (sha256, size);
    :class:`TooLarge` past ``limit``."""
    h, size = hashlib.sha256(), 0
    while chunk := src.read(CHUNK):
        size += len(chunk)
        if limit is not None and size > limit:
            raise TooLarge(f"{size} bytes, more than {limit}")
        h.update(chunk)
        if dst is not None:
            dst.write(chunk)
    return h.hexdigest(), size


def _check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise BlobError(f"not a SHA-256 digest: {sha256[:80]!r}")
    return sha256


class FileBlobs:
    """Blobs in a local folder, content-addressed, written atomically."""

    backend = "file"

    def __init__(self, root: Path) -> None:
        self.root = root
        private_dir(root)
        private_dir(root / "tmp")

    def _where(self, sha256: str) -> Path:
        _check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: IO[bytes], *, limit: int | None = None) -> Stored:
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", prefix="in-")  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                sha, size = _copy(stream, out, limit)
                out.flush()
                os.fsync(out.fileno())
            final = self._where(sha)
            if final.exists():
                os.unlink(tmp)
                return Stored(sha, size, False)
            private_dir(final.parent.parent)
            private_dir(final.parent)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return Stored(sha, size, True)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def exists(self, sha256: str) -> bool:
        return self._where(sha256).is_file()

    def chunks(self, sha256: str) -> Iterator[bytes]:
        with open(self._where(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def path(self, sha256: str) -> Path | None:
        return self._where(sha256)

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._where(sha256))


def _fsync_dir(path: Path) -> None:
    """The rename itself made durable (the folder's entry), not only the file's bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Blobs:
    """Blobs in an S3-compatible bucket under ``prefix``, keyed by digest. The digest must
    be known before the key: a seekable stream (werkzeug's spooled upload, a file) is read
    twice, hashing then sending; anything else is spooled to a temporary file first."""

    backend = "s3"

    def __init__(self, bucket: str, prefix: str = "", *, endpoint: str | None = None,
                 region: str | None = None) -> None:
        try:
            import boto3
        except ImportError:
            raise BlobError("s3: boto3 is missing (pip install 'recette[s3]')") from None
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client: Any = boto3.client("s3", endpoint_url=endpoint, region_name=region)

    def _key(self, sha256: str) -> str:
        _check_digest(sha256)
        return f"{self.prefix}/{sha256}" if self.prefix else sha256

    def put(self, stream: IO[bytes], *, limit: int | None = None) -> Stored:
        with contextlib.ExitStack() as stack:
            if not _seekable(stream):
                spool = stack.enter_context(tempfile.TemporaryFile())
                _copy(stream, spool, limit)
                stream = spool
            stream.seek(0)
            sha, size = _copy(stream, None, limit)
            if self.exists(sha):
                return Stored(sha, size, False)
            stream.seek(0)
            self._call(lambda: self.client.upload_fileobj(stream, self.bucket, self._key(sha)))
            return Stored(sha, size, True)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, fn: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"s3 bucket {self.bucket}: {str(exc).splitlines()[0]}") from None

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey",
                                                                  "NotFound"):
                return False
            raise BlobError(f"s3 bucket {self.bucket}: {str(exc).splitlines()[0]}") from None
        return True

    def chunks(self, sha256: str) -> Iterator[bytes]:
        body = self._call(lambda: self.client.get_object(
            Bucket=self.bucket, Key=self._key(sha256))["Body"])
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def path(self, sha256: str) -> Path | None:
        return None

    def delete(self, sha256: str) -> None:
        self._call(lambda: self.client.delete_object(Bucket=self.bucket,
                                                     Key=self._key(sha256)))


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False


def _file(url: urllib.parse.SplitResult) -> Blobs:
    if not url.path:
        raise BlobError("file: blob store URL needs a folder, e.g. file:/var/lib/recette/files")
    return FileBlobs(Path(url.path))


def _s3(url: urllib.parse.SplitResult) -> Blobs:
    if not url.hostname:
        raise BlobError("s3: blob store URL needs a bucket, e.g. s3://bucket/prefix")
    if url.username or url.password:
        raise BlobError("s3: credentials go in the environment (AWS_ACCESS_KEY_ID, "
                        "AWS_SECRET_ACCESS_KEY), not in the URL")
    q = dict(urllib.parse.parse_qsl(url.query))
    return S3Blobs(url.hostname, url.path, endpoint=q.get("endpoint"), region=q.get("region"))


# The backends, by the URL's scheme: one line per backend.
BACKENDS: dict[str, Callable[[urllib.parse.SplitResult], Blobs]] = {"file": _file, "s3": _s3}


def open_blobs(url: str) -> Blobs:
    """The blob store named by ``url`` (``file:/folder`` or ``s3://bucket/prefix?...``)."""
    parts = urllib.parse.urlsplit(url)
    make = BACKENDS.get(parts.scheme)
    if make is None:
        raise BlobError(f"blob store URL {parts.scheme or url[:40]!r}: expected one of "
                        f"{', '.join(s + ':' for s in BACKENDS)}")
    return make(parts)


def default_url(db_url: Any) -> str:
    """``$RECETTE_FILES``, else a ``files`` folder beside a SQLite database, else
    :data:`DEFAULT_FOLDER` (a PostgreSQL store has no folder of its own here)."""
    import sqlalchemy as sa

    env = os.environ.get("RECETTE_FILES")
    if env:
        return env
    url = sa.engine.make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"file:{Path(url.database).resolve().parent / 'files'}"
    return f"file:{DEFAULT_FOLDER}"
