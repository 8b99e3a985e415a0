"""The level evaluations stored before the engine stopped using floats: their JSON numbers become the Decimal
strings the engine writes now (merchants.levels.numbers) — a check's value to 6 places, a score to 2, a
score's indicator value to 4, any other non-integer figure as the decimal it printed as. Integers stay.
Backwards it does nothing (the strings read fine either way)."""

import math
from decimal import Decimal
from fractions import Fraction

from django.db import migrations


def _quantize(value, places):
    fraction = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    digits = math.floor(abs(fraction) * 10**places + Fraction(1, 2))
    sign = "-" if fraction < 0 and digits else ""
    return str(Decimal(f"{sign}{digits}").scaleb(-places))


def _number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _score(value):
    return _quantize(value, 2) if _number(value) else value


def convert(evaluation) -> bool:
    changed = False
    checks = []
    for check in evaluation.checks or []:
        if isinstance(check, dict) and isinstance(check.get("value"), float):
            check = {**check, "value": _quantize(check["value"], 6)}
            changed = True
        checks.append(check)
    figures = {}
    for key, value in (evaluation.figures or {}).items():
        if isinstance(value, float):
            value = str(Decimal(repr(value)))
            changed = True
        figures[key] = value
    scores = dict(evaluation.scores or {})
    before = repr(scores)
    for key in ("shop_score", "experience_score"):
        if key in scores:
            scores[key] = _score(scores[key])
    if isinstance(scores.get("dimensions"), dict):
        scores["dimensions"] = {k: _score(v) for k, v in scores["dimensions"].items()}
    if isinstance(scores.get("parts"), dict):
        parts = {}
        for key, part in scores["parts"].items():
            if isinstance(part, dict):
                value = part.get("value")
                part = {
                    **part,
                    "value": _quantize(value, 4) if _number(value) else value,
                    "score": _score(part.get("score")),
                }
            parts[key] = part
        scores["parts"] = parts
    changed = changed or repr(scores) != before
    evaluation.checks, evaluation.figures, evaluation.scores = checks, figures, scores
    return changed


def forwards(apps, schema_editor):
    LevelEvaluation = apps.get_model("merchants", "LevelEvaluation")
    batch = []
    for evaluation in LevelEvaluation.objects.only("pk", "checks", "figures", "scores").iterator(chunk_size=2000):
        if convert(evaluation):
            batch.append(evaluation)
        if len(batch) >= 2000:
            LevelEvaluation.objects.bulk_update(batch, ["checks", "figures", "scores"])
            batch = []
    if batch:
        LevelEvaluation.objects.bulk_update(batch, ["checks", "figures", "scores"])


class Migration(migrations.Migration):
    dependencies = [("merchants", "0016_help_texts_without_rule_ids")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
