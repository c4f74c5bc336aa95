"""`python -m dsod_torch launch --nproc N [--nnodes M --node-rank R --master-addr HOST --master-port PORT] COMMAND ...`:
N processes of this machine for DistributedDataParallel, with the environment torchrun gives its workers (RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT). Several machines: the same command
on each, with its --node-rank (0..M-1) and the same --master-addr/--master-port (node 0's address, a free port there);
global ranks are node_rank x N + local rank, as torchrun numbers them (static rendezvous: every node has N processes). The training code reads only that environment, so it runs the same under torchrun (several machines:
`torchrun --nnodes ... -m dsod_torch train ...`). This launcher exists because Debian 12's torchrun (PyTorch 1.13 on
Python 3.11) fails before starting a worker (its Std flag parsing returns None under Python 3.11's enum rules).

Global rank 0's stdout and stderr pass through (its events); the other ranks' stdout is dropped (they emit nothing) and
their stderr passes through. SIGINT and SIGTERM are forwarded to every rank (they stop together, after a checkpoint).
Exit status: the first non-zero status of a rank, else 0.
"""
import os
import signal
import socket
import subprocess
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USAGE = "launch --nproc N [--nnodes M --node-rank R --master-addr HOST --master-port PORT] COMMAND ..."
OPTIONS = {"--nproc": "nproc", "--nnodes": "nnodes", "--node-rank": "node_rank", "--master-addr": "master_addr", "--master-port": "master_port"}


class LaunchError(Exception):
    pass


def parse_launch(argv):
    """The launcher's options (before the command; `--name value` or `--name=value`) and the rank's command line."""
    o = {"nproc": None, "nnodes": 1, "node_rank": 0, "master_addr": None, "master_port": None}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        name, eq, value = argv[i].partition("=")
        if name not in OPTIONS:
            break
        if not eq:
            if i + 1 >= len(argv):
                raise LaunchError(f"{name} needs a value")
            value = argv[i + 1]
            i += 1
        i += 1
        key = OPTIONS[name]
        if key == "master_addr":
            o[key] = value
        elif not value.isdigit():
            raise LaunchError(f"{name} {value!r}: a whole number")
        else:
            o[key] = int(value)
    rest = argv[i:]
    if o["nproc"] is None or o["nproc"] < 1:
        raise LaunchError("--nproc N (N >= 1) is required")
    if o["nnodes"] < 1 or not 0 <= o["node_rank"] < o["nnodes"]:
        raise LaunchError(f"--node-rank {o['node_rank']}: between 0 and --nnodes - 1 ({o['nnodes'] - 1})")
    if o["nnodes"] > 1 and (o["master_addr"] is None or o["master_port"] is None):
        raise LaunchError("several machines (--nnodes > 1) need --master-addr and --master-port (node 0's address and a free port there)")
    if o["master_port"] is not None and not 0 < o["master_port"] < 65536:
        raise LaunchError(f"--master-port {o['master_port']}: between 1 and 65535")
    if not rest:
        raise LaunchError("no command to run (train ...)")
    return o, rest


def rank_envs(nproc, nnodes=1, node_rank=0, master_addr=None, master_port=None, base=None):
    """torchrun's environment for each local process of this node."""
    base = os.environ if base is None else base
    addr = master_addr or "127.0.0.1"
    port = str(master_port or free_port())
    world = nnodes * nproc
    return [dict(base, RANK=str(node_rank * nproc + local), LOCAL_RANK=str(local), WORLD_SIZE=str(world),
                 LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(node_rank), ROLE_RANK=str(node_rank * nproc + local),
                 ROLE_WORLD_SIZE=str(world), MASTER_ADDR=addr, MASTER_PORT=port)
            for local in range(nproc)]


def launch(nproc, args, nnodes=1, node_rank=0, master_addr=None, master_port=None):
    children = []
    for env in rank_envs(nproc, nnodes, node_rank, master_addr, master_port):
        out = None if env["RANK"] == "0" else subprocess.DEVNULL
        children.append(subprocess.Popen([sys.executable, "-m", "dsod_torch", *args], env=env, stdout=out))

    def forward(signum, _frame):
        for c in children:
            if c.poll() is None:
                c.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        codes = [c.wait() for c in children]
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    bad = [c for c in codes if c != 0]
    # A rank killed by a signal reports -N; as a process status that is 128 + N.
    return (128 - bad[0] if bad[0] < 0 else bad[0]) if bad else 0
