#!/usr/bin/env python3
"""The original's hello_world.py with the class API."""
from xmen import Experiment


class HelloWorld(Experiment):
    """A hello world experiment designed to demonstrate
    defining experiments through the class experiment api"""

    a: str = 'Hello'  # @p The first argument
    b: str = 'World'  # @p The second argument

    def run(self):
        print(f'{self.a} {self.b}!')
        self.message({'a': self.a, 'b': self.b})
        self.note(f'greeted with {self.a} {self.b}')


if __name__ == '__main__':
    HelloWorld().main()
