"""switchboard.report.conflicts: the rule-gap recommendations, from the evidence only."""

from __future__ import annotations

from switchboard.report.conflicts import rule_gaps

from .conftest import ACCOUNTS, LEADS, NAMED, SINCE, cand, conflicts, decisions


def test_named_subsidiary_conflicts_recommend_a_rule_for_their_named_parent() -> None:
    c = conflicts(
        [
            {"record_type": "account", "record_id": "S1", "conflict_type": "named_subsidiary"},
            {"record_type": "account", "record_id": "S2", "conflict_type": "named_subsidiary"},
            # direct parent M1 is not named; its ultimate parent P1 is
            {"record_type": "account", "record_id": "S3", "conflict_type": "named_subsidiary"},
        ]
    )
    recs = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert recs.height == 1
    row = recs.row(0, named=True)
    assert (row["type"], row["evidence"], row["subject"]) == ("named_subsidiary", 3, "P1")
    assert row["recommendation"].startswith("3 named-subsidiary conflicts since 2026-11-16")
    assert "parents P1 (Parent One)" in row["recommendation"]
    assert "P2" not in row["recommendation"]


def test_named_subsidiary_parents_are_listed_by_evidence_and_leads_use_their_account() -> None:
    c = conflicts(
        [
            {"record_type": "account", "record_id": "S4", "conflict_type": "named_subsidiary"},
            {"record_type": "lead", "record_id": "L1", "conflict_type": "named_subsidiary"},
            {"record_type": "account", "record_id": "S2", "conflict_type": "named_subsidiary"},
        ]
    )
    row = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE).row(0, named=True)
    assert row["evidence"] == 3 and row["subject"] == "P1, P2"


def test_fallback_decisions_recommend_a_territory_per_country_and_segment() -> None:
    d = decisions(
        [
            {
                "record_type": "account",
                "record_id": "F1",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "account",
                "record_id": "F2",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "account",
                "record_id": "F3",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "lead",
                "record_id": "L2",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {"record_type": "account", "record_id": "S1", "owner_id": "A", "rule": "territory"},
        ]
    )
    recs = rule_gaps(conflicts([]), d, ACCOUNTS, LEADS, NAMED, SINCE)
    got = {r["subject"]: r["evidence"] for r in recs.iter_rows(named=True)}
    assert got == {"DE / SMB": 2, "BR / MM": 1, "DE / any segment": 1}
    assert set(recs["type"]) == {"fallback_queue"}
    assert recs.row(0, named=True)["recommendation"].startswith(
        "2 records fell to the fallback queue since 2026-11-16 from DE (SMB)"
    )


def test_multi_territory_conflicts_group_by_territory_pair() -> None:
    c = conflicts(
        [
            {"record_id": "A1", "conflict_type": "multi_territory", "candidates": cand("T2", "T1")},
            {"record_id": "A2", "conflict_type": "multi_territory", "candidates": cand("T1", "T2")},
            {"record_id": "A3", "conflict_type": "multi_territory", "candidates": cand("T3", "T1")},
            {
                "record_id": "A4",
                "conflict_type": "pipeline_owner_mismatch",
                "candidates": cand("T1", "T2"),
            },
        ]
    )
    recs = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert [(r["subject"], r["evidence"]) for r in recs.iter_rows(named=True)] == [
        ("T1 and T2", 2),
        ("T1 and T3", 1),
    ]
    assert "distinct priorities" in recs["recommendation"][0]


def test_no_evidence_no_recommendations() -> None:
    recs = rule_gaps(conflicts([]), decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert recs.is_empty() and recs.columns == ["type", "evidence", "subject", "recommendation"]
