"""Every sentence the report generates, rendered for every verdict a test can give.

The committed JSON files are copied, and in each script's `summary` every verdict is replaced, one
family at a time, by each of the other answers its test can give (with p and the interval
removed for "not tested"); every value the README may quote must then still render as a
sentence that cannot read wrongly: no 'None' or 'nan', balanced parentheses, no word twice in a
row, no verdict nested in a restatement of itself, no chain of 'but'."""
import copy
import json
import re
from pathlib import Path

import pytest

from common import report

FIGURES = Path(__file__).resolve().parents[1] / "figures"
# each family: the answers of one kind of test (the first two directional, then "none")
FAMILIES = [("higher", "lower", "no difference detected"),
            ("rises", "falls", "no trend detected"),
            ("above zero", "below zero", "not detected away from zero"),
            ("still rising", "falling", "not detected away from zero"),
            ("longer", "shorter", "no difference detected"),
            ("above both ends", "above both ends", "no hump detected")]   # one-sided
NEGATIONS = ("no difference detected", "no trend detected", "not detected away from zero")


def family_of(verdict):
    for family in FAMILIES:
        if verdict in family:
            return family
    return None


def verdict_nodes(node):
    """Every dict under `node` that carries a verdict of a known family."""
    if isinstance(node, dict):
        if isinstance(node.get("verdict"), str) and family_of(node["verdict"]):
            yield node
        for value in node.values():
            yield from verdict_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from verdict_nodes(value)


def with_verdicts(results, choice):
    """A copy of `results` whose summary verdicts are all set to the family member at index
    `choice` (0, 1, 2), or to 'not tested' (choice 3, p and interval removed)."""
    r = copy.deepcopy(results)
    for node in verdict_nodes(r.get("summary", {})):
        if choice == 3:
            node.update(verdict="not tested", p=None, ci95=None)
            if "p_holm" in node:
                node["p_holm"] = None
        else:
            node["verdict"] = family_of(node["verdict"])[choice]
    return r


def problems(key, text):
    found = []
    if not isinstance(text, str):
        return [f"{key}: not a string ({type(text).__name__})"]
    if re.search(r"\bNone\b|\bnan\b", text):
        found.append(f"{key}: None/nan in {text!r}")
    if text.count("(") != text.count(")"):
        found.append(f"{key}: unbalanced parentheses in {text!r}")
    if re.search(r"\b(\w+) \1\b", text) and not re.search(r"\b(\d+) \1\b", text):
        found.append(f"{key}: a word twice in a row in {text!r}")
    for neg in NEGATIONS:
        if re.search(re.escape(neg) + r"[^;]*\(" + re.escape(neg), text):
            found.append(f"{key}: {neg!r} nested in itself in {text!r}")
    if text.count(" but ") > 1:
        found.append(f"{key}: a chain of 'but' in {text!r}")
    if "  " in text:
        found.append(f"{key}: a double space in {text!r}")
    return found


def committed():
    return {p.stem: json.loads(p.read_text()) for p in sorted(FIGURES.glob("hw1_*.json"))}


@pytest.mark.parametrize("choice", [0, 1, 2, 3], ids=["first", "second", "none", "not-tested"])
def test_every_generated_sentence_reads_for_every_verdict(choice, tmp_path):
    runs = committed()
    assert len(runs) == len(report.SCRIPTS)
    changed = 0
    for stem, results in runs.items():
        changed += sum(1 for _ in verdict_nodes(results.get("summary", {})))
        mutated = with_verdicts(results, choice)
        (tmp_path / f"{stem}.json").write_text(json.dumps(mutated))
    assert changed > 100                     # the summaries really carry the verdicts
    values = report.values(tmp_path)
    issues = [p for key, text in values.items() for p in problems(key, text)]
    assert not issues, "\n".join(issues[:20])


def test_the_checks_catch_what_they_name():
    assert problems("k", "no difference detected (no difference detected (p = 0.3))")
    assert problems("k", "falls (p = 0.2")
    assert problems("k", "rises, but falls, but rises")
    assert problems("k", "at None epochs")
    assert problems("k", "the the loss")
    assert not problems("k", "C1 > C4 (p = 0.0013); no difference detected (p ≥ 0.93): C1–C2")
