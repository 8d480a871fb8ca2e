"""The channel specs, the record contract, the normalizer's names and the dashboard agree."""

from __future__ import annotations

import typing

from channels import registry
from gateway.health_model import cards
from normalizer import normalize
from normalizer.contract import schema
from normalizer.models import Channel, IdentityKind


def _union(attr: str) -> set[str]:
    return {name for spec in registry.specs() for name in getattr(spec, attr)}


def test_record_channels_agree_with_the_contract_and_the_models():
    contract = set(schema()["properties"]["channel"]["enum"])
    assert _union("records") == contract == set(typing.get_args(Channel))


def test_identity_kinds_agree_with_the_contract_and_the_models():
    contract = set(schema()["properties"]["reporter"]["properties"]["identity_kind"]["enum"])
    assert _union("identity_kinds") == contract == set(typing.get_args(IdentityKind))


def test_record_titles_use_the_labels_the_specs_declare():
    labels = {ch: label for spec in registry.specs() for ch, label in spec.labels.items()}
    assert set(labels) == _union("records")
    assert labels == normalize._CHANNEL_NAMES


def test_one_card_per_channel_fed_by_its_key_and_record_channels():
    specs = registry.specs()
    assert list(cards()) == [s.key for s in specs]
    meta = cards()["meta"]
    assert set(meta) == {"meta", "facebook", "instagram"}
    every_source = [m for ms in cards().values() for m in ms]
    assert len(every_source) == len(set(every_source)), "a metric channel feeds two cards"


def test_keys_packages_and_routes_are_unique():
    specs = registry.specs()
    assert len({s.key for s in specs}) == len(specs)
    assert [s.package for s in specs] == list(registry.CHANNEL_PACKAGES)
    for s in specs:
        assert s.package.rsplit(".", 1)[1] == s.key or s.key == "meta", "one name per channel"
    routes = [(m, ep.path) for ep in registry.endpoints() for m in ep.methods]
    assert len(routes) == len(set(routes))


def test_every_status_names_the_missing_variable(make_settings):
    settings = make_settings(**{f: None for s in registry.specs() for e in s.enabled_by for f in e.settings
                                if f.endswith(("token", "secret", "password"))}, imap_host="", imap_user="")
    for st in settings.channel_statuses():
        assert not st.enabled and st.reason.startswith("disabled: LAPOR_"), st
    assert set(registry.status_cards().values()) == {s.key for s in registry.specs()}
