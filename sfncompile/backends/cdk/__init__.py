"""CDK back end: a platform stack (shared) and one stack per flow deployment.

``synth(builds, platform)`` returns the CloudFormation templates; importing
this package does not import the CDK (the heavy part loads on first synth).
"""

from .build import FlowBuild, compile_flow
from .settings import FlowSettings, Networking, PlatformSettings, deployment_name

__all__ = ["FlowBuild", "FlowSettings", "Networking", "PlatformSettings", "compile_flow", "deployment_name",
           "synth"]


def synth(*args, **kwargs):
    from .app import synth as _synth

    return _synth(*args, **kwargs)
