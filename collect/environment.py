"""What the measurements ran on, for the traces' notes and the profiles' provenance."""

import os
import platform

import torch


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def blas() -> str:
    """The BLAS torch's CPU matrix products go through (Debian's torch uses the system's)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line.lower() or "mkl" in line}
    except OSError:
        return "unknown"
    # libblas.so.3 is Debian's alternative: the library behind it, when loaded, names the BLAS.
    fast = sorted(lib for lib in libs if "openblas" in lib or "mkl" in lib or "blis" in lib)
    return ", ".join(fast) if fast else (", ".join(sorted(libs)) + " (reference BLAS)" if libs else "unknown")


def device_description(device) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU {cpu_model()}, {torch.get_num_threads()} torch thread(s), BLAS {blas()}, {load_average()} at the start"


def load_average() -> str:
    """The machine's 1-minute load average over its CPUs: other work competes for a CPU."""
    try:
        return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def software() -> str:
    return f"torch {torch.__version__}, Python {platform.python_version()}"
