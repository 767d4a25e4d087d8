/* The idle step of a firmware that serves the HIL agent: sleep while the RX ring is empty. */
#ifndef HIL_IDLE_H
#define HIL_IDLE_H

/* Sleeps (wfi) unless a received byte is waiting; returns after the next interrupt. */
void hil_sleep_until_rx(void);

#endif /* HIL_IDLE_H */
