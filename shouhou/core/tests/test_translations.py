"""The Chinese catalogue is complete, and the committed .mo is compiled from the .po."""

from pathlib import Path

import polib

import shouhou

LOCALE = Path(shouhou.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _pairs(catalogue: polib._BaseFile) -> dict[tuple[str | None, str], str]:
    return {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0, "")
        for entry in catalogue
        if entry.msgid and not entry.obsolete
    }


def test_every_message_has_a_chinese_translation():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []


def test_compiled_catalogue_matches_the_source():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    assert _pairs(mo) == _pairs(po)
