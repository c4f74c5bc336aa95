"""`python -m dsod_torch launch --nproc N COMMAND ...`: N processes of one machine for DistributedDataParallel, with
the environment torchrun gives its workers (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
MASTER_PORT). The training code reads only that environment, so it runs the same under torchrun (several machines:
`torchrun --nnodes ... -m dsod_torch train ...`). This launcher exists because Debian 12's torchrun (PyTorch 1.13 on
Python 3.11) fails before starting a worker (its Std flag parsing returns None under Python 3.11's enum rules).

Rank 0's stdout and stderr pass through (its events); the other ranks' stdout is dropped (they emit nothing) and
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


def launch(nproc, args):
    port = str(free_port())
    children = []
    for rank in range(nproc):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc), LOCAL_WORLD_SIZE=str(nproc),
                   GROUP_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        out = None if rank == 0 else subprocess.DEVNULL
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
