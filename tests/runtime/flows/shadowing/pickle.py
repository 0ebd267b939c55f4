raise RuntimeError('the flow directory\'s pickle.py was imported by the runtime')
