"""The kernel language: ``@kernel``/``@func``, types, intrinsics, devices and launching."""
