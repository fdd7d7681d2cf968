"""Placeholder: the assembler (text -> Program) is being written."""


def assemble(text: str, filename: str = "<assembly>"):
    raise NotImplementedError
