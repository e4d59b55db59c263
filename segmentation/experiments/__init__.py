"""Experiments by segment on an approved version: the design (arms, power, assignment, balance, SQL)
and the analysis (effects by segment, CUPED, the post-stratified overall effect, heterogeneity,
multiplicity, sample-ratio mismatch).

:func:`segmentation.experiments.design.design` deals each customer an arm by blocked randomisation
within its segment, keyed by a salted MD5 a database can repeat
(:func:`segmentation.experiments.sql.compile_assignment`), checks the arms' balance on the
covariates and the primary metric's power in each segment. Plain Python: no Django.
"""

from .analysis import Analysis, analyse, correction_from_plan, write_analysis
from .arms import Arm, parse_arms
from .assignment import assign, default_salt
from .balance import balance_table
from .design import Design, DesignSpec, design, design_from_dict, write_design
from .power import Metric, achieved_power, cuped_reduction, power_table, required_per_arm
from .sql import compile_assignment

__all__ = [
    "Analysis",
    "Arm",
    "Design",
    "DesignSpec",
    "Metric",
    "achieved_power",
    "analyse",
    "assign",
    "balance_table",
    "compile_assignment",
    "correction_from_plan",
    "cuped_reduction",
    "default_salt",
    "design",
    "design_from_dict",
    "parse_arms",
    "power_table",
    "required_per_arm",
    "write_analysis",
    "write_design",
]
