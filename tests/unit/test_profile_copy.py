"""The profile copy kept beside the report: secrets masked, everything else as written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import RecetteError
from harness.profile import load_profile
from harness.profile_copy import redact, write_copy

PROFILES = Path(__file__).resolve().parents[1] / "data" / "profiles"
EXAMPLE = Path(__file__).resolve().parents[2] / "profiles" / "example.yaml"


def test_inline_secrets_are_masked_and_the_copy_still_loads(tmp_path: Path) -> None:
    source = PROFILES / "good" / "inline_secrets.yaml"
    prof = load_profile(source)
    copy = write_copy(source, prof, tmp_path / "profile.yaml")
    text = copy.read_text()
    for secret in prof.secrets():
        assert secret not in text
    again = load_profile(copy)
    # Everything but the secrets is what was tested: numbers keep their form, DIDs, LANs.
    assert again.model_dump(exclude_none=True, mode="json").keys() == \
        prof.model_dump(exclude_none=True, mode="json").keys()
    assert [t.dids for t in again.trunks] == [t.dids for t in prof.trunks]
    assert again.router is not None and prof.router is not None
    assert again.router.lans == prof.router.lans
    assert text.count('"<redacted>"') == 4  # trunk, Centrex, router password and enable
    # Only the values changed: the same lines, the comments kept.
    assert len(text.splitlines()) == len(source.read_text().splitlines())
    assert text.startswith("# A valid profile with inline secrets")


def test_example_without_inline_secrets_is_kept_as_written(tmp_path: Path) -> None:
    prof = load_profile(EXAMPLE)
    copy = write_copy(EXAMPLE, prof, tmp_path / "profile.yaml")
    assert copy.read_text() == EXAMPLE.read_text()  # key_env / password_env are not secrets


@pytest.mark.parametrize(("line", "masked"), [
    ("    password: Tr0nc-Secret-42", '    password: "<redacted>"'),
    ("  password: 'it''s: #1'  # quoted", '  password: "<redacted>"  # quoted'),
    ('  enable_secret: "a,b}c\\"d"', '  enable_secret: "<redacted>"'),
    ("  server: {address: 198.51.100.20, key: k3y-v4lue, control_port: 5099}",
     '  server: {address: 198.51.100.20, key: "<redacted>", control_port: 5099}'),
    ("  - {name: a, user: u, password: p4ss}", '  - {name: a, user: u, password: "<redacted>"}'),
    ("  password_env: RECETTE_PW", "  password_env: RECETTE_PW"),
    ("  key_env: RECETTE_PROBE_KEY", "  key_env: RECETTE_PROBE_KEY"),
    ("  name: keyboard password shop", "  name: keyboard password shop"),
    ("password: Tr0nc#Secret-42", 'password: "<redacted>"'),  # '#' without a space: no comment
    ("password: pa,ss}x", 'password: "<redacted>"'),
    ('"password": x', '"password": "<redacted>"'),
    ("a:\n  password: |\n    line one\n    line two\n  b: 1\n",
     'a:\n  password: "<redacted>"\n  b: 1\n'),
])
def test_redact_lines(line: str, masked: str) -> None:
    assert redact(line) == masked


def test_yaml_dumped_profile_round_trips(tmp_path: Path) -> None:
    """The lab writes its profile with yaml.safe_dump: that style is masked too."""
    data = yaml.safe_load((PROFILES / "good" / "inline_secrets.yaml").read_text())
    data["trunks"][0]["dids"] = ["+33299000005"]
    data["trunks"][0]["user"] = "trunk0299"
    data["centrex"][0]["did"] = "+33123456789"
    data["vantage_points"] = {"server": {"address": "198.51.100.20", "key": "Pr0be: k,ey"}}
    source = tmp_path / "lab.yaml"
    source.write_text(yaml.safe_dump(data, sort_keys=False))
    prof = load_profile(source)
    text = write_copy(source, prof, tmp_path / "profile.yaml").read_text()
    assert not [s for s in prof.secrets() if s in text]
    load_profile(tmp_path / "profile.yaml")


def test_a_secret_under_another_key_refuses_the_copy(tmp_path: Path) -> None:
    source = tmp_path / "odd.yaml"
    text = (PROFILES / "good" / "inline_secrets.yaml").read_text()
    source.write_text(text.replace("name: Rennes - atelier", "name: Kx9-Centrex-101"))
    prof = load_profile(source)
    with pytest.raises(RecetteError, match="a secret is written under a key other than"):
        write_copy(source, prof, tmp_path / "profile.yaml")
    assert not (tmp_path / "profile.yaml").exists()
