"""campaign_change(referrals=...): a hit brought by another site as a new source (UA), or not (Matomo)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sessions.causes import SplitCause
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.kernels import Columns, split_causes
from simulator.sessions.presets import PRESETS
from simulator.sessions.rules import CampaignChange, Inactivity

MIN = 60_000
PAYPAL = 22  # any code: the simulator uses the hit's cause


def _cols(campaign: list[int], referral: list[int] | None) -> Columns:
    n = len(campaign)
    ref = None if referral is None else np.array(referral, dtype=np.int64)
    return Columns(
        np.zeros(n, dtype=np.int64),
        np.arange(n, dtype=np.int64) * MIN,
        np.array(campaign, np.int32),
        referral=ref,
    )


def _causes(rule: CampaignChange, campaign: list[int], referral: list[int] | None) -> list[int]:
    return split_causes(_cols(campaign, referral), (Inactivity(30 * MIN), rule), "UTC").tolist()


def test_a_referral_back_from_paypal_splits_a_paid_session_only_when_asked() -> None:
    camp, ref = [0, -1, -1, -1], [-1, -1, PAYPAL, -1]
    new, cc = SplitCause.NEW_USER, SplitCause.CAMPAIGN_CHANGE
    assert _causes(CampaignChange(), camp, ref) == [new, 0, 0, 0]
    assert _causes(CampaignChange(referrals="split"), camp, ref) == [new, 0, cc, 0]
    assert _causes(CampaignChange(referrals="split"), camp, None) == [new, 0, 0, 0]  # no column: ignored


def test_a_session_begun_without_a_source_adopts_the_referral_or_splits() -> None:
    camp, ref = [-1, -1, -1, 0], [-1, PAYPAL, -1, -1]
    new, cc = SplitCause.NEW_USER, SplitCause.CAMPAIGN_CHANGE
    # adopt: the referral becomes the session's source; the later campaign is a change
    assert _causes(CampaignChange("adopt", "split"), camp, ref) == [new, 0, 0, cc]
    assert _causes(CampaignChange("split", "split"), camp, ref) == [new, cc, 0, cc]


def test_the_same_referral_twice_is_no_change_and_codes_never_collide_with_campaigns() -> None:
    # campaign code 1 and referral code 1 are different sources
    camp, ref = [1, -1, -1, -1], [-1, 1, 1, -1]
    assert _causes(CampaignChange(referrals="split"), camp, ref) == [SplitCause.NEW_USER, 4, 0, 0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 2), st.integers(-1, 2)), min_size=1, max_size=30),
    st.sampled_from(["adopt", "split"]),
)
def test_referrals_split_is_campaign_change_on_the_merged_source(rows: list, from_none: str) -> None:
    """A plain reference: referral r is the campaign 100 + r, then the rule as it always was."""
    camp = [c for c, _ in rows]
    ref = [r for _, r in rows]
    merged = [100 + r if r >= 0 else c for c, r in rows]
    got = _causes(CampaignChange(from_none, "split"), camp, ref)  # type: ignore[arg-type]
    want = _causes(CampaignChange(from_none), merged, None)  # type: ignore[arg-type]
    assert got == want


def test_ua_splits_on_referrals_matomo_not_ga4_source_split_is_the_disputed_reading() -> None:
    ua = PRESETS["universal_analytics"]
    assert ua.rules[2] == CampaignChange("adopt", "split")
    assert "referrals=split" in ua.describe()
    assert PRESETS["matomo"].rules[2] == CampaignChange("split", "ignore")
    assert all(not isinstance(r, CampaignChange) for r in PRESETS["ga4"].rules)
    split = PRESETS["ga4_source_split"]
    assert split.rules == (Inactivity(30 * MIN), CampaignChange("split", "split"))
    assert any("against" in s for s in split.sources)  # both sides of the dispute are cited
    assert "ga4_source_split" in " ".join(PRESETS["ga4"].choices)


def test_referrals_is_a_parameter_in_specs_and_bad_values_are_refused() -> None:
    d = parse_definition_spec("inactivity:timeout=30m+campaign_change:referrals=split")
    assert d.rules[1] == CampaignChange("adopt", "split")
    with pytest.raises(Exception, match="referrals"):
        parse_definition_spec("inactivity:timeout=30m+campaign_change:referrals=sometimes")
    with pytest.raises(ValueError, match="referrals"):
        CampaignChange(referrals="maybe")  # type: ignore[arg-type]
