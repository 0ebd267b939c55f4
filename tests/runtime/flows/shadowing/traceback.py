raise RuntimeError('the flow directory\'s traceback.py was imported by the runtime')
