"""The sites page's search and filters on a real PostgreSQL (the gate's throw-away cluster):
the same store-level cases as on SQLite (tests/unit/test_console_search.py), since the
number ranges, the LIKE escapes and the clock conditions are SQL each server runs its way."""

from __future__ import annotations

import pytest

from harness.console.store import ConsoleStore, open_console
from tests.pg import fresh_database
from tests.system.test_gate import postgres_url  # noqa: F401  (the cluster fixture)
from tests.unit.test_console_search import (  # noqa: F401  (collected here, on PostgreSQL)
    seeded,
    test_a_bad_number_is_refused_in_one_line,
    test_gate_filters_follow_the_clock,
    test_integrator_finds_only_its_sites,
    test_row_says_what_matched,
    test_search_any_form,
    test_the_latest_run_replaces_the_terms,
)


@pytest.fixture
def store(postgres_url: str) -> ConsoleStore:  # noqa: F811
    return seeded(open_console(fresh_database(postgres_url, "search")))
