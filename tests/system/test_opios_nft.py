"""The OpIOS cases' bundles are what the real nft prints: each case's ruleset.nft, loaded into
a throwaway namespace shaped like an OpIOS router and collected with the collector's own
commands, gives the findings, cited lines and prediction its expected.json says (root, nft).

Why: the unit runner reads the saved bundle.json; this keeps those files honest when nft's
output changes (a new version printing sets, priorities or ``ct`` matches otherwise)."""

from __future__ import annotations

import pytest

from router_checks.opios.parse import NFT_TEXT
from tests.opios_cases import NAMES, case, collect, differences, outcome


@pytest.mark.parametrize("name", NAMES)
def test_todays_nft_gives_the_case(name: str) -> None:
    c = case(name)
    bundle = collect(c.ruleset)
    assert differences(c, outcome(c, bundle), bundle[NFT_TEXT]) == []
