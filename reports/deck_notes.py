"""Speaker notes: for each slide, what it shows and what to say, in plain words.

Built from the same :class:`ReportContent` as the slides, so the notes never contradict them.
Never imports python-pptx or Django.
"""

from __future__ import annotations

from .content import ReportContent, SegmentContent
from .sections import Section


def title_notes(content: ReportContent) -> str:
    return (
        f"This deck presents the customer segmentation {content.title} for {content.client}. "
        f"It shows version {content.version_id}; its standing: {content.edition}. "
        "Say up front whether the results are approved for use, and that every figure comes from "
        "this one version."
    )


def summary_notes(content: ReportContent) -> str:
    first = content.summary[0] if content.summary else ""
    return (
        "This slide gives the whole story on one page: how many customers, how many segments, "
        "how clear the segments are, and the one thing that sets each segment apart. "
        f"Start with the headline: {first} Then walk through one or two segments the audience "
        "cares most about, and say that each gets its own slide later."
    )


def method_notes(content: ReportContent) -> str:
    return (
        "This slide explains where the numbers come from, in plain terms. The table lists each "
        "customer fact that was used, its average over all customers and how many values had to be "
        "filled in. Say that the computer grouped customers who look alike on these facts, tried "
        "several numbers of groups, and kept the one that gave the clearest and most repeatable "
        "groups. The next slide explains the technical words."
    )


def glossary_notes(content: ReportContent) -> str:
    return (
        "This slide defines the words used in the deck. Point to the quality score and stability: "
        "they say how much to trust the segments. There is no need to read every line; refer back "
        "to this slide when a question about a term comes up."
    )


def overview_notes(content: ReportContent) -> str:
    largest = max(content.segments, key=lambda s: s.size, default=None)
    largest_text = (
        f" The largest is {largest.name}, with {largest.share_text} of customers." if largest else ""
    )
    return (
        f"This slide shows how big each of the {len(content.segments)} segments is, in customers "
        f"and as a share of all customers.{largest_text} Say that size is not importance: a small "
        "segment can matter most if its customers are valuable or at risk."
    )


def compare_notes(content: ReportContent) -> str:
    return (
        "Each bar shows how far a segment sits from the average customer on one fact, in per cent; "
        "zero is average. Tall bars are what makes a segment different. Point to the tallest bar of "
        "each segment rather than reading every one."
    )


def segment_notes(content: ReportContent, segment: SegmentContent) -> str:
    traits = " ".join(segment.traits[:2])
    action = f" A first thing to try: {segment.actions[0]}" if segment.actions else ""
    return (
        f"This slide describes {segment.name}: {segment.size_text} customers, {segment.share_text} "
        f"of all. What sets them apart: {traits} The table compares the segment with the average "
        f"customer on every fact; bold differences are the ones that matter.{action} "
        "The rule on the right says in plain terms who belongs to this segment."
    )


def validation_notes(content: ReportContent) -> str:
    stability = content.stability[0] if content.stability else ""
    return (
        "This slide shows why this number of segments was chosen. Each row is one solution that "
        "was tried; the highlighted row is the one kept. A higher quality score means clearer "
        f"segments; stability says whether they come back when the analysis is repeated. {stability} "
        "If asked, the appendix lists every solution that was tried."
    )


def section_notes(section: Section, page: int, pages: int) -> str:
    first = next((lines[0] for _, lines in section.groups if lines), "")
    if page:
        return (
            f"This slide continues the table of {section.title.lower()} ({page + 1} of {pages}). "
            "It is here for reference; there is no need to present it."
        )
    return (
        f"This slide covers {section.title.lower()}. {first} Summarise the first point and take "
        "questions; the detail is in the PDF report."
    )


def candidates_notes(page: int, pages: int) -> str:
    return (
        f"Appendix{f' ({page} of {pages})' if pages > 1 else ''}: every candidate solution with its "
        "scores, for reference. "
        "The highlighted row is the one kept. There is no need to present this slide."
    )


def cohort_notes(shown: int, total: int) -> str:
    more = (
        f" The slide shows the latest {shown} of {total} cohorts; the PDF has them all."
        if shown < total
        else ""
    )
    return (
        "This slide shows how many new customers keep buying. Each row is the customers who first "
        "bought in one period; each cell the share of them who bought again that many periods later. "
        "Darker is better. Compare a recent row with an older one at the same column: is retention "
        f"improving? Blank cells are periods that had not ended yet.{more}"
    )


def state_diagram_notes() -> str:
    return (
        "This slide shows the lifecycle states the model found in customers' buying and how "
        "customers move between them from one period to the next. Point to the arrows into the "
        "dormant state: those are the customers to win back before they lapse."
    )
