"""The evidence pack as a PDF (`evidence.pdf`), for the test witness who files documents, not web pages.

The same content as `index.html`: the environment, hub and catalogue versions,
then per scenario its steps with verdicts, reasons and timings, and every
message sent (transactionID, L3 answer, L4 statuses, answer time) and received.
Drawn with fpdf2's built-in Helvetica, so the file needs no font on the machine;
text outside Latin-1 is shown with `?`.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

HEADING = FontFace(emphasis="BOLD", fill_color=(235, 238, 243))
PASS, FAIL = (10, 107, 43), (164, 0, 29)


def _t(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\u2014", "-").replace("\u2192", "->").encode("latin-1", "replace").decode("latin-1")


class _Pack(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 8, f"OpenDIP scenario evidence - page {self.page_no()}/{{nb}}", align="C")


def _table(pdf: FPDF, widths: tuple[int, ...], header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    pdf.set_font("Helvetica", size=7.5)
    with pdf.table(col_widths=widths, headings_style=HEADING, line_height=4.2, text_align="LEFT") as table:
        table.row([_t(h) for h in header])
        for values in rows:
            table.row([_t(v) for v in values])
    pdf.ln(3)


def _verdict(pdf: FPDF, passed: bool, text: str) -> None:
    pdf.set_font("Helvetica", style="B", size=10)
    pdf.set_text_color(*(PASS if passed else FAIL))
    pdf.multi_cell(0, 5, _t(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def render_pdf(results: dict[str, Any]) -> bytes:
    env = results["environment"]
    pdf = _Pack(orientation="landscape", format="A4")
    pdf.set_title("OpenDIP scenario evidence")
    pdf.set_creator(f"OpenDIP {env['hub']['version']}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, "OpenDIP scenario evidence", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    facts = (
        f"Hub {env['hub']['url']} - OpenDIP {env['hub']['version']} - catalogue {env['catalogue'].get('version')} "
        f"({env['catalogue'].get('source', '')}) - environment {env['environmentTag']} - started {env['startedAt']}"
        f" - finished {results.get('finishedAt', '')} - host {env.get('host', '')}"
    )
    pdf.multi_cell(0, 5, _t(facts), new_x="LMARGIN", new_y="NEXT")
    _verdict(pdf, bool(results["passed"]), "Overall: every step passed" if results["passed"] else "Overall: failures")
    for scenario in results["scenarios"]:
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.multi_cell(0, 6, _t(scenario["name"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        where = f"{scenario['process']} - {scenario['file']} - MPAN {scenario['mpan']}"
        pdf.multi_cell(0, 5, _t(where), new_x="LMARGIN", new_y="NEXT")
        if "expectedFailure" in scenario:
            expected = scenario["expectedFailure"]
            ok = bool(scenario.get("failedAsExpected"))
            text = f"Must fail at step {expected['step']}: {'failed as expected' if ok else 'did NOT fail as expected'}"
            _verdict(pdf, ok, f"{text} - {scenario['reason']}")
        else:
            _verdict(pdf, bool(scenario["passed"]), ("PASS: " if scenario["passed"] else "FAIL: ") + scenario["reason"])
        steps = [
            (s["step"], s["kind"], "PASS" if s["passed"] else "FAIL", s["reason"], s["seconds"])
            for s in scenario["steps"]
        ]
        _table(pdf, (30, 26, 14, 185, 14), ("step", "kind", "verdict", "reason", "s"), steps)
        sent = [
            (
                m["sender"],
                m["interface"],
                m.get("event", ""),
                m["transaction_id"],
                f"{m['http_status']} {m['l3_code']}",
                ", ".join(m.get("l4") or []),
                m["seconds"],
            )
            for m in scenario["messagesSent"]
        ]
        header = ("sent by", "interface", "event", "transactionID", "L3", "L4", "answer s")
        _table(pdf, (26, 18, 40, 90, 24, 52, 19), header, sent)
        received = [
            (m["recipient"], m["interface"], m.get("event", ""), m["transaction_id"], m.get("response_code"))
            for m in scenario["messagesReceived"]
        ]
        _table(pdf, (30, 22, 50, 140, 27), ("received by", "interface", "event", "transactionID", "R0"), received)
    return bytes(pdf.output())
