# An STM32F4 board's build (included by its board.mk, which sets BOARD_LINK_USART first, e.g.
# USART1): the CPU, its board.c, the shared drivers and link of soc/stm32f4/, its linker.ld.
SOC_STM32F4_DIR := $(FIRMWARE_DIR)/soc/stm32f4
BOARD_CPU := cortex-m4f
ifeq ($(strip $(BOARD_LINK_USART)),)
$(error $(BOARD_DIR)/board.mk sets no BOARD_LINK_USART (USART1, USART2...) before including stm32f4.mk)
endif
BOARD_SRCS := $(BOARD_DIR)/board.c $(addprefix $(SOC_STM32F4_DIR)/,stm32f4.c stm32f4_link.c stm32f4_link_ring.c)
BOARD_INCLUDES := $(SOC_STM32F4_DIR)
BOARD_DEFINES := -DHIL_BOARD_LINK_USART=$(BOARD_LINK_USART)_BASE
BOARD_LDSCRIPT := $(BOARD_DIR)/linker.ld
