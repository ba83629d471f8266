#!/usr/bin/env python3
"""Parameters merge along the method resolution order, as in the original: a subclass re-declares
`a`, inherits `b`, and a second parent adds `m`."""
from xmen import Experiment


class Base(Experiment):
    """A base experiment."""

    a: float = 0.5  # @p A parameter
    b: str = 'cat'  # @p Another parameter


class Another(Experiment):
    """A second parent."""

    m: int = 3  # @p From another parent


class Child(Another, Base):
    """A child experiment overriding a and inheriting b and m."""

    a: float = 0.1  # @p A parameter, re-declared

    def run(self):
        print(f'a={self.a} b={self.b} m={self.m}')


if __name__ == '__main__':
    Child().main()
