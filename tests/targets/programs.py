"""Assembler sources of the tiny Cortex-M4 programs the target tests run (conftest assembles them)."""

# a vector table first (initial SP, reset vector), then _start: what every program here begins with
VECTORS = """
    .syntax unified
    .cpu cortex-m4
    .thumb
    .section .text
    .global _start
    .word 0x20001000        /* initial SP */
    .word _start + 1        /* reset vector (thumb) */
_start:
"""

IDLE_S = VECTORS + """
    wfi
    b _start
"""
