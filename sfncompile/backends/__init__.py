"""Back ends: pure functions of the IR (plus deployment settings) to outputs.

``graph`` renders pictures of the step graph; ``asl`` emits the state machine;
``jobdefs`` the Batch job definitions; ``cdk`` the stacks.
"""
