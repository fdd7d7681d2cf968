"""The compiler: IR, passes, and the backends that lower it (``sass/`` to ``isa`` programs)."""
