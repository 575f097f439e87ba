"""`switchboard serve`: which deployments of prefect.yaml it serves, without a server."""

from __future__ import annotations

import pytest

from switchboard import serve


def test_prefect_yaml_lists_the_four_deployments_with_their_schedules() -> None:
    specs = {s["name"]: s for s in serve.load_deployment_specs()}
    assert set(specs) == {"hourly-routing", "arrivals", "departure-redistribution",
                          "territory-change"}
    assert specs["hourly-routing"]["schedules"] == [{"cron": "0 * * * *", "timezone": "UTC"}]
    assert specs["arrivals"]["schedules"] == [{"interval": 60}]
    # Shared definitions resolve to the same parameters for the scheduled flows; arrivals
    # also watches the export for most of its minute.
    arrivals = dict(specs["arrivals"]["parameters"])
    assert 0 < arrivals.pop("watch_seconds") < 60
    assert arrivals == specs["hourly-routing"]["parameters"]


def test_serving_an_unknown_deployment_fails_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_server(*_: object, **__: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(serve, "local_server", no_server)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(ValueError, match=r"no deployment named nightly in prefect\.yaml"):
        serve.serve({}, only=("arrivals", "nightly"))


def test_build_deployments_applies_overrides_and_schedules() -> None:
    specs = [s for s in serve.load_deployment_specs() if s["name"] == "arrivals"]
    (deployment,) = serve.build_deployments(specs, {"snapshot": "/data/snap",
                                                    "unknown": "ignored"})
    assert deployment.name == "arrivals"
    assert deployment.parameters["snapshot"] == "/data/snap"
    assert "unknown" not in deployment.parameters
    (schedule,) = deployment.schedules
    assert schedule.schedule.interval.total_seconds() == 60
