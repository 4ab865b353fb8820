"""Input handling of the public ``sessionize`` (issue 11): empty inputs."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.sessions import sessionize


@pytest.mark.parametrize("definition", ["ga4", "universal_analytics", "matomo"])
def test_empty_lists_give_an_empty_result(definition: str) -> None:
    """sessionize([], [], ...) has no rows and no sessions (not a dtype TypeError)."""
    ids = sessionize([], [], definition)
    assert ids.dtype == np.int64
    assert ids.shape == (0,)
    ids, causes = sessionize([], [], definition, campaign=[], with_causes=True)
    assert ids.shape == causes.shape == (0,)
    assert causes.dtype == np.int8


def test_a_non_empty_float_timestamp_is_still_refused() -> None:
    """Only the empty list is special: float epoch times stay a TypeError naming the dtype."""
    with pytest.raises(TypeError, match="got dtype float64"):
        sessionize([1], [0.5])
