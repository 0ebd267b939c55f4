"""The fixed program every task runs: ``python3 -c BOOTSTRAP_SOURCE <mode> <step>``.

It is sent inside every job definition, so it is short; it never contains user
data. It fetches the code package named by ``SFNCOMPILE_CODE_URL`` (``s3://``
through boto3, otherwise a local path), refuses it unless its sha256 equals
``SFNCOMPILE_CODE_SHA256`` *before anything from it runs*, extracts it once per
sha256 into a cache directory (extract to a private temporary directory, then
one atomic ``rename``: concurrent tasks either win the rename or find the
finished directory), puts it first on ``sys.path`` and hands over to
``sfncompile_runtime.main.main(argv)`` (and leaves through ``exit_process``).

An image without boto3 (e.g. plain ``python:3.11-slim``) gets it installed into
the (private) cache directory by pip on first use — exactly the wheels pinned in
``runtime/sfncompile_runtime/requirements.txt``: each version *and* the sha256 of its
(pure-Python) wheel, installed with ``--require-hashes --only-binary=:all: --no-deps``, so a
mirror or a man in the middle cannot substitute other bytes; a failure is one message. Images
built from ``runtime/Dockerfile`` (the same hash-checked pins) skip that.

A cache hit costs one ``stat``: nothing is downloaded or hashed again (the
directory is named by the hash it was verified against). The package is
byte-compiled once at extraction (unchecked-hash .pyc files), so task
start-up never compiles source, even where PYTHONDONTWRITEBYTECODE is set.
Compiled files are shared between packages by their source's sha256 (``pyc/``
in the cache, hard-linked): a new package of the same runtime (every edit of
a flow, every copy of it elsewhere makes one) compiles only what changed —
the runtime alone is ~70 ms of compiling. A shared file is used only if its
header carries the hash of the very source it is linked beside.
"""

BOOTSTRAP_SOURCE = r"""
import sys
if sys.path[:1]==['']:del sys.path[0]
import os
E=os.environ;h=E['SFNCOMPILE_CODE_SHA256'].lower();u=E['SFNCOMPILE_CODE_URL'];U=os.getuid()
B='boto3==1.35.49 --hash=sha256:b660c649a27a6b47a34f6f858f5bd7c3b0a798a16dec8dda7cbebeee80fd1f60\nbotocore==1.35.99 --hash=sha256:b22d27b6b617fc2d7342090d6129000af2efd20174215948c0d7ae2da0fab445\ns3transfer==0.10.4 --hash=sha256:244a76a24355363a68164241438de1b72f8781664920260c48465896b712a41e\njmespath==1.1.0 --hash=sha256:a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64\npython-dateutil==2.9.0.post0 --hash=sha256:a8b2bc7bffae282281c8140a97d3aa9c14da0b136dfe83f850eea9a5f7470427\nsix==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\nurllib3==2.8.0 --hash=sha256:0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3'
c=E.get('SFNCOMPILE_CODE_CACHE') or os.path.join(E.get('TMPDIR','/tmp'),'sfncompile-code-%d'%U)
os.makedirs(c,0o700,exist_ok=True);s=os.lstat(c)
if s.st_uid!=U or s.st_mode&0o022 or not os.path.isdir(c) or os.path.islink(c):sys.exit('sfncompile: the code cache %s is not private to user %d (owner %d, mode %o); remove it or set SFNCOMPILE_CODE_CACHE to a directory of your own'%(c,U,s.st_uid,s.st_mode&0o777))
os.chmod(c,0o700);d=os.path.join(c,h);m=os.path.join(d,'.sfncompile-verified')
if u.startswith('s3://'):
 try:import boto3
 except ImportError:
  p=os.path.join(c,'boto3')
  if not os.path.isdir(p):
   import subprocess;r=p+'.req%d'%os.getpid();open(r,'w').write(B)
   if subprocess.call([sys.executable,'-m','pip','install','-q','--no-deps','--only-binary=:all:','--require-hashes','--target',p+'.tmp%d'%os.getpid(),'-r',r]):sys.exit('sfncompile: this image has no boto3, and pip could not install the pinned, hash-checked boto3 (above); use an image built from runtime/Dockerfile, or let pip reach PyPI (PIP_INDEX_URL for a mirror)')
   os.remove(r);os.replace(p+'.tmp%d'%os.getpid(),p)
  sys.path.append(p);E['PYTHONPATH']=os.pathsep.join(filter(None,(E.get('PYTHONPATH'),p)))
if not os.path.isfile(m):
 import hashlib,io,json,tarfile,shutil
 if u.startswith('s3://'):
  import boto3;b,_,k=u[5:].partition('/');z=boto3.client('s3').get_object(Bucket=b,Key=k)['Body'].read()
 else:
  z=open(u,'rb').read()
 if hashlib.sha256(z).hexdigest()!=h:sys.exit('sfncompile: code package %s does not match SFNCOMPILE_CODE_SHA256 %s (damaged in storage?); refusing to run it. Run or deploy the flow again: that stores an intact copy (or delete %s)'%(u,h,u))
 t=d+'.tmp%d'%os.getpid();shutil.rmtree(t,True)
 with tarfile.open(fileobj=io.BytesIO(z)) as a:a.extractall(t,**({'filter':'data'} if hasattr(tarfile,'data_filter') else {}))
 w=json.load(open(os.path.join(t,'sfncompile_package.json'))).get('files') or {};g={}
 for r,_,n in os.walk(t):
  for f in n:q=os.path.join(r,f);g[os.path.relpath(q,t)]=hashlib.sha256(open(q,'rb').read()).hexdigest()
 g.pop('sfncompile_package.json',0)
 if g!=w or not w:shutil.rmtree(t,True);sys.exit('sfncompile: the files extracted from code package %s do not match its manifest; refusing to run them'%u)
 import py_compile,importlib.util as I;y=os.path.join(c,'pyc');os.makedirs(y,0o700,exist_ok=True)
 for r,x in g.items():
  if r.endswith('.py'):
   q=os.path.join(t,r);o=I.cache_from_source(q);k=os.path.join(y,x+'.'+os.path.basename(o));v=k+'.%d'%os.getpid()
   try:
    os.makedirs(os.path.dirname(o),exist_ok=True)
    if open(k,'rb').read(16)!=I.MAGIC_NUMBER+b'\1\0\0\0'+I.source_hash(open(q,'rb').read()):raise OSError
    os.link(k,o)
   except OSError:
    try:py_compile.compile(q,o,os.path.join(d,r),True,invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH);os.link(o,v);os.replace(v,k)
    except Exception:pass
 open(os.path.join(t,'.sfncompile-verified'),'w').write(h)
 if os.path.isdir(d) and not os.path.isfile(m):shutil.rmtree(d,True)
 try:os.rename(t,d)
 except OSError:shutil.rmtree(t,True)
E['SFNCOMPILE_PACKAGE_DIR']=d;sys.path.insert(0,d);import sfncompile_runtime;sys.path.remove(d)
from sfncompile_runtime.main import main,exit_process
exit_process(main(sys.argv[1:]))
""".strip() + "\n"
