#!/usr/bin/env bash
# Set up what the torch engine's tests (test/engine/torch-*.test.ts) and `npm run bench:train`'s PyTorch peer need:
# Debian's PyTorch for its own /usr/bin/python3 (python3-torch, CPU), the threaded OpenBLAS it runs fastest with, and
# Pillow (python3-pil), which decodes the dataset's JPEG/PNG images in the engine's DataLoader workers (dsod_torch/data.py).
# The engine finds that Python even when another python3 comes first on PATH (engine/torch/python.ts).
#
# Idempotent: packages are installed only when missing; a second run takes well under a second. Needs no network
# but the Debian mirror, and that only for missing packages.
set -euo pipefail

APT_PACKAGES=(python3-torch libopenblas0-pthread python3-pil)
log() { printf '[torch-setup] %s\n' "$*" >&2; }

bash "$(dirname "$0")/apt-ensure.sh" torch-setup "${APT_PACKAGES[@]}"
log "torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), Pillow $(/usr/bin/python3 -c 'import PIL; print(PIL.__version__)') for /usr/bin/python3"
