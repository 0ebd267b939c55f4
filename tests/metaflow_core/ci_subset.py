"""The cases of Metaflow's core suite that CI runs by default, and the ones known to fail.

The subset covers every graph shape (linear, branch, foreach, nested foreach,
switch, recursive switch), resume, SHOULD_FAIL, parameters, configs, tags,
logs, retries/catch, lineage and each kind of refusal by design, in a few
minutes on 2 cores. ``pytest --metaflow-core-full`` runs the whole matrix.

``EXPECTED_FAILURES`` lists the subset cases that fail today, with why: they
run as ``xfail(strict=True)``, so a fix makes them XPASS, which fails the run
until the entry is removed here. Keys are ``"Test/graph"`` (both executors)
or ``"Test/graph@executor"``.
"""

SUBSET = (
    "BasicArtifactTest/single-linear-step",
    "BasicArtifactTest/nested-foreach",
    "BasicConfigTest/single-linear-step",
    "BasicForeachTest/simple-foreach",
    "BasicIncludeTest/single-and-branch",
    "BasicLogTest/single-linear-step",
    "BasicParameterTest/single-linear-step",
    "BasicSwitchTest/simple_switch",
    "BasicTagTest/single-linear-step",
    "CardDecoratorBasicTest/single-linear-step",
    "CardResumeTest/single-linear-step",
    "CatchRetryTest/simple-foreach",
    "ConstantsTest/single-and-branch",
    "CurrentSingletonTest/nested-branches",
    "DetectSegFaultTest/single-linear-step",
    "DynamicParameterTest/single-linear-step",
    "LineageTest/nested-branches",
    "MergeArtifactsTest/single-and-branch",
    "NestedForeachTest/nested-foreach",
    "ParameterNameTest/single-linear-step",
    "ProjectBranchTest/single-linear-step",
    "RecursiveSwitchFlowTest/recursive_switch",
    "ResumeForeachJoinTest/simple-foreach",
    "ResumeStartStepTest/single-linear-step",
    "RunIdFileTest/single-linear-step",
    "SwitchInForeachTest/switch_in_foreach",
    "TagCatchTest/single-and-branch",
    "TagMutationTest/single-linear-step",
    "TaskExceptionTest/single-linear-step",
)

# Refused by design: `sfncompile check` must refuse them at a line, saying why.
REFUSED = (
    "BasicParallelTest/small-parallel",
    "BasicUnboundedForeachTest/small-foreach",
    "ExtensionsTest/single-linear-step",
)

# What still fails once the names are there (measured on surface's branch rebased on main, 01:33 UTC;
# the last two entries, BasicConfigTest and MergeArtifactsTest/single-and-branch, were fixed since).
_AFTER_NAMES: dict[str, str] = {}

# The names landed (surface): only what still fails after them is expected to fail.
EXPECTED_FAILURES = dict(_AFTER_NAMES)
