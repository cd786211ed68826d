"""Human labels of coded values (classification, sensitivity, source, licence...), in the page's language."""

from __future__ import annotations

from collections.abc import Mapping

from catalog.search.base import FacetCount
from ndx.i18n import N_, gettext

CLASSIFICATION = {
    "open": N_("Open"),
    "internal": N_("Internal"),
    "restricted": N_("Restricted"),
}
CLASSIFICATION_HINT = {
    "open": N_("Anyone may use this data."),
    "internal": N_("For government agencies, on request for a stated purpose."),
    "restricted": N_("Personal data: access only with an approved request, for a stated legal purpose."),
}
SENSITIVITY = {
    "public": N_("Public"),
    "personal": N_("Personal"),
    "sensitive-personal": N_("Sensitive personal"),
}
SOURCE = {
    "population": N_("National Population Database"),
    "insurance": N_("National Insurance Database"),
    "land": N_("National Land Database"),
    "enterprise": N_("National Enterprise Registration Database"),
}
LICENSE = {
    "other-closed": N_("Not open (access on request)"),
    "cc-by-4.0": N_("Creative Commons Attribution 4.0"),
    "cc-zero": N_("Creative Commons CCZero"),
    "odc-by": N_("Open Data Commons Attribution"),
}
FREQUENCY = {
    "continuous": N_("Continuous"),
    "daily": N_("Daily"),
    "weekly": N_("Weekly"),
    "monthly": N_("Monthly"),
    "annual": N_("Annual"),
    "irregular": N_("Irregular"),
}
THEME = {  # the EU data themes (DCAT-AP) the policy rules use
    "AGRI": N_("Agriculture, fisheries, forestry and food"),
    "ECON": N_("Economy and finance"),
    "EDUC": N_("Education, culture and sport"),
    "ENER": N_("Energy"),
    "ENVI": N_("Environment"),
    "GOVE": N_("Government and public sector"),
    "HEAL": N_("Health"),
    "INTR": N_("International issues"),
    "JUST": N_("Justice, legal system and public safety"),
    "REGI": N_("Regions and cities"),
    "SOCI": N_("Population and society"),
    "TECH": N_("Science and technology"),
    "TRAN": N_("Transport"),
}
SORT = {
    "relevance": N_("Relevance"),
    "name": N_("Name"),
    "title": N_("Title"),
    "metadata_modified": N_("Last modified"),
}
FACET_TITLES = {
    "organization": N_("Organization"),
    "source": N_("Source"),
    "classification": N_("Classification"),
    "theme": N_("Theme"),
    "tag": N_("Tags"),
    "format": N_("Formats"),
    "license": N_("License"),
}


def label(table: Mapping[str, str], value: str | None, lang: str) -> str:
    """The translated label of ``value``, or the value itself when it has none."""
    if value is None:
        return ""
    known = table.get(value)
    return gettext(lang, known) if known else value


def facet_label(facet: str, counted: FacetCount, lang: str) -> str:
    """The label of one facet value; organizations by their name in ``lang``."""
    if counted.names:
        return counted.names[1] if lang == "en" else counted.names[0]
    table = {"classification": CLASSIFICATION, "source": SOURCE, "license": LICENSE, "theme": THEME}.get(facet)
    return label(table, counted.value, lang) if table else counted.value
