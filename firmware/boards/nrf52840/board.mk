# nrf52840: nRF52840 (Cortex-M4F, 64 MHz), as on the Arduino Nano 33 BLE (Sense), TensorFlow Lite
# Micro's reference board. The link is UARTE0 (EasyDMA) on P1.03 TX / P1.10 RX (the Nano's D1/D0).
# QEMU has no nRF52; Renode runs it (platforms/cpus/nrf52840.repl + renode.repl here).
BOARD_CPU := cortex-m4f
# DWT CYCCNT: core cycles on silicon; on Renode the DWT of renode.repl ticks once per instruction
BOARD_COST_UNIT := cycles
BOARD_IRQ_COUNT := 48
BOARD_LINK_IRQ := 2
BOARD_SRCS := $(BOARD_DIR)/board.c
BOARD_LDSCRIPT := $(BOARD_DIR)/linker.ld
