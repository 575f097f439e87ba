"""routing.yml `sla:`: the first-touch SLA of inbound leads."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from switchboard.config.base import _Strict


class Sla(_Strict):
    """First-touch SLA for inbound leads (docs/OPERATIONS.md, "First-touch SLA"): a lead
    Switchboard gave a rep through a territory that the rep logged no activity on within
    ``first_touch_minutes`` (of the rep's working hours) is re-routed to another member of
    the territory, at most ``max_reroutes`` times; the next miss sends it to manager review.
    """

    first_touch_minutes: int = Field(gt=0)
    # Lead sources (leads.source, case and surrounding spaces ignored) it applies to; empty
    # means every source.
    sources: list[str] = Field(default_factory=list)
    max_reroutes: int = Field(2, ge=0)

    @field_validator("first_touch_minutes", "max_reroutes", mode="before")
    @classmethod
    def _a_count(cls, value: object, info: ValidationInfo) -> object:
        # YAML reads `yes`, `on` and `true` as booleans, which pydantic would take for 1.
        if isinstance(value, bool):
            what = "minutes" if info.field_name == "first_touch_minutes" else "re-routes"
            raise ValueError(f"is `{str(value).lower()}`, not a number of {what}")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _source_names(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str):
            raise ValueError(f"is `{value}`, not a list: write `sources: [{value}]`")
        if isinstance(value, list):
            odd = [v for v in value if not isinstance(v, str) or not v.strip()]
            if odd:
                shown = (
                    f"`{odd[0]}`"
                    if odd[0] not in (None, "") and str(odd[0]).strip()
                    else "an empty value"
                )
                raise ValueError(
                    f"{shown} is not a lead source: list the leads.source "
                    "values the SLA applies to, such as `[Web, Demo Request]`"
                )
        return value

    @property
    def source_keys(self) -> list[str]:
        """The sources as compared with leads.source: trimmed and lower-cased."""
        return sorted({source.strip().lower() for source in self.sources})
