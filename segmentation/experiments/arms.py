"""The arms of an experiment: a name and an allocation weight each; the first arm is the control."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SegmentationError


@dataclass(frozen=True)
class Arm:
    name: str
    ratio: int  # allocation weight, >= 1


def parse_arms(text: str) -> tuple[Arm, ...]:
    """``'control:1,treatment:1'`` -> arms; the first arm is the control.

    An arm without ``:ratio`` has weight 1. Names are kept as written (spaces around them
    trimmed) and must be distinct; weights are whole numbers of at least 1.
    """
    arms: list[Arm] = []
    for part in str(text).split(","):
        name, sep, weight = part.strip().partition(":")
        name = name.strip()
        if not name:
            raise SegmentationError(
                f"arm {part.strip()!r} has no name; write arms as name:ratio separated by commas, "
                "e.g. control:1,treatment:1",
                key="arms",
            )
        ratio = 1
        if sep:
            try:
                ratio = int(weight.strip())
            except ValueError:
                raise SegmentationError(
                    f"arm {name!r} has ratio {weight.strip()!r}; a ratio is a whole number of at least 1",
                    key="arms",
                ) from None
            if ratio < 1:
                raise SegmentationError(
                    f"arm {name!r} has ratio {ratio}; a ratio is a whole number of at least 1", key="arms"
                )
        if any(arm.name == name for arm in arms):
            raise SegmentationError(f"arm {name!r} is named twice; each arm needs its own name", key="arms")
        arms.append(Arm(name, ratio))
    if len(arms) < 2:
        raise SegmentationError(
            "an experiment needs at least two arms, a control first and then a treatment, "
            "e.g. control:1,treatment:1",
            key="arms",
        )
    return tuple(arms)
