# netduinoplus2: QEMU's STM32F405 (Cortex-M4F). The link is USART1 (QEMU's first -serial).
# QEMU has no DWT; TIM2 counts virtual ns = instructions under -icount shift=0 (compute only)
BOARD_COST_UNIT := instructions
BOARD_IRQ_COUNT := 82
BOARD_LINK_IRQ := 37
BOARD_LINK_USART := USART1
include $(FIRMWARE_DIR)/soc/stm32f4/stm32f4.mk
