#!/usr/bin/env python3
"""The original's functional experiment."""
import xmen


@xmen.autodoc
def hello_world(
    root: xmen.Root,   # experiments are assigned a root before being executed
    a: str = 'Hello',  # the first
    # argument
    b: str = 'World',   # the second argument
):
    """A hello world experiment designed to demonstrate
    defining experiments through the functional experiment api"""
    print(f'{a} {b}!')
    root.message({'a': a, 'b': b})


HelloWorld = xmen.functional_experiment(hello_world)

if __name__ == '__main__':
    HelloWorld().main()
