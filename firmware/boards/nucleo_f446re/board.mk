# NUCLEO-F446RE: STM32F446RE (Cortex-M4F, 180 MHz). The link is USART2 on PA2/PA3, wired to the
# ST-LINK virtual COM port.
BOARD_COST_UNIT := cycles
BOARD_IRQ_COUNT := 97
BOARD_LINK_IRQ := 38
BOARD_LINK_USART := USART2
include $(FIRMWARE_DIR)/soc/stm32f4/stm32f4.mk
