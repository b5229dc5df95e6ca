"""The evidence pack's PDF says what the HTML page says: versions, steps with reasons and timings, messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opendip.scenarios import evidence
from tests.helpers.pdf_text import pdf_text


def _results() -> dict[str, Any]:
    step = {"step": "update-applied", "kind": "expect_l4", "passed": False, "seconds": 5.01}
    return {
        "environment": evidence.environment("http://127.0.0.1:9", True, "SIT", {"version": "abc123", "source": "x"}),
        "passed": False,
        "finishedAt": "2027-01-18T10:00:00Z",
        "scenarios": [
            {
                "file": "scenarios/negative/missing-l4.yaml",
                "name": "Registration sends no L4 \u2014 the runner sees it \u2192 fails",
                "process": "change of registration data",
                "mpan": "1027960357415",
                "passed": False,
                "reason": "step update-applied: no L4 status about T-IF-025-1 within 5 s \U0001f6a8",
                "steps": [
                    {"step": "update", "kind": "send", "passed": True, "reason": "sent", "seconds": 0.12},
                    {**step, "reason": "no L4 status about T-IF-025-1 within 5 s"},
                ],
                "messagesSent": [
                    {
                        "sender": "2300000900",
                        "interface": "IF-025",
                        "event": "ConsentGranularity",
                        "transaction_id": "T-IF-025-1",
                        "http_status": 201,
                        "l3_code": "MSG0000",
                        "l4": [],
                        "seconds": 0.034,
                    }
                ],
                "messagesReceived": [
                    {
                        "recipient": "1000000001",
                        "interface": "IF-025",
                        "transaction_id": "T-IF-025-1",
                        "response_code": None,
                    }
                ],
                "expectedFailure": {"step": "update-applied", "reasonContains": "no L4 status about"},
                "failedAsExpected": True,
            }
        ],
    }


def test_pdf_carries_versions_steps_reasons_timings_and_messages(tmp_path: Path) -> None:
    evidence.write(tmp_path, _results())
    text = pdf_text(tmp_path / "evidence.pdf")
    assert "OpenDIP scenario evidence" in text
    assert "catalogue abc123 (x) - environment SIT" in text
    assert "Registration sends no L4 - the runner sees it -> fails" in text  # dashes and arrows kept readable
    assert "Must fail at step update-applied: failed as expected" in text
    assert "no L4 status about T-IF-025-1 within 5 s ?" in text  # outside Latin-1: shown as ?, never a crash
    lines = text.splitlines()
    first = lines.index("update-applied", lines.index("reason"))
    assert lines[first : first + 5] == [
        "update-applied",
        "expect_l4",
        "FAIL",
        "no L4 status about T-IF-025-1 within 5 s",
        "5.01",
    ]
    assert "T-IF-025-1" in lines and "201 MSG0000" in lines and "0.034" in lines
    assert "<a href='evidence.pdf'>evidence.pdf</a>" in (tmp_path / "index.html").read_text()
    assert (tmp_path / "results.json").exists()
