#!/usr/bin/env bash
# Build (once per machine) and install mmcv 2.1.0 with its compiled ops.
#
# mmcv 2.1.0 is source-only on PyPI. The built wheel is cached outside the repo,
# keyed by the torch version and by whether CUDA kernels were compiled, so a
# second `make` on the same machine reuses it instead of compiling again.
# Usage: build_mmcv.sh PYTHON  (PYTHON is the venv interpreter)
set -euo pipefail
py="$1"
version="${MMCV_VERSION:-2.1.0}"
cache_root="${OVD_EXT_CACHE:-$HOME/.cache/ovd_ext}/wheels"
pip=(env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "$py" -m pip)

torch_version=$("$py" -c 'import torch; print(torch.__version__)')
if command -v nvcc >/dev/null 2>&1 && "$py" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  flavour=cuda; export FORCE_CUDA=1
else
  flavour=cpu
fi
cache="$cache_root/mmcv-$version-torch$torch_version-$flavour"

if "$py" -c "import mmcv, mmcv.ops, sys; sys.exit(0 if mmcv.__version__ == '$version' else 1)" 2>/dev/null; then
  echo "mmcv $version with ops already installed"
  exit 0
fi
if ! ls "$cache"/mmcv-*.whl >/dev/null 2>&1; then
  echo "Building mmcv $version ($flavour ops, torch $torch_version); about 5 minutes on 2 cores..."
  mkdir -p "$cache.tmp"
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" "${pip[@]}" wheel --no-build-isolation --no-deps \
    -w "$cache.tmp" "mmcv==$version"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"   # atomic: a half build is never reused
fi
"${pip[@]}" install -c requirements/constraints.txt "$cache"/mmcv-*.whl
"$py" -c 'from mmcv.ops import RoIAlign, nms; print("mmcv ops OK")'
