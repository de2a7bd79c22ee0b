"""The dashboard's hand-written outcome lists name every outcome :mod:`tickwork.run` has."""

from __future__ import annotations

import re
from importlib.resources import files

from tickwork.run import Outcome

_STATIC = files("tickwork.dashboard") / "static"


def test_every_outcome_has_a_filter_option_and_a_style() -> None:
    page = (_STATIC / "index.html").read_text()
    options = set(re.findall(r'<option value="(\w+)">', page))
    views = (_STATIC / "views.js").read_text()
    kinds_block = views.split("const OUTCOME_KINDS = {", 1)[1].split("};", 1)[0]
    kinds = set(re.findall(r"(\w+):", kinds_block))
    for outcome in Outcome:
        assert outcome.value in options, outcome
        assert outcome.value in kinds, outcome
