raise RuntimeError('the flow directory\'s hashlib.py was imported by the runtime')
