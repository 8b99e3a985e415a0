"""Languages (N-4): Simplified Chinese by default, English on request, every string translated.

The catalogs are checked as files (no untranslated or fuzzy entry, placeholders kept, the committed .mo
matches its .po) and through the workbench: the order list answers in Chinese without any language hint and
in English once the user picks English.
"""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.factories import OrderFactory

LOCALE = Path(settings.LOCALE_PATHS[0])
CATALOGS = {
    "en": LOCALE / "en" / "LC_MESSAGES" / "django.po",
    "zh_Hans": LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po",
    "zh_Hans-js": LOCALE / "zh_Hans" / "LC_MESSAGES" / "djangojs.po",
}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sd]|\{\w*\}")
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _untranslated(po: polib.POFile) -> list[str]:
    return [e.msgid for e in po if not e.obsolete and ("fuzzy" in e.flags or not e.translated())]


def _forms(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_N4_catalog_has_no_untranslated_or_fuzzy_entry(language):
    po = polib.pofile(str(CATALOGS[language]))

    missing = _untranslated(po)

    assert po.percent_translated() == 100 and not missing, (
        f"{len(missing)} msgid(s) without a {language} translation (or marked fuzzy) in {CATALOGS[language]}:\n"
        + "\n".join(f"  {m!r}" for m in missing)
    )


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_N4_translations_keep_every_placeholder(language):
    po = polib.pofile(str(CATALOGS[language]))

    broken = [
        (e.msgid, form)
        for e in po
        if e.translated()
        for form in _forms(e)
        if set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(e.msgid))
    ]

    assert not broken, "placeholders lost or added:\n" + "\n".join(f"  {m!r} -> {s!r}" for m, s in broken)


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_N4_committed_mo_matches_its_po(language):
    """Machines without gettext use the committed .mo: it must hold exactly what the .po says."""
    po = polib.pofile(str(CATALOGS[language]))
    mo = polib.mofile(str(CATALOGS[language].with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): _forms(e) for e in mo if e.msgid}

    stale = [e.msgid for e in po if e.translated() and compiled.get((e.msgctxt, e.msgid)) != _forms(e)]

    assert not stale, (
        f"{CATALOGS[language].with_suffix('.mo')} is out of date (run compilemessages): {stale[:20]}"
    )


@pytest.mark.skipif(
    not shutil.which("xgettext"), reason="xgettext (apt-get install gettext) extracts the msgids"
)
def test_N4_every_string_in_the_code_has_an_english_translation(tmp_path, monkeypatch):
    """makemessages on a copy of the project: a new _() string without an English msgstr fails here."""
    base = Path(settings.BASE_DIR)
    skip = {".venv", "var", "node_modules", "locale", "test-results"}
    for child in base.iterdir():
        if child.name in skip or child.name.startswith("."):
            continue
        if child.is_dir():
            shutil.copytree(child, tmp_path / child.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif child.suffix in {".py", ".html", ".txt"}:
            shutil.copy2(child, tmp_path / child.name)
    (tmp_path / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy2(CATALOGS["en"], tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["en"], ignore_patterns=["node_modules"], verbosity=0)

    missing = _untranslated(polib.pofile(str(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")))
    assert not missing, (
        f"{len(missing)} string(s) in the code have no English translation yet; run `make messages` and "
        "translate them in locale/en/LC_MESSAGES/django.po:\n" + "\n".join(f"  {m!r}" for m in missing)
    )


def test_N4_workbench_is_chinese_by_default_and_english_after_switching(client, shop, clerk):
    OrderFactory(merchant=shop)
    client.force_login(clerk, backend=BACKEND)
    orders = reverse("workbench:merchants_order_changelist")

    chinese = client.get(orders).content.decode()  # no language cookie, no Accept-Language
    switched = client.post("/i18n/setlang/", {"language": "en", "next": orders})
    english = client.get(orders).content.decode()

    assert '<html lang="zh-hans"' in chinese
    assert "订单号" in chinese and "待发货" in chinese and "Order no." not in chinese
    assert (
        "筛选" in chinese and "Apply Filters" not in chinese
    )  # django-unfold's own labels, from our zh_Hans
    assert switched.status_code == 302 and switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en"' in english
    assert "Order no." in english and "To ship" in english and "Apply Filters" in english
    assert "订单号" not in english and "待发货" not in english


def test_N4_accept_language_english_is_honoured_without_a_cookie(client, shop, clerk):
    client.force_login(clerk, backend=BACKEND)

    body = client.get(reverse("workbench:merchants_order_changelist"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert '<html lang="en"' in body.content.decode() and "Order status" in body.content.decode()
