"""Where the RFC 4475 torture messages are: the workplace's shared/rfc4475/messages/ beside
the repository (third-party data, not committed here; see its CASES.md). Tests that read them
are marked ``needs_corpus`` and skip when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

TORTURE = Path(__file__).resolve().parents[2] / "shared" / "rfc4475" / "messages"
needs_corpus = pytest.mark.skipif(not TORTURE.is_dir(),
                                  reason=f"RFC 4475 messages not found at {TORTURE}")
