"""What an app session keeps of a decision's trail: every step, except that skipped policies past
the first twenty become one line standing where the last of them stood."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mfa_policies import resolution as r
from mfa_policies.access.enforcement import GrantedDecision
from tests.support import builders as b


def kept_step_by_step(trail, kept) -> tuple[str, ...]:
    """The rule, written as plainly as possible."""
    total = sum(1 for step in trail if step.skipped)
    out, seen = [], 0
    for step in trail:
        if step.skipped:
            seen += 1
            if seen > kept:
                if seen == total:
                    out.append(f"[policy] … and {total - kept} more policies that do not match")
                continue
        out.append(str(step))
    return tuple(out)


@settings(max_examples=300)
@given(st.lists(st.sampled_from([True, True, True, False]), max_size=80))
@example([False] + [True] * 25 + [False] + [True] * 3 + [False])
def test_the_kept_trail_follows_the_rule_wherever_the_skipped_steps_stand(flags):
    trail = tuple(r.Step(r.POLICY if skipped else r.SESSION, f"step {i}", skipped=skipped)
                  for i, skipped in enumerate(flags))
    decision = r.resolve(b.request())
    decision = r.Decision(**{**decision.__dict__, "trail": trail})
    assert GrantedDecision.from_decision(decision).trail == kept_step_by_step(trail, GrantedDecision.SKIPPED_KEPT)
