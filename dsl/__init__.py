"""The kernel language: devices and launching (the @kernel frontend arrives with its issue)."""
