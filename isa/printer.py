"""Placeholder: the canonical printer is being written."""


def format_program(program):
    raise NotImplementedError
