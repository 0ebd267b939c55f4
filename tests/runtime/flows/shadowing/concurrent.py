raise RuntimeError('the flow directory\'s concurrent.py was imported by the runtime')
