"""Profiles, seeds and the page helpers: one setting picks the sizes, claims fail loudly."""

from __future__ import annotations

import numpy as np
import pytest

from nnbook import page, profiles, seeding


def test_profile_defaults_to_full(monkeypatch):
    monkeypatch.delenv("NNBOOK_PROFILE", raising=False)
    assert profiles.current() == "full"


def test_sizes_follow_the_profile(monkeypatch):
    monkeypatch.setenv("NNBOOK_PROFILE", "quick")
    assert profiles.sizes(full={"epochs": 10}, quick={"epochs": 1}) == {"epochs": 1}
    monkeypatch.setenv("NNBOOK_PROFILE", "full")
    assert profiles.sizes(full={"epochs": 10}, quick={"epochs": 1}) == {"epochs": 10}


def test_unknown_profile_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("NNBOOK_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"NNBOOK_PROFILE: expected one of \['full', 'quick'\], got 'fast'"):
        profiles.current()


def test_profiles_must_name_the_same_sizes():
    with pytest.raises(ValueError, match="quick: expected the same keys as full"):
        profiles.sizes(full={"epochs": 10, "batch": 32}, quick={"epochs": 1})


def test_seed_everything_repeats_numpy_draws():
    seeding.seed_everything(3)
    first = np.random.rand(3)
    seeding.seed_everything(3)
    assert np.array_equal(first, np.random.rand(3))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed_is_refused(seed):
    with pytest.raises(ValueError, match="^seed: expected an int >= 0"):
        seeding.seed_everything(seed)


def test_false_claim_fails_with_the_sentence():
    with pytest.raises(page.ClaimError, match="the loss fell"):
        page.claim(False, "the loss fell")
    page.claim(True, "the loss fell")


def test_note_needs_some_data_description():
    with pytest.raises(ValueError, match="data, synthetic"):
        page.note()


def test_glue_name_must_be_an_identifier():
    with pytest.raises(ValueError, match="name: expected an identifier-like string"):
        page.glue("two words", 1.0)
