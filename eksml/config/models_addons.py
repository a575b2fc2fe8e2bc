"""`addons:` of the environment file, built from the component descriptions (eksml/components).

One field per add-on key, in the order the components are listed. An add-on whose description has a
default pin may be left out of a file (files written before that component existed stay valid),
or given without a version (`{enabled: false}`); one without must be pinned by every file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, create_model, field_validator

from eksml.components import addon_switches
from eksml.components.spec import AddonOption, AddonSwitch
from eksml.config.value_checks import chart_version

ChartVersion = Annotated[str, AfterValidator(chart_version)]


class Addon(BaseModel):
    """Unknown fields are an error: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    version: ChartVersion
    enabled: StrictBool = True


def _normaliser(option: AddonOption):
    def normalise(cls, value: str) -> str:
        return option.aliases.get(value, value)

    return field_validator(option.name)(normalise)


def _addon_model(switch: AddonSwitch) -> type[Addon]:
    if not switch.options:
        return Addon
    fields: dict[str, Any] = {
        option.name: (Literal[option.allowed], option.default)  # type: ignore[valid-type]
        for option in switch.options
    }
    validators = {f"_normalise_{option.name}": _normaliser(option) for option in switch.options if option.aliases}
    name = "".join(part.title() for part in switch.key.split("_")) + "Addon"
    return create_model(name, __base__=Addon, __validators__=validators, **fields)


ADDON_MODELS: dict[str, type[Addon]] = {key: _addon_model(switch) for key, switch in addon_switches().items()}


def _with_default_pin(version: str):
    """`{enabled: false}` (or any entry without a version) takes the description's pin."""
    def fill(value: Any) -> Any:
        return {"version": version, **value} if isinstance(value, dict) and "version" not in value else value

    return BeforeValidator(fill)


def _field(switch: AddonSwitch) -> tuple[Any, Any]:
    model = ADDON_MODELS[switch.key]
    if switch.version is None:
        return model, ...
    pin = model(version=switch.version, enabled=switch.enabled)
    return Annotated[model, _with_default_pin(switch.version)], Field(default_factory=lambda: pin)


Addons = create_model(
    "Addons",
    __config__=ConfigDict(extra="forbid", frozen=True, populate_by_name=True),
    **{key: _field(switch) for key, switch in addon_switches().items()},
)
