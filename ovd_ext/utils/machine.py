"""What a provenance record says about the machine a result came from."""
from __future__ import annotations

import platform


def cpu_name(cpuinfo: str = '/proc/cpuinfo') -> str:
    """The CPU model (Linux ``model name``), else what :mod:`platform`
    knows (processor, then machine type)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
