"""What a finding rests on: the DNS answers (and other facts) a check read, as values.

A finding's evidence used to be display lines that the reports parsed back with a regular
expression and that drift could only compare as text. An ``Evidence`` keeps the parts: the
asked name and type, the record texts of the answer (sorted, no TTLs), the CNAME chain it
went through, its outcome and the reader's notes. ``line()`` renders the line people read,
byte for byte what ``DnsAnswer.describe()`` gave before, so every report and results.json
read the same as they did (results.json stores the lines: see ``dnsaudit.results_json``).

Evidence that is not one DNS answer is a *note*: ``outcome`` is None and ``text`` is its
whole line. The built-in ones are the TLS certificate of an SMTP endpoint (``TLS host:25:
names ...``), a relay certificate file (``PEM file: ...``), an HTTP fetch (``GET url: 200
...``), an Autodiscover probe step (``step 1 url: endpoint (...)``), a DNSSEC RRset with its
signatures (``name DS (DNSSEC): ...``), a planned zone record (``name MX planned: ...``) and
a remark of the SPF evaluator. They stay text because nothing reads their parts: the
records table of the reports shows DNS answers only, drift compares a note as a whole, and
the scrubbing of local paths (``reports.scope``) cleans its text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dnsaudit.net.outcome import Outcome


@dataclass(frozen=True, slots=True)  # one per DNS answer, shared by every finding that cites it
class Evidence:
    """One DNS question and its answer, or (``outcome`` None) a note: another fact a check read.

    ``name`` is the asked name (absolute, lower case, trailing dot), ``type`` the asked type;
    ``answers`` the record texts at the end of the chain in zone-file form, sorted, without
    TTLs (empty unless ``outcome`` is ANSWER); ``cname_chain`` the names the answer went
    through after the asked one, as DNS gave them (trailing dots); ``notes`` what the reader
    of the reply left out (a record it could not read).
    """

    name: str = ""
    type: str = ""
    answers: tuple[str, ...] = ()
    cname_chain: tuple[str, ...] = ()
    outcome: Outcome | None = None
    notes: tuple[str, ...] = ()
    text: str = ""  # a note's whole line; empty for a DNS answer
    _line: str = field(default="", init=False, repr=False, compare=False)

    @classmethod
    def note(cls, text: str) -> Evidence:
        """Evidence that is not a DNS answer (an HTTP step, a certificate, ...), as its line."""
        return cls(text=text)

    @property
    def is_answer(self) -> bool:
        """A DNS answer (not a note)."""
        return self.outcome is not None

    @property
    def ok(self) -> bool:
        """A DNS answer with records of the asked type."""
        return self.outcome is Outcome.ANSWER

    def line(self) -> str:
        """The line people read: ``name TYPE (CNAME -> a. -> b.): rec1 | rec2 (note)``, or
        ``name TYPE: NXDOMAIN`` (the outcome) when there are no records; a note's text."""
        line = self._line
        if not line:
            if self.outcome is None:
                line = self.text
            else:
                via = "".join(f" -> {n}" for n in self.cname_chain)
                head = f"{self.name} {self.type}{(' (CNAME' + via + ')') if via else ''}"
                line = (f"{head}: {' | '.join(self.answers)}" if self.outcome is Outcome.ANSWER
                        else f"{head}: {self.outcome.value.upper()}")
                if self.notes:
                    line += f" ({'; '.join(self.notes)})"
            object.__setattr__(self, "_line", line)
        return line

    def answer_text(self) -> str:
        """What the line says after ``name TYPE (CNAME ...): ``: the records joined by `` | ``
        or the outcome, then the notes (the reports' records table shows it); a note's text."""
        if self.outcome is None:
            return self.text
        text = " | ".join(self.answers) if self.outcome is Outcome.ANSWER else self.outcome.value.upper()
        return f"{text} ({'; '.join(self.notes)})" if self.notes else text

    def __str__(self) -> str:
        return self.line()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Evidence crosses from worker processes inside findings: the parts only, not the line.
        return (Evidence, (self.name, self.type, self.answers, self.cname_chain, self.outcome, self.notes, self.text))
