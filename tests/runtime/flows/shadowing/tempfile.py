raise RuntimeError('the flow directory\'s tempfile.py was imported by the runtime')
