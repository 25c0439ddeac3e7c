# SPDX-License-Identifier: Apache-2.0
# Copyright The carbonrun Authors
"""Print each GPU's NVML total-energy counter, read with ctypes.

An independent reference for scripts/device-check.sh: it calls
nvmlDeviceGetTotalEnergyConsumption (millijoules since the driver loaded)
straight from libnvidia-ml.so.1, without carbonrun's code. One line per
GPU: index, UUID, millijoules.
"""
import ctypes
import sys


def main():
    try:
        lib = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError as err:
        sys.exit(f"nvml_energy.py: cannot load libnvidia-ml.so.1: {err}")
    if lib.nvmlInit_v2() != 0:
        sys.exit("nvml_energy.py: nvmlInit_v2 failed")
    count = ctypes.c_uint()
    lib.nvmlDeviceGetCount_v2(ctypes.byref(count))
    for i in range(count.value):
        handle = ctypes.c_void_p()
        lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(handle))
        uuid = ctypes.create_string_buffer(96)
        lib.nvmlDeviceGetUUID(handle, uuid, 96)
        energy = ctypes.c_ulonglong()
        ret = lib.nvmlDeviceGetTotalEnergyConsumption(handle, ctypes.byref(energy))
        value = energy.value if ret == 0 else -1
        print(f"{i} {uuid.value.decode()} {value}")
    lib.nvmlShutdown()


if __name__ == "__main__":
    main()
