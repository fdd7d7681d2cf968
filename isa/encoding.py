"""Placeholder: the binary encoding is being written."""


def encode_program(program):
    raise NotImplementedError


def decode(data: bytes):
    raise NotImplementedError
