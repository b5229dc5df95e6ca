"""The hub's codes are Elexon's published codes, with exactly their published meanings.

Participants' systems branch on these codes: a published code used with another
meaning (our own old numbering reused MSG1006 for "Body Not UTF-8") misleads every
one of them. The published list is test data derived from Elexon's document
(tests/published/response_codes.yaml names the source); this file fails if the
code table, the README or any literal in the source drifts from it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from opendip.errors import Msg
from opendip.message_codes import is_extension_code

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED: dict[str, str] = yaml.safe_load((ROOT / "tests/published/response_codes.yaml").read_text())["msg"]
_LITERAL = re.compile(r"\b(MSG\d{4})\b(?: - ([A-Z][A-Za-z0-9 /()\-]*[a-z)]))?")


def test_every_published_code_in_the_table_carries_its_published_text() -> None:
    wrong = {m.name: m.spec.message for m in Msg if m.spec.code in PUBLISHED and m.spec.text != PUBLISHED[m.spec.code]}
    assert wrong == {}


def test_every_other_code_is_an_extension_outside_the_published_numbers() -> None:
    ours = {m.spec.code for m in Msg if m.spec.code not in PUBLISHED}
    assert {code for code in ours if not is_extension_code(code)} == set()
    assert not any(is_extension_code(code) for code in PUBLISHED), "the extension range must not overlap"


def test_the_table_answers_with_every_published_code() -> None:
    assert set(PUBLISHED) <= {m.spec.code for m in Msg}


def _literals(text: str) -> list[tuple[str, str | None]]:
    """Each code written in `text`, with the text that follows it as `CODE - Text`; ranges are skipped."""
    text = re.sub(r"MSG\d{4}-MSG\d{4}", "", text)
    return [(found.group(1), found.group(2)) for found in _LITERAL.finditer(text)]


def test_no_literal_code_in_source_readme_or_data_means_something_else() -> None:
    texts = {m.spec.code: m.spec.text for m in Msg}
    files = [ROOT / "README.md", *sorted((ROOT / "src").rglob("*.py")), *sorted((ROOT / "src").rglob("*.yaml"))]
    files += sorted((ROOT / "src").rglob("*.html"))
    wrong: list[str] = []
    for path in files:
        for code, text in _literals(path.read_text()):
            if code not in texts:
                wrong.append(f"{path.relative_to(ROOT)}: {code} is not in the code table")
            elif text is not None and not texts[code].startswith(text.strip()):
                wrong.append(f"{path.relative_to(ROOT)}: {code} - {text} (the table says {texts[code]})")
    assert wrong == []


def test_readme_error_table_lists_every_code_with_its_text_and_status() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| (MSG\d{4}) \| ([^|]+?) \| (\d{3}) \|", readme, flags=re.MULTILINE))
    expected = {(m.spec.code, m.spec.text, str(m.spec.http_status)) for m in Msg}
    assert expected - rows == set(), "missing from the README's table"
    assert rows - expected == set(), "in the README's table but not in errors.py"
