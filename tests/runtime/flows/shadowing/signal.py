raise RuntimeError('the flow directory\'s signal.py was imported by the runtime')
