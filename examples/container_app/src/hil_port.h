/* The product's port of the HIL agent (hil_agent/port.h): linked model, own preprocessing, reset. */
#ifndef APP_HIL_PORT_H
#define APP_HIL_PORT_H

#include "hil_agent/port.h"

const hil_agent_port_t *app_hil_port(void);

#endif /* APP_HIL_PORT_H */
