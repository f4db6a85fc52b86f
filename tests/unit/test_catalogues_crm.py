"""The `crm` catalogue against the code: every message id the code writes (marked with `N_`,
`t`, `gettext`, or held by the registries of reports, operation-log columns and approval kinds)
is in `crm.po` of every locale, translated in each locale whose language differs from the id's,
with the same placeholders; and the catalogues are what `make messages` would write."""

from __future__ import annotations

import io

import pytest
from babel.messages.pofile import read_po

from readmodels.i18n import SUPPORTED, gettext, t
from readmodels.messages import catalogue_path, collect, extract_crm, language_of, placeholders

CODE = collect()


def _catalogue(locale: str) -> dict[str, str]:
    with catalogue_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain="crm")
    return {str(m.id): str(m.string or "") for m in catalog if m.id}


def test_the_code_writes_the_texts_a_person_reads() -> None:
    """A floor under the extraction: the notifications, the reports and the command line each
    bring their ids (an extraction that found nothing would pass the checks below)."""
    places = {where.split("#")[0] for found in CODE.values() for where, _ in found}
    assert {"projections/inbox.py", "readmodels/reports", "api/cli/pool.py", "api/report_page.py"} <= places
    assert "待审批：{kind} — {summary}" in CODE and "客户拜访查询" in CODE and "拜访时间" in CODE
    assert len(CODE) > 200


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_message_is_in_the_catalogue_and_translated(locale: str) -> None:
    catalogue = _catalogue(locale)
    language = locale.split("_")[0]
    missing = sorted(m for m in CODE if m not in catalogue)
    assert not missing, f"{locale}: not in crm.po (run make messages): {missing[:10]}"
    untranslated = sorted(m for m in CODE if language_of(m) != language and not catalogue[m].strip())
    assert not untranslated, f"{locale}: untranslated: {untranslated[:10]}"
    for message, translation in catalogue.items():
        if translation:
            assert placeholders(translation) == placeholders(message), (locale, message, translation)
            if language_of(message) != language:  # a translation is in the locale's language
                assert language_of(translation) == language, (locale, message, translation)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_catalogue_holds_no_message_the_code_no_longer_writes(locale: str) -> None:
    stale = sorted(set(_catalogue(locale)) - set(CODE))
    assert not stale, f"{locale}: crm.po has ids the code does not write (run make messages): {stale[:10]}"


def test_rendering_follows_the_locale() -> None:
    assert gettext("客户拜访查询", locale="zh_CN") == "客户拜访查询"
    assert gettext("客户拜访查询", locale="en") == "Customer visits"
    assert t("no customer numbered {number}", locale="zh_CN", number="KH1") == "没有编号为 KH1 的客户"
    assert t("no customer numbered {number}", locale="en", number="KH1") == "no customer numbered KH1"
    # A message no catalogue has is shown as written; a value with braces is only a value.
    assert t("未登记的文字 {x}", locale="en", x="{y}") == "未登记的文字 {y}"


def test_the_extractor_skips_other_domains_and_takes_only_literals() -> None:
    source = (b'N_("a")\nt("b", x=1)\ngettext("c", domain="crm")\nt("d", domain="errors")\n'
              b'N_(name)\nother("e")\nmodule.t("f")\n')
    found = [message for _, _, message, _ in extract_crm(io.BytesIO(source), None, [], {})]
    assert sorted(found) == ["a", "b", "c", "f"]
