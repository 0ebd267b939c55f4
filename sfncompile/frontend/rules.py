"""Rule ids of the diagnostics the front end itself emits (the ``SFN0xx`` range).

The lint (``sfncompile.lint``) owns ``SFN1xx`` and up; it reads the IR and
never re-parses source. The front end reports only what stops it from
reading the source faithfully:

=======  ===================================================================
SFN001   Python syntax error (position as Python reports it)
SFN002   no flow class: no subclass of ``FlowSpec`` from sfncompile/metaflow
SFN003   several flow classes in the file and no ``--flow NAME`` given
SFN004   ``--flow NAME`` names no flow class of the file
SFN005   a decorator argument (or ``@step(start=/end=)``) cannot be evaluated
         statically; the message lists what is allowed
SFN006   a ``Parameter``/``IncludeFile`` argument cannot be read statically
         (name, default, type, help, required)
SFN007   a decorator that is neither a name nor a call (``@a[0]``, ``@f()()``)
SFN008   the file cannot be decoded (not UTF-8 / bad coding cookie)
SFN009   a Metaflow/sfncompile step decorator placed below ``@step`` (Metaflow refuses
         it too; the user's own function decorators may go anywhere)
SFN010   warning: unknown ``Parameter`` keyword, or a ``help=`` that cannot be read statically;
         ignored
SFN011   warning: a method (step) defined twice in one class; the later wins
SFN012   the source nests too deeply for the parser (Python accepted it)
SFN013   warning: a ``Parameter`` default computed at import time (``default=f(x)``) and no
         ``type=``: the runtime evaluates it, the compiler takes the type as str
SFN014   a ``metaflow``/``sfncompile`` name (or module) imported or used that sfncompile
         does not provide: every task would fail with ``ImportError``; the message says
         whether Metaflow has it and sfncompile refuses it, and why
SFN015   a ``Config`` whose value cannot be read: a missing file or required value, text
         that is not JSON, or the flow's own code (a ``parser=`` function, a function
         default; evaluated at launch in a child process, ``frontend.launch``) that raised
         or could not be imported; or a config reference that cannot be evaluated
SFN016   a ``FlowMutator``/``StepMutator`` applied to the flow or a step: it changes the
         flow's parameters and decorators by running code, which the compiler does not run
SFN099   internal error of the front end (a bug: please report it)
=======  ===================================================================

Malformed ``self.next(...)`` calls are not reported here: the front end
records them in ``Transition.malformed`` and the lint reports them with its
own rule id, next to the other transition rules.
"""

SYNTAX = "SFN001"
NO_FLOW = "SFN002"
SEVERAL_FLOWS = "SFN003"
FLOW_NOT_FOUND = "SFN004"
DECORATOR_ARGUMENT = "SFN005"
PARAMETER = "SFN006"
DECORATOR_FORM = "SFN007"
UNREADABLE = "SFN008"
DECORATOR_BELOW_STEP = "SFN009"
PARAMETER_KEYWORD = "SFN010"
DUPLICATE_DEFINITION = "SFN011"
TOO_DEEP = "SFN012"
RUNTIME_DEFAULT = "SFN013"
UNKNOWN_IMPORT = "SFN014"
CONFIG = "SFN015"
MUTATOR = "SFN016"
INTERNAL = "SFN099"

ALL = {
    SYNTAX: "Python syntax error",
    NO_FLOW: "no flow class in the file",
    SEVERAL_FLOWS: "several flow classes, none chosen",
    FLOW_NOT_FOUND: "the chosen flow class does not exist",
    DECORATOR_ARGUMENT: "decorator argument not statically evaluable",
    PARAMETER: "Parameter argument not statically readable",
    DECORATOR_FORM: "unsupported decorator expression",
    UNREADABLE: "source cannot be decoded",
    DECORATOR_BELOW_STEP: "step decorator below @step",
    PARAMETER_KEYWORD: "unknown Parameter keyword",
    DUPLICATE_DEFINITION: "method defined twice",
    TOO_DEEP: "source nested too deeply",
    RUNTIME_DEFAULT: "parameter default computed at run time, type unknown",
    UNKNOWN_IMPORT: "imported name sfncompile does not provide",
    CONFIG: "Config value not readable at compile time",
    MUTATOR: "FlowMutator/StepMutator applied (they run code to change the flow)",
    INTERNAL: "internal front-end error",
}
